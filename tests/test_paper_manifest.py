"""``vsdstats paper`` writes OUT/manifest.json: versions (Python, R and their packages),
the SHA-256 of every file read, seeds and hashes, the command line; nothing that varies
from run to run, so two runs write the same bytes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.r.packages import required_libraries

pytestmark = pytest.mark.needs_r

R_SCRIPTS = ["figures.R", "handoff.R", "theme.R", "fig3_residuals.R", "fig10_forest.R"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two CLI runs, each in its own folder holding the same units CSV and gold file."""
    base = tmp_path_factory.mktemp("paper_manifest")
    units = simulate_corpus(n=600, seed=3)
    units = units.assign(created_at=units["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    outs = []
    for name in ("one", "two"):
        folder = base / name
        folder.mkdir()
        units.to_csv(folder / "units.csv", index=False)
        gold = units[["post_id", "unit_index", "sentiment"]].iloc[::4]
        gold.to_csv(folder / "gold.csv", index=False)
        args = ["paper", "units.csv", "--gold", "gold.csv", "-o", "out", "--min-cell", "5"]
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(folder)
            res = CliRunner().invoke(main, args, catch_exceptions=False)
        assert res.exit_code in (0, 1), res.output  # 1: a figure failed; manifest still
        outs.append(folder)
    return base, outs[0], outs[1]


def test_manifest_fields_and_input_hashes(runs: tuple[Path, Path, Path]) -> None:
    _, base, _ = runs
    one = base / "out"
    m = json.loads((one / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == "paper"
    assert m["command_line"][:3] == ["vsdstats", "paper", "units.csv"]
    assert "--gold" in m["command_line"] and "created_at" not in m
    assert m["vsdstats"]["version"] and m["packages"]["pandas"] and m["python"]["version"]
    assert m["seeds"] == {"seed": 2026} and m["settings"]["min_cell"] == 5
    roles = {r["role"]: r for r in m["inputs"]}
    assert roles["units"]["sha256"] == _sha(base / "units.csv")
    assert roles["units"]["path"] == "units.csv"
    assert roles["gold"]["sha256"] == _sha(base / "gold.csv")
    import vsdstats

    pkg = Path(vsdstats.__file__).parent
    for rec in m["inputs"]:  # every recorded hash is the hash of the file it names
        p = base / rec["path"] if rec["role"] in ("units", "gold") else pkg.parent / rec["path"]
        assert rec["sha256"] == _sha(p), rec
        assert rec["bytes"] == p.stat().st_size
    assert roles["analysis"]["path"] == "vsdstats/analysis/study.toml"
    assert m["analysis"]["sha256"] == _sha(pkg / "analysis" / "study.toml")
    assert roles["codebook"]["sha256"] == _sha(pkg / "data" / "codebook.toml")
    assert m["codebook"]["sha256"] == roles["codebook"]["sha256"]
    scripts = {Path(r["path"]).name for r in m["inputs"] if r["role"] == "r_script"}
    assert set(R_SCRIPTS) <= scripts and "ref_glmm.R" not in scripts
    table1 = {r["path"]: r["sha256"] for r in m["outputs"]}["tables/table1_corpus.csv"]
    assert table1 == _sha(one / "tables" / "table1_corpus.csv")
    assert str(base) not in (one / "manifest.json").read_text(encoding="utf-8")


def test_manifest_r_versions_match_rscript(runs: tuple[Path, Path, Path]) -> None:
    _, one, _ = runs
    r = json.loads((one / "out" / "manifest.json").read_text(encoding="utf-8"))["r"]
    printed = subprocess.run(
        ["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True, check=True
    ).stdout
    assert r["version"] == printed.strip()
    assert list(r["packages"]) == required_libraries()
    ver = subprocess.run(
        ["Rscript", "-e", "cat(as.character(packageVersion('glmmTMB')))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert r["packages"]["glmmTMB"] == ver.strip()
    assert r["rpy2"]["rpy2-rinterface"]


def test_two_runs_write_identical_manifests(runs: tuple[Path, Path, Path]) -> None:
    _, one, two = runs
    a, b = (
        (one / "out" / "manifest.json").read_bytes(),
        (two / "out" / "manifest.json").read_bytes(),
    )
    assert a == b
    for sub in ("tables", "handoff"):  # and so are the files whose hashes it lists
        for f in sorted((one / "out" / sub).iterdir()):
            assert f.read_bytes() == (two / "out" / sub / f.name).read_bytes(), f.name
