"""crosstab of 10 million rows vs pd.crosstab on the same columns (target >= 10x).

Ours includes factorizing both columns (it starts from the raw DataFrame each call).
Cases: object-dtype string columns (12 x 12 categories), the same as pandas Categorical,
and pandas' default ``str`` dtype.  Each result is checked against pd.crosstab.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _common import Report, best_time, speedup

from vsdstats.stats import crosstab

N_ROWS = 10_000_000
N_CATS = 12


def _data(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topics = np.array([f"topic_{i:02d}" for i in range(N_CATS)], dtype=object)
    stances = np.array([f"stance_{chr(97 + i)}" for i in range(N_CATS)], dtype=object)
    # skewed category frequencies, like real coded data
    p = rng.dirichlet(np.full(N_CATS, 2.0))
    x = topics[rng.choice(N_CATS, n, p=p)]
    y = stances[rng.integers(0, N_CATS, n)]
    x[rng.random(n) < 0.001] = None  # a few missing codes
    return pd.DataFrame({"topic": pd.Series(x, dtype=object), "stance": pd.Series(y, dtype=object)})


def _case(name: str, df: pd.DataFrame, target: float = 10, note: str = "") -> Report:
    ours_tab = crosstab(df, "topic", "stance")
    ref_tab = pd.crosstab(df["topic"], df["stance"])
    same = np.array_equal(ours_tab.to_numpy(), ref_tab.to_numpy()) and list(ours_tab.index) == list(
        ref_tab.index
    )
    ours = best_time(lambda: crosstab(df, "topic", "stance"), repeat=3)
    base = best_time(lambda: pd.crosstab(df["topic"], df["stance"]), repeat=2)
    rep = speedup(
        f"crosstab {len(df) / 1e6:g}M rows {name}",
        ours,
        base,
        target,
        detail=f"{N_CATS}x{N_CATS}; includes factorizing; equal to pd.crosstab: {same}{note}",
    )
    if not same:
        rep.passed = False
    return rep


def run() -> list[Report]:
    df = _data()
    reports = [_case("object dtype", df)]
    cat = pd.DataFrame({c: df[c].astype("category") for c in df.columns})
    reports.append(_case("Categorical dtype", cat))
    del cat
    s = pd.DataFrame({c: df[c].astype("str") for c in df.columns})
    # Arrow-backed strings must be hashed (no shared objects, no codes): informational
    note = "; informational: Arrow strings are hashed by pyarrow's dictionary_encode"
    reports.append(_case("pandas str dtype", s, target=1, note=note))
    return reports


if __name__ == "__main__":
    for r in run():
        print(r.line())
