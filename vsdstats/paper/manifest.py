"""``OUT/manifest.json``: the provenance record of a ``vsdstats paper`` run.

The record of :func:`vsdstats.provenance.build_manifest` (versions, git commit when run
from a checkout, command line) plus the R side (:func:`vsdstats.provenance.r_environment`),
the SHA-256 of every file read (the units table or study files, ``--gold``, the analysis
TOML, the model releases, the codebook, the R scripts of the figure step), the seeds and
the analysis and codebook hashes, and the SHA-256 of the tables and hand-off files written.

It holds nothing that changes from run to run -- no time (the step times are in
``OUT/timings.txt``), no absolute path (package files are named ``vsdstats/...``, a
user's file by the path as typed when relative, else by its name) -- so `tox -e paper`
leaves ``paper/manifest.json`` byte-identical.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vsdstats.provenance import (
    build_manifest,
    file_record,
    package_versions,
    r_environment,
    sha256_file,
)

MANIFEST_NAME = "manifest.json"
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def display_path(path: str | Path) -> str:
    """How the manifest names ``path``: ``vsdstats/<rel>`` for package data, the path as
    given when relative, else the file name (no absolute path: it varies by machine)."""
    p = Path(path)
    try:
        return "vsdstats/" + p.resolve().relative_to(_PACKAGE_ROOT).as_posix()
    except ValueError:
        pass
    return p.as_posix() if not p.is_absolute() else p.name


def _record(path: str | Path, role: str) -> dict[str, Any]:
    rec = file_record(path, role)
    rec["path"] = display_path(path)
    return rec


def figure_scripts(figures_r: Path) -> list[Path]:
    """R/figures.R and the files it sources (its ``.vsd_parts``), in that order; every
    ``*.R`` beside it but the ``ref_*`` test references and ``read_study.R`` when the list
    cannot be read."""
    folder = figures_r.parent
    m = re.search(r"\.vsd_parts\s*<-\s*c\(([^)]*)\)", figures_r.read_text(encoding="utf-8"))
    names = re.findall(r'"([^"]+\.R)"', m.group(1)) if m else []
    if not names:
        names = sorted(
            p.name
            for p in folder.glob("*.R")
            if p.name != figures_r.name and not p.name.startswith("ref_")
            if p.name != "read_study.R"
        )
    return [figures_r, *(folder / n for n in names if (folder / n).is_file())]


def unit_inputs(input: str | Path | None) -> list[dict[str, Any]]:
    """The files the units came from: a table file, or a study folder's coded_units and
    posts tables (none for the simulated corpus)."""
    if input is None:
        return []
    p = Path(input)
    if not p.is_dir():
        return [_record(p, "units")]
    from vsdstats.tables.analysis_table import StudyFiles

    files = StudyFiles.of(p)
    out = [_record(files.units, "coded_units")]
    if files.posts is not None:
        out.append(_record(files.posts, "posts"))
    return out


def paper_manifest(
    *,
    input: str | Path | None,
    gold: str | Path | None,
    analysis: str | Path,
    codebook: Any,
    figures_r: Path | None,
    outputs: Iterable[Path],
    out: Path,
    command: str,
    settings: dict[str, Any],
    source: str,
    tex: str | None = None,
) -> dict[str, Any]:
    """The manifest of one paper run (see the module docstring); ``codebook`` is the
    loaded :class:`~vsdstats.tables.codebook.Codebook`, ``figures_r`` R/figures.R when the
    figure step ran, ``tex`` the pdflatex version when ``--pdf`` compiled the manuscript."""
    from vsdstats.paper.config import find_project_file

    inputs = unit_inputs(input)
    if gold is not None:
        inputs.append(_record(gold, "gold"))
    inputs.append(_record(analysis, "analysis"))
    inputs.append(_record(find_project_file("analysis/releases.toml"), "releases"))
    inputs.append(_record(codebook.source, "codebook"))
    if figures_r is not None:
        inputs += [_record(p, "r_script") for p in figure_scripts(figures_r)]
    outs = []
    for p in sorted(set(outputs)):
        rec = file_record(p)
        rec["path"] = p.relative_to(out).as_posix()
        outs.append(rec)
    manifest = build_manifest(
        "paper",
        inputs=inputs,
        outputs=outs,
        settings=settings,
        argv=shlex.split(command),
        source=source if input is None else display_path(input),
        seeds={"seed": settings.get("seed")},
        analysis={"path": display_path(analysis), "sha256": sha256_file(analysis)},
        codebook={"name": codebook.name, "version": codebook.version, "sha256": codebook.sha256},
        r={
            **(r_environment() or {}),
            "rpy2": package_versions(("rpy2-rinterface", "rpy2-robjects")),
        },
    )
    if tex is not None:
        manifest["tex"] = {"pdflatex": tex}
    manifest.pop("created_at", None)  # run-varying: the times are in timings.txt
    return manifest


def write_paper_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    """Write ``OUT/manifest.json`` (replacing the previous run's) and return its path."""
    path = out / MANIFEST_NAME
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")
    return path
