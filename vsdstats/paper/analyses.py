"""The study's statistics, computed once from the validated units (see analysis/study.toml)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.paper.denominators import (
    Denominators,
    Dropped,
    incomplete_last_month,
    load_denominators,
)
from vsdstats.tables.codebook import Codebook
from vsdstats.stats.glmm import adjusted_p, wald_table
from vsdstats.stats import (
    ChisqResult,
    MixedLogitResult,
    cell_tests,
    cell_tests_clustered,
    chisq_clustered,
    chisq_independence,
    crosstab,
    delta_pmi,
    corrected_proportions,
    group_means_ci,
    mixed_logit,
    monthly,
    pmi,
    sentiment_score,
    weighted_log_odds,
)

LUMPED = "other (lumped)"


@dataclass(frozen=True)
class PermutationSettings:
    """The permutation null of a [pmi] / [logodds] section of study.toml."""

    permutations: int  #: B (0 = no permutation test: NA p-values)
    seed: int  #: seed of the permutations (recorded in paper/README.md)
    cluster: str | None  #: labels permuted across whole clusters (authors), or units
    min_support: int = 30  #: [pmi] only: n_in and n_out >= min_support for a test
    alpha0: float = 500.0  #: [logodds] only: MCQ's prior scale


@dataclass
class Analyses:
    """Every result the tables, hand-off files and README are made from."""

    n_units: int
    n_posts: int
    month_range: tuple[str, str]
    chisq: dict[str, ChisqResult]
    chisq_vars: dict[str, tuple[str, str]]
    cells: dict[str, pd.DataFrame]
    means: pd.DataFrame
    monthly: pd.DataFrame
    logodds: pd.DataFrame
    pmi: pd.DataFrame
    delta_pmi: pd.DataFrame
    fingerprint: pd.DataFrame
    alluvial: pd.DataFrame
    glmm: dict[str, MixedLogitResult] = field(default_factory=dict)
    #: cluster-aware tests (one-row chisq_clustered frames), when [chisq] cluster is set
    clustered: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: the cluster column of the cluster-aware tests and intervals ("" = none)
    cluster: str = ""
    glmm_reference: str = ""
    notes: list[str] = field(default_factory=list)  # Python/R warnings worth reporting
    #: the permutation settings of [pmi] and [logodds] (README, table9 notes)
    pmi_permutation: PermutationSettings | None = None
    logodds_permutation: PermutationSettings | None = None
    #: with ``paper --gold``: DSL-corrected means by each [means] by column (columns of
    #: :func:`run_means` plus n_gold, mean_corrected, ci_*_corrected, flag_corrected)
    means_gold: pd.DataFrame | None = None
    #: with ``paper --gold``: sentiment shares by condition, corrected and naive
    shares_gold: pd.DataFrame | None = None
    #: the residual the heatmaps draw ("adjusted" or "pearson", [chisq] residual) and
    #: their fixed colour limit (+/- residual_limit; None = the data's largest |z|)
    residual: str = "adjusted"
    residual_limit: float | None = None
    #: the [denominators] rules and the groups they leave out of the comparisons
    denominators: Denominators = field(default_factory=Denominators)
    dropped: list[Dropped] = field(default_factory=list)
    #: the incomplete last month left out of the time series (YYYY-MM), if any
    dropped_month: str | None = None
    #: monthly volume and mean sentiment of the [monthly] top_conditions largest conditions
    monthly_conditions: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: [anova]: Welch's ANOVA (one row) and Games-Howell pairs of the sentiment score
    anova: pd.DataFrame | None = None
    gameshowell: pd.DataFrame | None = None
    #: the per-group n and mean behind the ANOVA
    anova_groups: pd.DataFrame | None = None


NO_RULES = Denominators()


def ordered(
    df: pd.DataFrame, codebook: Codebook, col: str, leave_out: set[str] | None = None
) -> pd.Categorical:
    """A column as a Categorical in codebook order (platforms: sorted codes), without
    the categories ``leave_out`` (groups a [denominators] rule keeps out)."""
    cats = codebook.codes(col) if col in codebook.dimensions else sorted(df[col].unique())
    cats = [c for c in cats if c not in (leave_out or set())]
    return pd.Categorical(df[col], categories=cats)


def _left_out(df: pd.DataFrame, codebook: Codebook, den: Denominators, dim: str) -> set[str]:
    """Codes of ``dim`` a comparison leaves out: excluded, under min_units, or without
    units when a min_units rule applies (so no empty row is reported as dropped)."""
    if not den.active:
        return set()
    out = {d.code for d in den.dropped(df, dim)}
    if den.min_units.get(dim, 0) > 0 and dim in codebook.dimensions:
        out |= set(codebook.codes(dim)) - set(df[dim].astype(str).unique())
    return out


def _restricted(
    df: pd.DataFrame, codebook: Codebook, den: Denominators, row: str, col: str
) -> pd.DataFrame:
    """The ``row`` x ``col`` units a comparison uses, as Categoricals in codebook order
    without the groups the [denominators] rules leave out."""
    kept = den.keep(df, [row, col])
    return pd.DataFrame(
        {
            row: ordered(kept, codebook, row, _left_out(df, codebook, den, row)),
            col: ordered(kept, codebook, col, _left_out(df, codebook, den, col)),
        },
        index=kept.index,
    )


def order_key(codebook: Codebook, col: str):
    """Sort key (for ``sort_values(key=...)``): codebook position; other columns (platform)
    alphabetical; unknown codes such as the lumped level sort last."""
    if col not in codebook.dimensions:
        return lambda s: s.astype(str).rank(method="dense").astype(np.int64)
    pos = {c: i for i, c in enumerate(codebook.codes(col))}
    return lambda s: s.map(lambda v: pos.get(v, len(pos))).astype(np.int64)


def _record(caught: list[warnings.WarningMessage], where: str, notes: list[str]) -> None:
    for w in caught:
        notes.append(f"{where}: {w.message}")


def run_chisq(
    df: pd.DataFrame,
    codebook: Codebook,
    study: dict[str, Any],
    seed: int | None,
    notes: list[str],
    den: Denominators = NO_RULES,
) -> tuple[dict, dict, dict, dict]:
    """Pearson tests (kept for comparison with the original study) and, with ``[chisq]
    cluster`` (default "author"), the Rao-Scott tests and cluster-robust cell tests.

    ``cells[name]`` has the naive ``adjusted_residual`` and, as ``z``, ``deff`` and
    ``p_value_adj``, the cluster-robust residual when clustered (``z`` = the naive
    residual otherwise); ``residual_method`` says which one ``p_value_adj`` belongs to.
    """
    cfg = study["chisq"]
    cluster = cfg.get("cluster", "author")
    adjust, alpha = cfg.get("adjust", "holm"), cfg.get("alpha", 0.05)
    res, cells, varnames, clustered = {}, {}, {}, {}
    for t in cfg["tests"]:
        name, row, col = t["name"], t["row"], t["col"]
        kept = _restricted(df, codebook, den, row, col)
        tab = crosstab(kept, row, col)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                r = chisq_independence(tab, simulate=None, seed=seed, B=int(cfg.get("B", 2000)))
            except ValueError as exc:  # e.g. a coder that used a single category
                notes.append(f"chi-square {name}: not computed: {exc}")
                continue
            finally:
                _record(caught, f"chi-square {name}", notes)
        res[name] = r
        naive = cell_tests(r, method=adjust, alpha=alpha)
        varnames[name] = (row, col)
        if not cluster:
            cells[name] = naive.assign(
                z=naive["adjusted_residual"],
                deff=1.0,
                p_value_adj_naive=naive["p_value_adj"],
                residual_method="adjusted residual",
            )
            continue
        units = df.loc[kept.index, [row, col, cluster]]
        clustered[name] = chisq_clustered(units, row, col, cluster)
        robust = cell_tests_clustered(units, row, col, cluster, method=adjust, alpha=alpha)
        got = robust.set_index([robust["row"].astype(str), robust["col"].astype(str)]).reindex(
            pd.MultiIndex.from_arrays([naive["row"].astype(str), naive["col"].astype(str)])
        )
        out = naive.copy()
        out["z"] = got["z"].to_numpy()
        out["deff"] = got["deff"].to_numpy()
        out["p_value_adj"] = got["p_value_adj"].to_numpy()
        out["significant"] = got["significant"].fillna(False).to_numpy(dtype=bool)
        out["p_value_adj_naive"] = naive["p_value_adj"].to_numpy()
        out["residual_method"] = "cluster-robust adjusted residual"
        cells[name] = out
    return res, cells, varnames, clustered


#: the columns of :func:`_means_columns`
MEANS_COLUMNS = [
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "method",
    "flag",
    "ci_low_naive",
    "ci_high_naive",
]


def _means_columns(m: pd.DataFrame, naive: pd.DataFrame) -> dict[str, Any]:
    """The hand-off columns of a means table: the default interval and the naive t one."""
    return {
        "n": m["n"].to_numpy(),
        "mean": m["mean"].to_numpy(),
        "ci_low": m["ci_low"].to_numpy(),
        "ci_high": m["ci_high"].to_numpy(),
        "method": m["method"].to_numpy(),
        "flag": m["flag"].to_numpy(),
        "ci_low_naive": naive["ci_low"].to_numpy(),
        "ci_high_naive": naive["ci_high"].to_numpy(),
    }


def _means_cfg(study: dict[str, Any]) -> tuple[float, str | None]:
    cfg = study["means"]
    return float(cfg.get("conf", 0.95)), (cfg.get("cluster", "author") or None)


def run_means(
    df: pd.DataFrame, codebook: Codebook, study: dict[str, Any], den: Denominators = NO_RULES
) -> pd.DataFrame:
    """Mean sentiment by each ``[means] by`` column: cluster-robust intervals with
    ``[means] cluster`` (default author), the t interval alongside as ``*_naive``; only
    the groups the [denominators] rules let in."""
    conf, cluster = _means_cfg(study)
    parts = []
    for by in study["means"]["by"]:
        kept = den.keep(df, [by])
        scored = kept.assign(score=sentiment_score(kept["sentiment"]))
        m = group_means_ci(scored, by, "score", conf=conf, cluster=cluster)
        naive = group_means_ci(scored, by, "score", conf=conf)
        order = m[by].sort_values(key=order_key(codebook, by), kind="stable").index
        m, naive = m.loc[order], naive.set_index(by).loc[m.loc[order, by]].reset_index()
        parts.append(
            pd.DataFrame({"by": by, "group": m[by].astype(str), **_means_columns(m, naive)})
        )
    return pd.concat(parts, ignore_index=True)


def run_corrected(
    coded: pd.DataFrame, gold: pd.DataFrame, key: str, codebook: Codebook, study: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimates corrected with a human gold sample (design-based supervised learning,
    :mod:`vsdstats.stats.corrected`): mean sentiment by each ``[means] by`` column and
    the sentiment shares by condition, cluster-robust with ``[means] cluster``.  Group
    membership is corrected too where the gold file codes the grouping column."""
    conf, cluster = _means_cfg(study)
    scored = coded.assign(score=sentiment_score(coded["sentiment"]))
    g = gold.dropna(subset=["sentiment"])
    g = g.assign(score=sentiment_score(g["sentiment"]))
    parts = []
    for by in study["means"]["by"]:
        m = group_means_ci(scored, by, "score", conf=conf, cluster=cluster, gold=g, on=key)
        order = m[by].sort_values(key=order_key(codebook, by), kind="stable").index
        m = m.loc[order]
        parts.append(
            pd.DataFrame(
                {
                    "by": by,
                    "group": m[by].astype(str).to_numpy(),
                    "n": m["n"].to_numpy(),
                    "n_gold": m["n_gold"].to_numpy(),
                    "mean_corrected": m["mean"].to_numpy(),
                    "ci_low_corrected": m["ci_low"].to_numpy(),
                    "ci_high_corrected": m["ci_high"].to_numpy(),
                    "flag_corrected": m["flag"].to_numpy(),
                    "mean_naive": m["naive_mean"].to_numpy(),
                }
            )
        )
    shares = corrected_proportions(
        coded, g, "condition", "sentiment", on=key, cluster=cluster, conf=conf
    )
    return pd.concat(parts, ignore_index=True), shares


