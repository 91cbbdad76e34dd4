"""``vsdstats recode STUDY --mapping mapping.csv``: induced categories into a study (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vsdstats.cli._common import log


@click.command("recode")
@click.argument("study", metavar="STUDY", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--mapping",
    "mapping",
    required=True,
    type=click.Path(dir_okay=False),
    help="mapping.csv from `vsdstats codebook induce` (edited or not)",
)
@click.option("--dimension", "-d", default=None, help="only this dimension of the mapping")
@click.option(
    "--labels",
    default=None,
    type=click.Path(dir_okay=False),
    help="open labels table (default: STUDY/open_labels.parquet or .csv)",
)
@click.option(
    "--codebook",
    "codebook_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="codebook TOML file to check first that every category of the mapping is one of "
    "its codes (the edited codebook-draft.toml you give `paper`; default: no check)",
)
def recode(
    study: str, mapping: str, dimension: str | None, labels: str | None, codebook_path: str | None
) -> None:
    """Apply MAPPING to STUDY's raw open labels: each mapped dimension D of
    coded_units becomes the induced category (the codebook's code kept in D_codebook),
    so `export`, `stats` and `paper` (with --codebook codebook-draft.toml) use it like
    codebook codes.  Reports coverage: units mapped, raw labels left unmapped,
    categories with few units, and the adjusted Rand index against the codebook codes;
    the report is also STUDY/recode_report.json."""
    from vsdstats.induce.recode import recode_study
    from vsdstats.provenance import build_manifest, file_record, write_manifest

    reports, inputs, written = recode_study(study, mapping, dimension, labels, codebook_path)
    for cov in reports:
        for line in cov.lines():
            log(line)
    report = Path(study) / "recode_report.json"
    data = [
        {
            "dimension": c.dimension,
            "units": c.units,
            "with_label": c.with_label,
            "mapped": c.mapped,
            "unmapped_labels": c.unmapped_labels,
            "categories": c.categories,
            "few_units": c.few,
            "ari_vs_codebook": None if c.comparison is None else round(c.comparison.ari, 6),
        }
        for c in reports
    ]
    report.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = build_manifest(
        "recode",
        inputs=[
            file_record(p, r)
            for p, r in zip(inputs, ("coded_units", "mapping", "labels"), strict=True)
        ],
        outputs=[file_record(p) for p in [*written, report]],
        settings={
            "dimension": dimension,
            "mapping": mapping,
            "labels": labels,
            "codebook": codebook_path,
        },
        counts={f"{c.dimension}_mapped": c.mapped for c in reports},
    )
    mpath = write_manifest(study, manifest)
    log(f"wrote {', '.join(map(str, [*written, report]))}; manifest {mpath}")
