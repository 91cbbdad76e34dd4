"""Tests for vsdstats.stats.crosstab: exact counts checked against collections.Counter
and pd.crosstab, category order, NA handling, weights and errors."""

from __future__ import annotations

import importlib
from collections import Counter
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.stats import crosstab

ct_mod = importlib.import_module("vsdstats.stats.crosstab")

CATS = st.sampled_from(["a", "b", "c", "dd", "Z", None])
NUMS = st.one_of(st.integers(-3, 3), st.just(float("nan")))


def _is_na(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _counter_table(xs, ys) -> Counter:
    return Counter((x, y) for x, y in zip(xs, ys, strict=True) if not _is_na(x) and not _is_na(y))


def _check_against_counter(tab: pd.DataFrame, xs, ys) -> None:
    counts = _counter_table(xs, ys)
    assert int(tab.to_numpy().sum()) == sum(counts.values())
    for (x, y), k in counts.items():
        assert tab.loc[x, y] == k
    # every cell not in the Counter is zero
    assert int((tab.to_numpy() > 0).sum()) == len(counts)


@given(st.lists(st.tuples(CATS, CATS), min_size=0, max_size=60))
def test_equals_counter_strings(pairs):
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    df = pd.DataFrame({"x": pd.Series(xs, dtype=object), "y": pd.Series(ys, dtype=object)})
    tab = crosstab(df, "x", "y")
    _check_against_counter(tab, xs, ys)
    # sorted unique non-missing values, axes named after the columns
    assert list(tab.index) == sorted({x for x in xs if x is not None})
    assert list(tab.columns) == sorted({y for y in ys if y is not None})
    assert tab.index.name == "x" and tab.columns.name == "y"
    assert all(dt == np.int64 for dt in tab.dtypes)
    n_complete = sum(x is not None and y is not None for x, y in pairs)
    assert tab.to_numpy().sum() == n_complete


@given(st.lists(st.tuples(CATS, NUMS), min_size=1, max_size=60))
def test_pointer_fast_path_matches_counter(pairs):
    # Force the object-pointer factorization on small inputs; copy strings so that
    # equal values are distinct objects (the fast path must merge them by value).
    xs = ["".join(list(x)) if isinstance(x, str) else x for x, _ in pairs]
    ys = [y for _, y in pairs]
    df = pd.DataFrame({"x": pd.Series(xs, dtype=object), "y": pd.Series(ys, dtype=object)})
    with mock.patch.object(ct_mod, "_FAST_OBJECT_MIN_ROWS", 0):
        tab = crosstab(df, "x", "y")
    _check_against_counter(tab, xs, ys)
    assert list(tab.index) == sorted({x for x in xs if x is not None})


@given(
    st.lists(st.sampled_from(["lo", "mid", "hi"]), min_size=1, max_size=40),
    st.lists(st.sampled_from(["q", "r"]), min_size=1, max_size=40),
)
def test_respects_categorical_order(xs, ys):
    m = min(len(xs), len(ys))
    xs, ys = xs[:m], ys[:m]
    order = ["hi", "unused", "mid", "lo"]
    df = pd.DataFrame(
        {
            "x": pd.Categorical(xs, categories=order, ordered=True),
            "y": pd.Categorical(ys, categories=["r", "q", "never"]),
        }
    )
    tab = crosstab(df, "x", "y")
    assert list(tab.index) == order
    assert list(tab.columns) == ["r", "q", "never"]
    assert tab.loc["unused"].sum() == 0 and tab["never"].sum() == 0
    _check_against_counter(tab, xs, ys)


def test_large_object_columns_match_pd_crosstab():
    rng = np.random.default_rng(1)
    n = 50_000
    cats = np.array([f"c{i}" for i in range(7)], dtype=object)
    x = cats[rng.integers(0, 7, n)].copy()
    # non-shared equal strings, NaN and None mixed in
    x[::97] = np.array(["".join(["c", "3"]) for _ in range(len(x[::97]))], dtype=object)
    x[::101] = None
    y = rng.choice(np.array(["u", "v", np.nan, "w"], dtype=object), n)
    df = pd.DataFrame({"x": pd.Series(x, dtype=object), "y": pd.Series(y, dtype=object)})
    assert len(df) >= ct_mod._FAST_OBJECT_MIN_ROWS  # exercises the fast path
    ours = crosstab(df, "x", "y")
    ref = pd.crosstab(df["x"], df["y"])  # drops NA rows too
    pd.testing.assert_frame_equal(
        ours, ref, check_dtype=False, check_index_type=False, check_column_type=False
    )
    assert ours.to_numpy().sum() == df.dropna().shape[0]


@pytest.mark.parametrize("kind", ["int", "str", "category", "bool", "float_nan"])
def test_dtypes_match_pd_crosstab(kind):
    rng = np.random.default_rng(2)
    n = 20_000
    a = rng.integers(0, 5, n)
    b = rng.integers(0, 3, n)
    if kind == "int":
        x = pd.Series(a * 10 - 20)
    elif kind == "str":
        x = pd.Series(np.array(["e", "d", "c", "b", "a"])[a]).astype("str")
    elif kind == "category":
        x = pd.Series(pd.Categorical.from_codes(a, ["k4", "k0", "k2", "k1", "k3"]))
    elif kind == "bool":
        x = pd.Series(a > 2)
    else:
        x = pd.Series(np.where(a == 0, np.nan, a / 2.0))
    df = pd.DataFrame({"x": x, "y": pd.Series(b)})
    ours = crosstab(df, "x", "y")
    ref = pd.crosstab(df["x"], df["y"], dropna=False if kind == "category" else True)
    np.testing.assert_array_equal(ours.to_numpy(), ref.to_numpy())
    assert list(ours.index) == list(ref.index)
    assert list(ours.columns) == list(ref.columns)


def test_weights_equal_groupby_sum():
    rng = np.random.default_rng(3)
    n = 5_000
    df = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], n),
            "h": rng.choice(["x", "y"], n),
            "w": rng.gamma(2.0, 1.5, n),
        }
    )
    df.loc[::50, "w"] = np.nan
    ours = crosstab(df, "g", "h", weights="w")
    ref = df.dropna().groupby(["g", "h"])["w"].sum().unstack()
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12)
    assert all(dt == np.float64 for dt in ours.dtypes)


