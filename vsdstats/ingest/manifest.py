"""The provenance manifest of an ingest run: ``STUDY/manifests/ingest-<UTC time>.json``.

:func:`write_ingest_manifest` records what :func:`vsdstats.provenance.build_manifest`
does for every command, with each input file's size and SHA-256.  Input files are named
as the study names them (the keyed hash ``f_<12 hex>.<ext>`` unless
``--keep-file-names``), in ``inputs`` and in the command line alike, since a file name
can hold a handle.  Written for study folders only (a ``.parquet`` or ``.duckdb`` output
has no folder to hold it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vsdstats.ingest.report import IngestReport
from vsdstats.provenance import build_manifest, command_line, file_record, write_manifest
from vsdstats.tables.study import StudyDir, out_kind


def write_ingest_manifest(
    report: IngestReport,
    files: Sequence[str | Path],
    out: str | Path,
    *,
    settings: dict[str, Any],
    codebook: str | Path | None = None,
    argv: list[str] | None = None,
) -> Path | None:
    """Write the manifest of the run that produced ``report`` from ``files`` (in the
    order given to ingest) into study folder ``out``; None for file outputs.

    ``settings``: the options that shaped the output (platform, format, relevance, ...);
    ``codebook``: the codebook file read for ``--relevance``, hashed as an input."""
    if out_kind(out) != "folder":
        return None
    pairs = list(zip(files, report.files, strict=True)) if files else []  # collect: none
    names = {str(f): c.file for f, c in pairs}
    inputs = []
    for f, c in pairs:
        rec = file_record(f, "input")
        rec["path"] = c.file  # the study's name for it, not the path
        rec["format"] = c.format
        inputs.append(rec)
    if codebook is not None:
        inputs.append(file_record(codebook, "codebook"))
    cmd = argv if argv is not None else command_line()
    cmd = [cmd[0], *(names.get(a, a) for a in cmd[1:])]
    study = StudyDir(out)
    made = (study.posts, study.rejects, study.ingest_report)
    outputs = [file_record(p) for p in made if p.is_file()]
    d = report.to_dict()
    manifest = build_manifest(
        "ingest",
        inputs=inputs,
        outputs=outputs,
        settings=settings,
        argv=cmd,
        report={k: d[k] for k in ("run_id", "secret_id", "totals", "posts_in_output")},
    )
    return write_manifest(out, manifest)
