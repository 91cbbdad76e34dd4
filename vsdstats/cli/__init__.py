"""The ``vsdstats`` command line.

Errors: bad input prints one line ``vsdstats <command>: error: ...`` and exits 2; an
unexpected internal error prints one line ending "run with --debug for the traceback"
and exits 1 (``vsdstats --debug ...`` or VSDSTATS_DEBUG=1 shows the traceback).
Warnings and notes (e.g. rows dropped for missing values) are one line each on stderr.
"""

from __future__ import annotations

import errno
import shutil
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd

from vsdstats import __version__
from vsdstats.tables.codebook import CodebookError, default_codebook_path, load_codebook
from vsdstats.tables.io import TableError, check_writable, read_table, write_table


def _command_path(ctx: click.Context | None = None) -> str:
    """'vsdstats stats chisq' for the current (or given) click context."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["vsdstats", *reversed(names)])


def _one_line(msg: object) -> str:
    return " ".join(str(msg).split())


def _message(exc: BaseException) -> str:
    """An exception's text; KeyError's without the quotes repr adds."""
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return _one_line(exc.args[0])
    return _one_line(exc) or type(exc).__name__


def _fail(msg: str) -> None:
    click.echo(f"{_command_path()}: error: {_one_line(msg)}", err=True)
    sys.exit(2)


def _note(msg: str) -> None:
    click.echo(f"{_command_path()}: note: {_one_line(msg)}", err=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"{_command_path()}: warning: {_one_line(message)}", err=True)


@contextmanager
def _bad_input(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the errors a computation raises on unusable data into a one-line exit 2."""
    from vsdstats.r.bridge import RUnavailableError

    try:
        yield
    except (ValueError, KeyError, RUnavailableError, *extra) as exc:
        _fail(_message(exc))


def _failing_context(exc: BaseException, default: click.Context) -> click.Context:
    """The innermost click context on the traceback (the command that failed)."""
    found = default
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for value in list(frame.f_locals.values()):
            if isinstance(value, click.Context):
                found = value
    return found


class _Main(click.Group):
    """The root group: one-line warnings, and no traceback unless --debug."""

    def invoke(self, ctx: click.Context):
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except (TableError, CodebookError) as exc:  # bad input files, whatever command
                where = _command_path(_failing_context(exc, ctx))
                click.echo(f"{where}: error: {_message(exc)}", err=True)
                sys.exit(2)
            except Exception as exc:
                if ctx.params.get("debug") or (
                    isinstance(exc, OSError) and exc.errno == errno.EPIPE
                ):
                    raise
                where = _command_path(_failing_context(exc, ctx))
                click.echo(
                    f"{where}: internal error: {type(exc).__name__}: {_message(exc)} "
                    "(run with --debug for the traceback)",
                    err=True,
                )
                sys.exit(1)


def _emit(df: pd.DataFrame, out: str | None) -> None:
    if out:
        with _bad_input(TableError):
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


