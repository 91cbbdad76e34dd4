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
@click.option("--n", "n", type=int, required=True, help="number of posts")
@click.option("--by", default="platform", show_default=True, help="strata, e.g. platform,condition")
@seed_option(1, "the sample (recorded in the sheet's README)")
@click.option(
    "--out", "-o", required=True, type=click.Path(dir_okay=False), help="coding sheet .csv"
)
@click.option(
    "--units",
    "units_path",
    default=None,
    help="coded units for --by condition etc. (default: STUDY/coded_units.*)",
)
@codebook_option
def sample(
    posts_path: str,
    n: int,
    by: str,
    seed: int,
    out: str,
    units_path: str | None,
    codebook_path: str | None,
) -> None:
    """A stratified sample of POSTS (table or study folder) as a human coding sheet
    (OUT, with OUT's stem + .README.md listing the allowed codes)."""
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.validate.gold import ValidateError
    from vsdstats.validate.sample import sample_posts, write_sheet

    by_cols = [b.strip() for b in by.split(",") if b.strip()]
    try:
        cb = load_codebook(codebook_path)
        s, _ = sample_posts(posts_path, n, by_cols, seed, units_path)
    except (ValidateError, CodebookError) as exc:
        fail(exc)
    sheet, readme = write_sheet(s, out, cb, by_cols, seed)
    counts = s["stratum"].value_counts().sort_index()
    click.echo(f"wrote {sheet} ({len(s)} posts) and {readme}", err=True)
    click.echo(counts.rename("n").to_string(), err=True)
