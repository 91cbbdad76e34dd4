"""Inter-coder reliability of k coders (issue 13): Krippendorff's alpha with missing
data (nominal and interval) against the ``krippendorff`` package, Fleiss' kappa against
statsmodels, Cohen's kappa against sklearn, a seeded bootstrap interval, NaN (with a
note) where a coefficient is undefined.  Three simulated coders of known accuracy with
missing codes; synthetic labels only."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from vsdstats.stats.agreement import (
    alpha_bootstrap,
    fleiss_kappa,
    krippendorff_alpha,
    reliability,
)
from vsdstats.stats.scores import sentiment_score

CATS = ["adhd", "anxiety", "depressive", "general"]
SENT = ["positive", "neutral", "negative"]


def simulated_coders(n_units=120, accuracy=(0.9, 0.75, 0.6), missing=0.15, seed=1):
    """Three coders: each copies the true label with its accuracy, else picks at random;
    a share ``missing`` of codes is left out.  Long format: coder, unit_key, fields."""
    rng = np.random.default_rng(seed)
    truth_c = rng.choice(CATS, n_units, p=[0.4, 0.3, 0.2, 0.1])
    truth_s = rng.choice(SENT, n_units, p=[0.5, 0.2, 0.3])
    rows = []
    for j, acc in enumerate(accuracy, start=1):
        for u in range(n_units):
            if rng.random() < missing:
                continue
            c = truth_c[u] if rng.random() < acc else rng.choice(CATS)
            s = truth_s[u] if rng.random() < acc else rng.choice(SENT)
            rows.append(
                {"coder": f"coder{j}", "unit_key": f"u{u:03d}", "condition": c, "sentiment": s}
            )
    return pd.DataFrame(rows)


def _matrix(df, field, fn=None):
    w = df.pivot(index="coder", columns="unit_key", values=field)
    if fn is not None:
        w = w.apply(fn, axis=1)
    return w


def _numeric(w):
    """Category codes as floats (NaN = missing), what the krippendorff package takes."""
    return w.apply(lambda r: r.map({c: i for i, c in enumerate(CATS + SENT)})).to_numpy(float)


def test_three_simulated_coders_match_the_krippendorff_package():
    codes = simulated_coders()
    assert codes.groupby("unit_key").size().lt(3).any()  # there are missing codes
    res = reliability(
        codes,
        ["condition", "sentiment"],
        interval={"sentiment": sentiment_score},
        n_boot=500,
        seed=3,
    ).set_index("field")
    for f in ("condition", "sentiment"):
        ref = krippendorff.alpha(
            reliability_data=_numeric(_matrix(codes, f)), level_of_measurement="nominal"
        )
        assert res.loc[f, "krippendorff_alpha"] == pytest.approx(ref, abs=1e-12)
        assert res.loc[f, "alpha_ci_low"] < res.loc[f, "krippendorff_alpha"]
        assert res.loc[f, "krippendorff_alpha"] < res.loc[f, "alpha_ci_high"]
    score = _matrix(codes, "sentiment", sentiment_score).to_numpy(float)
    ref = krippendorff.alpha(reliability_data=score, level_of_measurement="interval")
    assert res.loc["sentiment (score)", "krippendorff_alpha"] == pytest.approx(ref, abs=1e-12)
    assert res.loc["sentiment (score)", "level"] == "interval"
    # Fleiss' kappa over the units all three coded, against statsmodels
    w = _matrix(codes, "condition").dropna(axis=1)
    table, _ = aggregate_raters(w.T.to_numpy())
    assert res.loc["condition", "fleiss_kappa"] == pytest.approx(sm_fleiss(table), abs=1e-12)
    assert res.loc["condition", "n_complete"] == w.shape[1]
    assert math.isnan(res.loc["condition", "cohen_kappa"])  # three coders: Fleiss, not Cohen
    # the same seed gives the same interval
    again = reliability(codes, ["condition"], n_boot=500, seed=3).set_index("field")
    assert again.loc["condition", "alpha_ci_low"] == res.loc["condition", "alpha_ci_low"]


def test_better_coders_agree_more():
    good = reliability(simulated_coders(accuracy=(0.95, 0.95, 0.95)), ["condition"], n_boot=0)
    poor = reliability(simulated_coders(accuracy=(0.6, 0.6, 0.6)), ["condition"], n_boot=0)
    assert good["krippendorff_alpha"].iloc[0] > poor["krippendorff_alpha"].iloc[0] + 0.2


def test_two_coders_cohen_kappa_matches_sklearn():
    codes = simulated_coders()
    two = codes[codes["coder"] != "coder3"]
    row = reliability(two, ["condition"], n_boot=0).iloc[0]
    w = _matrix(two, "condition").dropna(axis=1)
    assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(w.iloc[0], w.iloc[1]), abs=1e-12)
    assert math.isnan(row["fleiss_kappa"])


values = st.one_of(st.none(), st.sampled_from("abc"))


@st.composite
def matrices(draw):
    m = draw(st.integers(2, 5))
    n = draw(st.integers(2, 25))
    return [[draw(values) for _ in range(n)] for _ in range(m)]


def _as_float(mat):
    return np.array([[np.nan if v is None else "abc".index(v) for v in r] for r in mat], float)


@settings(max_examples=60, deadline=None)
@given(matrices())
def test_alpha_matches_package_nominal_and_interval(mat):
    x = _as_float(mat)
    ours = krippendorff_alpha(mat)
    pairable = (~np.isnan(x)).sum(axis=0) >= 2
    vals = x[:, pairable][~np.isnan(x[:, pairable])]
    if len(set(vals)) < 2:
        assert math.isnan(ours)
        return
    ref = krippendorff.alpha(reliability_data=x, level_of_measurement="nominal")
    assert ours == pytest.approx(ref, abs=1e-9)
    ref_i = krippendorff.alpha(reliability_data=x, level_of_measurement="interval")
    assert krippendorff_alpha(x, "interval") == pytest.approx(ref_i, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(matrices(), st.randoms())
def test_alpha_and_interval_invariant_to_coder_and_unit_order(mat, rnd):
    x = np.array(mat, dtype=object)
    rows = list(range(x.shape[0]))
    cols = list(range(x.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    a = alpha_bootstrap(x, n_boot=200, seed=5)
    b = alpha_bootstrap(x[rows][:, cols], n_boot=200, seed=5)
    for key in ("alpha", "ci_low", "ci_high"):
        assert (math.isnan(a[key]) and math.isnan(b[key])) or a[key] == pytest.approx(b[key])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("abc"), min_size=2, max_size=30), st.integers(2, 4))
def test_identical_coders_have_alpha_one_and_no_zero_width_interval(labels, k):
    assume(len(set(labels)) >= 2)
    boot = alpha_bootstrap([labels] * k, n_boot=100, seed=1)
    assert boot["alpha"] == pytest.approx(1.0)
    assert math.isnan(boot["ci_low"]) and math.isnan(boot["ci_high"])


def test_undefined_is_nan_with_a_note():
    constant = pd.DataFrame(
        {"coder": ["a", "b", "a", "b"], "unit_key": ["1", "1", "2", "2"], "f": ["x"] * 4}
    )
    row = reliability(constant, ["f"], n_boot=50).iloc[0]
    assert math.isnan(row["krippendorff_alpha"]) and math.isnan(row["alpha_ci_low"])
    assert math.isnan(row["cohen_kappa"]) and "no variation" in row["note"]
    apart = pd.DataFrame({"coder": ["a", "b"], "unit_key": ["1", "2"], "f": ["x", "y"]})
    row = reliability(apart, ["f"], n_boot=50).iloc[0]
    assert math.isnan(row["krippendorff_alpha"]) and row["n_units"] == 0
    assert "no unit coded by two coders" in row["note"]
    f, n = fleiss_kappa([["x", "y"], ["x", "y"], ["x", None]])
    assert n == 1 and math.isnan(f)  # one complete unit: undefined
    with pytest.raises(ValueError, match="twice"):
        reliability(pd.concat([constant, constant]), ["f"])