def monthly_settings(study: dict[str, Any]) -> tuple[int, bool]:
    """``[monthly]``: ``top_conditions`` (5) and ``drop_incomplete_last_month`` (true);
    a bad value is a PaperError naming the file and key."""
    from vsdstats.paper.config import PaperError

    cfg = study.get("monthly", {})
    where = f"{study.get('_source', 'analysis file')}: [monthly]"
    top = cfg.get("top_conditions", 5)
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise PaperError(f"{where} top_conditions must be a whole number >= 0, not {top!r}")
    drop = cfg.get("drop_incomplete_last_month", True)
    if not isinstance(drop, bool):
        raise PaperError(f"{where} drop_incomplete_last_month must be true or false")
    return top, drop


def series_units(df: pd.DataFrame, study: dict[str, Any]) -> tuple[pd.DataFrame, str | None]:
    """The units of the time series: without the incomplete last month (UTC) when
    ``[monthly] drop_incomplete_last_month``; returns (units, dropped month or None)."""
    _, drop = monthly_settings(study)
    cut = incomplete_last_month(df["created_at"]) if drop else None
    if cut is None:
        return df, None
    months = pd.to_datetime(df["created_at"], utc=True).dt.strftime("%Y-%m")
    return df.loc[months != cut], cut


def _monthly_frame(scored: pd.DataFrame, study: dict[str, Any], by: str | None) -> pd.DataFrame:
    conf, cluster = _means_cfg(study)
    m = monthly(scored, "created_at", "score", by=by, conf=conf, cluster=cluster)
    naive = monthly(scored, "created_at", "score", by=by, conf=conf)
    month = pd.to_datetime(m["month"]).dt.strftime("%Y-%m-%d")
    cols = _means_columns(m, naive)
    cols["n"] = m["n"].astype(np.int64).to_numpy()
    lead = {"month": month.to_numpy()}
    if by is not None:
        lead = {by: m[by].astype(str).to_numpy(), **lead}
    return pd.DataFrame({**lead, **cols})


