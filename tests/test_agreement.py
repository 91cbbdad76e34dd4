"""Tests for vsdstats.stats.agreement against independent references.

References: sklearn.metrics (kappa, precision/recall/F1, confusion matrix), the
``krippendorff`` package (alpha, with missing values), statsmodels' ``cohens_kappa``
(kappa, Fleiss-Cohen-Everitt ASE and Wald CI), and R code written here.
"""

from __future__ import annotations

import math
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import (
    cohen_kappa_score,
    confusion_matrix,
    precision_recall_fscore_support,
)
from statsmodels.stats.inter_rater import cohens_kappa

from vsdstats.stats import agreement as agreement_from_package
from vsdstats.stats.agreement import (
    MISSING_CATEGORY,
    AgreementResult,
    _krippendorff_alpha_nominal,
    agreement,
)

ALPHABET = list("abcde")
label = st.sampled_from(ALPHABET)
maybe_label = st.one_of(st.none(), label)


@st.composite
def paired(draw, min_size=2, max_size=60, allow_missing=False):
    """Two aligned label lists (optionally with None = missing)."""
    n = draw(st.integers(min_size, max_size))
    elem = maybe_label if allow_missing else label
    g = draw(st.lists(elem, min_size=n, max_size=n))
    c = draw(st.lists(elem, min_size=n, max_size=n))
    return g, c


def both_present(g, c):
    keep = [i for i in range(len(g)) if g[i] is not None and c[i] is not None]
    return [g[i] for i in keep], [c[i] for i in keep]


