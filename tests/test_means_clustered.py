"""group_means_ci(cluster=) against R survey::svyby(svymean), and by its properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vsdstats.stats import group_means_ci

REF = Path(__file__).resolve().parents[1] / "R" / "ref_survey.R"


def _units(seed: int, n_authors: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    author = rng.integers(0, n_authors, 900)
    tendency = rng.normal(0, 0.8, n_authors)[author]
    score = np.clip(np.round(rng.normal(tendency, 0.7)), -1, 1)
    home = rng.integers(0, 4, n_authors)[author]
    group = np.where(rng.random(900) < 0.75, home, rng.integers(0, 4, 900))
    return pd.DataFrame(
        {"score": score, "group": [f"g{i}" for i in group], "author": [f"a{a}" for a in author]}
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_r_survey_svyby_svymean(r, seed):
    from rpy2 import robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    units = _units(seed)
    r["source"](str(REF))
    with localconverter(ro.default_converter + pandas2ri.converter):
        ref = ro.conversion.rpy2py(r["ref_svymean_by"](units, "score", "group", "author"))
    got = group_means_ci(units, "group", "score", cluster="author").set_index("group")
    ref = ref.set_index("group")
    assert list(got.index) == sorted(ref.index)
    np.testing.assert_allclose(got["mean"], ref.loc[got.index, "mean"], rtol=1e-12)
    np.testing.assert_allclose(got["se"], ref.loc[got.index, "se"], rtol=1e-9)


def test_one_unit_per_cluster_gives_the_iid_standard_error_up_to_k_over_k_minus_1():
    units = _units(3).assign(author=lambda d: [f"u{i}" for i in range(len(d))])
    naive = group_means_ci(units, "group", "score").set_index("group")
    robust = group_means_ci(units, "group", "score", cluster="author").set_index("group")
    k, n = len(units), naive["n"]
    # se_robust^2 = K/(K-1) * sum (x - m)^2 / n^2  and  se_t^2 = sum (x - m)^2 / (n (n - 1))
    want = naive["se"] * np.sqrt(k / (k - 1) * (n - 1) / n)
    np.testing.assert_allclose(robust["se"], want, rtol=1e-9)
    assert (robust["n_clusters"] == n).all()


def test_clustering_widens_the_interval_when_authors_have_their_own_tendency():
    units = _units(4, n_authors=60)
    naive = group_means_ci(units, "group", "score").set_index("group")
    robust = group_means_ci(units, "group", "score", cluster="author").set_index("group")
    assert (robust["se"] > naive["se"]).mean() >= 0.75


def test_coverage_of_the_cluster_robust_interval_on_a_clustered_null():
    """True mean 0 in every group; authors have a tendency and stick to one group."""
    hits = naive_hits = total = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        author = rng.integers(0, 200, 1000)
        tendency = rng.normal(0, 0.7, 200)
        score = np.sign(rng.normal(tendency[author], 1.0))  # mean 0 over authors
        home = rng.integers(0, 3, 200)[author]
        group = np.where(rng.random(1000) < 0.75, home, rng.integers(0, 3, 1000))
        df = pd.DataFrame({"score": score, "group": group, "author": author})
        rob = group_means_ci(df, "group", "score", cluster="author")
        nai = group_means_ci(df, "group", "score")
        hits += int(((rob["ci_low"] <= 0) & (rob["ci_high"] >= 0)).sum())
        naive_hits += int(((nai["ci_low"] <= 0) & (nai["ci_high"] >= 0)).sum())
        total += len(rob)
    assert hits / total >= 0.92, hits / total
    assert naive_hits / total < hits / total - 0.05  # the t interval under-covers


def test_a_missing_cluster_column_is_named():
    with pytest.raises(KeyError, match="nope"):
        group_means_ci(_units(5), "group", "score", cluster="nope")


def test_cli_stats_means_cluster(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    units = _units(6)
    path = tmp_path / "u.csv"
    units.to_csv(path, index=False)
    out = tmp_path / "m.csv"
    args = ["stats", "means", str(path), "--by", "group", "--score", "score"]
    res = CliRunner().invoke(main, [*args, "--cluster", "author", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    want = group_means_ci(units, "group", "score", cluster="author")
    np.testing.assert_allclose(got["se"], want["se"])
    assert "n_clusters" in got.columns
