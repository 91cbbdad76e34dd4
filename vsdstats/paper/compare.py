"""Where the mixed-effects models and the plain chi-square residuals disagree."""

from __future__ import annotations

import pandas as pd

from vsdstats.paper.analyses import Analyses

#: verdict of a condition whose GLMM term is flagged for separation in an ML fit
SEPARATED = "GLMM separated"


def chisq_vs_glmm(
    res: Analyses, test: str = "condition_sentiment", alpha: float = 0.05
) -> pd.DataFrame:
    """One row per (outcome, condition): chi-square cell test vs GLMM condition term,
    both judged on multiplicity-adjusted p-values at ``alpha``.

    Chi-square side: the cell's ``p_value_adj`` (the adjusted residual's p-value, Holm
    over the R x C cells).  GLMM side: the term's ``glmm_p_value_adj`` (its Wald
    p-value, Holm over the condition terms of that model; see
    :func:`vsdstats.stats.glmm.mixed_logit`).  ``verdict`` is 'agree', 'chi-square only'
    (cell significant, GLMM term not), 'GLMM only', 'opposite directions' (both
    significant, residual and log odds ratio of opposite sign) or 'GLMM separated'
    (``glmm_separation``: the term's ML estimate is not usable -- a level without
    events, say -- so no comparison is made; a penalized refit is compared as usual).
    The two answer different questions -- the residual compares a condition with
    independence over all units, the odds ratio compares it with the reference
    condition after accounting for platform and author -- so a disagreement flags a
    conclusion that depends on treating posts as independent.
    """
    cols = [
        "outcome",
        "condition",
        "adjusted_residual",
        "p_value_adj",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
        "glmm_p_value_adj",
        "glmm_separation",
        "verdict",
    ]
    if test not in res.cells or not res.glmm:
        return pd.DataFrame(columns=cols)
    cells = res.cells[test]
    rows = []
    for outcome, fit in res.glmm.items():
        fx = fit.fixed.set_index("term")
        for cond in cells["row"].astype(str).unique():
            term = f"condition{cond}"
            if term not in fx.index:
                continue
            c = cells[(cells["row"].astype(str) == cond) & (cells["col"].astype(str) == outcome)]
            if c.empty:
                continue
            z = float(c["adjusted_residual"].iloc[0])
            p_value_adj = float(c["p_value_adj"].iloc[0])
            lo, hi, orr = (
                float(fx.loc[term, "or_ci_low"]),
                float(fx.loc[term, "or_ci_high"]),
                float(fx.loc[term, "odds_ratio"]),
            )
            g_p_adj = float(fx.loc[term, "p_value_adj"])
            separated = bool(fx.loc[term, "separation"])
            sig, g_sig = p_value_adj < alpha, g_p_adj < alpha
            if separated and not getattr(fit, "penalized", False):
                verdict = SEPARATED
            elif sig and not g_sig:
                verdict = "chi-square only"
            elif g_sig and not sig:
                verdict = "GLMM only"
            elif sig and g_sig and (z > 0) != (orr > 1):
                verdict = "opposite directions"
            else:
                verdict = "agree"
            rows.append((outcome, cond, z, p_value_adj, orr, lo, hi, g_p_adj, separated, verdict))
    return pd.DataFrame(rows, columns=cols)