def sk_kappa(g, c, labels=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cohen_kappa_score(g, c, labels=labels)


def close(a, b, tol=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# ---------------------------------------------------------------------------------------
# vs sklearn
# ---------------------------------------------------------------------------------------


@given(paired(allow_missing=True))
def test_kappa_matches_sklearn(gc):
    g, c = gc
    res = agreement(g, c)
    row = res.summary.iloc[0]
    gg, cc = both_present(g, c)
    assert row["n"] == len(gg)
    assume(len(gg) > 0)
    assert close(row["cohen_kappa"], sk_kappa(gg, cc))
    agree = sum(a == b for a, b in zip(gg, cc, strict=True))
    assert close(row["percent_agreement"], 100 * agree / len(gg))


@given(paired(allow_missing=True))
def test_per_category_and_confusion_match_sklearn(gc):
    g, c = gc
    gg, cc = both_present(g, c)
    assume(len(gg) > 0)
    res = agreement(g, c)
    cats = res.categories["label"]
    assert cats == sorted(set(gg) | set(cc))

    cm = confusion_matrix(gg, cc, labels=cats)
    np.testing.assert_array_equal(res.confusion_table().to_numpy(), cm)
    assert len(res.confusion) == len(cats) ** 2

    pc = res.per_category.set_index("category")
    p, r, f, s = precision_recall_fscore_support(gg, cc, labels=cats, zero_division=0)
    np.testing.assert_allclose(pc.loc[cats, "precision"], p)
    np.testing.assert_allclose(pc.loc[cats, "recall"], r)
    np.testing.assert_allclose(pc.loc[cats, "f1"], f)
    np.testing.assert_array_equal(pc.loc[cats, "support"], s)
    np.testing.assert_array_equal(pc.loc[cats, "predicted"], cm.sum(axis=0))
    np.testing.assert_array_equal(pc.loc[cats, "tp"], np.diag(cm))
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            gg, cc, labels=cats, average=avg, zero_division=0
        )
        got = pc.loc[f"({avg})"]
        assert close(got["precision"], p) and close(got["recall"], r) and close(got["f1"], f)


@given(paired(max_size=30), st.permutations([*ALPHABET, "z"]))
def test_fixed_labels_set_order_and_match_sklearn(gc, order):
    g, c = gc
    res = agreement(g, c, labels=order)
    assert res.categories["label"] == order
    tab = res.confusion_table()
    assert list(tab.index) == order and list(tab.columns) == order
    np.testing.assert_array_equal(tab.to_numpy(), confusion_matrix(g, c, labels=order))
    assert close(res.summary["cohen_kappa"].iloc[0], sk_kappa(g, c, labels=order))
    pc = res.per_category.set_index("category")
    for avg in ("macro", "weighted"):
        p, _r, f, _ = precision_recall_fscore_support(
            g, c, labels=order, average=avg, zero_division=0
        )
        assert close(pc.loc[f"({avg})", "f1"], f) and close(pc.loc[f"({avg})", "precision"], p)
    # "z" is never used: zero support and zero predictions -> 0.0 by convention
    assert pc.loc["z", ["support", "predicted", "tp"]].tolist() == [0, 0, 0]
    assert pc.loc["z", ["precision", "recall", "f1"]].tolist() == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------
# vs krippendorff package
# ---------------------------------------------------------------------------------------


def package_alpha(rows: list[list]) -> float:
    """krippendorff.alpha on label lists (None = missing); NaN where it raises."""
    codes = {lab: i for i, lab in enumerate(ALPHABET)}
    data = np.array([[np.nan if v is None else codes[v] for v in row] for row in rows], dtype=float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    except ValueError:  # "There has to be more than one value in the domain."
        return float("nan")


@given(paired(allow_missing=True))
def test_alpha_matches_krippendorff_package_with_missing(gc):
    g, c = gc
    res = agreement(g, c)
    assert close(res.summary["krippendorff_alpha"].iloc[0], package_alpha([g, c]), 1e-9)


@given(
    st.integers(2, 5).flatmap(
        lambda m: st.integers(2, 30).flatmap(
            lambda n: st.lists(
                st.lists(maybe_label, min_size=n, max_size=n), min_size=m, max_size=m
            )
        )
    )
)
def test_alpha_many_coders_matches_package(rows):
    """The coincidence-matrix implementation is general in the number of coders."""
    codes = np.array([[-1 if v is None else ALPHABET.index(v) for v in row] for row in rows])
    ours = _krippendorff_alpha_nominal(codes, len(ALPHABET))
    assert close(ours, package_alpha(rows), 1e-9)


def test_alpha_known_value_krippendorff_2011_example():
    """Nominal example from Krippendorff (2011), 4 coders x 12 units with missing data.

    The reference value 0.743 is printed in the paper; we also check the package.
    """
    nan = None
    rows = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    codes = np.array([[-1 if v is None else v - 1 for v in row] for row in rows])
    ours = _krippendorff_alpha_nominal(codes, 5)
    assert round(ours, 3) == 0.743
    data = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert math.isclose(ours, ref, rel_tol=1e-12)


# ---------------------------------------------------------------------------------------
# vs statsmodels (kappa, Fleiss-Cohen-Everitt 1969 ASE, Wald CI)
# ---------------------------------------------------------------------------------------


@given(paired(min_size=3))
def test_kappa_se_and_ci_match_statsmodels(gc):
    g, c = gc
    res = agreement(g, c)
    row = res.summary.iloc[0]
    cats = res.categories["label"]
    cm = confusion_matrix(g, c, labels=cats)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    if (rows * cols).sum() == cm.sum() ** 2:  # single category: undefined
        assert math.isnan(row["cohen_kappa"]) and math.isnan(row["kappa_se"])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' null-variance sqrt may warn
        sm = cohens_kappa(cm)
    assert close(row["cohen_kappa"], sm.kappa)
    # an exactly-zero variance (perfect agreement, or one side in one category; statsmodels
    # gets it with rounding noise +-1e-16): no interval, never a zero-width one (issue 13)
    if abs(sm.var_kappa) < 1e-12:
        assert math.isnan(row["kappa_se"]) and math.isnan(row["kappa_ci_low"])
        assert row["note"] != ""
        return
    assert math.isclose(row["kappa_se"], sm.std_kappa, rel_tol=1e-7, abs_tol=1e-7)
    assert math.isclose(row["kappa_ci_low"], sm.kappa_low, rel_tol=1e-7, abs_tol=1e-7)
    assert math.isclose(row["kappa_ci_high"], sm.kappa_upp, rel_tol=1e-7, abs_tol=1e-7)


def test_conf_level_widens_interval():
    g = list("aabbcabcab")
    c = list("abbbcaacab")
    r95 = agreement(g, c).summary.iloc[0]
    r99 = agreement(g, c, conf_level=0.99).summary.iloc[0]
    sm = cohens_kappa(confusion_matrix(g, c))
    z99 = norm.isf(0.005)
    assert math.isclose(r99["kappa_ci_low"], sm.kappa - z99 * sm.std_kappa, rel_tol=1e-9)
    assert math.isclose(r99["kappa_ci_high"], sm.kappa + z99 * sm.std_kappa, rel_tol=1e-9)
    assert r99["kappa_ci_low"] < r95["kappa_ci_low"] < r95["kappa_ci_high"] < r99["kappa_ci_high"]


# ---------------------------------------------------------------------------------------
# vs R (code written here, base R only)
# ---------------------------------------------------------------------------------------


R_KAPPA_ALPHA = """
function(g, c) {
  lev <- sort(unique(c(g, c)))
  tab <- table(factor(g, levels = lev), factor(c, levels = lev))
  n <- sum(tab); p <- tab / n
  pr <- rowSums(p); pc <- colSums(p)
  po <- sum(diag(p)); pe <- sum(pr * pc)
  k <- (po - pe) / (1 - pe)
  A <- sum(diag(p) * (1 - (pr + pc) * (1 - k))^2)
  W <- outer(pc, pr, "+")^2; diag(W) <- 0
  B <- (1 - k)^2 * sum(p * W)
  C <- (k - pe * (1 - k))^2
  se <- sqrt((A + B - C) / (n * (1 - pe)^2))
  # Krippendorff's alpha, 2 coders, complete pairs: coincidences = tab + t(tab)
  o <- tab + t(tab); nc <- rowSums(o); nn <- sum(nc)
  alpha <- 1 - (nn - 1) * (sum(o) - sum(diag(o))) / (nn^2 - sum(nc^2))
  c(k, se, alpha)
}
"""


def test_matches_r_reference(r):
    rng = np.random.default_rng(7)
    f = r(R_KAPPA_ALPHA)
    from rpy2.robjects import StrVector

    for _ in range(5):
        n = int(rng.integers(10, 80))
        g = rng.choice(list("abcd"), n)
        c = np.where(rng.random(n) < 0.6, g, rng.choice(list("abcd"), n))
        kappa, se, alpha = (float(v) for v in f(StrVector(g.tolist()), StrVector(c.tolist())))
        row = agreement(g, c).summary.iloc[0]
        assert math.isclose(row["cohen_kappa"], kappa, rel_tol=1e-10)
        assert math.isclose(row["kappa_se"], se, rel_tol=1e-8)
        assert math.isclose(row["krippendorff_alpha"], alpha, rel_tol=1e-10)


# ---------------------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------------------


@given(st.lists(label, min_size=2, max_size=60))
def test_identical_codes_agree_perfectly(g):
    assume(len(set(g)) >= 2)
    row = agreement(g, list(g)).summary.iloc[0]
    assert row["percent_agreement"] == 100.0
    assert close(row["cohen_kappa"], 1.0)
    assert close(row["krippendorff_alpha"], 1.0)
    # Var(kappa) = 0: NaN SE and interval with a note, not a [1, 1] interval (issue 13)
    assert math.isnan(row["kappa_se"]) and math.isnan(row["kappa_ci_low"])
    assert math.isnan(row["alpha_ci_low"]) and math.isnan(row["alpha_ci_high"])
    assert "perfect agreement" in row["note"]


@given(paired(allow_missing=True))
def test_swap_gold_and_coded(gc):
    g, c = gc
    a = agreement(g, c)
    b = agreement(c, g)
    sa, sb = a.summary.iloc[0], b.summary.iloc[0]
    for col in ("cohen_kappa", "kappa_se", "krippendorff_alpha", "percent_agreement"):
        assert close(sa[col], sb[col])
    assert (sa["n_gold_only"], sa["n_coded_only"]) == (sb["n_coded_only"], sb["n_gold_only"])
    pa = a.per_category.set_index("category")
    pb = b.per_category.set_index("category")
    cats = a.categories["label"]
    np.testing.assert_allclose(pa.loc[cats, "precision"], pb.loc[cats, "recall"])
    np.testing.assert_allclose(pa.loc[cats, "recall"], pb.loc[cats, "precision"])
    np.testing.assert_allclose(pa.loc[cats, "f1"], pb.loc[cats, "f1"])
    np.testing.assert_array_equal(a.confusion_table().to_numpy(), b.confusion_table().to_numpy().T)


@given(paired(allow_missing=True), st.randoms(use_true_random=False))
def test_invariant_to_item_order(gc, rnd):
    g, c = gc
    idx = list(range(len(g)))
    rnd.shuffle(idx)
    a = agreement(g, c)
    b = agreement([g[i] for i in idx], [c[i] for i in idx])
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.per_category, b.per_category)
    pd.testing.assert_frame_equal(a.confusion, b.confusion)
    # indexed Series are aligned by index, not position
    gs = pd.Series(g, index=range(100, 100 + len(g)), dtype=object)
    cs = pd.Series(c, index=range(100, 100 + len(c)), dtype=object).iloc[idx]
    s = agreement(gs, cs)
    pd.testing.assert_frame_equal(a.summary, s.summary)


@given(
    st.lists(st.sampled_from("ab"), min_size=2, max_size=40),
    st.lists(st.sampled_from("cd"), min_size=2, max_size=40),
)
def test_categories_on_one_side_only(g_src, c_src):
    n = min(len(g_src), len(c_src))
    g, c = g_src[:n], c_src[:n]
    res = agreement(g, c)
    cats = res.categories["label"]
    assert set(cats) == set(g) | set(c)
    tab = res.confusion_table()
    # gold never uses the coded-only categories and vice versa
    assert tab.loc[list(set(c)), :].to_numpy().sum() == 0
    assert tab.loc[:, list(set(g))].to_numpy().sum() == 0
    row = res.summary.iloc[0]
    assert row["percent_agreement"] == 0.0
    assert close(row["cohen_kappa"], sk_kappa(g, c))
    assert row["cohen_kappa"] <= 0
    pc = res.per_category.set_index("category")
    assert (pc.loc[cats, "tp"] == 0).all() and (pc.loc[cats, "f1"] == 0).all()
    assert close(row["krippendorff_alpha"], package_alpha([g, c]))


# ---------------------------------------------------------------------------------------
# DataFrame input
# ---------------------------------------------------------------------------------------


@pytest.fixture
def frames():
    gold = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
            "sentiment": ["pos", "neg", "neu", "pos", "neg", None],
            "relevant": [True, False, True, True, False, True],
            "text": ["t"] * 6,
        }
    )
    coded = pd.DataFrame(
        {
            "post_id": ["p7", "p5", "p4", "p3", "p2", "p6"],
            "sentiment": ["pos", "neg", "neg", "neu", None, "pos"],
            "relevant": [True, True, True, True, False, True],
            "condition": ["x"] * 6,  # not in gold: not compared by default
        }
    )
    return gold, coded


