"""Weighted log-odds: vsdstats.weighted_log_odds vs the base-R tidylo reference.

Data: 20 groups x 10,000 features = 200,000 rows with string group and feature
columns.  Ours is timed end to end from the pandas DataFrame (factorizing the strings
included).  The baseline is R/ref_tidylo.R's ``ref_bind_log_odds`` run inside R via
rpy2 on a data.frame already in R (conversion not timed); it follows tidylo's
count + left_join (= grouped mutate) computation with base R ``ave()``.  tidylo itself
(dplyr) is not installable here (CRAN is unreachable), so the target baseline times
tidylo's steps written with dplyr verbs (count + left_join + mutate, as tidylo does):
target at least 20x.  The base-R reference is reported for information only.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import Report, best_time, speedup

from vsdstats.stats import weighted_log_odds

ROOT = Path(__file__).resolve().parents[1]
N_GROUPS, N_FEATURES = 20, 10_000


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    groups = np.array([f"condition_{i:02d}" for i in range(N_GROUPS)], dtype=object)
    feats = np.array([f"feature_{j:05d}" for j in range(N_FEATURES)], dtype=object)
    df = pd.DataFrame(
        {
            "grp": np.repeat(groups, N_FEATURES),
            "feat": np.tile(feats, N_GROUPS),
            "n": rng.negative_binomial(1, 0.2, N_GROUPS * N_FEATURES).astype(np.int64) + 1,
        }
    )
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


# tidylo's steps with dplyr verbs (written here from the algorithm, for timing only)
_DPLYR_STEPS = """
bench_dplyr <- function(tbl, uninformative) {
  tot <- dplyr::count(tbl, feat, wt = n, name = ".tot")
  p <- dplyr::left_join(tbl, tot, by = "feat")
  p$alpha <- if (uninformative) 1 else p$.tot
  p <- dplyr::mutate(p, y_wi = n + alpha)
  y_w <- dplyr::count(p, feat, wt = y_wi, name = "y_w")
  n_i <- dplyr::count(p, grp, wt = y_wi, name = "n_i")
  p <- dplyr::left_join(dplyr::left_join(p, y_w, by = "feat"), n_i, by = "grp")
  dplyr::mutate(p,
    log_odds = log(y_wi / (n_i - y_wi)) - log(y_w / (sum(y_wi) - y_w)),
    log_odds_weighted = log_odds / sqrt(1 / y_wi + 1 / y_w)
  )
}
"""


def run() -> list[Report]:
    import rpy2.robjects as ro

    from vsdstats.r.bridge import check_r

    check_r()
    df = _data()
    r = ro.r
    r.source(str(ROOT / "R" / "ref_tidylo.R"))
    ro.globalenv["bench_df"] = ro.DataFrame(
        {
            "grp": ro.StrVector(df["grp"].tolist()),
            "feat": ro.StrVector(df["feat"].tolist()),
            "n": ro.IntVector(df["n"].tolist()),
        }
    )
    has_dplyr = bool(r("nzchar(system.file(package = 'dplyr'))")[0])
    if not has_dplyr:
        raise RuntimeError("dplyr is missing: run `bash R/install_r.sh` (r-cran-dplyr)")
    r(_DPLYR_STEPS)
    reports = []
    for uninformative in (False, True):
        flag = "TRUE" if uninformative else "FALSE"
        call = f"ref_bind_log_odds(bench_df, 'grp', 'feat', 'n', uninformative = {flag})"
        # R timed inside R (elapsed), best of 3, result kept in R
        r_times = [float(r(f"system.time(bench_res <- {call})[['elapsed']]")[0]) for _ in range(3)]
        base = min(r_times)
        weighted_log_odds(df, "grp", "feat", "n", uninformative=uninformative)  # warm-up
        ours = best_time(
            lambda u=uninformative: weighted_log_odds(df, "grp", "feat", "n", uninformative=u),
            repeat=5,
        )
        # sanity: same numbers as the R reference
        want = np.asarray(r("bench_res$log_odds_weighted"), dtype=float)
        got = weighted_log_odds(df, "grp", "feat", "n", uninformative=uninformative)
        err = float(np.max(np.abs(got["log_odds_weighted"].to_numpy() - want)))
        t0 = time.perf_counter()
        r(f"invisible({call})")
        wall = time.perf_counter() - t0
        mode = "uninformative" if uninformative else "informative"
        reports.append(
            speedup(
                f"weighted_log_odds 20x10k ({mode}) vs our base-R reference",
                ours,
                base,
                1.0,
                detail=f"informational: hand-vectorized base R, not tidylo; max |diff| {err:.1e}; "
                f"R via rpy2 wall {wall:.3f}s",
            )
        )
        dcall = f"bench_dplyr(bench_df, {flag})"
        d_base = min(
            float(r(f"system.time(bench_dres <- {dcall})[['elapsed']]")[0]) for _ in range(3)
        )
        d_err = float(
            np.max(np.abs(np.asarray(r("bench_dres$log_odds_weighted"), dtype=float) - want))
        )
        reports.append(
            speedup(
                f"weighted_log_odds 20x10k ({mode}) vs dplyr steps",
                ours,
                d_base,
                20.0,
                detail=f"baseline=tidylo's count/left_join/mutate in dplyr; "
                f"max |diff| vs reference {d_err:.1e}",
            )
        )
    return reports
