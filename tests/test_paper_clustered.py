"""`vsdstats paper` is cluster-aware by default: Rao-Scott tests, cluster-robust cell
residuals and mean intervals, with the naive numbers of the original study alongside
(computed here independently with vsdstats.stats on the same units)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from vsdstats.paper.analyses import compute
from vsdstats.paper.config import load_study
from vsdstats.paper.inputs import validate_units
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.paper.tables import CountMasks, table2_chisq, table5_means
from vsdstats.stats import (
    cell_tests,
    cell_tests_clustered,
    chisq_clustered,
    chisq_independence,
    crosstab,
    group_means_ci,
    sentiment_score,
)
from vsdstats.tables.codebook import load_codebook


@pytest.fixture(scope="module")
def setup():
    cb = load_codebook()
    units = validate_units(simulate_corpus(n=3000, seed=11), cb, "simulated corpus")
    study = load_study()
    return cb, units, study, compute(units, cb, study, seed=1, glmm=False)


def test_the_default_study_is_clustered_by_author(setup):
    _, _, study, res = setup
    assert study["chisq"]["cluster"] == "author" and study["means"]["cluster"] == "author"
    assert res.cluster == "author" and set(res.clustered) == set(res.chisq)


def test_rao_scott_and_naive_tests_equal_the_library_functions(setup):
    _, units, _, res = setup
    for name, (row, col) in res.chisq_vars.items():
        want = chisq_clustered(units, row, col, "author").iloc[0]
        got = res.clustered[name].iloc[0]
        assert got["statistic"] == pytest.approx(want["statistic"], rel=1e-12)
        assert got["p_value"] == pytest.approx(want["p_value"], rel=1e-9)
        naive = chisq_independence(crosstab(units, row, col), simulate=False)
        assert res.chisq[name].statistic == pytest.approx(naive.statistic, rel=1e-12)


def test_cells_carry_the_cluster_robust_z_and_the_naive_residual(setup):
    _, units, _, res = setup
    row, col = res.chisq_vars["condition_sentiment"]
    cells = res.cells["condition_sentiment"]
    robust = cell_tests_clustered(units, row, col, "author").set_index(["row", "col"])
    naive = cell_tests(chisq_independence(crosstab(units, row, col), simulate=False))
    naive = naive.set_index([naive["row"].astype(str), naive["col"].astype(str)])
    for c in cells.itertuples():
        key = (str(c.row), str(c.col))
        if key not in robust.index:
            assert c.observed == 0
            continue
        assert c.z == pytest.approx(robust.loc[key, "z"], rel=1e-9)
        assert c.p_value_adj == pytest.approx(robust.loc[key, "p_value_adj"], rel=1e-9)
        assert c.adjusted_residual == pytest.approx(naive.loc[key, "adjusted_residual"])
        assert c.p_value_adj_naive == pytest.approx(naive.loc[key, "p_value_adj"])
    assert (cells["residual_method"] == "cluster-robust adjusted residual").all()


def test_means_are_cluster_robust_with_the_t_interval_alongside(setup):
    _, units, _, res = setup
    scored = units.assign(score=sentiment_score(units["sentiment"]))
    for by in ("condition", "llm_product"):
        got = res.means[res.means["by"] == by].set_index("group")
        rob = group_means_ci(scored, by, "score", cluster="author").set_index(by)
        t = group_means_ci(scored, by, "score").set_index(by)
        rob.index, t.index = rob.index.astype(str), t.index.astype(str)
        np.testing.assert_allclose(got["ci_low"], rob.loc[got.index, "ci_low"], rtol=1e-12)
        np.testing.assert_allclose(got["ci_high_naive"], t.loc[got.index, "ci_high"], rtol=1e-12)
        assert (got["method"] == "cluster-robust").all()
    assert res.monthly["ci_low"].dropna().between(-1, 1).all()
    assert (res.monthly["method"] == "cluster-robust").all()


def test_tables_label_the_naive_columns(setup):
    cb, units, _, res = setup
    t2 = table2_chisq(res, synthetic=True).frame
    assert {"Rao-Scott F", "Mean deff", "p", "p (naive)", "Chi-square (naive)"} <= set(t2.columns)
    t5 = table5_means(res, cb, CountMasks(units, cb, 10), synthetic=True).frame
    assert {"95% CI (cluster-robust)", "95% CI (naive t)"} <= set(t5.columns)


def test_cluster_empty_gives_the_original_studys_naive_analysis(setup):
    cb, units, study, _ = setup
    naive_study = copy.deepcopy(study)
    naive_study["chisq"]["cluster"] = ""
    naive_study["means"]["cluster"] = ""
    res = compute(units, cb, naive_study, seed=1, glmm=False)
    assert res.clustered == {} and res.cluster == ""
    t2 = table2_chisq(res, synthetic=True).frame
    assert "Rao-Scott F" not in t2.columns and "Chi-square" in t2.columns
    cells = res.cells["condition_sentiment"]
    pd.testing.assert_series_equal(cells["z"], cells["adjusted_residual"], check_names=False)
    assert (res.means["method"] == "t").all()
    t5 = table5_means(res, cb, CountMasks(units, cb, 10), synthetic=True).frame
    assert "95% CI" in t5.columns and "95% CI (naive t)" not in t5.columns
