"""delta_pmi's permutation null (unit and cluster permutations), minimum support and the
restricted permutation scheme: against a base-R reference (R/ref_pmi.R), by hypothesis
properties of the permutations, and by small simulations."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vsdstats.errors import InputError
from vsdstats.stats import delta_pmi
from vsdstats.stats.pmi import _BLOCK, delta_pmi_from_counts, permuted_labels

REF = Path(__file__).resolve().parents[1] / "R" / "ref_pmi.R"


def _units(seed: int, n: int = 300, n_authors: int = 60, levels: int = 3) -> pd.DataFrame:
    """Units nested in authors with their own code tendencies, no condition effect."""
    rng = np.random.default_rng(seed)
    author = rng.integers(0, n_authors, n)
    pa = rng.dirichlet(np.ones(3), n_authors)
    pb = rng.dirichlet(np.ones(3), n_authors)
    a = (pa[author].cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    b = (pb[author].cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    home = rng.integers(0, levels, n_authors)
    cond = np.where(rng.random(n) < 0.8, home[author], rng.integers(0, levels, n))
    return pd.DataFrame(
        {
            "a": np.array(list("xyz"))[a],
            "b": np.array(list("PQR"))[b],
            "c": np.array([f"L{k}" for k in range(levels)])[cond],
            "author": [f"u{k}" for k in author],
        }
    )


# ---------------------------------------------------------------- the permutations


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_cluster_permutation_moves_whole_label_vectors(sizes, seed, data):
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    k = len(cluster)
    labels = np.array(data.draw(st.lists(st.integers(0, 3), min_size=k, max_size=k)))
    perm = permuted_labels(labels, 4, np.random.default_rng(seed), cluster)
    assert perm.shape == (4, len(labels))

    def vectors(lab):  # the multiset of (size, sorted label vector) over clusters
        return Counter((int(s), tuple(sorted(lab[cluster == k]))) for k, s in enumerate(sizes))

    for row in perm:
        assert sorted(row) == sorted(labels)  # every level keeps its number of units
        assert vectors(row) == vectors(labels)  # clusters exchange whole vectors


def test_cluster_alone_in_its_size_keeps_its_labels():
    cluster = np.repeat(np.arange(4), [1, 2, 3, 4])
    labels = np.array([0, 1, 2, 0, 1, 2, 3, 0, 0, 1])
    perm = permuted_labels(labels, 20, np.random.default_rng(1), cluster)
    for k in range(4):
        for row in perm:
            assert sorted(row[cluster == k]) == sorted(labels[cluster == k])


def test_singleton_clusters_are_a_uniform_unit_permutation():
    # one unit per cluster: every unit can receive every label, each about equally often
    labels = np.arange(5)
    perm = permuted_labels(labels, 4000, np.random.default_rng(2), np.arange(5))
    freq = np.array([[np.mean(perm[:, i] == j) for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(freq, 0.2, atol=0.03)
    # equal-size clusters are exchanged uniformly: unit 0 gets each pair's label
    cluster = np.repeat(np.arange(3), 2)
    perm = permuted_labels(np.array([0, 0, 1, 1, 2, 2]), 3000, np.random.default_rng(3), cluster)
    np.testing.assert_allclose(np.bincount(perm[:, 0], minlength=3) / 3000, 1 / 3, atol=0.03)


# ---------------------------------------------------------------- delta-PMI from counts


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(5, 80))
def test_counts_formula_equals_delta_pmi(seed, n):
    df = _units(seed, n=n, n_authors=10)
    want = delta_pmi(df, "a", "b", "c")
    la, lb, lc = (sorted(df[k].unique()) for k in ("a", "b", "c"))
    inside = np.zeros((len(lc), len(la), len(lb)))
    for r in df.itertuples():
        inside[lc.index(r.c), la.index(r.a), lb.index(r.b)] += 1
    got = delta_pmi_from_counts(inside, inside.sum(axis=0))
    for r in want.itertuples():
        v = got[lc.index(r.c), la.index(r.a), lb.index(r.b)]
        assert (np.isnan(v) and np.isnan(r.delta_pmi)) or v == pytest.approx(r.delta_pmi, abs=1e-12)


# ---------------------------------------------------------------- against R


def _r_reference(r, df, labels_matrix):
    from rpy2 import robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    r["source"](str(REF))
    with localconverter(ro.default_converter + pandas2ri.converter):
        perm = ro.r["matrix"](
            ro.StrVector(labels_matrix.ravel(order="F")),
            nrow=labels_matrix.shape[0],
        )
        res = r["ref_delta_pmi_perm"](
            ro.StrVector(df["a"]), ro.StrVector(df["b"]), ro.StrVector(df["c"]), perm
        )
        return ro.conversion.rpy2py(res)


@pytest.mark.parametrize("cluster", [None, "author"])
def test_null_matches_r_reference(r, cluster):
    df = _units(4, n=160, n_authors=30)
    B = _BLOCK  # one block: the label matrix below is the one delta_pmi draws
    got = delta_pmi(df, "a", "b", "c", permutations=B, seed=9, cluster=cluster, min_support=0)
    codes, uniq = pd.factorize(df["c"])
    ccodes = None if cluster is None else pd.factorize(df[cluster])[0]
    lab = permuted_labels(codes, B, np.random.default_rng(9), ccodes)
    ref = _r_reference(r, df, np.asarray(uniq)[lab])
    ref = ref.rename(columns={"by": "c"}).set_index(["c", "a", "b"])
    ours = got.set_index(["c", "a", "b"])
    ref = ref.loc[ours.index]
    np.testing.assert_allclose(ours["delta_pmi"], ref["delta_pmi"], atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(ours["null_mean"], ref["null_mean"], atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(ours["p_value"], ref["p_value"], atol=1e-12, equal_nan=True)
    assert np.isfinite(ours["p_value"]).sum() >= 10


# ---------------------------------------------------------------- behaviour


def test_columns_support_and_adjustment():
    df = _units(5, n=600)
    got = delta_pmi(df, "a", "b", "c", permutations=99, seed=1, min_support=15, adjust="holm")
    assert list(got.columns) == [
        "c", "a", "b", "pmi_in", "pmi_out", "delta_pmi", "n_in", "n_out", "supported",
        "null_mean", "null_sd", "delta_pmi_centered", "p_value", "p_value_adj",
    ]  # fmt: skip
    sup = (got["n_in"] >= 15) & (got["n_out"] >= 15)
    assert (got["supported"] == sup).all()
    assert got.loc[~sup, "p_value"].isna().all()
    tested = got["p_value"].notna()
    assert tested.sum() > 5
    from vsdstats.stats.chisq import adjust_p

    np.testing.assert_allclose(
        got.loc[tested, "p_value_adj"], adjust_p(got.loc[tested, "p_value"].to_numpy(), "holm")
    )
    assert (got.loc[tested, "p_value"] >= 1 / 100).all() and (got["p_value"] <= 1).all()
    np.testing.assert_allclose(
        got["delta_pmi_centered"], got["delta_pmi"] - got["null_mean"], equal_nan=True
    )
    assert got.attrs == {"permutations": 99, "seed": 1, "cluster": None}
    # the default maxT adjustment: never below the cell p-value, at least 1 / (B + 1)
    mt = delta_pmi(df, "a", "b", "c", permutations=99, seed=1, min_support=15)
    assert (mt.loc[tested, "p_value_adj"] >= mt.loc[tested, "p_value"] - 1e-12).all()
    assert (mt.loc[tested, "p_value_adj"] >= 0.01).all()
    # without permutations: the formula only (unchanged values, no null columns)
    plain = delta_pmi(df, "a", "b", "c", min_support=15)
    assert "p_value" not in plain.columns
    pd.testing.assert_series_equal(plain["delta_pmi"], got["delta_pmi"])


def test_seeded_and_reproducible():
    df = _units(6)
    x = delta_pmi(df, "a", "b", "c", permutations=60, seed=3, cluster="author")
    y = delta_pmi(df, "a", "b", "c", permutations=60, seed=3, cluster="author")
    z = delta_pmi(df, "a", "b", "c", permutations=60, seed=4, cluster="author")
    pd.testing.assert_frame_equal(x, y)
    assert not np.allclose(x["null_mean"], z["null_mean"], equal_nan=True)


def test_small_levels_are_biased_upward_under_the_null():
    # independent codes; one level holds 3% of the units: its delta-PMI is biased upward
    rng = np.random.default_rng(7)
    n = 4000
    df = pd.DataFrame(
        {
            "a": rng.choice(list("abcdef"), n, p=[0.4, 0.2, 0.15, 0.1, 0.1, 0.05]),
            "b": rng.choice(list("PQRST"), n, p=[0.4, 0.25, 0.15, 0.1, 0.1]),
            "c": np.where(rng.random(n) < 0.015, "small", "big"),
        }
    )
    got = delta_pmi(df, "a", "b", "c", permutations=200, seed=1, min_support=0)
    small = got[(got["c"] == "small") & got["delta_pmi"].notna()]
    rare = small[small["n_in"] <= 3]
    assert len(rare) >= 5 and rare["null_mean"].mean() > 0.25  # the naive statistic's bias
    assert abs(small["delta_pmi_centered"].mean()) < abs(small["delta_pmi"].mean())


def test_planted_effect_is_found():
    rng = np.random.default_rng(8)
    n = 3000
    c = rng.choice(["L0", "L1", "L2"], n)
    a = rng.choice(list("xyz"), n)
    b = rng.choice(list("PQR"), n)
    boost = (c == "L1") & (rng.random(n) < 0.3)
    b = np.where(boost & (a == "x"), "P", b)  # x goes with P in L1 only
    got = delta_pmi(pd.DataFrame({"a": a, "b": b, "c": c}), "a", "b", "c", permutations=199, seed=2)
    cell = got.set_index(["c", "a", "b"]).loc[("L1", "x", "P")]
    assert cell["delta_pmi"] > 0.3 and cell["p_value_adj"] < 0.05


def test_weighted_counts_are_expanded():
    df = _units(10)
    counted = df.groupby(["a", "b", "c"]).size().rename("k").reset_index()
    x = delta_pmi(counted, "a", "b", "c", counts="k", permutations=50, seed=1, min_support=0)
    assert x["p_value"].notna().any()
    with pytest.raises(InputError, match=r"'k'.*whole-number"):
        delta_pmi(counted.assign(k=counted["k"] * 0.5), "a", "b", "c", counts="k", permutations=5)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"permutations": -1}, "permutations"),
        ({"permutations": 2.5}, "permutations"),
        ({"min_support": -3}, "min_support"),
        ({"cluster": "c", "permutations": 5}, "cluster"),
    ],
)
def test_bad_options_raise_input_error(kw, match):
    with pytest.raises(InputError, match=match):
        delta_pmi(_units(11), "a", "b", "c", **kw)


def test_missing_cluster_values_raise():
    df = _units(12).astype({"author": object})
    df.loc[3, "author"] = None
    with pytest.raises(InputError, match=r"'author'.*missing"):
        delta_pmi(df, "a", "b", "c", permutations=5, cluster="author")
    with pytest.raises(KeyError, match="nobody"):
        delta_pmi(df, "a", "b", "c", permutations=5, cluster="nobody")


def test_fast_enough():
    # B = 1000 permutations of 40,000 units: seconds, not minutes
    from vsdstats.paper.simulate import simulate_corpus

    df = simulate_corpus(n=40_000, seed=3)[["value", "perspective", "condition", "author"]]
    t0 = time.perf_counter()
    got = delta_pmi(df, "value", "perspective", "condition", permutations=1000, seed=1)
    assert time.perf_counter() - t0 < 15.0  # ~1.5 s on one core; generous for CI
    assert got["p_value"].notna().sum() > 100


def test_cluster_null_holds_where_unit_null_does_not():
    # a small simulation (the calibration module runs the full one): authors with their
    # own tendencies and a home condition; Holm any-cell rejection over 40 data sets
    from vsdstats.stats.calibration.scenarios_codes import coded_units

    hits = {None: 0, "author": 0}
    reps = 40
    for i in range(reps):
        units = coded_units(np.random.default_rng([5, i]), n=1500, n_authors=150)
        for cl in hits:
            d = delta_pmi(
                units, "value", "perspective", "condition", permutations=99, seed=i, cluster=cl
            )
            hits[cl] += bool((d["p_value_adj"] < 0.05).any())
    assert hits["author"] / reps <= 0.15
    assert hits[None] > hits["author"]
