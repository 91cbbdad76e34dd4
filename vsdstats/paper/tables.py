"""The published tables of paper/tables/ (display strings, small counts suppressed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.paper.analyses import Analyses
from vsdstats.paper.render import SYNTHETIC_NOTE, PublishedTable, format_p
from vsdstats.paper.suppress import shown, small, suppress_mask
from vsdstats.tables.codebook import Codebook

DIM_TITLES = {
    "platform": "Platform",
    "condition": "Condition",
    "llm_product": "LLM family",
    "sentiment": "Sentiment",
    "perspective": "Perspective",
    "value": "Value",
}


def _label(codebook: Codebook, dim: str, code: str) -> str:
    if dim in codebook.dimensions:
        try:
            return codebook.category(dim, code).label
        except KeyError:
            return code
    return code


def _lower(dim: str) -> str:
    """A dimension's title inside a sentence: 'condition', 'LLM family'."""
    t = DIM_TITLES.get(dim, dim)
    return t if t.startswith("LLM") else t.lower()


def _denominator_note(res: Analyses, codebook: Codebook | None, dims: set[str]) -> list[str]:
    """The groups of ``dims`` the analysis's [denominators] rules left out, as a note."""
    gone = [d for d in res.dropped if d.dimension in dims]
    if not gone:
        return []
    return [
        "Left out by the analysis's denominator rules: "
        + ", ".join(
            f"{d.code if codebook is None else _label(codebook, d.dimension, d.code)} "
            f"({d.n} units, {d.reason})"
            for d in gone
        )
        + "."
    ]


def _f(x: float, digits: int = 2) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _suppression_note(k: int) -> str:
    return (
        f"Counts from 1 to {k - 1} are shown as <{k}; where one such count could be "
        "recovered from a published total, the next-smallest count of the same list is "
        "shown as 'suppressed' too (complementary suppression). 0 stays 0."
    )


class CountMasks:
    """Suppression decisions per dimension, shared by every table showing those counts."""

    def __init__(self, df: pd.DataFrame, codebook: Codebook, k: int) -> None:
        self.k = k
        self.units: dict[str, pd.Series] = {}
        self.posts: dict[str, pd.Series] = {}
        self.hidden_units: dict[str, pd.Series] = {}
        self.hidden_posts: dict[str, pd.Series] = {}
        self.total_hidden = False
        for dim in ("platform", "condition", "llm_product"):
            cats = sorted(df[dim].unique()) if dim == "platform" else codebook.codes(dim)
            u = df[dim].value_counts().reindex(cats, fill_value=0).astype(np.int64)
            p = df.groupby(dim)["post_id"].nunique().reindex(cats, fill_value=0).astype(np.int64)
            mu, hu = suppress_mask(u.to_numpy(), k)
            mp, hp = suppress_mask(p.to_numpy(), k)
            self.units[dim], self.posts[dim] = u, p
            self.hidden_units[dim] = pd.Series(mu, index=cats)
            self.hidden_posts[dim] = pd.Series(mp | mu, index=cats)
            self.total_hidden |= hu or hp

    def shown_units(self, dim: str, code: str, count: int | None = None) -> str:
        """Table 1's text of a group's units ('<K', 'suppressed' or digits); ``count``
        (default: the group's units) is printed under the same decision."""
        n = int(self.units[dim].get(code, 0)) if count is None else int(count)
        return shown(n, bool(self.hidden_units[dim].get(code, False)), self.k)

    def small(self, dim: str, code: str) -> bool:
        """Primary suppression of a group: 1 <= units < K (not drawn in any figure)."""
        return bool(small(np.array([self.units[dim].get(code, 0)]), self.k)[0])


def means_shown(means: pd.DataFrame, masks: CountMasks) -> pd.DataFrame:
    """Per row of ``res.means``: ``n_shown``, the N that table5 prints (table 1's
    decision for the group), and ``suppressed``, True when n < K (no mean is shown:
    table5 prints '—', fig5 leaves the group out)."""
    n_shown = [masks.shown_units(m.by, m.group, m.n) for m in means.itertuples(index=False)]
    return pd.DataFrame(
        {"n_shown": n_shown, "suppressed": (means["n"] < masks.k).to_numpy()},
        index=means.index,
    )


