"""Tests for group_means_ci, monthly and sentiment_score.

References: scipy.stats.t.interval and R's t.test(x)$conf.int (rpy2 ``r`` fixture).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vsdstats.stats import group_means_ci, monthly
from vsdstats.stats.means import sentiment_score


def _posts(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "cond": rng.choice(["anxiety", "depression", "ptsd"], n),
            "sent": rng.choice(["positive", "neutral", "negative"], n, p=[0.3, 0.3, 0.4]),
        }
    ).assign(score=lambda d: d["sent"].map({"positive": 1, "neutral": 0, "negative": -1}))


# ---------------------------------------------------------------- sentiment_score


def test_sentiment_score_mapping():
    s = pd.Series(["Positive", "NEUTRAL", " negative ", None, "positive"], index=[5, 6, 7, 8, 9])
    got = sentiment_score(s)
    assert list(got.index) == [5, 6, 7, 8, 9]
    np.testing.assert_array_equal(got.to_numpy(), [1.0, 0.0, -1.0, np.nan, 1.0])


def test_sentiment_score_unknown_labels_named():
    with pytest.raises(ValueError, match=r"'meh'.*'pos'|'pos'.*'meh'"):
        sentiment_score(pd.Series(["positive", "pos", "meh", "neutral"]))


# ---------------------------------------------------------------- group_means_ci


@pytest.mark.parametrize("conf", [0.9, 0.95, 0.99])
def test_group_ci_matches_scipy(conf):
    df = _posts(1)
    got = group_means_ci(df, "cond", "score", conf=conf).set_index("cond")
    for cond, x in df.groupby("cond")["score"]:
        x = x.to_numpy(dtype=float)
        lo, hi = stats.t.interval(conf, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        row = got.loc[cond]
        assert row["n"] == len(x)
        assert row["mean"] == pytest.approx(x.mean(), abs=1e-12)
        assert row["sd"] == pytest.approx(np.std(x, ddof=1), abs=1e-12)
        assert row["se"] == pytest.approx(stats.sem(x), abs=1e-12)
        assert row["ci_low"] == pytest.approx(lo, abs=1e-10)
        assert row["ci_high"] == pytest.approx(hi, abs=1e-10)


@pytest.mark.needs_r
def test_group_ci_matches_r_t_test(r):
    import rpy2.robjects as ro

    df = _posts(2, n=150)
    got = group_means_ci(df, "cond", "sent").set_index("cond")  # labels converted
    for cond, x in df.groupby("cond")["score"]:
        ci = np.asarray(r["t.test"](ro.FloatVector(x.astype(float).tolist())).rx2("conf.int"))
        assert got.loc[cond, "ci_low"] == pytest.approx(ci[0], abs=1e-10)
        assert got.loc[cond, "ci_high"] == pytest.approx(ci[1], abs=1e-10)


def test_group_ci_n1_and_multiple_keys():
    df = pd.DataFrame({"g": ["a", "a", "b"], "h": [1, 1, 2], "s": [1, -1, 0]})
    got = group_means_ci(df, ["g", "h"], "s")
    cols = ["g", "h", "n", "mean", "sd", "se", "ci_low", "ci_high", "method", "flag"]
    assert list(got.columns) == cols
    b = got[got["g"] == "b"].iloc[0]
    assert b["n"] == 1 and b["mean"] == 0 and b["flag"] == "n < 2"
    assert np.isnan(b["sd"]) and np.isnan(b["ci_low"]) and np.isnan(b["ci_high"])
    with pytest.raises(ValueError):
        group_means_ci(df, "g", "s", conf=1.5)


@given(
    x=st.lists(st.sampled_from([-1, 0, 1]), min_size=2, max_size=40),
    conf=st.floats(0.5, 0.999),
)
def test_ci_properties(x, conf):
    df = pd.DataFrame({"g": "one", "s": x})
    row = group_means_ci(df, "g", "s", conf=conf).iloc[0]
    raw = group_means_ci(df, "g", "s", conf=conf, bounds=None).iloc[0]
    # unbounded: symmetric around the mean, half-width = t * sd / sqrt(n) (via the t cdf)
    half = raw["ci_high"] - raw["mean"]
    assert raw["mean"] - raw["ci_low"] == pytest.approx(half, abs=1e-12)
    sd = float(np.std(x, ddof=1))
    assert -1 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1
    if sd > 0:
        tq = half / (sd / np.sqrt(len(x)))
        assert stats.t.cdf(tq, len(x) - 1) == pytest.approx(0.5 + conf / 2, abs=1e-9)
        # bounded: the same interval clipped to [-1, 1], flagged when clipping happened
        assert row["ci_low"] == pytest.approx(max(raw["ci_low"], -1.0), abs=1e-12)
        assert row["ci_high"] == pytest.approx(min(raw["ci_high"], 1.0), abs=1e-12)
        assert (row["flag"] == "clipped") == (raw["ci_low"] < -1 or raw["ci_high"] > 1)
    else:
        assert half == 0 and row["flag"] == "constant"
        assert row["ci_high"] - row["ci_low"] > 0


# ---------------------------------------------------------------- monthly


def test_monthly_fills_gaps_and_accepts_utc():
    ts = pd.to_datetime(
        ["2024-01-05", "2024-01-20", "2024-01-31 23:30", "2024-04-02", "2024-04-09"],
        format="ISO8601",
    ).tz_localize("UTC")
    df = pd.DataFrame({"t": ts, "s": [1, 0, -1, 1, 1]})
    got = monthly(df, "t", "s", bounds=None)
    cols = ["month", "n", "mean", "sd", "se", "ci_low", "ci_high", "method", "flag"]
    assert list(got.columns) == cols
    assert list(got["flag"]) == ["", "no posts", "no posts", ""]
    assert list(got["month"]) == list(
        pd.date_range("2024-01-01", "2024-04-01", freq="MS", tz="UTC")
    )
    assert list(got["n"]) == [3, 0, 0, 2]
    assert got["mean"].iloc[1:3].isna().all()
    lo, hi = stats.t.interval(0.95, 2, loc=0.0, scale=stats.sem([1, 0, -1]))
    assert got["ci_low"].iloc[0] == pytest.approx(lo, abs=1e-12)
    assert got["ci_high"].iloc[0] == pytest.approx(hi, abs=1e-12)


def test_monthly_converts_other_zones_to_utc_months():
    # 00:30 on 1 March in Berlin is still February in UTC
    ts = pd.Series(pd.to_datetime(["2024-03-01 00:30", "2024-03-15 12:00"])).dt.tz_localize(
        "Europe/Berlin"
    )
    got = monthly(pd.DataFrame({"t": ts, "s": ["positive", "negative"]}), "t", "s")
    assert list(got["month"]) == [
        pd.Timestamp("2024-02-01", tz="UTC"),
        pd.Timestamp("2024-03-01", tz="UTC"),
    ]
    assert list(got["n"]) == [1, 1]


def test_monthly_naive_strings_and_by():
    df = pd.DataFrame(
        {
            "t": ["2023-11-03", "2023-11-28", "2024-01-10", "2023-12-01", "2024-01-30"],
            "s": [1, -1, 0, 1, 1],
            "g": ["a", "a", "a", "b", "b"],
        }
    )
    got = monthly(df, "t", "s", by="g")
    assert got["month"].dt.tz is None
    assert len(got) == 2 * 3  # each group gets the full Nov..Jan range
    n = got.set_index(["g", "month"])["n"]
    assert n[("a", pd.Timestamp("2023-12-01"))] == 0
    assert n[("b", pd.Timestamp("2023-11-01"))] == 0
    assert n[("b", pd.Timestamp("2024-01-01"))] == 1


@given(
    days=st.lists(st.integers(0, 400), min_size=1, max_size=60),
    scores=st.data(),
)
def test_monthly_properties(days, scores):
    s = scores.draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=len(days), max_size=len(days)))
    t = pd.Timestamp("2023-01-01", tz="UTC") + pd.to_timedelta(days, unit="D")
    df = pd.DataFrame({"t": t, "s": s})
    got = monthly(df, "t", "s")
    assert got["n"].sum() == len(df)  # every post counted exactly once
    assert got["month"].is_monotonic_increasing and got["month"].is_unique
    diffs = got["month"].dt.year * 12 + got["month"].dt.month
    assert (np.diff(diffs) == 1).all()  # no missing months
    assert (got["month"].dt.day == 1).all()
    total = (got["mean"].fillna(0) * got["n"]).sum()
    assert total == pytest.approx(float(np.sum(s)), abs=1e-9)
    assert (got["n"] > 0).iloc[[0, -1]].all()  # range is exactly first..last month


def test_monthly_mixed_offset_strings():
    t = ["2024-05-31T23:30:00-02:00", "2024-05-10T10:00:00+02:00", "2024-07-01T00:10:00+01:00"]
    got = monthly(pd.DataFrame({"t": t, "s": [1, -1, 0]}), "t", "s")
    # 23:30 at -02:00 is 1 June UTC; 00:10 at +01:00 on 1 July is 30 June UTC
    assert list(got["month"].dt.strftime("%Y-%m")) == ["2024-05", "2024-06"]
    assert list(got["n"]) == [1, 2]
    assert str(got["month"].dt.tz) == "UTC"
