"""Calibration of the condition x sentiment tests: type-I error on the clustered null
of issue 10 (4,000 posts from 800 authors, author SD 0.7, 75% of an author's posts in
one condition, platform SD 0.3, no condition effect), on an unclustered null, and power
when "negative" is more likely in the first condition (logit shift 0.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vsdstats.stats.calibration import row
from vsdstats.stats.calibration.scenarios import clustered_units, unclustered_units
from vsdstats.stats.chisq import cell_tests, chisq_independence
from vsdstats.stats.clustered import cell_tests_clustered, chisq_clustered
from vsdstats.stats.crosstab import crosstab

CHECK = "condition x sentiment chi-square"
ALPHA = 0.05
_SCENARIOS = {
    "clustered null": (clustered_units, {}),
    "unclustered null": (unclustered_units, {}),
    "clustered, effect 0.3": (clustered_units, {"effect": 0.3}),
}


def _one(units: pd.DataFrame, seed: int, boot_b: int) -> dict[str, bool]:
    """Rejections at ALPHA of each method on one data set."""
    rs = chisq_clustered(units, "condition", "sentiment", "author").iloc[0]
    bs = chisq_clustered(
        units, "condition", "sentiment", "author", method="bootstrap", B=boot_b, seed=seed
    )
    cells = cell_tests_clustered(units, "condition", "sentiment", "author")
    naive_cells = cell_tests(
        chisq_independence(crosstab(units, "condition", "sentiment"), simulate=False)
    )
    return {
        "Rao-Scott F (default)": rs["p_value"] < ALPHA,
        "cluster bootstrap": bs["p_value"].iloc[0] < ALPHA,
        "naive Pearson": rs["pearson_p_value"] < ALPHA,
        "cell tests, cluster-robust, Holm (default)": bool(cells["significant"].any()),
        "cell tests, naive adjusted residuals, Holm": bool(naive_cells["significant"].any()),
    }


def run(reps: int = 500, seed: int = 2026, boot_b: int = 200) -> pd.DataFrame:
    """Rejection rates over ``reps`` simulated data sets per scenario."""
    rows = []
    for k, (name, (make, kw)) in enumerate(_SCENARIOS.items()):
        hits: dict[str, int] = {}
        for i in range(reps):
            rng = np.random.default_rng([seed, k, i])
            for method, rejected in _one(make(rng, **kw), seed + i, boot_b).items():
                hits[method] = hits.get(method, 0) + int(rejected)
        null = "null" in name
        metric = "type-I error (any cell, familywise)" if null else "power"
        for method, h in hits.items():
            default = "(default)" in method
            cell = method.startswith("cell tests")
            lo, hi = (0.03, 0.07) if null and default and not cell else (np.nan, np.nan)
            if null and default and cell:
                lo, hi = np.nan, 0.07
            m = metric if cell or not null else "type-I error"
            rows.append(row(CHECK, name, method, m, h, reps, lo, hi))
    return pd.DataFrame(rows)