def table1_corpus(
    df: pd.DataFrame, res: Analyses, codebook: Codebook, masks: CountMasks, synthetic: bool
) -> PublishedTable:
    k = masks.k
    rows = []
    for dim in ("platform", "condition", "llm_product"):
        for code in masks.units[dim].index:
            rows.append(
                (
                    DIM_TITLES[dim],
                    _label(codebook, dim, code),
                    shown(masks.units[dim][code], masks.hidden_units[dim][code], k),
                    shown(masks.posts[dim][code], masks.hidden_posts[dim][code], k),
                )
            )
    period = f"all units, {res.month_range[0]} to {res.month_range[1]}"
    tot_u = shown(res.n_units, masks.total_hidden and res.n_units < k, k)
    rows.append(("Total", period, tot_u, shown(res.n_posts, masks.total_hidden, k)))
    frame = pd.DataFrame(rows, columns=["Section", "Category", "Units", "Posts"])
    notes = [
        "Units are coded reports of LLM use (a post yields one or more); a post counts once "
        "per category it has a unit in, so posts per condition or LLM family can sum to more "
        "than the total.",
        _suppression_note(k),
    ]
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table1_corpus",
        f"Corpus: coded units and posts per platform, condition and LLM family "
        f"({res.month_range[0]} to {res.month_range[1]}).",
        frame,
        notes,
        text_columns=2,
    )


def table2_chisq(
    res: Analyses, synthetic: bool, codebook: Codebook | None = None
) -> PublishedTable:
    """Rao-Scott tests (default, when the analysis is clustered) with the naive Pearson
    tests of the original study alongside, in columns labelled "naive"."""
    rows = []
    clustered = bool(res.clustered)
    for name, r in res.chisq.items():
        rv, cv = res.chisq_vars[name]
        mc = "—" if r.simulated_p_value is None else f"{r.simulated_p_value:.4f} (B = {r.B})"
        naive = [
            f"{r.statistic:.2f}",
            str(r.dof),
            format_p(r.p_value, r.log_p_value),
            f"{r.cramers_v:.3f}",
            _f(r.cramers_v_corrected, 3),
            mc,
        ]
        head = [f"{DIM_TITLES.get(rv, rv)} × {DIM_TITLES.get(cv, cv).lower()}", str(int(r.n))]
        if clustered:
            c = res.clustered[name].iloc[0]
            head += [
                str(int(c["n_clusters"])),
                f"{c['statistic']:.2f}",
                f"{c['df1']:.2f}, {c['df2']:.1f}",
                format_p(float(c["p_value"]), float(c["log_p_value"])),
                f"{c['mean_deff']:.2f}",
            ]
        rows.append((*head, *naive))
    naive_cols = ["Chi-square", "df", "p", "Cramér's V", "Bias-corrected V", "Monte-Carlo p"]
    cols = ["Test", "N"]
    if clustered:
        cols += ["Authors", "Rao-Scott F", "df1, df2", "p", "Mean deff"]
        naive_cols = [f"{c} (naive)" for c in naive_cols]
    frame = pd.DataFrame(rows, columns=cols + naive_cols)
    notes = []
    if clustered:
        notes.append(
            f"Units are nested in authors ({res.cluster}): the Rao-Scott second-order "
            "corrected F test (= R survey::svychisq on svydesign(ids = ~author)) is the "
            "test of independence; Mean deff is its mean generalized design effect. The "
            "columns marked naive treat units as independent (the original study's test) "
            "and are shown for comparison only."
        )
    notes.append(
        ("Naive: " if clustered else "")
        + "Pearson chi-square tests of independence without continuity correction; p below "
        "double precision is computed on the log scale (never printed as 0). Bias-corrected "
        "V after Bergsma (2013). Monte-Carlo p-values (seeded) are given where expected "
        "counts fail Cochran's rule.",
    )
    dropped = [
        f"{n}: {', '.join(map(str, r.dropped['rows'] + r.dropped['columns']))}"
        for n, r in res.chisq.items()
        if r.dropped.get("rows") or r.dropped.get("columns")
    ]
    if dropped:
        notes.append("Empty categories left out: " + "; ".join(dropped) + ".")
    singular = [n for n, c in res.clustered.items() if "note" in c and c["note"].iloc[0]]
    if singular:
        notes.append(
            "Rao-Scott design effects of "
            + ", ".join(singular)
            + " from a generalized inverse: empty cells make the design-effect system "
            "singular (R's survey::svychisq stops there)."
        )
    notes += _denominator_note(res, codebook, {d for v in res.chisq_vars.values() for d in v})
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table2_chisq",
        "Chi-square tests of independence: "
        + "; ".join(f"{_lower(rv)} × {_lower(cv)}" for rv, cv in res.chisq_vars.values())
        + ".",
        frame,
        notes,
    )