def test_negative_weights_rejected():
    df = pd.DataFrame({"g": ["a", "b"], "h": ["x", "y"], "w": [1.0, -1.0]})
    with pytest.raises(ValueError, match="non-negative"):
        crosstab(df, "g", "h", weights="w")


@pytest.mark.parametrize("missing", ["row", "col", "weights"])
def test_missing_column_error_names_column(missing):
    df = pd.DataFrame({"g": ["a"], "h": ["x"], "w": [1.0]})
    kwargs = {"row": "g", "col": "h", "weights": "w", missing: "nope"}
    with pytest.raises(KeyError, match="nope"):
        crosstab(df, **kwargs)


def test_mixed_type_object_column_does_not_crash():
    df = pd.DataFrame({"x": pd.Series([1, "a", 2.5, "a", None], dtype=object), "y": list("ppqqp")})
    tab = crosstab(df, "x", "y")
    assert tab.to_numpy().sum() == 4
    assert tab.loc["a", "q"] == 1 and tab.loc["a", "p"] == 1


def _late_category_frame(n: int = 200_000) -> tuple[pd.DataFrame, list, list]:
    rng = np.random.default_rng(4)
    xs = list(np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, n)])
    ys = list(np.array(["u", "v"], dtype=object)[rng.integers(0, 2, n)])
    step = n // ct_mod._HASH_SAMPLE
    late = next(i for i in range(150_001, n) if i % step)  # outside the hash sample
    xs[late] = "late-comer"
    xs[late + 7] = "".join(["a"])  # equal value, distinct object
    xs[late + 9] = None
    df = pd.DataFrame({"x": pd.Series(xs, dtype=object), "y": pd.Series(ys, dtype=object)})
    return df, xs, ys


def test_pointer_hash_used_and_verified():
    rng = np.random.default_rng(5)
    arr = np.array(["p", "q", "r", None], dtype=object)[rng.integers(0, 4, 100_000)]
    ptrs = np.array([id(v) for v in arr], dtype=np.intp)
    hashed = ct_mod._hash_pointers(ptrs)
    assert hashed is not None
    slots, slot_ptr = hashed
    np.testing.assert_array_equal(slot_ptr[slots], ptrs)  # verified perfect hash
    # a pointer missing from the sample forces the fallback
    df, xs, ys = _late_category_frame()
    late_ptrs = np.array([id(v) for v in df["x"].to_numpy()], dtype=np.intp)
    assert ct_mod._hash_pointers(late_ptrs) is None
    _check_against_counter(crosstab(df, "x", "y"), xs, ys)


def test_many_distinct_objects_fall_back():
    n = 40_000
    xs = [f"id{i % 20_000}" for i in range(n)]  # 20000 categories, distinct objects
    ys = ["u" if i % 3 else "v" for i in range(n)]
    df = pd.DataFrame({"x": pd.Series(xs, dtype=object), "y": pd.Series(ys, dtype=object)})
    tab = crosstab(df, "x", "y")
    _check_against_counter(tab, xs, ys)
    with mock.patch.object(ct_mod, "_MAX_DISTINCT_OBJECTS", 10):
        tab2 = crosstab(df, "x", "y")
    pd.testing.assert_frame_equal(tab, tab2)
