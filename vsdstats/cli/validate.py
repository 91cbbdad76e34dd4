"""``vsdstats validate`` and ``vsdstats sample``: options and printing over
:mod:`vsdstats.validate` (the per-post rule is in :mod:`vsdstats.validate.compare`)."""

from __future__ import annotations

import click

from vsdstats.cli._common import codebook_option, fail, positional_input, seed_option


@click.command("validate")
@positional_input("gold_path", "GOLD", old="--gold")
@positional_input("coded", "CODED", old="--coded", path=False)
@click.option(
    "--fields",
    default=None,
    help="comma list, e.g. condition,sentiment,relevant or "
    "condition:depressive (binary presence); default: fields in both",
)
@click.option("--on", default="post_id", show_default=True, help="post id column")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="REPORT.md (+ REPORT.*.csv)")
@codebook_option
@click.option(
    "--baseline-gate/--no-baseline-gate",
    default=True,
    show_default=True,
    help="with --coded baseline: require an LLM term (off: evaluate the condition detector)",
)
def validate(
    gold_path: str,
    coded: str,
    fields: str | None,
    on: str,
    out: str | None,
    codebook_path: str | None,
    baseline_gate: bool,
) -> None:
    """Agreement of CODED with human GOLD codes, per post: kappa, alpha, per-category F1.

    GOLD: human codes (a table, e.g. a filled-in `vsdstats sample` sheet, or an IMHI
    file).  CODED: a coded-units table, a study folder with coded_units.{parquet,csv},
    or the word 'baseline' (the offline coder on GOLD's texts)."""
    import pandas as pd

    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.validate.compare import run_validate, write_validation
    from vsdstats.validate.gold import ValidateError

    flds = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    try:
        cb = load_codebook(codebook_path)
        v = run_validate(
            gold_path, coded, fields=flds, on=on, codebook=cb, baseline_gate=baseline_gate
        )
    except (ValidateError, CodebookError, KeyError, ValueError) as exc:
        fail(exc)
    if out:
        paths = write_validation(v, out)
        click.echo("wrote " + ", ".join(map(str, paths)), err=True)
    else:
        click.echo("\n".join(v.header))
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            click.echo(v.result.summary.to_string(index=False))


@click.command("sample")
@click.argument("posts_path", metavar="POSTS")
@click.option("-n", "--n", "n", type=int, required=True, help="number of posts")
@click.option("--by", default="platform", show_default=True, help="strata, e.g. platform,condition")
@click.option("--coders", type=int, default=1, show_default=True, help="number of coders K")
@click.option(
    "--overlap",
    type=int,
    default=0,
    show_default=True,
    help="posts coded by every coder (a random subset of the sample, for reliability)",
)
@seed_option(1, "the sample, the overlap set and the sheets' order (kept in design.json)")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="folder: design.csv/json, sheets/CODER.csv, labelstudio/",
)
@click.option(
    "--units",
    "units_path",
    default=None,
    help="coded units for --by condition etc. (default: STUDY/coded_units.*)",
)
@click.option(
    "--preannotate",
    is_flag=True,
    help="Label Studio tasks carry the machine codes as predictions (sheets stay blind)",
)
@codebook_option
def sample(
    posts_path: str,
    n: int,
    by: str,
    coders: int,
    overlap: int,
    seed: int,
    out: str,
    units_path: str | None,
    preannotate: bool,
    codebook_path: str | None,
) -> None:
    """A stratified random sample of POSTS (table or study folder) as blind coding sheets.

    OUT/design.csv keeps each post's stratum, inclusion probability pi, overlap flag and
    coders; the sheets (OUT/sheets/CODER.csv and Label Studio tasks in OUT/labelstudio)
    show only the post: no machine label, stratum or relevance decision."""
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError
    from vsdstats.validate.gold import ValidateError, read_coded
    from vsdstats.validate.sample import draw_design, sample_source, write_sample

    by_cols = [b.strip() for b in by.split(",") if b.strip()]
    try:
        cb = load_codebook(codebook_path)
        posts, units, src = sample_source(posts_path, units_path)
        d = draw_design(
            posts, n, by_cols, seed, units=units, coders=coders, overlap=overlap, source=src
        )
        if preannotate and units is None:
            units = read_coded(posts_path)
        paths = write_sample(d, out, cb, units=units, preannotate=preannotate)
    except (ValidateError, CodebookError, TableError) as exc:
        fail(exc)
    click.echo(f"wrote {len(paths)} files to {out} ({len(d.design)} posts)", err=True)
    counts = d.design.groupby("stratum")["post_id"].size()
    click.echo(counts.rename("n").to_string(), err=True)
    if coders > 1 and d.params["overlap"] < 2:
        from vsdstats.cli._common import warn

        warn("fewer than 2 overlap posts: inter-coder agreement will be undefined")