def test_dataframes_joined_on_post_id(frames):
    gold, coded = frames
    res = agreement(gold, coded)
    assert isinstance(res, AgreementResult)
    assert res.tidy() is res.summary
    s = res.summary.set_index("field")
    assert list(s.index) == ["sentiment", "relevant"]
    # sentiment: compared p3, p4, p5; gold-only p1 (no row) + p2 (NA); coded-only p6 + p7
    assert s.loc["sentiment", ["n", "n_gold_only", "n_coded_only"]].tolist() == [3, 2, 2]
    # relevant: compared p2..p6; gold-only p1; coded-only p7
    assert s.loc["relevant", ["n", "n_gold_only", "n_coded_only"]].tolist() == [5, 1, 1]
    um = res.unmatched
    expected = {("p1", "gold_only"), ("p7", "coded_only")}
    assert set(zip(um["post_id"], um["side"], strict=True)) == expected
    # reference computed from a manual inner merge
    m = gold.merge(coded, on="post_id", suffixes=("_g", "_c")).dropna(
        subset=["sentiment_g", "sentiment_c"]
    )
    assert close(s.loc["sentiment", "cohen_kappa"], sk_kappa(m.sentiment_g, m.sentiment_c))
    m = gold.merge(coded, on="post_id", suffixes=("_g", "_c"))
    assert close(
        s.loc["relevant", "cohen_kappa"],
        sk_kappa(m.relevant_g.astype(bool), m.relevant_c.astype(bool)),
    )
    assert res.confusion_table("relevant").to_numpy().sum() == 5


