"""Where the mixed-effects models and the plain chi-square residuals disagree."""

from __future__ import annotations

import pandas as pd

from vsdstats.paper.analyses import Analyses


def chisq_vs_glmm(res: Analyses, test: str = "condition_sentiment") -> pd.DataFrame:
    """One row per (outcome, condition): residual significance vs GLMM odds-ratio CI.

    ``verdict`` is 'agree', 'chi-square only' (residual significant after Holm, GLMM CI
    includes 1), 'GLMM only' (CI excludes 1, residual not significant) or 'opposite
    directions'.  The two answer different questions -- the residual compares a
    condition with independence over all units, the odds ratio compares it with the
    reference condition after accounting for platform and author -- so a disagreement
    flags a conclusion that depends on treating posts as independent.
    """
    cols = [
        "outcome",
        "condition",
        "adjusted_residual",
        "p_value_adj",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
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
            z, p_value_adj, sig = (
                float(c["adjusted_residual"].iloc[0]),
                float(c["p_value_adj"].iloc[0]),
                bool(c["significant"].iloc[0]),
            )
            lo, hi, orr = (
                float(fx.loc[term, "or_ci_low"]),
                float(fx.loc[term, "or_ci_high"]),
                float(fx.loc[term, "odds_ratio"]),
            )
            g_sig = lo > 1 or hi < 1
            if sig and not g_sig:
                verdict = "chi-square only"
            elif g_sig and not sig:
                verdict = "GLMM only"
            elif sig and g_sig and (z > 0) != (orr > 1):
                verdict = "opposite directions"
            else:
                verdict = "agree"
            rows.append((outcome, cond, z, p_value_adj, orr, lo, hi, verdict))
    return pd.DataFrame(rows, columns=cols)
