"""``vsdstats stats ...``: one statistic per command on a tidy table, printed or written with -o."""

from __future__ import annotations

from contextlib import contextmanager

import click

from vsdstats.cli._common import (
    bad_input,
    complete,
    emit,
    fail,
    need,
    note,
    out_option,
    read,
    seed_option,
)

_TABLE = click.Path(dir_okay=False)  # a missing file: the table reader's one-line error
#: INPUT: a table file, a .duckdb file (its ``units`` table) or a study folder (its
#: analysis table, as ``vsdstats export`` writes it)
_INPUT = click.Path()


def _gold_options(f):
    """``--gold FILE --on COL --pi COL``: correct the estimates with a human gold sample."""
    f = click.option(
        "--pi",
        default="pi",
        show_default=True,
        help="column of GOLD with each unit's inclusion probability (absent: a simple "
        "random sample, n_gold / n)",
    )(f)
    f = click.option(
        "--on", default="post_id", show_default=True, help="id column joining GOLD to INPUT"
    )(f)
    return click.option(
        "--gold",
        "gold_path",
        type=_TABLE,
        default=None,
        help="human codes of a random subsample of INPUT (same column names): estimates "
        "corrected for the coder's errors (DSL), the naive ones alongside",
    )(f)


def _read_gold(path: str, on: str, label: str, score: bool = False):
    """The gold table, with a one-line error naming the file if a column is missing
    (or, for a ``score``, holds a label that is not a sentiment)."""
    import pandas as pd

    gold = read(path)
    need(gold, path, on, label)
    numeric = pd.api.types.is_numeric_dtype(gold[label])
    if score and not (numeric and not pd.api.types.is_bool_dtype(gold[label])):
        from vsdstats.stats import sentiment_score

        with bad_input():
            try:
                gold = gold.assign(**{label: sentiment_score(gold[label])})
            except ValueError as exc:
                raise ValueError(f"{path}: column {label!r}: {exc}") from None
    return gold


@contextmanager
def _naming(input_path: str, gold_path: str | None):
    """Errors of stats.corrected say ``units:`` / ``gold:``; name the files instead."""
    from vsdstats.errors import InputError

    try:
        yield
    except InputError as exc:
        msg = str(exc)
        for word, path in (("units:", input_path), ("gold:", gold_path)):
            if path and msg.startswith(word):
                msg = f"{path}:{msg[len(word) :]}"
        raise InputError(msg) from None


@click.group()
def stats() -> None:
    """Statistics on tidy tables.  INPUT is a CSV, TSV, JSONL or Parquet file, a
    .duckdb file (its table units) or a study folder (its analysis table: the coded
    units joined with their posts, what `vsdstats export` writes)."""


@stats.command("crosstab")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option("--row", required=True, help="row variable, e.g. condition")
@click.option("--col", required=True, help="column variable, e.g. sentiment")
@out_option
def stats_crosstab(input_path: str, row: str, col: str, out: str | None) -> None:
    """Contingency table of ROW x COL (rows with a missing ROW or COL are dropped, counted)."""
    from vsdstats.stats import crosstab

    df = read(input_path)
    need(df, input_path, row, col)
    df, _ = complete(df, row, col)
    with bad_input():
        table = crosstab(df, row, col).reset_index()
    emit(table, out)


