"""Calibration of the mean-sentiment intervals: coverage of the true mean by condition
(and by month) on clustered data without a condition effect.

Platforms are taken as fixed (the estimand is the mean over the study's platforms,
not over a population of platforms: six platforms cannot support a platform-level
variance), so this scenario has platform SD 0; authors have their own tendency
(SD 0.7) and write 75% of their posts about one condition.  The true mean score is
the same in every condition and is computed once by Monte Carlo over 2 million author
effects (its Monte-Carlo error is below 0.001)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vsdstats.stats.calibration import row
from vsdstats.stats.calibration.scenarios import clustered_units, true_probs
from vsdstats.stats.means import group_means_ci, monthly

CHECK = "mean sentiment: 95% CI coverage"
AUTHOR_SD = 0.7


def true_mean(author_sd: float = AUTHOR_SD, draws: int = 2_000_000, seed: int = 1) -> float:
    """E[score] = E_u[softmax(base + u) . (-1, 0, 1)], u ~ N(0, author_sd^2 I_3)."""
    p = true_probs(author_sd, draws, seed)
    return float(p[2] - p[0])


def run(reps: int = 500, seed: int = 2026, boot_b: int = 400) -> pd.DataFrame:
    """Coverage over ``reps`` data sets x conditions (and x months)."""
    truth = true_mean()
    methods = {
        "t interval (naive, original study)": {"method": "t"},
        "cluster-robust (default)": {"cluster": "author"},
        "cluster bootstrap": {"cluster": "author", "method": "bootstrap", "B": boot_b},
    }
    hits = dict.fromkeys(methods, 0)
    month_hits = {"t interval (naive, original study)": 0, "cluster-robust (default)": 0}
    total = month_total = 0
    for i in range(reps):
        rng = np.random.default_rng([seed, 7, i])
        units = clustered_units(rng, platform_sd=0.0)
        for name, kw in methods.items():
            got = group_means_ci(units, "condition", "score", seed=seed + i, **kw)
            hits[name] += int(((got["ci_low"] <= truth) & (got["ci_high"] >= truth)).sum())
        total += units["condition"].nunique()
        for name in month_hits:
            kw = methods[name] if "robust" in name else {}
            got = monthly(units, "date", "score", **kw)
            got = got[got["n"] > 0]
            month_hits[name] += int(((got["ci_low"] <= truth) & (got["ci_high"] >= truth)).sum())
        month_total += len(got)  # months with posts: the same for both methods
    rows = []
    for name, h in hits.items():
        low = 0.93 if "naive" not in name else np.nan
        rows.append(
            row(CHECK, "clustered, by condition", name, "coverage", h, total, low, reps=reps)
        )
    for name, h in month_hits.items():
        low = 0.93 if "naive" not in name else np.nan
        rows.append(
            row(CHECK, "clustered, by month", name, "coverage", h, month_total, low, reps=reps)
        )
    return pd.DataFrame(rows)