def _ci(low: float, high: float) -> str:
    return "—" if not math.isfinite(low) else f"[{low:.3f}, {high:.3f}]"


def table5_means(
    res: Analyses, codebook: Codebook, masks: CountMasks, synthetic: bool
) -> PublishedTable:
    """Mean sentiment with the default interval (cluster-robust when the analysis is
    clustered) and the naive t interval of the original study alongside."""
    k = masks.k
    robust = bool(len(res.means)) and res.means["method"].iloc[0] == "cluster-robust"
    gold = None
    if res.means_gold is not None:
        gold = {(c.by, c.group): c for c in res.means_gold.itertuples(index=False)}
    rows = []
    disp = means_shown(res.means, masks)
    for m, n_shown, no_mean in zip(
        res.means.itertuples(index=False), disp["n_shown"], disp["suppressed"], strict=True
    ):
        row = [
            DIM_TITLES[m.by],
            _label(codebook, m.by, m.group),
            n_shown,
            "—" if no_mean else f"{m.mean:.3f}",
            "—" if no_mean else _ci(m.ci_low, m.ci_high),
        ]
        if robust:
            row.append("—" if no_mean else _ci(m.ci_low_naive, m.ci_high_naive))
        if gold is not None:
            c = gold.get((m.by, m.group))
            if c is None or no_mean:
                row += ["—", "—", "—"]
            else:
                ng = int(c.n_gold)
                row += [
                    shown(ng, 1 <= ng < k, k),
                    "—" if not math.isfinite(c.mean_corrected) else f"{c.mean_corrected:.3f}",
                    _ci(c.ci_low_corrected, c.ci_high_corrected),
                ]
        rows.append(tuple(row))
    cols = ["By", "Group", "N", "Mean sentiment"]
    cols += ["95% CI (cluster-robust)", "95% CI (naive t)"] if robust else ["95% CI"]
    if gold is not None:
        cols += ["Gold N", "Mean (corrected, DSL)", "95% CI (corrected)"]
    frame = pd.DataFrame(rows, columns=cols)
    how = (
        f"95% intervals are cluster-robust over {res.cluster or 'author'}s (= R "
        "survey::svyby svymean; units of one author are not independent) and kept inside "
        "[-1, 1]; the naive t intervals (the original study's, treating units as "
        "independent) are shown for comparison"
        if robust
        else "t-based 95% intervals"
    )
    notes = [
        f"Sentiment scored +1 positive, 0 neutral, -1 negative; {how}. "
        f"Means of groups with fewer than {k} units are not shown.",
        _suppression_note(k),
    ]
    flagged = [f"{m.group} ({m.flag})" for m in res.means.itertuples() if m.flag and m.n >= k]
    if flagged:
        notes.append(
            "Flagged intervals: " + ", ".join(flagged) + " (constant: every score equal, the "
            "interval is the exact bound on the share of other scores; clipped: cut at the "
            "score's range)."
        )
    notes += _denominator_note(res, codebook, set(res.means["by"]))
    if gold is not None:
        notes.append(GOLD_NOTE)
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table5_means",
        "Mean sentiment with 95% confidence intervals by LLM family and by condition.",
        frame,
        notes,
        text_columns=2,
    )


#: table9's column of MCQ's zeta
ZETA_COLUMN = "MCQ zeta"


def perm_p_column(cluster: str | None) -> str:
    """table9's column of zeta's maxT permutation p: 'p (maxT, by author)' by default."""
    return f"p (maxT, by {cluster or 'unit'})"


