"""welch_anova and games_howell against pingouin (the original study's tool) and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vsdstats.stats.anova import games_howell, welch_anova


def _data(seed: int, sizes: list[int], shifts: list[float], scales: list[float]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = [
        pd.DataFrame({"g": f"g{i}", "y": rng.normal(m, s, n)})
        for i, (n, m, s) in enumerate(zip(sizes, shifts, scales, strict=True))
    ]
    return pd.concat(parts, ignore_index=True)


groups = st.integers(2, 5).flatmap(
    lambda k: st.tuples(
        st.integers(0, 10**6),
        st.lists(st.integers(3, 60), min_size=k, max_size=k),
        st.lists(st.floats(-1, 1), min_size=k, max_size=k),
        st.lists(st.floats(0.2, 3), min_size=k, max_size=k),
    )
)


@given(groups)
@settings(max_examples=40, deadline=None)
def test_welch_anova_equals_pingouin(args) -> None:
    d = _data(*args)
    got = welch_anova(d, "y", "g").iloc[0]
    ref = pg.welch_anova(data=d, dv="y", between="g").iloc[0]
    assert got["F"] == pytest.approx(ref["F"], rel=1e-9)
    assert got["df1"] == ref["ddof1"] and got["df2"] == pytest.approx(ref["ddof2"], rel=1e-9)
    assert got["p_value"] == pytest.approx(ref["p_unc"], rel=1e-7, abs=1e-300)
    assert got["np2"] == pytest.approx(ref["np2"], rel=1e-9)


@given(groups)
@settings(max_examples=40, deadline=None)
def test_games_howell_equals_pingouin(args) -> None:
    d = _data(*args)  # groups g0, g1, ... appear in alphabetical order, as pingouin sorts
    got = games_howell(d, "y", "g")
    ref = pg.pairwise_gameshowell(data=d, dv="y", between="g")
    assert list(zip(got["A"], got["B"], strict=True)) == list(zip(ref["A"], ref["B"], strict=True))
    for ours, theirs in [("diff", "diff"), ("se", "se"), ("t", "T"), ("df", "df"),
                         ("hedges", "hedges")]:  # fmt: skip
        np.testing.assert_allclose(got[ours], ref[theirs], rtol=1e-8)
    np.testing.assert_allclose(got["p_value"], ref["pval"], rtol=1e-4, atol=1e-6)


def test_two_groups_welch_f_is_the_welch_t_squared() -> None:
    d = _data(3, [20, 35], [0.0, 0.4], [1.0, 2.0])
    a, b = (d.loc[d["g"] == g, "y"] for g in ("g0", "g1"))
    t = stats.ttest_ind(a, b, equal_var=False)
    got = welch_anova(d, "y", "g").iloc[0]
    assert got["F"] == pytest.approx(t.statistic**2, rel=1e-10)
    assert got["p_value"] == pytest.approx(t.pvalue, rel=1e-8)


def test_too_few_units_is_a_clear_error() -> None:
    d = pd.DataFrame({"g": ["a", "a", "b"], "y": [1.0, 0.0, 1.0]})
    with pytest.raises(ValueError, match="two or more groups of 2"):
        welch_anova(d, "y", "g")
