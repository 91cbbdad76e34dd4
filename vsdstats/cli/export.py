"""``vsdstats export``: a study's analysis table, one row per coded unit with its post."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from vsdstats.cli._common import fail, log

if TYPE_CHECKING:
    from vsdstats.tables.analysis_table import Export


@click.command("export")
@click.argument("study", metavar="STUDY", type=click.Path())
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="units.parquet, units.csv (+ units.schema.json, for R/read_study.R) or "
    "units.duckdb (tables units and posts; needs pip install 'vsdstats[duckdb]')",
)
def export(study: str, out: str) -> None:
    """Write STUDY's analysis table: one row per coded unit joined with its post
    (platform, author pseudonym, created_at, community, score, replies, lang), the
    table every `stats` command and `paper` read.

    STUDY is a study folder (coded_units.* and posts.*), or a table file or .duckdb
    file to convert.  A study folder gets a provenance manifest
    STUDY/manifests/export-<UTC time>.json.  Post text is not in the table (a .duckdb
    export holds it in its table posts)."""
    from vsdstats.tables.analysis_table import export_study
    from vsdstats.tables.io import TableError

    try:
        res = export_study(study, out)
    except TableError as exc:
        fail(str(exc))
    manifest = write_export_manifest(study, res)
    wrote = ", ".join(map(str, res.files))
    tables = ", ".join(f"{k} {v} rows" for k, v in res.tables.items())
    log(f"wrote {wrote}: {res.n_units} coded units from {res.source}")
    if tables:
        log(f"tables: {tables}")
    if manifest is not None:
        log(f"manifest {manifest}")


def write_export_manifest(study: str | Path, res: Export) -> Path | None:
    """``STUDY/manifests/export-<UTC time>.json`` (:mod:`vsdstats.provenance`): the
    tables read (SHA-256), the files written, the unit count; None unless ``study`` is a
    study folder."""
    from vsdstats.provenance import build_manifest, file_record, write_manifest
    from vsdstats.tables.analysis_table import StudyFiles

    p = Path(study)
    if not p.is_dir():
        return None
    files = StudyFiles.of(p)
    inputs = [file_record(files.units, "coded_units")]
    if files.posts is not None:
        inputs.append(file_record(files.posts, "posts"))
    manifest = build_manifest(
        "export",
        inputs=inputs,
        outputs=[file_record(f) for f in res.files],
        settings={"format": res.out.suffix.lower()},
        counts={"units": res.n_units, **{f"table_{k}": v for k, v in res.tables.items()}},
    )
    return write_manifest(p, manifest)