def table9_logodds(
    res: Analyses, codebook: Codebook, top: int, k: int, synthetic: bool
) -> PublishedTable:
    """Top ``top`` features per condition and dimension by tidylo's weighted log-odds
    (the ranking; not a z-score), with MCQ's zeta and its maxT permutation p."""
    lo = res.logodds[res.logodds["rank"] <= top]
    perm = res.logodds_permutation
    p_col = perm_p_column(perm.cluster if perm is not None else None)
    rows = [
        (
            _label(codebook, "condition", r.condition),
            DIM_TITLES[r.dimension],
            str(r.rank),
            _label(codebook, r.dimension, r.feature),
            shown(r.n, 1 <= r.n < k, k),
            f"{r.log_odds_weighted:.2f}",
            _f(r.zeta),
            format_p(r.p_value_adj),
        )
        for r in lo.itertuples(index=False)
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "Condition",
            "Dimension",
            "Rank",
            "Feature",
            "N",
            "Weighted log-odds (tidylo)",
            ZETA_COLUMN,
            p_col,
        ],
    )
    if perm is not None and perm.permutations > 0:
        by = f"labels permuted across {perm.cluster}s" if perm.cluster else "across units"
        null = (
            f"{p_col}: permutation test of zeta, condition {by} "
            f"({perm.permutations} permutations, seed {perm.seed}), Westfall-Young maxT "
            "adjustment over every condition x feature cell of the dimension; the smallest "
            f"possible p is 1/{perm.permutations + 1}."
        )
    else:
        null = f"{p_col}: NA (no permutations: [logodds] permutations = 0)."
    alpha0 = perm.alpha0 if perm is not None else 500.0
    notes = [
        "Weighted log-odds (tidylo::bind_log_odds, informative empirical-Bayes prior) of "
        "each feature within a condition against the whole corpus, on the complete "
        f"(condition, feature) grid; top {top} per condition and dimension.  It ranks "
        "features but is NOT a z-score: with tidylo's prior (as large as the data) its "
        "null SD is far below 1, so it is not compared with 1.96.",
        f"{ZETA_COLUMN}: Monroe, Colaresi & Quinn's (2008) z-score of the informative-"
        f"Dirichlet log-odds ratio, condition vs. all others (prior: corpus frequencies x "
        f"{alpha0:g}); for distinctiveness claims use its permutation p, not |zeta| > 1.96.",
        null,
        f"Counts from 1 to {k - 1} are shown as <{k}.",
    ]
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table9_logodds",
        f"Weighted log-odds (tidylo; not a z-score): the top {top} perspectives and values "
        "per condition, with MCQ zeta and its permutation p.",
        frame,
        notes,
        text_columns=4,
    )


def _term_label(term: str, codebook: Codebook, ref: str) -> str:
    if term == "(Intercept)":
        return f"Intercept ({_label(codebook, 'condition', ref)})"
    if term.startswith("condition"):
        return _label(codebook, "condition", term[len("condition") :])
    return term


def glmm_log_p(estimate: float, se: float) -> float:
    """log of the two-sided Wald p-value, finite when p underflows."""
    z = abs(estimate / se) if se > 0 else float("nan")
    return math.log(2.0) + float(stats.norm.logsf(z)) if math.isfinite(z) else float("nan")


