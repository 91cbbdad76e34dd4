"""Start-up of the command line: ``vsdstats --help`` and ``vsdstats plugins`` against
``python -c "import click"`` (the floor any click CLI pays), in the same run.

Target: at most 2x the click import (issue 9).  Each command runs in a fresh
interpreter; the best of 7 runs counts.
"""

from __future__ import annotations

import subprocess
import sys
import time

from _common import Report

TARGET = 2.0
REPEAT = 7


def _best(argv: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> list[Report]:
    base = _best([sys.executable, "-c", "import click"])
    reports = []
    for args in (["--help"], ["plugins"]):
        ours = _best([sys.executable, "-m", "vsdstats", *args])
        ratio = ours / base
        reports.append(
            Report(
                f"vsdstats {' '.join(args)} start-up vs python -c 'import click'",
                ours,
                None,  # a ratio ours/baseline, the other way round from speed-ups
                f"<= {TARGET:g}x the click import",
                ratio <= TARGET if args == ["--help"] else True,
                detail=f"{ratio:.2f}x the click import ({base:.3f}s)"
                + ("" if args == ["--help"] else "; informational: loads every plugin"),
            )
        )
    return reports
