"""``vsdstats ingest`` writes ``STUDY/manifests/ingest-<UTC time>.json`` (issue 11):
versions, each input file's SHA-256, the command line; input files named as the study
names them, so a handle in a file name stays out of the study."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner
from test_pipeline import _dump

from vsdstats.cli import main

HANDLE = "throwawayhandle42"


def _ingest(tmp_path, monkeypatch, *extra: str):
    monkeypatch.setenv("VSDSTATS_SECRET", (b"k" * 32).hex())
    dumps = [tmp_path / f"RC_{HANDLE}_{i}.jsonl" for i in range(2)]
    _dump(dumps[0], n=40, seed=1)
    _dump(dumps[1], n=30, seed=2)
    study = tmp_path / "study"
    args = ["ingest", "reddit", *map(str, dumps), "--out", str(study), "--no-progress", *extra]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    (path,) = (study / "manifests").glob("ingest-*.json")
    assert f"wrote {path}" in res.stderr
    return dumps, study, json.loads(path.read_text())


def test_ingest_manifest_hashes_inputs_without_their_names(tmp_path, monkeypatch):
    dumps, study, m = _ingest(tmp_path, monkeypatch, "--relevance")
    assert m["command"] == "ingest" and m["vsdstats"]["version"] == version("vsdstats")
    assert m["packages"]["pandas"] == version("pandas")
    assert "vsdstats-reddit" in m["plugins"]
    files, codebook = m["inputs"][:2], m["inputs"][2]
    report = json.loads((study / "ingest_report.json").read_text())["runs"][-1]
    for f, dump, counts in zip(files, dumps, report["files"], strict=True):
        assert f["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
        assert f["bytes"] == dump.stat().st_size
        assert f["path"] == counts["file"] and f["path"].startswith("f_")  # the study's name
    assert codebook["role"] == "codebook" and len(codebook["sha256"]) == 64
    assert m["settings"]["relevance"] is True and m["settings"]["platform"] == "reddit"
    assert m["report"]["totals"] == report["totals"]
    assert m["report"]["secret_id"] == report["secret_id"]
    cmd = m["command_line"]
    assert cmd[:2] == ["vsdstats", "ingest"] and cmd[3:5] == [f["path"] for f in files]
    names = {Path(o["path"]).name for o in m["outputs"]}
    assert names == {"posts.parquet", "rejects.csv", "ingest_report.json"}  # one bad line each
    for o in m["outputs"]:
        assert o["sha256"] == hashlib.sha256(Path(o["path"]).read_bytes()).hexdigest()
    for p in study.rglob("*"):
        if p.is_file():
            assert HANDLE.encode() not in p.read_bytes(), p


def test_keep_file_names_shows_them(tmp_path, monkeypatch):
    dumps, _, m = _ingest(tmp_path, monkeypatch, "--keep-file-names")
    assert [f["path"] for f in m["inputs"]] == [str(d) for d in dumps]
    assert m["command_line"][3:5] == [str(d) for d in dumps]