def table10_glmm(res: Analyses, codebook: Codebook, synthetic: bool) -> PublishedTable:
    """Odds ratios with Wald p and Holm-adjusted p over the condition terms; terms with
    quasi-complete separation in the ML fit are marked with a dagger."""
    rows = []
    notes = []
    separated = False
    for outcome, fit in res.glmm.items():
        fx = fit.fixed
        for r in fx.itertuples(index=False):
            sep = bool(getattr(r, "separation", False)) and not fit.penalized
            separated |= sep
            p_adj = getattr(r, "p_value_adj", float("nan"))
            rows.append(
                (
                    outcome.capitalize(),
                    _term_label(r.term, codebook, res.glmm_reference),
                    _f(r.odds_ratio, 3) + (" †" if sep else ""),
                    f"[{_f(r.or_ci_low, 3)}, {_f(r.or_ci_high, 3)}]",
                    format_p(r.p_value, glmm_log_p(r.estimate, r.std_error)),
                    "—" if not math.isfinite(p_adj) else format_p(p_adj),
                )
            )
        re_txt = ", ".join(
            f"{g.group} SD {g.sd:.3f} ({fit.n_groups.get(g.group, 0)} groups)"
            for g in fit.random.itertuples(index=False)
        )
        how = (
            "penalized ML (blme::bglmer, normal priors SD 10 on the intercept and 2.5 on "
            "the terms), refitted because the ML fit showed separation"
            if fit.penalized
            else f"engine {fit.engine}"
        )
        notes.append(
            f"{outcome.capitalize()}: {fit.formula}; n = {fit.n_obs}; random "
            f"intercepts: {re_txt}; {how}; converged: "
            f"{'yes' if fit.converged else 'NO'}."
        )
    frame = pd.DataFrame(rows, columns=["Outcome", "Term", "Odds ratio", "95% CI", "p", "p (Holm)"])
    ref = _label(codebook, "condition", res.glmm_reference)
    notes.insert(
        0,
        "Binomial mixed-effects logistic regressions (Laplace ML, Wald intervals) "
        "with random intercepts for platform and author; odds ratios of each "
        f"condition against the reference condition {ref}; p (Holm) is Holm-adjusted "
        "over the condition terms of each model. The original analysis treated posts as "
        "independent.",
    )
    if separated:
        notes.insert(
            1,
            "† quasi-complete separation (a condition without events or without "
            "non-events, |log odds ratio| > 10 or SE > 100): the ML estimate is not "
            'usable; refit with [glmm] separation = "penalize".',
        )
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table10_glmm",
        "Odds ratios of negative and positive sentiment by "
        "condition from mixed-effects logistic regressions.",
        frame,
        notes,
        text_columns=2,
    )


#: how the corrected columns of table5 and table12 are made (their notes)
GOLD_NOTE = (
    "Corrected: design-based supervised learning (Egami et al. 2023) with the human gold "
    "codes of --gold, a random subsample of the units (inclusion probabilities from its "
    "pi column, else a simple random sample): the LLM's labels plus the inverse-"
    "probability-weighted gold residuals, unbiased whatever the coder's errors; "
    "cluster-robust intervals with t on (gold clusters - 1) df.  The gold sample must be "
    "drawn at random from the coded units for the correction to hold.  Gold N counts "
    "gold units per group; a group without gold units gets no corrected interval."
)


def table12_corrected(
    res: Analyses, codebook: Codebook, masks: CountMasks, gold_source: str
) -> PublishedTable:
    """Sentiment shares by condition: the LLM's labels as truth (naive) and corrected
    with the gold sample (DSL), each with its 95% interval."""
    k = masks.k
    rows = []
    for c in res.shares_gold.itertuples(index=False):
        hidden = bool(masks.hidden_units["condition"].get(c.condition, False))
        small = c.n < k
        ng = int(c.n_gold)
        rows.append(
            (
                _label(codebook, "condition", c.condition),
                _label(codebook, "sentiment", c.sentiment),
                shown(c.n, hidden, k),
                shown(ng, 1 <= ng < k, k),
                "—" if small else f"{c.naive:.3f}",
                "—" if small else _ci(c.naive_ci_low, c.naive_ci_high),
                "—" if small or not math.isfinite(c.estimate) else f"{c.estimate:.3f}",
                "—" if small else _ci(c.ci_low, c.ci_high),
            )
        )
    cols = ["Condition", "Sentiment", "N", "Gold N", "Share (naive)", "95% CI (naive)"]
    cols += ["Share (corrected, DSL)", "95% CI (corrected)"]
    notes = [
        f"Share of each sentiment among the units of a condition. Naive: the LLM's labels "
        f"taken as truth (cluster-robust interval). {GOLD_NOTE} Gold file: {gold_source}.",
        f"Shares of conditions with fewer than {k} units are not shown.",
        _suppression_note(k),
    ]
    return PublishedTable(
        "table12_corrected",
        "Sentiment shares by condition, naive and corrected with the human gold sample.",
        pd.DataFrame(rows, columns=cols),
        notes,
        text_columns=2,
    )