@stats.command("chisq")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option("--row", required=True, help="row variable, e.g. condition")
@click.option("--col", required=True, help="column variable, e.g. sentiment")
@click.option(
    "--simulate/--no-simulate",
    default=None,
    help="Monte-Carlo p-value (default: when expected counts are small)",
)
@seed_option(2026, "the Monte-Carlo p-value (recorded in the seed column)")
@click.option(
    "--cells", is_flag=True, help="print per-cell adjusted residuals and adjusted p-values"
)
@click.option(
    "--adjust",
    type=click.Choice(["holm", "fdr_bh", "bonferroni", "none"]),
    default="holm",
    show_default=True,
)
@click.option(
    "--cluster",
    default=None,
    help="cluster column (e.g. author): Rao-Scott corrected test for units nested in "
    "clusters, with the naive Pearson test alongside",
)
@click.option(
    "--bootstrap",
    is_flag=True,
    help="with --cluster: a cluster-bootstrap test of Pearson's X2 instead of Rao-Scott "
    "(a check; --B replicates, seeded by --seed)",
)
@click.option("--B", "b", type=int, default=2000, show_default=True, help="bootstrap replicates")
@out_option
def stats_chisq(
    input_path: str,
    row: str,
    col: str,
    simulate: bool | None,
    seed: int,
    cells: bool,
    adjust: str,
    cluster: str | None,
    bootstrap: bool,
    b: int,
    out: str | None,
) -> None:
    """Pearson chi-square test of independence of ROW and COL (with --cluster: the
    Rao-Scott test for units nested in clusters, equal to R survey::svychisq).

    Rows with a missing ROW or COL (or CLUSTER) are dropped; their number is printed
    and is the n_dropped_missing column of the summary."""
    from vsdstats.stats import cell_tests, chisq_clustered, chisq_independence, crosstab
    from vsdstats.stats.clustered import cell_tests_clustered

    if cluster and simulate:
        fail("--cluster gives the Rao-Scott test; --simulate is for the naive test only")
    if bootstrap and not cluster:
        fail("--bootstrap resamples clusters: give --cluster (e.g. --cluster author)")
    df = read(input_path)
    need(df, input_path, row, col, *([cluster] if cluster else []))
    df, dropped = complete(df, row, col, *([cluster] if cluster else []))
    if cluster:
        with bad_input():
            if cells:
                emit(cell_tests_clustered(df, row, col, cluster, method=adjust), out)
            else:
                method = "bootstrap" if bootstrap else "rao-scott"
                res = chisq_clustered(df, row, col, cluster, method=method, B=b, seed=seed)
                emit(res.assign(n_dropped_missing=dropped), out)
        return
    with bad_input():
        res = chisq_independence(crosstab(df, row, col), simulate=simulate, seed=seed)
        table = cell_tests(res, method=adjust) if cells else res.tidy()
    if not cells:
        table["n_dropped_missing"] = dropped
        table["seed"] = seed if res.simulated_p_value is not None else None
    emit(table, out)


@stats.command("logodds")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
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

    df = read(input_path)
    need(df, input_path, group, feature, *([n_col] if n_col else []))
    df, _ = complete(df, group, feature)
    if n_col is None:
        df = df.groupby([group, feature], observed=True, dropna=True).size().reset_index(name="n")
        n_col = "n"
    with bad_input():
        if method == "tidylo":
            res = weighted_log_odds(df, group, feature, n_col, uninformative=uninformative)
        else:
            res = log_odds_dirichlet(df, group, feature, n_col)
    emit(res, out)


@stats.command("pmi")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option("--a", "a", required=True, help="first code column, e.g. value")
@click.option("--b", "b", required=True, help="second code column, e.g. perspective")
@click.option("--by", default=None, help="if given, delta-PMI of each level of BY vs all others")
@out_option
def stats_pmi(input_path: str, a: str, b: str, by: str | None, out: str | None) -> None:
    """(Normalized) pointwise mutual information of A x B co-occurrence."""
    from vsdstats.stats import delta_pmi, pmi

    df = read(input_path)
    need(df, input_path, a, b, *([by] if by else []))
    df, _ = complete(df, a, b, *([by] if by else []))
    with bad_input():
        res = delta_pmi(df, a, b, by) if by else pmi(df, a, b)
    emit(res, out)


