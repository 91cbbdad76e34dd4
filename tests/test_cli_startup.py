"""``vsdstats --help`` and ``vsdstats plugins`` start without the heavy libraries
(issue 9); the timing itself is ``tox -e bench`` (bench_startup), as a ratio."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "scipy", "pyarrow", "rpy2", "duckdb", "statsmodels")

PROBE = """
import contextlib, io, json, sys
sys.argv = ["vsdstats", *{args!r}]
from vsdstats.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["plugins"], ["stats", "--help"], ["code", "--help"]], ids=" ".join
)
def test_start_up_imports_no_heavy_library(args):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_probe_sees_a_heavy_import(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("a,b\n1,2\n")
    args = ["stats", "crosstab", str(bad), "--row", "a", "--col", "b"]  # reads a table
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pandas" in json.loads(out.stdout.strip().splitlines()[-1])