def table11_agreement(summary: pd.DataFrame, key: str, gold_source: str) -> PublishedTable:
    rows = [
        (
            r.field,
            str(int(r.n)),
            _f(r.percent_agreement, 1),
            _f(r.cohen_kappa, 3),
            f"[{_f(r.kappa_ci_low, 3)}, {_f(r.kappa_ci_high, 3)}]",
            _f(r.krippendorff_alpha, 3),
        )
        for r in summary.itertuples(index=False)
    ]
    frame = pd.DataFrame(
        rows,
        columns=["Field", "N", "% agreement", "Cohen's kappa", "95% CI", "Krippendorff's alpha"],
    )
    notes = [
        f"Coded units compared with the gold codes of {gold_source} joined on {key}; "
        "kappa intervals from the Fleiss-Cohen-Everitt large-sample SE."
    ]
    return PublishedTable(
        "table11_agreement", "Agreement of the coding with the human gold standard.", frame, notes
    )


def table13_welch(
    res: Analyses, codebook: Codebook, masks: CountMasks, synthetic: bool
) -> PublishedTable | None:
    """Welch's ANOVA of the sentiment score across groups (``[anova]``, :mod:`vsdstats.stats.anova`) in the
    first row, then the Games-Howell pairs; None without an ``[anova]`` section.  A pair
    involving a group under K units shows no means (its group is suppressed in table 1)."""
    if res.anova is None or res.gameshowell is None:
        return None
    w = res.anova.iloc[0]
    dim = str(w["between"])
    k = masks.k
    groups = res.anova_groups if res.anova_groups is not None else pd.DataFrame()
    n_of = dict(zip(groups.get("group", []), groups.get("n", []), strict=True))

    def hidden(code: str) -> bool:
        return bool(small(np.array([int(n_of.get(code, 0))]), k)[0])

    def name(code: str) -> str:
        return _label(codebook, dim, code)

    rows = [
        (
            f"Welch's ANOVA ({len(groups)} groups)",
            str(int(w["n"])),
            "—",
            f"F = {w['F']:.2f}",
            f"{w['df1']:.0f}, {w['df2']:.1f}",
            format_p(float(w["p_value"])),
            f"η²p = {w['np2']:.4f}",
        )
    ]
    for r in res.gameshowell.itertuples(index=False):
        if hidden(r.A) or hidden(r.B):
            rows.append((f"{name(r.A)} − {name(r.B)}", "—", "—", "—", "—", "—", "—"))
            continue
        rows.append(
            (
                f"{name(r.A)} − {name(r.B)}",
                f"{int(n_of.get(r.A, 0))}, {int(n_of.get(r.B, 0))}",
                f"{r.diff:+.3f}",
                f"t = {r.t:.2f}",
                f"{r.df:.1f}",
                format_p(float(r.p_value)),
                f"g = {r.hedges:.3f}",
            )
        )
    frame = pd.DataFrame(
        rows, columns=["Comparison", "N", "Mean difference", "Statistic", "df", "p", "Effect"]
    )
    notes = [
        f"Sentiment score (+1 positive, 0 neutral, -1 negative) across {_lower(dim)} "
        "groups: Welch's heteroscedastic one-way ANOVA (Welch 1951) and Games-Howell pairwise "
        "tests (Games & Howell 1976; p from the studentized range, adjusted for all pairs), "
        "(vsdstats.stats.anova, checked against pingouin); η²p is eta squared, g Hedges' g. Units are treated "
        "as independent, as in the original study; authors with several units make these "
        "p-values too small (see table 5's cluster-robust intervals and table 10's GLMMs).",
    ]
    notes += _denominator_note(res, codebook, {dim})
    if any(hidden(g) for g in n_of):
        notes.append(f"Pairs with a group of fewer than {k} units show no numbers.")
    if synthetic:
        notes.append(SYNTHETIC_NOTE)
    return PublishedTable(
        "table13_welch",
        f"Sentiment across {_lower(dim)} groups: Welch's ANOVA and Games-Howell pairwise tests.",
        frame,
        notes,
    )
