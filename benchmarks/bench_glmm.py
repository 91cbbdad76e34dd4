"""Benchmark: mixed_logit on a 40,000-post corpus, and column-wise R data.frame building.

Simulated corpus: 40,000 posts, 8,000 authors, 6 platforms, an 11-level condition;
model ``negative ~ condition + (1|platform) + (1|author)``.  Targets: glmmTMB fit in
under 15 s; its time against lme4::glmer with the nloptwrap optimizer measured in the
same run; and to_r_dataframe against rpy2's pandas2ri conversion of the same frame.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from _common import Report, best_time, speedup, within

FORMULA = "negative ~ condition + (1|platform) + (1|author)"


def corpus(n: int = 40_000, n_authors: int = 8_000, n_platforms: int = 6, seed: int = 7):
    """Simulated posts with planted condition effects and random intercepts."""
    rng = np.random.default_rng(seed)
    effects = np.linspace(-0.8, 0.8, 11)
    effects[0] = 0.0
    cond = rng.integers(0, 11, n)
    plat = rng.integers(0, n_platforms, n)
    auth = rng.integers(0, n_authors, n)
    eta = (
        -0.7
        + effects[cond]
        + rng.normal(0, 0.5, n_platforms)[plat]
        + rng.normal(0, 0.8, n_authors)[auth]
    )
    return pd.DataFrame(
        {
            "negative": rng.random(n) < 1 / (1 + np.exp(-eta)),
            "condition": pd.Categorical.from_codes(cond, [f"cond{i:02d}" for i in range(11)]),
            "platform": [f"platform{i}" for i in plat],
            "author": [f"author{i:05d}" for i in auth],
        }
    )


def _timed_fit(d: pd.DataFrame, engine: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from vsdstats.stats.glmm import mixed_logit

        t0 = time.perf_counter()
        res = mixed_logit(FORMULA, d, engine=engine)
        elapsed = time.perf_counter() - t0
    return res, elapsed, len(caught)


def run() -> list[Report]:
    from vsdstats.r.bridge import check_r, r_eval, to_r_dataframe

    check_r()
    d = corpus()
    # load the R packages outside the timings
    r_eval("invisible(loadNamespace('glmmTMB')); invisible(loadNamespace('lme4'))", emit=False)
    tmb, t_tmb, w_tmb = _timed_fit(d, "glmmTMB")
    lme, t_lme, w_lme = _timed_fit(d, "lme4")
    diff = float(
        np.max(np.abs(tmb.fixed["estimate"].to_numpy() - lme.fixed["estimate"].to_numpy()))
    )
    size = f"{len(d):,} rows, {d['author'].nunique():,} authors, 6 platforms, 11 conditions"
    reports = [
        within(
            "glmm glmmTMB fit",
            t_tmb,
            15.0,
            f"{size}; converged={tmb.converged}, {w_tmb} warnings",
        ),
        speedup(
            "glmm glmmTMB vs lme4 glmer(nloptwrap)",
            t_tmb,
            t_lme,
            1.0,
            f"one fit each; max |fixed-effect difference| {diff:.2g}; lme4 converged="
            f"{lme.converged}, {w_lme} warnings {lme.warnings}; glmer with default "
            "optimizers skipped (takes minutes here and warns of non-convergence)",
        ),
    ]

    from rpy2.robjects import default_converter, pandas2ri
    from rpy2.robjects.conversion import localconverter

    def via_pandas2ri():
        with localconverter(default_converter + pandas2ri.converter) as cv:
            return cv.py2rpy(d)

    t_ours = best_time(lambda: to_r_dataframe(d), repeat=3)
    try:
        t_p2ri = best_time(via_pandas2ri, repeat=3)
    except Exception as exc:
        reports.append(within("to_r_dataframe", t_ours, 1.0, f"pandas2ri failed: {exc}"))
    else:
        reports.append(
            speedup(
                "to_r_dataframe vs pandas2ri",
                t_ours,
                t_p2ri,
                5.0,
                f"{size}; best of 3; pandas2ri leaves strings as character, ours makes factors",
            )
        )
    return reports