@given(st.randoms(use_true_random=False))
def test_dataframe_row_order_irrelevant(rnd):
    g = pd.DataFrame({"post_id": range(30), "value": [ALPHABET[i % 4] for i in range(30)]})
    c = pd.DataFrame(
        {"post_id": range(5, 35), "value": [ALPHABET[(i * 7) % 3] for i in range(5, 35)]}
    )
    a = agreement(g, c)
    ig, ic = list(range(30)), list(range(30))
    rnd.shuffle(ig)
    rnd.shuffle(ic)
    b = agreement(g.iloc[ig], c.iloc[ic])
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.confusion, b.confusion)
    assert a.summary[["n", "n_gold_only", "n_coded_only"]].iloc[0].tolist() == [25, 5, 5]


def test_missing_join_column_names_frame(frames):
    gold, coded = frames
    with pytest.raises(KeyError, match=r"'post_id'.*coded"):
        agreement(gold, coded.rename(columns={"post_id": "id"}))
    with pytest.raises(KeyError, match=r"'post_id'.*gold"):
        agreement(gold.rename(columns={"post_id": "id"}), coded)
    res = agreement(
        gold.rename(columns={"post_id": "id"}), coded.rename(columns={"post_id": "id"}), on="id"
    )
    assert res.summary["n"].tolist() == [3, 5]


