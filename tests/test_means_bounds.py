"""group_means_ci / monthly: the cluster bootstrap, intervals kept inside the score's
range, constant groups, and monthly(cluster=) against R survey."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from vsdstats.errors import InputError
from vsdstats.stats import group_means_ci, monthly

REF = Path(__file__).resolve().parents[1] / "R" / "ref_survey.R"


def _units(seed: int, n: int = 900, n_authors: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    author = rng.integers(0, n_authors, n)
    tendency = rng.normal(0, 0.8, n_authors)[author]
    score = np.clip(np.round(rng.normal(tendency, 0.7)), -1, 1)
    group = rng.integers(0, 3, n_authors)[author]
    day = rng.integers(0, 120, n)
    return pd.DataFrame(
        {
            "score": score,
            "group": [f"g{i}" for i in group],
            "author": [f"a{a}" for a in author],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
        }
    )


def test_cluster_bootstrap_se_approaches_the_linearization_se():
    units = _units(1)
    rob = group_means_ci(units, "group", "score", cluster="author")
    boot = group_means_ci(units, "group", "score", cluster="author", method="bootstrap", B=3000)
    # the bootstrap variance estimates (K-1)/K of the linearization variance
    k = units["author"].nunique()
    np.testing.assert_allclose(boot["se"], rob["se"] * np.sqrt((k - 1) / k), rtol=0.1)
    assert (boot["method"] == "cluster bootstrap").all()
    np.testing.assert_allclose(boot["mean"], rob["mean"])


def test_bootstrap_is_seeded_and_the_unit_bootstrap_approaches_the_t_interval():
    units = _units(2)
    a = group_means_ci(units, "group", "score", method="bootstrap", seed=5)
    b = group_means_ci(units, "group", "score", method="bootstrap", seed=5)
    c = group_means_ci(units, "group", "score", method="bootstrap", seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    t = group_means_ci(units, "group", "score")
    np.testing.assert_allclose(a["se"], t["se"], rtol=0.12)
    assert (a["method"] == "bootstrap").all()


@given(
    x=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=1, max_size=30),
    clusters=st.integers(1, 6),
    method=st.sampled_from(["t", "robust", "bootstrap"]),
)
def test_no_interval_leaves_minus_one_to_one(x, clusters, method):
    df = pd.DataFrame({"g": "a", "s": x, "c": [i % (clusters + 1) for i in range(len(x))]})
    cluster = None if method == "t" else "c"
    if cluster and df["c"].nunique() < 2:
        return
    row = group_means_ci(df, "g", "s", cluster=cluster, method=method, B=200).iloc[0]
    if len(x) < 2 and method == "t":
        assert np.isnan(row["ci_low"])
        return
    assert -1 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1


@pytest.mark.parametrize("value", [-1.0, 0.0, 1.0])
@pytest.mark.parametrize("method", ["t", "robust", "bootstrap"])
def test_a_constant_group_gets_an_exact_bound_not_a_zero_width_interval(value, method):
    # 40 posts from 8 authors, every score equal
    df = pd.DataFrame({"g": "a", "s": value, "author": np.repeat(np.arange(8), 5)})
    other = pd.DataFrame({"g": "b", "s": [-1.0, 1.0] * 10, "author": np.arange(8, 28)})
    cluster = None if method == "t" else "author"
    got = group_means_ci(pd.concat([df, other]), "g", "s", cluster=cluster, method=method)
    row = got.set_index("g").loc["a"]
    assert row["flag"] == "constant"
    n_eff = 40 if cluster is None else 8
    # P(no other score in n_eff independent draws) = (1 - q)^n_eff = 0.025 at the bound q
    q = 1 - 0.025 ** (1 / n_eff)
    assert stats.binom.pmf(0, n_eff, q) == pytest.approx(0.025)
    assert row["ci_low"] == pytest.approx(value - q * (value + 1))
    assert row["ci_high"] == pytest.approx(value + q * (1 - value))
    assert row["ci_high"] - row["ci_low"] > 0


def test_bounds_refuse_scores_outside_the_range_and_bad_methods_are_named():
    df = pd.DataFrame({"g": ["a", "a"], "s": [2.0, 1.0]})
    with pytest.raises(InputError, match="outside the bounds"):
        group_means_ci(df, "g", "s")
    assert group_means_ci(df, "g", "s", bounds=None)["mean"].iloc[0] == 1.5
    with pytest.raises(InputError, match="method 'wald'"):
        group_means_ci(df, "g", "s", method="wald", bounds=None)
    with pytest.raises(InputError, match="needs a cluster"):
        group_means_ci(df, "g", "s", method="robust", bounds=None)


def test_monthly_cluster_equals_group_means_with_the_month_as_a_key():
    units = _units(3)
    got = monthly(units, "date", "score", cluster="author")
    want = group_means_ci(
        units.assign(month=units["date"].dt.to_period("M").dt.to_timestamp()),
        "month",
        "score",
        cluster="author",
    )
    got = got[got["n"] > 0].reset_index(drop=True)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-12)
    assert list(got["n_clusters"]) == list(want["n_clusters"])
    assert (got["method"] == "cluster-robust").all()


def test_monthly_cluster_matches_r_survey(r):
    from rpy2 import robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    units = _units(4)
    units["month"] = units["date"].dt.strftime("%Y-%m")
    r["source"](str(REF))
    frame = units[["score", "month", "author"]]
    with localconverter(ro.default_converter + pandas2ri.converter):
        ref = ro.conversion.rpy2py(r["ref_svymean_by"](frame, "score", "month", "author"))
    got = monthly(units, "date", "score", cluster="author")
    got.index = got["month"].dt.strftime("%Y-%m")
    ref = ref.set_index("group").loc[got.index]
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-9)
    np.testing.assert_allclose(got["mean"], ref["mean"], rtol=1e-12)


def test_cluster_bootstrap_interval_covers_on_a_clustered_null():
    hits = total = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        author = rng.integers(0, 200, 1000)
        score = np.sign(rng.normal(rng.normal(0, 0.7, 200)[author], 1.0))
        df = pd.DataFrame({"s": score, "g": rng.integers(0, 2, 200)[author], "a": author})
        got = group_means_ci(df, "g", "s", cluster="a", method="bootstrap", B=400, seed=seed)
        hits += int(((got["ci_low"] <= 0) & (got["ci_high"] >= 0)).sum())
        total += len(got)
    assert hits / total >= 0.88, hits / total


def test_cli_stats_means_method_bootstrap(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    units = _units(6)
    path = tmp_path / "u.csv"
    units.to_csv(path, index=False)
    args = ["stats", "means", str(path), "--by", "group", "--score", "score", "--cluster"]
    out = tmp_path / "m.csv"
    res = CliRunner().invoke(main, [*args, "author", "--method", "bootstrap", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    want = group_means_ci(units, "group", "score", cluster="author", method="bootstrap")
    np.testing.assert_allclose(got["ci_low"], want["ci_low"])
    assert (got["method"] == "cluster bootstrap").all()
    bad = CliRunner().invoke(main, [*args[:-1], "--method", "robust"])
    assert bad.exit_code != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_groups_that_cannot_show_their_variance_get_no_interval():
    df = pd.DataFrame(
        {"g": ["a", "a", "a", "b", "b", "c"], "s": [1, -1, 0, 1, 0, 1], "au": [1, 1, 1, 2, 3, 4]}
    )
    for method in ("robust", "bootstrap"):
        got = group_means_ci(df, "g", "s", cluster="au", method=method, B=200).set_index("g")
        assert got.loc["a", "flag"] == "1 cluster" and np.isnan(got.loc["a", "ci_low"])
        assert got.loc["c", "flag"] == "n < 2" and np.isnan(got.loc["c", "se"])
        assert got.loc["b", "flag"] in ("", "clipped")
        assert got.loc["b", "ci_high"] > got.loc["b", "ci_low"]


def test_cli_stats_means_bad_combinations_are_one_line(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    path = tmp_path / "u.csv"
    pd.DataFrame({"g": ["a", "a", "b"], "s": [2.0, 3.0, 1.0]}).to_csv(path, index=False)
    args = ["stats", "means", str(path), "--by", "g", "--score", "s"]
    for extra, words in ((["--method", "robust"], "--cluster"), ([], "--unbounded")):
        res = CliRunner().invoke(main, [*args, *extra])
        assert res.exit_code != 0 and words in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    res = CliRunner().invoke(main, [*args, "--unbounded", "-o", str(tmp_path / "m.csv")])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "m.csv")["mean"].tolist() == [2.5, 1.0]
