"""Tests for pmi and delta_pmi.

References: a Counter-based direct formula written here, scikit-learn's
mutual_info_score (MI is the p-weighted mean of PMI), and constructed tables.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from vsdstats.stats import delta_pmi, pmi


def _coded(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    value = rng.choice(["care", "autonomy", "privacy", "trust"], n, p=[0.4, 0.3, 0.2, 0.1])
    # perspective depends on value so that PMI is not ~0
    persp = np.where(
        rng.random(n) < 0.5, rng.choice(["user", "clinician", "developer"], n), value[::-1]
    )
    cond = rng.choice(["anxiety", "depression", "ptsd"], n)
    return pd.DataFrame({"value": value, "persp": persp, "cond": cond})


def _direct_pmi(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[float, float]]:
    c_ab = Counter(pairs)
    c_a = Counter(a for a, _ in pairs)
    c_b = Counter(b for _, b in pairs)
    n = len(pairs)
    out = {}
    for (a, b), k in c_ab.items():
        p_ab, p_a, p_b = k / n, c_a[a] / n, c_b[b] / n
        v = math.log(p_ab / (p_a * p_b), 2)
        out[a, b] = (v, 1.0 if p_ab == 1 else v / -math.log(p_ab, 2))
    return out


tidy_rows = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz")), min_size=1, max_size=60
)


# ---------------------------------------------------------------- pmi


def test_pmi_matches_direct_formula():
    df = _coded(1)
    got = pmi(df, "value", "persp")
    want = _direct_pmi(list(zip(df["value"], df["persp"], strict=True)))
    assert len(got) == len(want)
    assert list(got.columns) == ["value", "persp", "n", "p_ab", "p_a", "p_b", "pmi", "npmi"]
    for row in got.itertuples(index=False):
        assert row.pmi == pytest.approx(want[row.value, row.persp][0], abs=1e-12)
        assert row.npmi == pytest.approx(want[row.value, row.persp][1], abs=1e-12)
    assert got["n"].sum() == len(df)
    assert got["n"].dtype.kind == "i"


@given(rows=tidy_rows)
def test_pmi_expectation_is_mutual_information(rows):
    df = pd.DataFrame(rows, columns=["a", "b"])
    got = pmi(df, "a", "b")
    mi_bits = float((got["p_ab"] * got["pmi"]).sum())
    # sklearn gives MI in nats
    assert mi_bits * math.log(2) == pytest.approx(mutual_info_score(df["a"], df["b"]), abs=1e-10)


@given(rows=tidy_rows)
def test_npmi_in_range(rows):
    got = pmi(pd.DataFrame(rows, columns=["a", "b"]), "a", "b")
    assert (got["npmi"] >= -1 - 1e-12).all() and (got["npmi"] <= 1 + 1e-12).all()
    assert np.isfinite(got["pmi"]).all()


@given(
    ra=st.lists(st.integers(1, 9), min_size=1, max_size=5),
    rb=st.lists(st.integers(1, 9), min_size=1, max_size=5),
)
def test_independent_table_has_zero_pmi(ra, rb):
    # n_ab = r_a * s_b is exactly independent: p(a,b) = p(a) p(b)
    a = [f"a{i}" for i, _ in enumerate(ra) for _ in rb]
    b = [f"b{j}" for _ in ra for j, _ in enumerate(rb)]
    n = [x * y for x in ra for y in rb]
    counted = pd.DataFrame({"a": a, "b": b, "w": n})
    got = pmi(counted, "a", "b", counts="w")
    np.testing.assert_allclose(got["pmi"], 0.0, atol=1e-12)
    # the same data as one row per unit
    rows = counted.loc[counted.index.repeat(counted["w"])].drop(columns="w")
    got2 = pmi(rows, "a", "b")
    np.testing.assert_allclose(got2["pmi"], 0.0, atol=1e-12)
    np.testing.assert_allclose(got2["n"], got["n"])


def test_counts_equal_expanded_rows():
    df = _coded(2)
    counted = df.groupby(["value", "persp"]).size().rename("k").reset_index()
    a = pmi(df, "value", "persp")
    b = pmi(counted, "value", "persp", counts="k")
    np.testing.assert_allclose(a["pmi"], b["pmi"], atol=1e-12)
    np.testing.assert_allclose(a["npmi"], b["npmi"], atol=1e-12)


def test_npmi_edge_cases():
    one = pmi(pd.DataFrame({"a": ["x"] * 4, "b": ["y"] * 4}), "a", "b")
    assert one["p_ab"].iloc[0] == 1.0 and one["npmi"].iloc[0] == 1.0
    # perfect association: a determines b and vice versa -> npmi = 1
    perf = pmi(pd.DataFrame({"a": list("xxyyz"), "b": list("PPQQR")}), "a", "b")
    np.testing.assert_allclose(perf["npmi"], 1.0, atol=1e-12)
    plain = pmi(pd.DataFrame({"a": list("xy"), "b": list("PQ")}), "a", "b", normalize=False)
    assert "npmi" not in plain.columns


def test_missing_values_dropped_and_errors():
    df = pd.DataFrame({"a": ["x", None, "y", "x"], "b": ["P", "P", None, "Q"]})
    got = pmi(df, "a", "b")
    assert got["n"].sum() == 2
    with pytest.raises(ValueError):
        pmi(df, "a", "a")
    with pytest.raises(KeyError):
        pmi(df, "a", "zzz")


# ---------------------------------------------------------------- delta_pmi


def test_delta_pmi_matches_subset_formula():
    df = _coded(3, n=400)
    got = delta_pmi(df, "value", "persp", "cond")
    assert list(got.columns) == [
        "cond",
        "value",
        "persp",
        "pmi_in",
        "pmi_out",
        "delta_pmi",
        "n_in",
        "n_out",
        "supported",
    ]
    n_pairs = df.groupby(["value", "persp"]).ngroups
    assert len(got) == n_pairs * df["cond"].nunique()
    for level in df["cond"].unique():
        ins = df[df["cond"] == level]
        outs = df[df["cond"] != level]
        w_in = _direct_pmi(list(zip(ins["value"], ins["persp"], strict=True)))
        w_out = _direct_pmi(list(zip(outs["value"], outs["persp"], strict=True)))
        c_in = Counter(zip(ins["value"], ins["persp"], strict=True))
        c_out = Counter(zip(outs["value"], outs["persp"], strict=True))
        for row in got[got["cond"] == level].itertuples(index=False):
            key = (row.value, row.persp)
            assert row.n_in == c_in[key] and row.n_out == c_out[key]
            if key in w_in and key in w_out:
                assert row.delta_pmi == pytest.approx(w_in[key][0] - w_out[key][0], abs=1e-12)
            else:
                assert math.isnan(row.delta_pmi)


def test_delta_pmi_absent_pairs_are_nan_not_inf():
    df = pd.DataFrame(
        {
            "a": ["x", "x", "y", "y", "x", "y"],
            "b": ["P", "Q", "P", "Q", "P", "P"],
            "c": ["L1", "L1", "L1", "L1", "L2", "L2"],
        }
    )
    got = delta_pmi(df, "a", "b", "c").set_index(["c", "a", "b"])
    row = got.loc[("L2", "x", "Q")]  # (x, Q) never occurs in L2
    assert row["n_in"] == 0 and row["n_out"] == 1
    assert math.isnan(row["pmi_in"]) and math.isnan(row["delta_pmi"])
    assert not np.isinf(got[["pmi_in", "pmi_out", "delta_pmi"]].to_numpy()).any()


def test_delta_pmi_single_level():
    df = pd.DataFrame({"a": list("xyxy"), "b": list("PQQP"), "c": ["L"] * 4})
    got = delta_pmi(df, "a", "b", "c")
    assert got["pmi_out"].isna().all() and got["delta_pmi"].isna().all()
    assert (got["n_out"] == 0).all() and got["n_in"].sum() == 4


@given(
    base=st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xyz")), min_size=1, max_size=25
    ),
    mult=st.lists(st.integers(1, 4), min_size=2, max_size=4),
)
def test_delta_pmi_zero_for_identical_distributions(base, mult):
    # every level holds the same units, replicated k_L times: identical distributions
    parts = [
        pd.DataFrame(base * k, columns=["a", "b"]).assign(c=f"L{i}") for i, k in enumerate(mult)
    ]
    df = pd.concat(parts, ignore_index=True)
    got = delta_pmi(df, "a", "b", "c")
    assume(len(got) > 0)
    assert got["delta_pmi"].notna().all()
    np.testing.assert_allclose(got["delta_pmi"], 0.0, atol=1e-9)
    # n_in + n_out is the pair's total count, whatever the level
    tot = got.groupby(["a", "b"])[["n_in", "n_out"]].sum().sum(axis=1)
    per_level = got.assign(t=got["n_in"] + got["n_out"]).groupby(["a", "b"])["t"].first()
    np.testing.assert_array_equal(tot, per_level * len(mult))


def test_delta_pmi_with_counts_column():
    df = _coded(4)
    counted = df.groupby(["value", "persp", "cond"]).size().rename("k").reset_index()
    a = delta_pmi(df, "value", "persp", "cond")
    b = delta_pmi(counted, "value", "persp", "cond", counts="k")
    np.testing.assert_allclose(a["delta_pmi"], b["delta_pmi"], atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a["n_in"], b["n_in"])
