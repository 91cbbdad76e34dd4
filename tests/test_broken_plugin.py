"""A plugin that fails to load (issue 8 item 17) is reported once as a warning and
skipped; the other plugins keep working and ``vsdstats plugins`` lists it as broken.

The broken plugins are real installed distributions as far as importlib.metadata can
tell: a ``*.dist-info`` folder with an ``entry_points.txt`` on ``sys.path``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import vsdstats.connectors as platforms
from vsdstats.cli import main
from vsdstats.connectors import manager
from vsdstats.connectors.manager import PluginWarning, connectors

SECRET = bytes(range(40, 72))
IMPORT_REASON = "synthetic: this plugin needs the package 'nothere-xyz'"
HOOK_REASON = "synthetic: register_platforms blew up"


def _dist(site: Path, dist: str, entry: str, module: str, source: str) -> None:
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[vsdstats.platforms]\n{entry} = {module}\n")


@pytest.fixture
def broken_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Two broken plugins installed; the names of the working connectors before them."""
    before = set(connectors())
    site = tmp_path / "site"
    site.mkdir()
    _dist(
        site,
        "vsdstats-brokenimport",
        "brokenimport",
        "vsdstats_brokenimport_mod",
        f"raise ImportError({IMPORT_REASON!r})\n",
    )
    _dist(
        site,
        "vsdstats-brokenhook",
        "brokenhook",
        "vsdstats_brokenhook_mod",
        "from vsdstats.connectors import hookimpl\n\n"
        "@hookimpl\n"
        "def register_platforms(register):\n"
        f"    raise RuntimeError({HOOK_REASON!r})\n",
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(manager, "_REPORTED", set())  # warnings are once per process
    return {"before": before}


def test_broken_plugins_are_skipped_and_warned_once(broken_site) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = connectors()
        again = connectors()
    assert set(found) == set(again) == broken_site["before"]
    assert "reddit" in found  # the installed plugins still work
    msgs = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(msgs) == 2, msgs
    assert any("'brokenimport'" in m and IMPORT_REASON in m for m in msgs)
    assert any("'brokenhook'" in m and HOOK_REASON in m for m in msgs)
    broken = {b.name: b for b in platforms.broken_plugins()}
    assert set(broken) == {"brokenimport", "brokenhook"}
    assert broken["brokenimport"].plugin == "vsdstats-brokenimport"
    assert broken["brokenimport"].reason == f"ImportError: {IMPORT_REASON}"


def test_cli_ingest_and_plugins_with_a_broken_plugin(broken_site, tmp_path: Path) -> None:
    lines = [
        {"id": f"c{i}", "body": f"synthetic comment {i}", "created_utc": 1_700_000_000 + i}
        for i in range(5)
    ]
    dump = tmp_path / "RC_synthetic.jsonl"
    dump.write_text("".join(json.dumps(x) + "\n" for x in lines))
    secret = tmp_path / "secret.key"
    secret.write_bytes(SECRET)
    study = tmp_path / "study"
    res = CliRunner().invoke(
        main, ["ingest", "reddit", str(dump), "-o", str(study), "--secret-file", str(secret)]
    )
    assert res.exit_code == 0, res.output
    report = json.loads((study / "ingest_report.json").read_text())["runs"][0]["totals"]
    assert report["kept"] == len(lines)
    warned = [ln for ln in res.output.splitlines() if "warning:" in ln and "plugin" in ln]
    assert len(warned) == 2, res.output  # one line per broken plugin, not one per lookup
    assert any("'brokenimport'" in w and IMPORT_REASON in w for w in warned)
    assert "Traceback" not in res.output

    res = CliRunner().invoke(main, ["plugins", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output[res.output.index("[") :])
    good = {r["platform"] for r in rows if not r["error"]}
    assert good == broken_site["before"]
    bad = {r["plugin"]: r for r in rows if r["error"]}
    assert set(bad) == {"vsdstats-brokenimport", "vsdstats-brokenhook"}
    assert bad["vsdstats-brokenimport"]["error"] == f"ImportError: {IMPORT_REASON}"
    assert bad["vsdstats-brokenhook"]["error"] == f"RuntimeError: {HOOK_REASON}"

    res = CliRunner().invoke(main, ["plugins"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "reddit" in flat and "broken" in flat and "nothere-xyz" in flat