def run_monthly(df: pd.DataFrame, study: dict[str, Any]) -> pd.DataFrame:
    """Monthly volume and mean sentiment of all units (``df``: :func:`series_units`)."""
    return _monthly_frame(df.assign(score=sentiment_score(df["sentiment"])), study, None)


def run_monthly_conditions(
    df: pd.DataFrame, codebook: Codebook, study: dict[str, Any], den: Denominators = NO_RULES
) -> pd.DataFrame:
    """Monthly volume and mean sentiment of the ``[monthly] top_conditions`` conditions
    with the most units among those the [denominators] rules let in (ties: codebook
    order), over the full month range; columns ``condition, rank, month, ...``."""
    top, _ = monthly_settings(study)
    kept = den.keep(df, ["condition"])
    counts = kept["condition"].astype(str).value_counts()
    if top == 0 or not len(counts):
        return pd.DataFrame(columns=["condition", "rank", "month", *MEANS_COLUMNS])
    cand = pd.DataFrame({"code": counts.index, "n": counts.to_numpy()})
    cand["_k"] = order_key(codebook, "condition")(cand["code"])
    chosen = cand.sort_values(["n", "_k"], ascending=[False, True], kind="stable").head(top)
    rank = {c: i + 1 for i, c in enumerate(chosen["code"])}
    scored = df.assign(score=sentiment_score(df["sentiment"]))
    m = _monthly_frame(scored, study, "condition")
    m = m[m["condition"].isin(set(rank))].copy()
    m.insert(1, "rank", m["condition"].map(rank).astype(np.int64))
    return m.sort_values(["rank", "month"], kind="stable").reset_index(drop=True)