def _complete(df: pd.DataFrame, *cols: str) -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value in ``cols``, saying how many and why (stderr)."""
    cols = tuple(dict.fromkeys(cols))
    na = df.loc[:, list(cols)].isna()
    drop = na.any(axis=1).to_numpy()
    k = int(drop.sum())
    if k:
        per = ", ".join(f"{c}: {int(n)}" for c, n in na.sum().items() if n)
        _note(f"dropped {k} of {len(df)} rows with a missing {' or '.join(cols)} ({per})")
        df = df.loc[~drop]
    return df, k


def _check_out(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            check_writable(value)
        except TableError as exc:
            _fail(str(exc))
    return value


out_option = click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    callback=_check_out,
    help="write the result table here instead of printing it; the extension names the "
    "format: .csv .tsv .json .jsonl .parquet .md .xlsx",
)


@click.group(name="vsdstats", cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vsdstats")
@click.option(
    "--debug",
    is_flag=True,
    envvar="VSDSTATS_DEBUG",
    help="show the Python traceback of an unexpected error",
)
def main(debug: bool) -> None:
    """vsdstats: VSD coding and statistics for social-media talk about LLM chatbots
    and mental health.  Every command has --help."""


@main.command()
def doctor() -> None:
    """Check that R, the R packages and rpy2 are installed and match."""
    from vsdstats.r.bridge import RUnavailableError, check_r

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
    from vsdstats.paper.simulate import write_corpus

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
    """Contingency table of ROW x COL (rows with a missing ROW or COL are dropped, counted)."""
    from vsdstats.stats import crosstab

    df = _read(input_path)
    _need(df, input_path, row, col)
    df, _ = _complete(df, row, col)
    with _bad_input():
        table = crosstab(df, row, col).reset_index()
    _emit(table, out)


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
    """Pearson chi-square test of independence of ROW and COL.

    Rows with a missing ROW or COL are dropped; their number is printed and is the
    n_dropped_missing column of the summary."""
    from vsdstats.stats import cell_tests, chisq_independence, crosstab

    df = _read(input_path)
    _need(df, input_path, row, col)
    df, dropped = _complete(df, row, col)
    with _bad_input():
        res = chisq_independence(crosstab(df, row, col), simulate=simulate, seed=seed)
        table = cell_tests(res, method=adjust) if cells else res.tidy()
    if not cells:
        table["n_dropped_missing"] = dropped
    _emit(table, out)


@stats.command("logodds")
@click.argument("input_path", metavar="INPUT")
@click.option("--group", required=True, help="grouping column, e.g. condition")
@click.option("--feature", required=True, help="feature column, e.g. perspective")
@click.option(
    "--n", "n_col", default=None, help="count column of non-negative integers (default: count rows)"
)
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
    """Weighted log-odds of FEATURE by GROUP (rows with a missing GROUP or FEATURE are
    dropped and counted; a missing, negative or fractional count is an error)."""
    from vsdstats.stats import log_odds_dirichlet, weighted_log_odds

    df = _read(input_path)
    _need(df, input_path, group, feature, *([n_col] if n_col else []))
    df, _ = _complete(df, group, feature)
    if n_col is None:
        df = df.groupby([group, feature], observed=True, dropna=True).size().reset_index(name="n")
        n_col = "n"
    with _bad_input():
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
    df, _ = _complete(df, a, b, *([by] if by else []))
    with _bad_input():
        res = delta_pmi(df, a, b, by) if by else pmi(df, a, b)
    _emit(res, out)


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
    """Mean score with n and t-based 95% CI per group.

    Rows with a missing BY or SCORE are dropped and counted; n_missing is the number of
    rows of each group without a score."""
    from vsdstats.stats import group_means_ci, sentiment_score

    df = _read(input_path)
    _need(df, input_path, by, score)
    if not pd.api.types.is_numeric_dtype(df[score]) or pd.api.types.is_bool_dtype(df[score]):
        with _bad_input():
            try:
                df = df.assign(**{score: sentiment_score(df[score])})
            except ValueError as exc:
                raise ValueError(f"{input_path}: column {score!r}: {exc}") from None
    missing = df[score].isna().groupby(df[by], observed=True, dropna=True).sum()
    df, _ = _complete(df, by, score)
    with _bad_input():
        res = group_means_ci(df, by, score)
    res["n_missing"] = res[by].map(missing).fillna(0).astype("int64").to_numpy()
    _emit(res, out)


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
    """Binomial mixed-effects logistic regression; prints fixed effects as odds ratios.

    Rows with a missing value in a formula column are dropped (a warning says how many)."""
    from vsdstats.r.bridge import RError
    from vsdstats.stats import mixed_logit

    df = _read(input_path)
    with _bad_input(RError):
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
    """Agreement of CODED with human GOLD codes: kappa, alpha, per-category F1.

    Items labelled on one side only are not compared; n_gold_only and n_coded_only
    count them (and a note says so)."""
    from vsdstats.stats import agreement

    gold, coded = _read(gold_path), _read(coded_path)
    _need(gold, gold_path, on)
    _need(coded, coded_path, on)
    for df, path in ((gold, gold_path), (coded, coded_path)):
        dup = df[on].dropna()
        dup = dup[dup.duplicated()]
        if len(dup):
            _fail(
                f"{path}: column {on!r} has duplicated ids (e.g. {dup.iloc[0]!r}); "
                "one row per item expected"
            )
        if df[on].isna().any():
            _fail(f"{path}: column {on!r} is missing a value at row {int(df[on].isna().argmax())}")
    with _bad_input():
        res = agreement(gold, coded, on=on)
    for r in res.summary.itertuples(index=False):
        if r.n_gold_only or r.n_coded_only:
            _note(
                f"{r.field}: compared {r.n} items; not compared: {r.n_gold_only} labelled "
                f"only in {gold_path}, {r.n_coded_only} only in {coded_path}"
            )
        if r.note:
            _note(f"{r.field}: {r.note}")
    _emit(res.summary, out)
    if not out:
        click.echo("")
        click.echo(res.per_category.to_string(index=False))


def _register() -> None:
    from vsdstats.cli.filter import filter_cmd
    from vsdstats.cli.ingest import ingest
    from vsdstats.cli.paper import paper
    from vsdstats.cli.plugins import new_plugin, plugins

    for cmd in (ingest, filter_cmd, plugins, new_plugin, paper):
        main.add_command(cmd)
    from vsdstats.cli.validate import sample, validate

    main.add_command(validate)
    main.add_command(sample)
    from vsdstats.cli.code import code_cmd

    main.add_command(code_cmd)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
