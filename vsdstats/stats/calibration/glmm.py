"""Calibration of the mixed logit (:func:`vsdstats.stats.glmm.mixed_logit`, glmmTMB):
coverage of the 95% Wald intervals of the condition terms and the familywise type-I
error of their Holm-adjusted p-values, with a naive logistic regression (no random
effects) alongside for comparison.

Data: the issue-10 clustered scenario (:func:`scenarios.clustered_units`) made smaller
so that each replicate is one R fit of about 0.4 s: 1,500 posts from 300 authors on 6
platforms (author SD 0.7 on every sentiment logit, 75% of an author's posts in one
condition, platform SD 0.3).  Outcome ``negative = (sentiment == "negative")``; model
``negative ~ condition + (1|platform) + (1|author)`` with reference level "general",
so the five condition terms are log odds ratios against "general".

- "clustered null": sentiment does not depend on condition, so every condition log
  odds ratio is 0 (given the author and platform effects, whatever their
  distribution): coverage = share of the 5 x reps intervals that contain 0 (target
  >= 0.93); familywise error = share of data sets with any Holm-adjusted p < 0.05
  (target <= 0.07); the share of data sets with a term flagged for separation.
- "clustered, effect 0.5": "negative" is shifted by 0.5 on its multinomial logit in
  "general", so each contrast moves by roughly -0.5 on the binary logit (only roughly:
  the binary log odds ratio of a multinomial shift is not the shift itself), so only
  power (any Holm-adjusted condition term < 0.05) is reported, without a target.

A fit that fails counts as a miss (interval not covering, no rejection).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from vsdstats.stats.calibration import row
from vsdstats.stats.calibration.scenarios import clustered_units
from vsdstats.stats.chisq import adjust_p

CHECK = "GLMM condition terms (mixed logit)"
ALPHA = 0.05
FORMULA = "negative ~ condition + (1|platform) + (1|author)"
REFERENCE = "general"
#: posts and authors per simulated data set (smaller than the issue's 4,000 / 800)
N, N_AUTHORS = 1500, 300
EFFECT = 0.5
GLMM = "glmmTMB, random intercepts platform + author (default)"
NAIVE = "naive glm (posts independent)"


def _data(rng: np.random.Generator, effect: float) -> pd.DataFrame:
    units = clustered_units(rng, n=N, n_authors=N_AUTHORS, effect=effect)
    return units.assign(negative=(units["sentiment"] == "negative").astype(np.int32))


def _glmm(units: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None:
    """(ci_low, ci_high, p_value_adj) of the condition terms, and any separation flag;
    None when R cannot fit the model."""
    from vsdstats.r.bridge import RError
    from vsdstats.stats.glmm import mixed_logit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = mixed_logit(FORMULA, units, ref={"condition": REFERENCE})
        except (RError, ValueError):
            return None
    fx = fit.fixed[fit.fixed["term"].str.startswith("condition")]
    return (
        fx["ci_low"].to_numpy(),
        fx["ci_high"].to_numpy(),
        fx["p_value_adj"].to_numpy(),
        bool(fit.fixed["separation"].any()),
    )


def _naive(units: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same condition terms from an ordinary logistic regression (statsmodels GLM,
    binomial, Wald intervals), Holm-adjusted like the GLMM's."""
    import statsmodels.api as sm

    levels = [REFERENCE, *sorted(set(units["condition"]) - {REFERENCE})]
    cond = pd.Categorical(units["condition"], categories=levels)
    x = pd.get_dummies(cond, drop_first=True, dtype=float)
    x.insert(0, "const", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(units["negative"].to_numpy(), x.to_numpy(), family=sm.families.Binomial())
        res = res.fit()
    ci = np.asarray(res.conf_int(alpha=ALPHA))[1:]
    return ci[:, 0], ci[:, 1], adjust_p(np.asarray(res.pvalues)[1:], "holm")


def null_replicates(reps: int, seed: int) -> dict[str, tuple[int, int]]:
    """(hits, total) on the clustered null: ``"<method> coverage"`` over the condition
    terms, ``"<method> fwer"`` over data sets, and ``"separation"``."""
    out = {k: [0, 0] for k in (f"{GLMM} coverage", f"{GLMM} fwer", f"{NAIVE} coverage")}
    out |= {f"{NAIVE} fwer": [0, 0], "separation": [0, 0]}
    for i in range(reps):
        units = _data(np.random.default_rng([seed, 0, i]), 0.0)
        k = units["condition"].nunique() - 1
        fit = _glmm(units)
        lo, hi, padj, sep = fit if fit is not None else (*[np.full(k, np.nan)] * 3, False)
        nlo, nhi, npadj = _naive(units)
        for method, (a, b, p) in ((GLMM, (lo, hi, padj)), (NAIVE, (nlo, nhi, npadj))):
            out[f"{method} coverage"][0] += int(np.sum((a <= 0) & (0 <= b)))
            out[f"{method} coverage"][1] += k
            out[f"{method} fwer"][0] += int(np.any(p < ALPHA))
            out[f"{method} fwer"][1] += 1
        out["separation"][0] += int(sep)
        out["separation"][1] += 1
    return {key: (h, t) for key, (h, t) in out.items()}


def run(reps: int = 500, seed: int = 2026) -> pd.DataFrame:
    """Coverage and familywise error on ``reps`` null data sets, power on ``reps`` more."""
    null = null_replicates(reps, seed)
    rows = []
    for method in (GLMM, NAIVE):
        default = method == GLMM
        h, t = null[f"{method} coverage"]
        lo = 0.93 if default else np.nan
        rows.append(
            row(CHECK, "clustered null", method, "coverage of 95% Wald CI", h, t, lo, reps=reps)
        )
        h, t = null[f"{method} fwer"]
        hi = 0.07 if default else np.nan
        metric = "type-I error (any term, Holm, familywise)"
        rows.append(row(CHECK, "clustered null", method, metric, h, t, high=hi))
    h, t = null["separation"]
    rows.append(row(CHECK, "clustered null", GLMM, "data sets with a separated term", h, t))
    power = {GLMM: 0, NAIVE: 0}
    for i in range(reps):
        units = _data(np.random.default_rng([seed, 1, i]), EFFECT)
        fit = _glmm(units)
        power[GLMM] += int(fit is not None and np.any(fit[2] < ALPHA))
        power[NAIVE] += int(np.any(_naive(units)[2] < ALPHA))
    for method, h in power.items():
        scenario = f"clustered, effect {EFFECT:g}"
        rows.append(row(CHECK, scenario, method, "power (any term, Holm)", h, reps))
    return pd.DataFrame(rows)