def permutation_settings(
    study: dict[str, Any], section: str, df: pd.DataFrame
) -> PermutationSettings:
    """``permutations`` (1000), ``seed`` (2026), ``cluster`` ("author"; "" = units),
    ``min_support`` (30) and ``alpha0`` (500) of ``[section]``; a bad value is a
    PaperError naming study.toml, the section and the key."""
    from vsdstats.paper.config import PaperError

    cfg = study[section]
    where = f"{study.get('_source', 'analysis/study.toml')}: [{section}]"

    def whole(key: str, default: int, low: int) -> int:
        v = cfg.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise PaperError(f"{where} {key} must be a whole number >= {low}, not {v!r}")
        return int(v)

    cluster = cfg.get("cluster", "author")
    if not isinstance(cluster, str):
        raise PaperError(f'{where} cluster must be a column name or "", not {cluster!r}')
    if cluster and cluster not in df.columns:
        raise PaperError(f"{where} cluster: column {cluster!r} is not in the units")
    alpha0 = cfg.get("alpha0", 500.0)
    if isinstance(alpha0, bool) or not isinstance(alpha0, (int, float)) or not alpha0 > 0:
        raise PaperError(f"{where} alpha0 must be a positive number, not {alpha0!r}")
    return PermutationSettings(
        permutations=whole("permutations", 1000, 0),
        seed=whole("seed", 2026, 0),
        cluster=cluster or None,
        min_support=whole("min_support", 30, 0),
        alpha0=float(alpha0),
    )