def test_missing_field_and_duplicate_keys(frames):
    gold, coded = frames
    with pytest.raises(KeyError, match=r"'condition'.*gold"):
        agreement(gold, coded, fields=["condition"])
    with pytest.raises(ValueError, match="duplicated"):
        agreement(pd.concat([gold, gold.iloc[:1]]), coded)
    with pytest.raises(ValueError, match="share none"):
        agreement(gold[["post_id", "text"]], coded)
    with pytest.raises(TypeError):
        agreement(gold, coded["sentiment"])


def test_missing_as_category(frames):
    gold, coded = frames
    res = agreement(gold, coded, fields="sentiment", missing="category")
    row = res.summary.iloc[0]
    # p1 (absent) and p2 (NA) count as coded "(missing)"; p6/p7 have no gold label
    assert (row["n"], row["n_gold_only"], row["n_coded_only"]) == (5, 2, 2)
    cats = res.categories["sentiment"]
    assert cats[-1] == MISSING_CATEGORY
    m = gold.merge(coded, on="post_id", how="left", suffixes=("_g", "_c"))
    m = m[m.sentiment_g.notna()]
    ref_c = m.sentiment_c.fillna(MISSING_CATEGORY)
    assert close(row["cohen_kappa"], sk_kappa(m.sentiment_g, ref_c))
    tab = res.confusion_table()
    np.testing.assert_array_equal(
        tab.to_numpy(), confusion_matrix(m.sentiment_g, ref_c, labels=cats)
    )
    assert tab[MISSING_CATEGORY].sum() == 2
    with pytest.raises(ValueError, match="missing"):
        agreement(gold, coded, missing="drop")


# ---------------------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------------------


def test_label_outside_labels_raises_naming_field_and_label(frames):
    gold, coded = frames
    with pytest.raises(ValueError, match=r"'sentiment'.*'neu'"):
        agreement(gold, coded, fields="sentiment", labels={"sentiment": ["pos", "neg"]})
    with pytest.raises(ValueError, match=r"'label'.*coded.*'q'"):
        agreement(["a", "b"], ["a", "q"], labels=["a", "b"])
    with pytest.raises(ValueError, match="duplicates"):
        agreement(["a", "b"], ["a", "b"], labels=["a", "b", "a"])