@stats.command("means")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option("--by", required=True, help="grouping column, e.g. llm_product")
@click.option(
    "--score",
    default="sentiment",
    show_default=True,
    help="numeric score column, or a sentiment label column (mapped to +1/0/-1)",
)
@click.option(
    "--cluster",
    default=None,
    help="cluster column (e.g. author): cluster-robust standard errors and intervals "
    "(= R survey::svyby svymean)",
)
@click.option(
    "--method",
    type=click.Choice(["t", "robust", "bootstrap"]),
    default=None,
    help="interval: t (default without --cluster), robust (default with --cluster) or "
    "bootstrap (of clusters with --cluster, seeded by --seed)",
)
@click.option(
    "--unbounded",
    is_flag=True,
    help="a numeric score outside [-1, 1]: no clipping of intervals to [-1, 1]",
)
@seed_option(2026, "the cluster bootstrap (--method bootstrap)")
@_gold_options
@out_option
def stats_means(
    input_path: str,
    by: str,
    score: str,
    cluster: str | None,
    method: str | None,
    unbounded: bool,
    seed: int,
    gold_path: str | None,
    on: str,
    pi: str,
    out: str | None,
) -> None:
    """Mean score with n and 95% CI per group: t-based, or with --cluster cluster-robust
    (--method bootstrap: a bootstrap of whole clusters).  Intervals stay inside
    [-1, 1]; a group whose scores are all equal gets an exact bound (flag "constant").

    With --gold (human codes of a random subsample, joined on --on) the mean is
    corrected for the coder's errors (design-based supervised learning; Egami et al.
    2023), with the naive mean of the LLM's labels alongside (naive_mean, naive_ci_*).

    Rows with a missing BY or SCORE (or CLUSTER) are dropped and counted; n_missing is the number of
    rows of each group without a score."""
    import pandas as pd

    from vsdstats.stats import group_means_ci, sentiment_score

    if method == "robust" and not cluster:
        fail("--method robust needs --cluster (e.g. --cluster author)")
    if gold_path and method not in (None, "robust"):
        fail(
            f"--method {method} does not apply with --gold (the corrected mean has a Wald interval)"
        )
    df = read(input_path)
    need(df, input_path, by, score, *([cluster] if cluster else []))
    if not pd.api.types.is_numeric_dtype(df[score]) or pd.api.types.is_bool_dtype(df[score]):
        with bad_input():
            try:
                df = df.assign(**{score: sentiment_score(df[score])})
            except ValueError as exc:
                raise ValueError(f"{input_path}: column {score!r}: {exc}") from None
    missing = df[score].isna().groupby(df[by], observed=True, dropna=True).sum()
    df, _ = complete(df, by, score, *([cluster] if cluster else []))
    x = df[score]
    if not unbounded and len(x) and (x.min() < -1 or x.max() > 1):
        fail(
            f"{input_path}: column {score!r}: scores outside [-1, 1] (min {x.min():g}, "
            f"max {x.max():g}); give --unbounded for another scale"
        )
    bounds = None if unbounded else (-1.0, 1.0)
    gold = _read_gold(gold_path, on, score, score=True) if gold_path else None
    with bad_input(), _naming(input_path, gold_path):
        res = group_means_ci(
            df,
            by,
            score,
            cluster=cluster,
            method=method,
            bounds=bounds,
            seed=seed,
            gold=gold,
            on=on,
            pi=pi,
        )
    res["n_missing"] = res[by].map(missing).fillna(0).astype("int64").to_numpy()
    emit(res, out)


@stats.command("props")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option("--by", required=True, help="grouping column, e.g. condition")
@click.option("--label", required=True, help="category column, e.g. sentiment or value")
@click.option(
    "--cluster",
    default=None,
    help="cluster column (e.g. author): cluster-robust standard errors and intervals",
)
@_gold_options
@out_option
def stats_props(
    input_path: str,
    by: str,
    label: str,
    cluster: str | None,
    gold_path: str | None,
    on: str,
    pi: str,
    out: str | None,
) -> None:
    """Share of each LABEL category within each BY group, with n and a 95% CI (inside
    [0, 1]); cluster-robust with --cluster.

    With --gold (human codes of a random subsample, joined on --on; column --pi its
    inclusion probabilities, default a simple random sample) the shares are corrected
    for the coder's errors by design-based supervised learning (Egami et al. 2023),
    the naive shares of the LLM's labels alongside (naive, naive_ci_*).  Rows with a
    missing BY or LABEL are dropped and counted."""
    df = read(input_path)
    need(df, input_path, by, label, *([on] if gold_path else []), *([cluster] if cluster else []))
    df, _ = complete(df, by, label, *([cluster] if cluster else []))
    if gold_path:
        from vsdstats.stats import corrected_proportions

        gold = _read_gold(gold_path, on, label)
        with bad_input(), _naming(input_path, gold_path):
            res = corrected_proportions(df, gold, by, label, on=on, cluster=cluster, pi=pi)
    else:
        res = _shares(df, by, label, cluster)
    emit(res, out)


def _shares(df, by: str, label: str, cluster: str | None):
    """Naive shares per group: the mean of each category's indicator with the interval
    of :func:`group_means_ci` on [0, 1] (t, or cluster-robust with ``cluster``)."""
    import pandas as pd

    from vsdstats.stats import group_means_ci

    parts = []
    labels = df[label].astype(str)
    with bad_input():
        for cat in sorted(labels.unique()):
            ind = df.assign(_is=(labels == cat).astype(float))
            res = group_means_ci(ind, by, "_is", cluster=cluster, bounds=(0.0, 1.0))
            res.insert(1, label, cat)
            parts.append(res.rename(columns={"mean": "estimate"}).drop(columns="sd"))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values([by, label], kind="stable").reset_index(drop=True)