def run_logodds(
    df: pd.DataFrame, codebook: Codebook, study: dict[str, Any], den: Denominators = NO_RULES
) -> pd.DataFrame:
    """tidylo's weighted log-odds (the ranking), MCQ's zeta and its permutation test.

    Per feature dimension of ``[logodds] features``, on the complete condition x feature
    grid: ``log_odds_weighted`` (:func:`weighted_log_odds`, informative prior; a ranking
    score, not a z-score: its null SD is far below 1), ``zeta`` (Monroe, Colaresi &
    Quinn 2008, :func:`log_odds_dirichlet`, prior = corpus frequencies x ``alpha0``) and
    its permutation ``p_value`` / maxT ``p_value_adj`` (:func:`log_odds_permutation`,
    condition labels permuted across authors; NA when ``permutations = 0``)."""
    from vsdstats.stats.logodds import log_odds_dirichlet, log_odds_permutation

    group = study["logodds"]["group"]
    perm = permutation_settings(study, "logodds", df)
    parts = []
    every = df
    for feat in study["logodds"]["features"]:
        df = den.keep(every, [group, feat])  # the groups the [denominators] rules let in
        # the complete condition x feature grid (zeros included): tidylo adds its prior
        # once per row present, so leaving out zero rows would favour rare features
        counts = crosstab(df, group, feat).stack().rename("n").reset_index()
        lo = weighted_log_odds(counts, group, feat, "n")
        z = log_odds_dirichlet(counts, group, feat, "n", alpha0=perm.alpha0)
        lo = lo.merge(z[[group, feat, "zeta"]], on=[group, feat], how="left", validate="1:1")
        if perm.permutations > 0:
            t = log_odds_permutation(
                df[[group, feat] + ([perm.cluster] if perm.cluster else [])],
                group,
                feat,
                cluster=perm.cluster,
                permutations=perm.permutations,
                seed=perm.seed,
                alpha0=perm.alpha0,
            )
            t = t[[group, feat, "null_sd", "p_value", "p_value_adj"]]
            t = t.rename(columns={"null_sd": "null_sd_zeta"})
            lo = lo.merge(t, on=[group, feat], how="left", validate="1:1")
            # the same null for tidylo's statistic: its SD is what says "not a z-score"
            w = log_odds_permutation(
                df[[group, feat] + ([perm.cluster] if perm.cluster else [])],
                group,
                feat,
                cluster=perm.cluster,
                statistic="log_odds_weighted",
                permutations=perm.permutations,
                seed=perm.seed,
            )
            w = w[[group, feat, "null_sd"]].rename(columns={"null_sd": "null_sd_tidylo"})
            lo = lo.merge(w, on=[group, feat], how="left", validate="1:1")
        else:
            lo["p_value"] = lo["p_value_adj"] = np.nan
            lo["null_sd_zeta"] = lo["null_sd_tidylo"] = np.nan
        lo = lo.rename(columns={group: "condition", feat: "feature"})
        lo.insert(1, "dimension", feat)
        fkey = order_key(codebook, feat)
        lo["_f"] = fkey(lo["feature"])
        lo = lo.sort_values(
            ["condition", "log_odds_weighted", "_f"], ascending=[True, False, True], kind="stable"
        )
        lo["rank"] = lo.groupby("condition").cumcount() + 1
        parts.append(lo.drop(columns="_f"))
    out = pd.concat(parts, ignore_index=True)
    out["_c"] = order_key(codebook, "condition")(out["condition"])
    out["_d"] = out["dimension"].map({f: i for i, f in enumerate(study["logodds"]["features"])})
    out = out.sort_values(["_c", "_d", "rank"], kind="stable").drop(columns=["_c", "_d"])
    out["n"] = out["n"].astype(np.int64)
    cols = ["condition", "dimension", "feature", "n", "log_odds_weighted", "rank"]
    # null_sd_*: the permutation-null SDs (README only; not in the hand-off file)
    extra = ["zeta", "p_value", "p_value_adj", "null_sd_zeta", "null_sd_tidylo"]
    out = out[cols + extra].reset_index(drop=True)
    out.attrs["permutation"] = perm
    return out