def test_single_category_kappa_and_alpha_undefined():
    g = ["a"] * 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score(g, g))
    with pytest.raises(ValueError):  # the package refuses a one-value domain
        krippendorff.alpha(reliability_data=np.ones((2, 10)), level_of_measurement="nominal")
    row = agreement(g, g).summary.iloc[0]
    assert math.isnan(row["cohen_kappa"]) and math.isnan(row["kappa_se"])
    assert math.isnan(row["krippendorff_alpha"])
    assert row["percent_agreement"] == 100.0 and row["n_categories"] == 1
    assert "one category" in row["note"]
    # still undefined when the codebook has more categories than are used
    row = agreement(g, g, labels=["a", "b"]).summary.iloc[0]
    assert math.isnan(row["cohen_kappa"]) and math.isnan(row["krippendorff_alpha"])


def test_no_overlap_gives_nan_not_error():
    res = agreement(["a", None, "b"], [None, "a", None])
    row = res.summary.iloc[0]
    assert row["n"] == 0 and (row["n_gold_only"], row["n_coded_only"]) == (2, 1)
    assert math.isnan(row["cohen_kappa"]) and math.isnan(row["krippendorff_alpha"])
    assert math.isnan(row["percent_agreement"])
    # issue 8 item 14: with nothing compared F1 is undefined, not 0
    assert res.per_category[["precision", "recall", "f1"]].isna().all().all()
    assert "F1" in row["note"] and "undefined" in row["note"]


def test_no_overlap_with_fixed_labels_per_category_nan():
    gold = pd.DataFrame({"post_id": ["p1", "p2"], "sentiment": ["positive", "negative"]})
    coded = pd.DataFrame({"post_id": ["p3", "p4"], "sentiment": ["positive", "neutral"]})
    res = agreement(gold, coded, labels=["positive", "neutral", "negative"])
    pc = res.per_category
    assert len(pc) == 3 + 3 and pc[["precision", "recall", "f1"]].isna().all().all()
    assert (pc["support"] == 0).all() and (pc["tp"] == 0).all()


def test_series_alignment_and_lengths():
    g = pd.Series(["a", "b", "a", "b"], index=[1, 2, 3, 4], name="sentiment")
    c = pd.Series(["b", "a", "c"], index=[4, 3, 9])
    res = agreement(g, c)
    row = res.summary.iloc[0]
    assert row["field"] == "sentiment"
    assert (row["n"], row["n_gold_only"], row["n_coded_only"]) == (2, 2, 1)
    assert row["percent_agreement"] == 100.0
    assert set(zip(res.unmatched["index"], res.unmatched["side"], strict=True)) == {
        (1, "gold_only"),
        (2, "gold_only"),
        (9, "coded_only"),
    }
    with pytest.raises(ValueError, match="different lengths"):
        agreement(["a", "b"], ["a"])
    # a plain list against a Series is positional
    assert agreement(["b", "a"], pd.Series(["b", "a"], index=[5, 0])).summary["n"].iloc[0] == 2


def test_confusion_long_and_wide_consistent():
    g = ["x", "y", "y", "z", "x", np.nan]
    c = ["x", "y", "x", "x", "w", "y"]
    res = agreement(g, c)
    conf = res.confusion
    assert list(conf.columns) == ["field", "gold", "coded", "n"]
    cats = res.categories["label"]
    assert cats == ["w", "x", "y", "z"]
    # nonzero cells: (w<-x) (x,x) (y,x) (y,y) (z,x)
    assert len(conf) == 16 and (conf["n"] == 0).sum() == 16 - 5
    wide = res.confusion_table("label")
    long_again = wide.stack().rename("n").reset_index()
    np.testing.assert_array_equal(long_again["n"], conf["n"])
    assert list(long_again["gold"]) == list(conf["gold"])
    with pytest.raises(KeyError):
        res.confusion_table("nope")


def test_exported_from_stats_package():
    assert agreement_from_package is agreement
