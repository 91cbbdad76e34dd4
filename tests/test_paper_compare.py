"""The paper's chi-square vs GLMM comparison judges both sides on adjusted p-values and
sets separated GLMM terms apart (vsdstats.paper.compare.chisq_vs_glmm)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from vsdstats.paper.compare import SEPARATED, chisq_vs_glmm
from vsdstats.stats.glmm import MixedLogitResult, adjusted_p, wald_table


def _fit(est, se, separated=(), penalized=False) -> MixedLogitResult:
    terms = ["(Intercept)", "conditionb", "conditionc", "conditiond"]
    fx = wald_table(terms, np.array(est), np.array(se), 0.95)
    fx.insert(5, "p_value_adj", adjusted_p(fx))
    fx["separation"] = [t in separated for t in terms]
    fx["separation_reason"] = ["x" if t in separated else "" for t in terms]
    return MixedLogitResult(
        fixed=fx,
        random=pd.DataFrame(columns=["group", "term", "variance", "sd"]),
        n_obs=100,
        n_groups={},
        engine="blme" if penalized else "glmmTMB",
        formula="negative ~ condition + (1|author)",
        converged=True,
        penalized=penalized,
    )


def _cells(p_adj: dict[str, float], z: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": list(p_adj),
            "col": "negative",
            "adjusted_residual": [z[k] for k in p_adj],
            "p_value_adj": list(p_adj.values()),
        }
    )


def test_verdicts_use_adjusted_p_on_both_sides():
    # conditionb: raw Wald p = 0.03 (its CI excludes OR 1), Holm (2nd of 3) -> 0.06
    est = [0.0, 2.17 * 0.1, 0.0, 1.0]
    se = [0.1, 0.1, 0.1, 0.1]
    fit = _fit(est, se)
    fx = fit.fixed.set_index("term")
    assert fx.loc["conditionb", "or_ci_low"] > 1 and fx.loc["conditionb", "p_value_adj"] > 0.05
    cells = _cells(
        {"a": 0.5, "b": 0.001, "c": 0.001, "d": 0.001}, {"a": 0, "b": 3, "c": 3, "d": -3}
    )
    res = SimpleNamespace(cells={"condition_sentiment": cells}, glmm={"negative": fit})
    out = chisq_vs_glmm(res).set_index("condition")
    assert list(out.index) == ["b", "c", "d"]  # "a" is the reference: no term
    assert out.loc["b", "verdict"] == "chi-square only"  # the CI rule would say 'agree'
    assert out.loc["c", "verdict"] == "chi-square only"
    assert out.loc["d", "verdict"] == "opposite directions"  # OR e^1 > 1, residual < 0
    np.testing.assert_allclose(out["glmm_p_value_adj"], fx["p_value_adj"].iloc[1:])
    assert out["glmm_separation"].dtype == bool and not out["glmm_separation"].any()


def test_separated_terms_are_not_compared_unless_penalized():
    est, se = [0.0, -25.0, 0.0, 0.0], [0.1, 3000.0, 0.1, 0.1]
    cells = _cells({"b": 0.001, "c": 0.9, "d": 0.9}, {"b": -4, "c": 0, "d": 0})
    for penalized, want in ((False, SEPARATED), (True, "chi-square only")):
        fit = _fit(est, se, separated=("conditionb",), penalized=penalized)
        res = SimpleNamespace(cells={"condition_sentiment": cells}, glmm={"negative": fit})
        out = chisq_vs_glmm(res).set_index("condition")
        assert out.loc["b", "verdict"] == want and bool(out.loc["b", "glmm_separation"])
        assert out.loc["c", "verdict"] == "agree"