def run_pmi(
    df: pd.DataFrame, codebook: Codebook, study: dict[str, Any], den: Denominators = NO_RULES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PMI / NPMI of ``a`` x ``b`` over all units, and delta-PMI of each ``by`` level
    against the rest with its permutation null.

    ``delta_pmi = PMI_c(a, b) - PMI_rest(a, b)`` in bits (:func:`delta_pmi`); ``supported``
    is ``n_in >= min_support and n_out >= min_support``; with ``permutations = B > 0``
    the ``by`` labels are permuted across authors (``cluster``) B times, giving
    ``null_mean`` (the upward bias of small conditions), ``delta_pmi_centered``, the
    two-sided ``p_value`` and the Westfall-Young maxT ``p_value_adj`` over the supported
    cells (NA when B = 0 and for unsupported cells)."""
    a, b, by = study["pmi"]["a"], study["pmi"]["b"], study["pmi"]["by"]
    p = pmi(den.keep(df, [a, b])[[a, b]], a, b)
    p = p[[a, b, "n", "pmi", "npmi"]]
    p = p.sort_values([a, b], key=lambda s: order_key(codebook, s.name)(s), kind="stable")
    perm = permutation_settings(study, "pmi", df)
    cluster = perm.cluster if perm.permutations > 0 else None
    d = delta_pmi(
        den.keep(df, [a, b, by])[[a, b, by] + ([cluster] if cluster else [])],
        a,
        b,
        by,
        permutations=perm.permutations,
        seed=perm.seed,
        cluster=cluster,
        min_support=perm.min_support,
    )
    null_cols = ["null_mean", "delta_pmi_centered", "p_value", "p_value_adj"]
    for col in null_cols:
        if col not in d.columns:  # permutations = 0: no null, NA columns (fixed schema)
            d[col] = np.nan
    d = d[[by, a, b, "n_in", "n_out", "delta_pmi", "supported", *null_cols]]
    d = d.sort_values([by, a, b], key=lambda s: order_key(codebook, s.name)(s), kind="stable")
    d = d.reset_index(drop=True)
    d.attrs["permutation"] = perm
    return p.reset_index(drop=True), d


def run_fingerprint(
    df: pd.DataFrame,
    codebook: Codebook,
    study: dict[str, Any],
    notes: list[str],
    den: Denominators = NO_RULES,
) -> pd.DataFrame:
    row, col = study["fingerprint"]["row"], study["fingerprint"]["col"]
    tab = crosstab(_restricted(df, codebook, den, row, col), row, col)
    tab = tab.loc[tab.sum(axis=1) > 0]
    share = tab.div(tab.sum(axis=1), axis=0)
    if tab.shape[0] >= 2 and (tab.sum(axis=0) > 0).sum() >= 2:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            res = chisq_independence(tab, simulate=False)
        adj = res.adjusted_residuals.reindex(index=tab.index, columns=tab.columns)
    else:
        notes.append("fingerprint: fewer than two LLM families or conditions; no residuals")
        adj = pd.DataFrame(np.nan, index=tab.index, columns=tab.columns)
    long = pd.DataFrame(
        {
            "llm_product": np.repeat(tab.index.astype(str), tab.shape[1]),
            "condition": np.tile(tab.columns.astype(str), tab.shape[0]),
            "n": tab.to_numpy().ravel().astype(np.int64),
            "share": share.to_numpy().ravel(),
            "adjusted_residual": adj.to_numpy().ravel(),
        }
    )
    return long


def run_alluvial(df: pd.DataFrame, codebook: Codebook, study: dict[str, Any]) -> pd.DataFrame:
    axes = study["alluvial"]["axes"]
    keep_n = int(study["alluvial"].get("max_levels", 8)) - 1
    d = df[axes].copy()
    for ax in axes:
        counts = d[ax].value_counts()
        if len(counts) > keep_n + 1:
            cand = pd.DataFrame({"code": counts.index, "n": counts.to_numpy()})
            top = (
                cand.assign(_k=order_key(codebook, ax)(cand["code"]))
                .sort_values(["n", "_k"], ascending=[False, True], kind="stable")
                .head(keep_n)["code"]
            )
            d[ax] = d[ax].where(d[ax].isin(set(top)), LUMPED)
    flows = d.groupby(axes, sort=False).size().reset_index(name="n")
    flows = flows.sort_values(axes, key=lambda s: order_key(codebook, s.name)(s), kind="stable")
    flows["n"] = flows["n"].astype(np.int64)
    return flows.reset_index(drop=True)


def run_anova(
    df: pd.DataFrame,
    codebook: Codebook,
    study: dict[str, Any],
    notes: list[str],
    den: Denominators = NO_RULES,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """``[anova]``: the sentiment score (+1/0/-1) across the groups of ``between``
    (default llm_product) by Welch's ANOVA and Games-Howell pairwise tests
    (:mod:`vsdstats.stats.anova`), as the original study did; units are treated as
    independent (its assumption).  Returns (welch, pairs, groups) in codebook order, or
    None without an [anova] section; groups with fewer than 2 units or no variance
    cannot enter (a note names them)."""
    from vsdstats.paper.config import PaperError
    from vsdstats.stats.anova import games_howell, welch_anova

    if "anova" not in study:
        return None
    between = study["anova"].get("between", "llm_product")
    if between not in df.columns:
        raise PaperError(f"{study.get('_source')}: [anova] between: no column {between!r}")
    kept = den.keep(df, [between])
    d = pd.DataFrame(
        {"group": kept[between].astype(str), "score": sentiment_score(kept["sentiment"])}
    )
    g = d.groupby("group")["score"].agg(n="size", mean="mean", sd="std").reset_index()
    bad = g[(g["n"] < 2) | ~(g["sd"] > 0)]
    if len(bad):
        notes.append(
            f"Welch ANOVA: {', '.join(bad['group'])} left out (fewer than 2 units or no "
            "variance in the sentiment score)"
        )
    g = g[~g["group"].isin(set(bad["group"]))]
    g = g.sort_values("group", key=order_key(codebook, between), kind="stable")
    if len(g) < 2:
        notes.append(f"Welch ANOVA: fewer than two groups of {between}; not computed")
        return None
    pos = {c: i for i, c in enumerate(g["group"])}
    d = d[d["group"].isin(set(pos))]
    d = d.iloc[np.argsort(d["group"].map(pos).to_numpy(), kind="stable")]  # codebook order
    welch = welch_anova(d, "score", "group").assign(between=between)
    welch = welch[["between", "k", "n", "F", "df1", "df2", "p_value", "np2"]]
    pairs = games_howell(d, "score", "group")
    return welch, pairs, g.reset_index(drop=True)


def run_glmm(
    df: pd.DataFrame, codebook: Codebook, study: dict[str, Any], notes: list[str]
) -> tuple[dict[str, MixedLogitResult], str]:
    cfg = study["glmm"]
    cond = ordered(df, codebook, "condition").remove_unused_categories()
    data = pd.DataFrame(
        {
            "condition": cond,
            "platform": df["platform"].astype(str),
            "author": df["author"],
            "negative": (df["sentiment"] == "negative").astype(np.int32),
            "positive": (df["sentiment"] == "positive").astype(np.int32),
            "neutral": (df["sentiment"] == "neutral").astype(np.int32),
        }
    )
    ref = cfg.get("ref") or str(cond.categories[0])
    if ref not in set(cond.categories):
        notes.append(f"GLMM: reference condition {ref!r} has no units; using {cond.categories[0]}")
        ref = str(cond.categories[0])
    out = {}
    for outcome in cfg["outcomes"]:
        formula = cfg["formula"].format(outcome=outcome)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out[outcome] = mixed_logit(
                    formula,
                    data,
                    engine=cfg.get("engine", "glmmTMB"),
                    ref={"condition": ref},
                    adjust=cfg.get("adjust", "holm"),
                    adjust_vars="condition",
                    separation=cfg.get("separation", "flag"),
                )
            except ValueError as exc:
                notes.append(f"GLMM {formula}: not fitted: {exc}")
        _record(caught, f"GLMM {formula}", notes)
        if outcome in out and not out[outcome].converged:
            notes.append(f"GLMM {formula}: the optimizer reports NO convergence")
    for fit in out.values():
        _round_glmm(fit)
    return out, ref


GLMM_DIGITS = 6


def _round_glmm(fit: MixedLogitResult) -> None:
    """Round GLMM numbers to GLMM_DIGITS significant digits, in place.

    Optimizer results move in the 9th digit from run to run (R's own reruns differ at
    about 1e-6), so estimates, standard errors and variances keep 6 significant digits
    and everything derived (z, p, odds ratios, Wald CIs) is recomputed from the rounded
    values: p for |z| ~ 20 would otherwise amplify a 1e-9 wobble into its 6th digit.
    Tables then stay byte-identical between runs.
    """

    def sig(x: pd.Series) -> np.ndarray:
        return np.array([float(f"{v:.{GLMM_DIGITS}g}") for v in x], dtype=float)

    est, se = sig(fit.fixed["estimate"]), sig(fit.fixed["std_error"])
    table = wald_table(list(fit.fixed["term"]), est, se, fit.conf)
    for col in table.columns.drop("term"):
        fit.fixed[col] = sig(table[col])
    if "p_value_adj" in fit.fixed.columns:  # recomputed from the rounded p-values
        fit.fixed["p_value_adj"] = sig(pd.Series(adjusted_p(fit.fixed, fit.adjust, "condition")))
    for col in fit.random.columns:
        if pd.api.types.is_float_dtype(fit.random[col]):
            fit.random[col] = sig(fit.random[col])


def residual_settings(study: dict[str, Any]) -> tuple[str, float | None]:
    """``[chisq] residual`` ("adjusted", default, or "pearson": (O - E) / sqrt(E), the
    original figure) and ``residual_limit`` (the heatmaps' fixed colour limit +/-;
    absent = the largest |residual| drawn)."""
    from vsdstats.paper.config import PaperError

    cfg = study["chisq"]
    where = f"{study.get('_source', 'analysis file')}: [chisq]"
    kind = cfg.get("residual", "adjusted")
    if kind not in ("adjusted", "pearson"):
        raise PaperError(f'{where} residual must be "adjusted" or "pearson", not {kind!r}')
    lim = cfg.get("residual_limit")
    if lim is not None and (isinstance(lim, bool) or not isinstance(lim, (int, float)) or lim <= 0):
        raise PaperError(f"{where} residual_limit must be a positive number, not {lim!r}")
    return kind, (None if lim is None else float(lim))


def compute(
    df: pd.DataFrame,
    codebook: Codebook,
    study: dict[str, Any],
    seed: int | None = None,
    glmm: bool = True,
) -> Analyses:
    """All analyses of the study on validated units ``df``."""
    notes: list[str] = []
    den = load_denominators(study, codebook)
    residual, residual_limit = residual_settings(study)
    chisq, cells, varnames, clustered = run_chisq(df, codebook, study, seed, notes, den)
    p, d = run_pmi(df, codebook, study, den)
    months = df["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    series, cut = series_units(df, study)
    anova = run_anova(df, codebook, study, notes, den)
    res = Analyses(
        n_units=len(df),
        n_posts=int(df["post_id"].nunique()),
        month_range=(months.min(), months.max()),
        chisq=chisq,
        chisq_vars=varnames,
        cells=cells,
        means=run_means(df, codebook, study, den),
        monthly=run_monthly(series, study),
        logodds=(lo := run_logodds(df, codebook, study, den)),
        pmi=p,
        delta_pmi=d,
        fingerprint=run_fingerprint(df, codebook, study, notes, den),
        alluvial=run_alluvial(df, codebook, study),
        notes=notes,
        clustered=clustered,
        cluster=study["chisq"].get("cluster", "author"),
        pmi_permutation=d.attrs["permutation"],
        logodds_permutation=lo.attrs["permutation"],
        residual=residual,
        residual_limit=residual_limit,
        denominators=den,
        dropped=[
            x for dim in sorted(set(den.min_units) | set(den.exclude)) for x in den.dropped(df, dim)
        ],
        dropped_month=cut,
        monthly_conditions=run_monthly_conditions(series, codebook, study, den),
    )
    if anova is not None:
        res.anova, res.gameshowell, res.anova_groups = anova
    if glmm:
        res.glmm, res.glmm_reference = run_glmm(df, codebook, study, notes)
    return res
