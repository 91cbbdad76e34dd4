"""The ``vsdstats`` command line."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
import pandas as pd

from vsdstats import __version__
from vsdstats.codebook import CodebookError, default_codebook_path, load_codebook
from vsdstats.tables import TableError, read_table, write_table


def _fail(msg: str) -> None:
    click.echo(f"vsdstats: error: {msg}", err=True)
    sys.exit(2)


def _emit(df: pd.DataFrame, out: str | None) -> None:
    if out:
        click.echo(f"wrote {write_table(df, out)}", err=True)
    else:
        with pd.option_context("display.max_rows", 200, "display.width", 160):
            click.echo(df.to_string(index=False))


def _read(path: str) -> pd.DataFrame:
    try:
        return read_table(path)
    except TableError as exc:
        _fail(str(exc))
        raise  # unreachable


def _need(df: pd.DataFrame, source: str, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        _fail(
            f"{source}: no column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}"
        )


out_option = click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    help="write the result table here (.csv/.tsv/.jsonl/.parquet) instead of printing it",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vsdstats")
def main() -> None:
    """vsdstats: VSD coding and statistics for social-media talk about LLM chatbots
    and mental health.  Every command has --help."""


@main.command()
def doctor() -> None:
    """Check that R, the R packages and rpy2 are installed and match."""
    from vsdstats.rbridge import RUnavailableError, check_r

    click.echo(f"vsdstats {__version__}, Python {sys.version.split()[0]}")
    try:
        info = check_r()
    except RUnavailableError as exc:
        _fail(str(exc))
    click.echo(f"R {info.r_version} at {info.r_home}, rpy2 {info.rpy2_version}: ok")
    import rpy2.robjects as ro

    need = ["lme4", "glmmTMB", "nloptr", "ggplot2", "ggalluvial", "scales", "jsonlite"]
    ok = ro.r["vapply"](
        ro.StrVector(need), ro.r["requireNamespace"], ro.r("logical(1)"), quietly=True
    )
    missing = [n for n, good in zip(need, ok, strict=True) if not good]
    if missing:
        _fail(f"R packages missing: {', '.join(missing)}; run `bash R/install_r.sh` as root")
    click.echo(f"R packages: {', '.join(need)}: ok")


# ----------------------------------------------------------------- codebook
@main.group()
def codebook() -> None:
    """Show, check or copy the VSD codebook."""


codebook_option = click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(dir_okay=False),
    help="codebook TOML file (default: the shipped one)",
)


@codebook.command("show")
@codebook_option
@click.option("--dimension", "-d", help="only this dimension (e.g. perspective)")
def codebook_show(codebook_path: str | None, dimension: str | None) -> None:
    """List dimensions and categories with their definitions."""
    try:
        cb = load_codebook(codebook_path)
    except CodebookError as exc:
        _fail(str(exc))
    click.echo(f"{cb.name} {cb.version}  ({cb.source})")
    for name, dim in cb.dimensions.items():
        if dimension and name != dimension:
            continue
        click.echo(f"\n[{name}] {dim.description}")
        for c in dim.categories:
            click.echo(f"  {c.code:<24} {c.definition}")
    if dimension and dimension not in cb.dimensions:
        _fail(f"no dimension {dimension!r}; have {', '.join(cb.dimensions)}")


@codebook.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def codebook_check(path: str) -> None:
    """Validate a codebook file; errors name the file and the offending key."""
    try:
        cb = load_codebook(path)
    except CodebookError as exc:
        _fail(str(exc))
    sizes = ", ".join(f"{d} {len(cb.codes(d))}" for d in cb.dimensions)
    click.echo(f"{path}: ok ({cb.name} {cb.version}: {sizes})")


@codebook.command("export")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="overwrite an existing file")
def codebook_export(dest: str, force: bool) -> None:
    """Copy the shipped codebook to DEST for editing."""
    d = Path(dest)
    if d.exists() and not force:
        _fail(f"{d} exists (use --force to overwrite)")
    shutil.copyfile(default_codebook_path(), d)
    click.echo(f"wrote {d}")


# ----------------------------------------------------------------- simulate
@main.command()
@click.option("--n", "n", type=int, default=40_000, show_default=True, help="number of coded units")
@click.option("--seed", type=int, default=2026, show_default=True)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="output table")
def simulate(n: int, seed: int, out: str) -> None:
    """Write the SYNTHETIC replication corpus calibrated to the study's published
    label frequencies, plus <stem>.planted.json with every planted effect."""
    from vsdstats.simulate import write_corpus

    try:
        table, truth = write_corpus(out, n=n, seed=seed)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"wrote {table} ({n} synthetic units) and {truth}")


# -------------------------------------------------------------------- stats
@main.group()
def stats() -> None:
    """Statistics on tidy tables (CSV, TSV, JSONL, Parquet)."""


@stats.command("crosstab")
@click.argument("input_path", metavar="INPUT")
@click.option("--row", required=True, help="row variable, e.g. condition")
@click.option("--col", required=True, help="column variable, e.g. sentiment")
@out_option
def stats_crosstab(input_path: str, row: str, col: str, out: str | None) -> None:
    """Contingency table of ROW x COL."""
    from vsdstats.stats import crosstab

    df = _read(input_path)
    _need(df, input_path, row, col)
    _emit(crosstab(df, row, col).reset_index(), out)


@stats.command("chisq")
@click.argument("input_path", metavar="INPUT")
@click.option("--row", required=True, help="row variable, e.g. condition")
@click.option("--col", required=True, help="column variable, e.g. sentiment")
@click.option(
    "--simulate/--no-simulate",
    default=None,
    help="Monte-Carlo p-value (default: when expected counts are small)",
)
@click.option("--seed", type=int, default=None, help="seed for the Monte-Carlo p-value")
@click.option(
    "--cells", is_flag=True, help="print per-cell adjusted residuals and adjusted p-values"
)
@click.option(
    "--adjust",
    type=click.Choice(["holm", "fdr_bh", "bonferroni", "none"]),
    default="holm",
    show_default=True,
)
@out_option
def stats_chisq(
    input_path: str,
    row: str,
    col: str,
    simulate: bool | None,
    seed: int | None,
    cells: bool,
    adjust: str,
    out: str | None,
) -> None:
    """Pearson chi-square test of independence of ROW and COL."""
    from vsdstats.stats import cell_tests, chisq_independence, crosstab

    df = _read(input_path)
    _need(df, input_path, row, col)
    res = chisq_independence(crosstab(df, row, col), simulate=simulate, seed=seed)
    _emit(cell_tests(res, method=adjust) if cells else res.tidy(), out)


@stats.command("logodds")
@click.argument("input_path", metavar="INPUT")
@click.option("--group", required=True, help="grouping column, e.g. condition")
@click.option("--feature", required=True, help="feature column, e.g. perspective")
@click.option("--n", "n_col", default=None, help="count column (default: count rows)")
@click.option(
    "--method",
    type=click.Choice(["tidylo", "dirichlet"]),
    default="tidylo",
    show_default=True,
    help="tidylo weighted log-odds, or Monroe et al. (2008) one-vs-rest",
)
@click.option("--uninformative", is_flag=True, help="tidylo: uninformative (flat) prior")
@out_option
def stats_logodds(
    input_path: str,
    group: str,
    feature: str,
    n_col: str | None,
    method: str,
    uninformative: bool,
    out: str | None,
) -> None:
    """Weighted log-odds of FEATURE by GROUP."""
    from vsdstats.stats import log_odds_dirichlet, weighted_log_odds

    df = _read(input_path)
    _need(df, input_path, group, feature, *([n_col] if n_col else []))
    if n_col is None:
        df = df.groupby([group, feature], observed=True, dropna=True).size().reset_index(name="n")
        n_col = "n"
    if method == "tidylo":
        res = weighted_log_odds(df, group, feature, n_col, uninformative=uninformative)
    else:
        res = log_odds_dirichlet(df, group, feature, n_col)
    _emit(res, out)


@stats.command("pmi")
@click.argument("input_path", metavar="INPUT")
@click.option("--a", "a", required=True, help="first code column, e.g. value")
@click.option("--b", "b", required=True, help="second code column, e.g. perspective")
@click.option("--by", default=None, help="if given, delta-PMI of each level of BY vs all others")
@out_option
def stats_pmi(input_path: str, a: str, b: str, by: str | None, out: str | None) -> None:
    """(Normalized) pointwise mutual information of A x B co-occurrence."""
    from vsdstats.stats import delta_pmi, pmi

    df = _read(input_path)
    _need(df, input_path, a, b, *([by] if by else []))
    _emit(delta_pmi(df, a, b, by) if by else pmi(df, a, b), out)


@stats.command("means")
@click.argument("input_path", metavar="INPUT")
@click.option("--by", required=True, help="grouping column, e.g. llm_product")
@click.option(
    "--score",
    default="sentiment",
    show_default=True,
    help="numeric score column, or a sentiment label column (mapped to +1/0/-1)",
)
@out_option
def stats_means(input_path: str, by: str, score: str, out: str | None) -> None:
    """Mean score with n and t-based 95% CI per group."""
    from vsdstats.stats import group_means_ci, sentiment_score

    df = _read(input_path)
    _need(df, input_path, by, score)
    if not pd.api.types.is_numeric_dtype(df[score]):
        df = df.assign(**{score: sentiment_score(df[score])})
    _emit(group_means_ci(df, by, score), out)


@stats.command("glmm")
@click.argument("input_path", metavar="INPUT")
@click.option(
    "--formula", required=True, help="e.g. 'negative ~ condition + (1|platform) + (1|author)'"
)
@click.option(
    "--engine",
    type=click.Choice(["glmmTMB", "lme4", "statsmodels"]),
    default="glmmTMB",
    show_default=True,
)
@out_option
def stats_glmm(input_path: str, formula: str, engine: str, out: str | None) -> None:
    """Binomial mixed-effects logistic regression; prints fixed effects as odds ratios."""
    from vsdstats.stats import mixed_logit

    df = _read(input_path)
    res = mixed_logit(formula, df, engine=engine)
    _emit(res.fixed, out)
    if not out:
        click.echo("\nrandom effects:")
        click.echo(res.random.to_string(index=False))


@stats.command("agreement")
@click.argument("gold_path", metavar="GOLD")
@click.argument("coded_path", metavar="CODED")
@click.option("--on", default="post_id", show_default=True, help="id column joining the two tables")
@out_option
def stats_agreement(gold_path: str, coded_path: str, on: str, out: str | None) -> None:
    """Agreement of CODED with human GOLD codes: kappa, alpha, per-category F1."""
    from vsdstats.stats import agreement

    gold, coded = _read(gold_path), _read(coded_path)
    _need(gold, gold_path, on)
    _need(coded, coded_path, on)
    res = agreement(gold, coded, on=on)
    _emit(res.summary, out)
    if not out:
        click.echo("")
        click.echo(res.per_category.to_string(index=False))


def _register() -> None:
    from vsdstats.commands.filter import filter_cmd
    from vsdstats.commands.ingest import ingest
    from vsdstats.commands.paper import paper
    from vsdstats.commands.plugins import new_plugin, plugins

    for cmd in (ingest, filter_cmd, plugins, new_plugin, paper):
        main.add_command(cmd)
    from vsdstats.commands.validate import sample, validate

    main.add_command(validate)
    main.add_command(sample)
    from vsdstats.commands.code import code_cmd

    main.add_command(code_cmd)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