@stats.command("glmm")
@click.argument("input_path", metavar="INPUT", type=_INPUT)
@click.option(
    "--formula", required=True, help="e.g. 'negative ~ condition + (1|platform) + (1|author)'"
)
@click.option(
    "--engine",
    type=click.Choice(["glmmTMB", "lme4", "blme", "statsmodels"]),
    default="glmmTMB",
    show_default=True,
    help="blme: penalized ML with weak normal priors on the fixed effects",
)
@click.option(
    "--ref",
    "refs",
    multiple=True,
    metavar="COLUMN=LEVEL",
    help="reference level of a factor, e.g. condition=general (repeatable; default: the "
    "first level in sorted order)",
)
@click.option(
    "--separation",
    type=click.Choice(["flag", "penalize"]),
    default="flag",
    show_default=True,
    help="on separated terms (a level without events, |estimate| > 10 or SE > 100): flag "
    "them, or also refit by penalized ML (blme::bglmer)",
)
@click.option(
    "--adjust",
    type=click.Choice(["holm", "fdr_bh", "bonferroni", "none"]),
    default="holm",
    show_default=True,
    help="adjustment of the non-intercept p-values (column p_value_adj)",
)
@out_option
def stats_glmm(
    input_path: str,
    formula: str,
    engine: str,
    refs: tuple[str, ...],
    separation: str,
    adjust: str,
    out: str | None,
) -> None:
    """Binomial mixed-effects logistic regression; prints fixed effects as odds ratios.

    Rows with a missing value in a formula column are dropped (a warning says how many).
    Terms hit by separation are flagged in the separation column (and a warning names
    them); p_value_adj is Holm-adjusted over the non-intercept terms by default."""
    from vsdstats.r.bridge import RError
    from vsdstats.stats import mixed_logit

    ref: dict[str, str] = {}
    for item in refs:
        col, eq, level = item.partition("=")
        if not eq or not col.strip() or not level.strip():
            fail(f"--ref: expected COLUMN=LEVEL (e.g. condition=general), got {item!r}")
        if col.strip() in ref:
            fail(f"--ref: column {col.strip()!r} given twice")
        ref[col.strip()] = level.strip()
    df = read(input_path)
    with bad_input(RError):
        res = mixed_logit(
            formula, df, engine=engine, ref=ref or None, adjust=adjust, separation=separation
        )
    emit(res.fixed, out)
    if not out:
        click.echo("\nrandom effects:")
        click.echo(res.random.to_string(index=False))


@stats.command("agreement")
@click.argument("gold_path", metavar="GOLD", type=_TABLE)
@click.argument("coded_path", metavar="CODED", type=_INPUT)
@click.option("--on", default="post_id", show_default=True, help="id column joining the two tables")
@out_option
def stats_agreement(gold_path: str, coded_path: str, on: str, out: str | None) -> None:
    """Agreement of CODED with human GOLD codes: kappa, alpha, per-category F1.

    The same comparison as `vsdstats validate` (vsdstats.validate.compare): the gold
    posts that were coded, units matched within posts; a label on one side only is
    not compared (n_gold_only, n_coded_only and a note say so)."""
    from vsdstats.validate.compare import compare_codings, default_fields

    gold, coded = read(gold_path), read(coded_path)
    need(gold, gold_path, on)
    need(coded, coded_path, on)
    with bad_input():
        fields = default_fields(gold, coded, None)
        if not fields:
            fail(f"{gold_path} and {coded_path}: no field in common")
        v = compare_codings(gold, coded, fields, on, gold_path, coded_path)
    res = v.result
    if v.n_coded_not_in_gold:
        note(f"{v.n_coded_not_in_gold} coded items of {coded_path} are not in the gold sample")
    for r in res.summary.itertuples(index=False):
        if r.n_gold_only or r.n_coded_only:
            note(
                f"{r.field}: compared {r.n} items; not compared: {r.n_gold_only} labelled "
                f"only in {gold_path}, {r.n_coded_only} only in {coded_path}"
            )
        if r.note:
            note(f"{r.field}: {r.note}")
    emit(res.summary, out)
    if not out:
        click.echo("")
        click.echo(res.per_category.to_string(index=False))
