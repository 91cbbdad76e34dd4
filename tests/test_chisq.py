"""Tests for vsdstats.stats.chisq against scipy, pingouin and R (via the ``r`` fixture),
plus hypothesis properties and a null/power simulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import scipy.stats as ss
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from statsmodels.stats.multitest import multipletests

from vsdstats.stats import ChisqResult, cell_tests, chisq_independence
from vsdstats.stats.chisq import _chi2_log_sf, _log_q_contfrac

TABLES = [
    np.array([[10, 20, 30], [20, 5, 7], [3, 8, 12]]),
    np.array([[12, 5], [7, 30]]),
    np.array([[25, 14, 9, 31], [11, 40, 22, 17]]),
    np.array([[50, 3], [41, 9], [12, 28], [30, 30], [8, 19]]),
    np.array([[120, 88, 45, 60, 33], [70, 95, 50, 41, 62], [33, 20, 71, 44, 90]]),
]


def quiet(table, **kw) -> ChisqResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return chisq_independence(table, **kw)


# ----------------------------------------------------------------- R helpers


def r_matrix(m: np.ndarray):
    import rpy2.robjects as ro

    m = np.asarray(m, dtype=float)
    return ro.r["matrix"](ro.FloatVector(m.ravel()), nrow=m.shape[0], byrow=True)


def r_mat_to_np(x, shape) -> np.ndarray:
    return np.array(list(x), dtype=float).reshape(shape, order="F")


def r_chisq(r, m: np.ndarray, **kw):
    res = r["suppressWarnings"](r["chisq.test"](r_matrix(m), correct=False, **kw))
    return res


# ----------------------------------------------------------------- references


@pytest.mark.parametrize("m", TABLES)
def test_matches_scipy(m):
    res = quiet(m, simulate=False)
    stat, p, dof, expected = ss.chi2_contingency(m, correction=False)
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.dof == dof
    assert res.p_value == pytest.approx(p, rel=1e-10)
    np.testing.assert_allclose(res.expected.to_numpy(), expected, rtol=1e-12)
    assert res.cramers_v == pytest.approx(
        ss.contingency.association(m, method="cramer", correction=False), rel=1e-12
    )
    assert res.log_p_value == pytest.approx(ss.chi2.logsf(stat, dof), rel=1e-10)
    assert res.n == m.sum()


@pytest.mark.parametrize("m", TABLES[:4])
def test_matches_pingouin(m):
    rows, cols = np.indices(m.shape)
    long = pd.DataFrame(
        {"a": np.repeat(rows.ravel(), m.ravel()), "b": np.repeat(cols.ravel(), m.ravel())}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, st_ = pg.chi2_independence(long, x="a", y="b", correction=False)
    pearson = st_.set_index("test").loc["pearson"]
    res = quiet(m, simulate=False)
    assert res.statistic == pytest.approx(pearson["chi2"], rel=1e-10)
    assert res.p_value == pytest.approx(pearson["pval"], rel=1e-8)
    assert res.cramers_v == pytest.approx(pearson["cramer"], rel=1e-8)


@pytest.mark.needs_r
@pytest.mark.parametrize("m", TABLES)
def test_matches_r_chisq_test(r, m):
    res = quiet(m, simulate=False)
    rr = r_chisq(r, m)
    assert res.statistic == pytest.approx(rr.rx2("statistic")[0], rel=1e-10)
    assert res.dof == int(rr.rx2("parameter")[0])
    assert res.p_value == pytest.approx(rr.rx2("p.value")[0], rel=1e-10)
    for ours, name in [
        (res.expected, "expected"),
        (res.pearson_residuals, "residuals"),
        (res.adjusted_residuals, "stdres"),
    ]:
        np.testing.assert_allclose(
            ours.to_numpy(), r_mat_to_np(rr.rx2(name), m.shape), rtol=1e-10, atol=1e-12
        )


@pytest.mark.needs_r
@pytest.mark.parametrize(
    ("stat", "dof"), [(5500.0, 40), (2000.0, 1), (1.0e5, 3), (4000.0, 300), (1600.0, 2)]
)
def test_log_p_value_huge_matches_r(r, stat, dof):
    ref = r["pchisq"](stat, dof, **{"lower.tail": False, "log.p": True})[0]
    ours = _chi2_log_sf(stat, dof)
    assert np.isfinite(ours)
    assert ours == pytest.approx(ref, rel=1e-8)
    if dof == 40:
        assert not np.isfinite(ss.chi2.logsf(stat, dof)) or ss.chi2.logsf(stat, dof) < -1000


@pytest.mark.needs_r
def test_extreme_table_log_p_value_and_report(r):
    m = np.array([[5000, 10, 40], [10, 5000, 30], [25, 35, 4000]])
    res = chisq_independence(m)
    assert res.p_value == 0.0  # underflows...
    ref = r["pchisq"](res.statistic, res.dof, **{"lower.tail": False, "log.p": True})[0]
    assert res.log_p_value == pytest.approx(ref, rel=1e-8)  # ...but the log does not
    assert res.statistic == pytest.approx(r_chisq(r, m).rx2("statistic")[0], rel=1e-10)
    text = res.report() + " " + res.p_value_str + " " + res.tidy()["p_value_str"].iloc[0]
    assert "p = 0 " not in text + " " and "p = 0.000" not in text
    exponent = math.floor(ref / math.log(10))
    assert f"e{exponent}" in res.p_value_str


def test_p_value_names_and_read_only_aliases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SMALL fails Cochran's rule
        res = chisq_independence(SMALL, simulate=True, seed=1, B=200)
    tidy = res.tidy()
    for col in ("p_value", "log_p_value", "p_value_str", "simulated_p_value"):
        assert col in tidy.columns, col
    assert not {"p", "pvalue", "log_pvalue", "pvalue_str", "simulated_pvalue"} & set(tidy)
    # the scipy-like names stay as read-only aliases of the renamed fields
    assert res.pvalue == res.p_value and res.log_pvalue == res.log_p_value
    assert res.simulated_pvalue == res.simulated_p_value is not None
    assert res.pvalue_str == res.p_value_str
    for alias in ("pvalue", "log_pvalue", "simulated_pvalue", "pvalue_str"):
        with pytest.raises(AttributeError):
            setattr(res, alias, 0.5)


@given(st.floats(1.0, 200.0), st.integers(1, 60))
def test_continued_fraction_agrees_with_scipy(x_over, dof):
    # In the range where scipy's logsf is accurate the continued fraction must agree.
    a = dof / 2.0
    x = a + 1.0 + x_over
    ref = ss.gamma.logsf(x, a)
    assert _log_q_contfrac(a, x) == pytest.approx(ref, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("m", TABLES)
def test_bergsma_corrected_v(m):
    res = quiet(m, simulate=False)
    n = m.sum()
    k, r_ = m.shape
    chi2 = ss.chi2_contingency(m, correction=False)[0]
    # Bergsma (2013), eqs. for phi~^2, k~ and r~
    phi2 = chi2 / n
    phi2_tilde = max(0.0, phi2 - (k - 1) * (r_ - 1) / (n - 1))
    k_tilde = k - (k - 1) ** 2 / (n - 1)
    r_tilde = r_ - (r_ - 1) ** 2 / (n - 1)
    expected = np.sqrt(phi2_tilde / min(k_tilde - 1, r_tilde - 1))
    assert res.cramers_v_corrected == pytest.approx(expected, rel=1e-12)
    assert res.cramers_v_corrected <= res.cramers_v + 1e-12


@pytest.mark.needs_r
@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni", "none"])
def test_cell_tests_adjustment_matches_r(r, method):
    import rpy2.robjects as ro

    m = TABLES[4]
    res = chisq_independence(m)
    out = cell_tests(res, method=method)
    assert list(out.columns) == [
        "row",
        "col",
        "observed",
        "expected",
        "adjusted_residual",
        "p_value",
        "p_value_adj",
        "significant",
    ]
    z = r_mat_to_np(r_chisq(r, m).rx2("stdres"), m.shape).ravel()  # row-major
    p_r = np.array(list(r["pnorm"](ro.FloatVector(-np.abs(z))))) * 2
    np.testing.assert_allclose(out["p_value"].to_numpy(), p_r, rtol=1e-10)
    r_method = {"holm": "holm", "fdr_bh": "BH", "bonferroni": "bonferroni", "none": "none"}
    p_adj_r = np.array(list(r["p.adjust"](ro.FloatVector(p_r), method=r_method[method])))
    np.testing.assert_allclose(out["p_value_adj"].to_numpy(), p_adj_r, rtol=1e-10)
    np.testing.assert_array_equal(out["significant"].to_numpy(), p_adj_r < 0.05)
    assert out["significant"].any()


def test_cell_tests_bad_method():
    with pytest.raises(ValueError, match="method"):
        cell_tests(chisq_independence(TABLES[0]), method="sidak-ish")


# ----------------------------------------------------------------- Monte-Carlo p


SMALL = np.array([[3, 1, 0, 2], [1, 2, 4, 0], [0, 3, 1, 5]])


def test_simulated_p_value_reproducible_and_auto():
    with pytest.warns(UserWarning, match="Cochran"):
        a = chisq_independence(SMALL, seed=42)
    with pytest.warns(UserWarning, match="Cochran"):
        b = chisq_independence(SMALL, seed=42)
    assert a.simulated_p_value is not None and a.simulated_p_value == b.simulated_p_value
    assert a.B == 2000 and "Monte-Carlo" in a.method
    # p is (1 + hits) / (B + 1)
    hits = a.simulated_p_value * 2001 - 1
    assert hits == pytest.approx(round(hits), abs=1e-6)
    with pytest.warns(UserWarning, match="Cochran"):
        c = chisq_independence(SMALL, simulate=False)
    assert c.simulated_p_value is None and c.B is None
    big = chisq_independence(TABLES[4], seed=1)  # Cochran OK: no simulation, no warning
    assert big.simulated_p_value is None
    forced = chisq_independence(TABLES[4], simulate=True, seed=1, B=199)
    assert forced.simulated_p_value == pytest.approx(1 / 200)  # X2 far beyond any draw


@pytest.mark.needs_r
def test_simulated_p_value_close_to_r(r):
    B = 20_000
    ours = chisq_independence(SMALL, simulate=True, seed=7, B=B).simulated_p_value
    r("set.seed(7)")
    theirs = r_chisq(r, SMALL, **{"simulate.p.value": True, "B": B}).rx2("p.value")[0]
    p = (ours + theirs) / 2
    se_diff = math.sqrt(2 * p * (1 - p) / B)
    assert abs(ours - theirs) <= 4.5 * se_diff + 2 / B
    # and both are near the exact-ish answer from a much larger simulation
    ref = chisq_independence(SMALL, simulate=True, seed=8, B=200_000).simulated_p_value
    assert abs(ours - ref) <= 4.5 * math.sqrt(p * (1 - p) / B) + 2 / B


def test_simulated_p_value_matches_brute_force_reference():
    # Independent reference: permute the column labels of the expanded data (which
    # keeps both margins fixed) and compute X2 with scipy.
    m = SMALL
    rows, cols = np.indices(m.shape)
    a = np.repeat(rows.ravel(), m.ravel())
    b = np.repeat(cols.ravel(), m.ravel())
    rng = np.random.default_rng(5)
    stat0 = ss.chi2_contingency(m, correction=False)[0]
    n_perm, hits = 3000, 0
    for _ in range(n_perm):
        t = np.zeros(m.shape)
        np.add.at(t, (a, rng.permutation(b)), 1)
        hits += ss.chi2_contingency(t, correction=False)[0] >= stat0 * (1 - 1e-12)
    p_ref = (1 + hits) / (n_perm + 1)
    ours = chisq_independence(m, simulate=True, seed=3, B=6000).simulated_p_value
    se = math.sqrt(p_ref * (1 - p_ref) * (1 / n_perm + 1 / 6000))
    assert abs(ours - p_ref) <= 4.5 * se


# ----------------------------------------------------------------- properties

TABLE_ST = st.tuples(st.integers(2, 5), st.integers(2, 5)).flatmap(
    lambda s: arrays(np.int64, s, elements=st.integers(1, 60))
)


@given(TABLE_ST, st.randoms(use_true_random=False))
def test_invariant_under_transpose_and_permutation(m, rnd):
    res = quiet(m, simulate=False)
    rp = list(range(m.shape[0]))
    cp = list(range(m.shape[1]))
    rnd.shuffle(rp)
    rnd.shuffle(cp)
    for other in (m.T, m[rp][:, cp]):
        o = quiet(other, simulate=False)
        assert o.statistic == pytest.approx(res.statistic, rel=1e-9, abs=1e-12)
        assert o.dof == res.dof
        assert o.cramers_v == pytest.approx(res.cramers_v, rel=1e-9, abs=1e-12)
    t = quiet(m.T, simulate=False)
    np.testing.assert_allclose(
        t.adjusted_residuals.to_numpy(), res.adjusted_residuals.to_numpy().T, atol=1e-9
    )
    assert 0.0 <= res.p_value <= 1.0
    assert res.log_p_value <= 0.0
    assert 0.0 <= res.cramers_v <= 1.0 + 1e-12


@given(TABLE_ST, st.integers(2, 9))
def test_scaling_counts(m, k):
    a = quiet(m, simulate=False)
    b = quiet(m * k, simulate=False)
    assert b.statistic == pytest.approx(k * a.statistic, rel=1e-9, abs=1e-9)
    assert b.cramers_v == pytest.approx(a.cramers_v, rel=1e-9, abs=1e-9)
    assert 0.0 <= b.p_value <= a.p_value + 1e-12  # more evidence with the same effect


@given(st.integers(2, 6).flatmap(lambda k: arrays(np.int64, (2, k), elements=st.integers(1, 80))))
def test_adjusted_residuals_antisymmetric_2xk(m):
    z = quiet(m, simulate=False).adjusted_residuals.to_numpy()
    np.testing.assert_allclose(z[0], -z[1], atol=1e-9)
    zt = quiet(m.T, simulate=False).adjusted_residuals.to_numpy()
    np.testing.assert_allclose(zt[:, 0], -zt[:, 1], atol=1e-9)


@given(TABLE_ST)
def test_cells_and_tidy_shapes(m):
    res = quiet(m, simulate=False)
    cells = res.cells()
    assert len(cells) == m.size
    np.testing.assert_array_equal(cells["observed"].to_numpy(), m.ravel())
    assert cells["expected"].sum() == pytest.approx(m.sum())
    tidy = res.tidy()
    assert len(tidy) == 1 and tidy["statistic"].iloc[0] == res.statistic
    ct = cell_tests(res, method="fdr_bh")
    ref = multipletests(ct["p_value"].to_numpy(), method="fdr_bh")[1]
    np.testing.assert_allclose(ct["p_value_adj"].to_numpy(), ref)
    assert ((ct["p_value"] >= 0) & (ct["p_value"] <= 1)).all()
    assert (ct["p_value_adj"] >= ct["p_value"] - 1e-15).all()


# ----------------------------------------------------------------- labels, zeros, errors


def test_dataframe_labels_and_zero_rows_dropped():
    df = pd.DataFrame(
        [[10, 0, 5], [0, 0, 0], [4, 0, 9]],
        index=pd.Index(["x", "y", "z"], name="topic"),
        columns=pd.Index(["p", "q", "r"], name="stance"),
    )
    with pytest.warns(UserWarning, match="all-zero"):
        res = chisq_independence(df, simulate=False)
    assert list(res.expected.index) == ["x", "z"] and list(res.expected.columns) == ["p", "r"]
    assert res.dropped == {"rows": ["y"], "columns": ["q"]}
    ref = ss.chi2_contingency(np.array([[10, 5], [4, 9]]), correction=False)
    assert res.statistic == pytest.approx(ref[0], rel=1e-12)
    assert res.cells()["row"].tolist() == ["x", "x", "z", "z"]


def test_2x2_has_no_continuity_correction():
    m = np.array([[12, 5], [7, 30]])
    res = chisq_independence(m)
    corrected = ss.chi2_contingency(m, correction=True)[0]
    assert res.statistic == pytest.approx(ss.chi2_contingency(m, correction=False)[0])
    assert res.statistic > corrected


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (np.array([[1, -2], [3, 4]]), "negative"),
        (np.array([[1.5, 2], [3, 4]]), "integer"),
        (np.array([[1, 2, 3]]), "1x3"),
        (np.array([[1], [2], [3]]), "3x1"),
        (np.array([1, 2, 3]), "2-D"),
        (np.array([[1, np.nan], [3, 4]]), "NaN"),
        (np.array([[0, 0], [3, 4]]), "after dropping"),
        (pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}), "numeric"),
    ],
)
def test_errors(table, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=match):
            chisq_independence(table)


# ----------------------------------------------------------------- null and power


@pytest.mark.slow
def test_null_size_and_planted_power():
    rng = np.random.default_rng(20240501)
    pr = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    pc = np.array([0.35, 0.3, 0.2, 0.15])
    n, reps, alpha = 500, 400, 0.05
    null = np.outer(pr, pc)
    pvals = np.array(
        [
            quiet(rng.multinomial(n, null.ravel()).reshape(5, 4), simulate=False).p_value
            for _ in range(reps)
        ]
    )
    rate = np.mean(pvals < alpha)
    se = math.sqrt(alpha * (1 - alpha) / reps)
    assert abs(rate - alpha) <= 3.5 * se, rate
    assert ss.kstest(pvals, "uniform").pvalue > 1e-3

    planted = null.copy()
    planted[3, 1] *= 4.0
    planted /= planted.sum()
    hits = top = 0
    reps_alt = 200
    for _ in range(reps_alt):
        res = quiet(rng.multinomial(n, planted.ravel()).reshape(5, 4), simulate=False)
        hits += res.p_value < alpha
        z = res.adjusted_residuals.to_numpy()
        top += np.unravel_index(np.argmax(np.abs(z)), z.shape) == (3, 1)
        if _ < 20:
            ct = cell_tests(res, method="holm")
            assert ct.loc[(ct["row"] == 3) & (ct["col"] == 1), "adjusted_residual"].item() > 0
    assert hits / reps_alt >= 0.95
    assert top / reps_alt >= 0.95


@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=40),
    st.sampled_from(["holm", "bonferroni", "fdr_bh"]),
)
def test_adjust_p_matches_statsmodels(p, method):
    from vsdstats.stats.chisq import adjust_p

    want = multipletests(np.array(p), method=method)[1]
    np.testing.assert_allclose(adjust_p(np.array(p), method), want, rtol=1e-12, atol=1e-15)
