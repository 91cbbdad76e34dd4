"""Gold-corrected estimates (stats.corrected, DSL): against ppi_py (prediction-powered
inference, an independent implementation), R survey::svyratio, statsmodels, and by
their properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import ppi_py as ppi
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vsdstats.errors import InputError
from vsdstats.stats import (
    corrected_logit,
    corrected_means,
    corrected_proportions,
    group_means_ci,
)

REF = Path(__file__).resolve().parents[1] / "R" / "ref_survey.R"
SENT = np.array(["negative", "neutral", "positive"])


def _study(seed: int, n: int = 3000, n_gold: int = 300, n_authors: int = 600):
    """Units with true sentiment, an LLM label that errs more in some groups, and an
    SRS gold sample of ``n_gold`` units (human label = truth)."""
    rng = np.random.default_rng(seed)
    author = rng.integers(0, n_authors, n)
    group = rng.choice(["anxiety", "depression", "general"], n, p=[0.3, 0.3, 0.4])
    true = rng.choice(3, n, p=[0.35, 0.25, 0.4])
    flip = rng.random(n) < np.where(group == "anxiety", 0.4, 0.1)
    llm = np.where(flip, np.minimum(true + 1, 2), true)  # the coder drifts positive
    units = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n)],
            "author": [f"a{a}" for a in author],
            "condition": group,
            "sentiment": SENT[llm],
        }
    )
    idx = rng.choice(n, n_gold, replace=False)
    gold = pd.DataFrame({"post_id": units["post_id"].iloc[idx], "sentiment": SENT[true[idx]]})
    return units, gold, true


def _score(labels) -> np.ndarray:
    return pd.Series(labels).map({"negative": -1.0, "neutral": 0.0, "positive": 1.0}).to_numpy()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mean_point_estimate_and_interval_match_ppi_py(seed):
    units, gold, _ = _study(seed)
    units = units.assign(condition="all")
    got = corrected_means(units, gold, "condition", "sentiment").iloc[0]
    labelled = units.set_index("post_id").loc[gold["post_id"]]
    y, yhat = _score(gold["sentiment"]), _score(labelled["sentiment"])
    yhat_all = _score(units["sentiment"])
    want = ppi.ppi_mean_pointestimate(y, yhat, yhat_all, lam=1)
    assert got["estimate"] == pytest.approx(float(np.squeeze(want)), abs=1e-12)
    lo, hi = ppi.ppi_mean_ci(y, yhat, yhat_all, alpha=0.05, lam=1)
    # ppi_py treats the unlabelled set as independent of the labelled one; DSL reuses
    # the gold units' predictions, which changes the variance by O(1 / N) only
    assert got["ci_high"] - got["ci_low"] == pytest.approx(float(np.squeeze(hi - lo)), rel=0.05)
    assert got["naive"] == pytest.approx(yhat_all.mean(), abs=1e-12)


def test_stratified_gold_with_inclusion_probabilities_matches_ppi_py_per_group():
    units, _, true = _study(4)
    rng = np.random.default_rng(44)
    picks, pis = [], {}
    for g, size in {"anxiety": 150, "depression": 60, "general": 40}.items():
        ids = units.index[units["condition"] == g]
        picks.append(rng.choice(ids, size, replace=False))
        pis[g] = size / len(ids)
    idx = np.concatenate(picks)
    gold = pd.DataFrame(
        {
            "post_id": units["post_id"].iloc[idx],
            "sentiment": SENT[true[idx]],
            "pi": units["condition"].iloc[idx].map(pis).to_numpy(),
        }
    )
    got = corrected_proportions(units, gold, "condition", "sentiment")
    for g in pis:
        in_g = units["condition"] == g
        lab = units.set_index("post_id").loc[
            gold.loc[units["condition"].iloc[idx].eq(g).to_numpy(), "post_id"]
        ]
        yg = gold.set_index("post_id").loc[lab.index, "sentiment"]
        for cat in SENT:
            want = ppi.ppi_mean_pointestimate(
                (yg == cat).to_numpy(float),
                (lab["sentiment"] == cat).to_numpy(float),
                (units.loc[in_g, "sentiment"] == cat).to_numpy(float),
                lam=1,
            )
            row = got[(got["condition"] == g) & (got["sentiment"] == cat)].iloc[0]
            assert row["estimate"] == pytest.approx(float(np.squeeze(want)), abs=1e-12)
            assert row["n_gold"] == len(lab)


@pytest.mark.parametrize("cluster", ["author", "post_id"])
def test_standard_error_matches_r_svyratio_on_the_pseudo_values(r, cluster):
    from rpy2 import robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    units, gold, _ = _study(5)
    got = corrected_means(units, gold, "condition", "sentiment", cluster=cluster)
    # pseudo-values built here from the definition: yhat + R / pi (y - yhat)
    r_in = units["post_id"].isin(gold["post_id"]).to_numpy()
    pi = len(gold) / len(units)
    yhat = _score(units["sentiment"])
    y = yhat.copy()
    y[r_in] = _score(gold.set_index("post_id").loc[units["post_id"][r_in], "sentiment"])
    r["source"](str(REF))
    for row in got.itertuples():
        d = (units["condition"] == row.condition).to_numpy(float)
        frame = pd.DataFrame(
            {"z": d * (yhat + r_in / pi * (y - yhat)), "d": d, "cl": units[cluster]}
        )
        with localconverter(ro.default_converter + pandas2ri.converter):
            ref = ro.conversion.rpy2py(r["ref_svyratio"](frame, "z", "d", "cl"))
        assert row.estimate == pytest.approx(ref["ratio"].iloc[0], rel=1e-12)
        assert row.se == pytest.approx(ref["se"].iloc[0], rel=1e-9)


def test_logit_point_estimates_match_ppi_py_and_naive_matches_statsmodels():
    units, gold, _ = _study(6, n=4000, n_gold=500)
    got = corrected_logit(
        units, gold, "sentiment", "negative", "condition", cluster="author", ref="general"
    )
    levels = ["general", "anxiety", "depression"]

    def design(g):
        g = np.asarray(g)
        return np.column_stack([np.ones(len(g))] + [g == lev for lev in levels[1:]]).astype(float)

    lab = units.set_index("post_id").loc[gold["post_id"]]
    want = ppi.ppi_logistic_pointestimate(
        design(lab["condition"]),
        (gold["sentiment"] == "negative").to_numpy(float),
        (lab["sentiment"] == "negative").to_numpy(float),
        design(units["condition"]),
        (units["sentiment"] == "negative").to_numpy(float),
        lam=1,
    )
    np.testing.assert_allclose(got["estimate"], want, atol=1e-5)
    assert list(got["term"]) == ["(Intercept)", "conditionanxiety", "conditiondepression"]
    fit = sm.GLM(
        (units["sentiment"] == "negative").to_numpy(float),
        design(units["condition"]),
        family=sm.families.Binomial(),
    ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(units["author"])[0]})
    np.testing.assert_allclose(got["naive_estimate"], fit.params, rtol=1e-8)
    n, p = len(units), 3
    # statsmodels' small-sample factor is G/(G-1) (N-1)/(N-p); ours G/(G-1)
    np.testing.assert_allclose(
        got["naive_std_error"], fit.bse * np.sqrt((n - p) / (n - 1)), rtol=1e-6
    )


def test_correction_removes_the_coders_bias_where_the_naive_estimate_keeps_it():
    units, gold, true = _study(7, n=20000, n_gold=2000)
    got = corrected_means(units, gold, "condition", "sentiment").set_index("condition")
    truth = pd.Series(_score(SENT[true])).groupby(units["condition"]).mean()
    for g in truth.index:
        row = got.loc[g]
        assert row["ci_low"] <= truth[g] <= row["ci_high"]
    # anxiety: 40% of labels drift one step positive -> naive is biased upward
    assert got.loc["anxiety", "naive"] - truth["anxiety"] > 0.15
    assert abs(got.loc["anxiety", "estimate"] - truth["anxiety"]) < 0.06


@st.composite
def _small(draw):
    n = draw(st.integers(8, 60))
    g = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    y = draw(st.lists(st.sampled_from(list(SENT)), min_size=n, max_size=n))
    yhat = draw(st.lists(st.sampled_from(list(SENT)), min_size=n, max_size=n))
    au = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    units = pd.DataFrame({"post_id": [f"p{i}" for i in range(n)], "g": g, "s": yhat, "au": au})
    return units, pd.Series(y)


@settings(deadline=None)
@given(_small())
def test_gold_covering_every_unit_gives_the_human_estimate(data):
    units, y = data
    gold = pd.DataFrame({"post_id": units["post_id"], "s": y, "pi": 1.0})
    got = corrected_means(units, gold, "g", "s").set_index("g")
    want = pd.Series(_score(y)).groupby(units["g"]).mean()
    np.testing.assert_allclose(got.loc[want.index, "estimate"], want, atol=1e-12)


@settings(deadline=None)
@given(_small(), st.integers(2, 8))
def test_a_coder_without_error_changes_nothing_and_shares_sum_to_one(data, n_gold):
    units, _ = data
    assume(units["au"].nunique() >= 2)
    gold = units.sample(n=min(n_gold, len(units)), random_state=0)[["post_id", "s"]]
    means = corrected_means(units, gold, "g", "s", cluster="au")
    np.testing.assert_allclose(means["estimate"], means["naive"], atol=1e-12)
    props = corrected_proportions(units, gold, "g", "s")
    np.testing.assert_allclose(props.groupby("g")["estimate"].sum(), 1.0, atol=1e-12)
    ci = props.dropna(subset=["ci_low"])
    assert ((ci["ci_low"] >= 0) & (ci["ci_high"] <= 1) & (ci["ci_low"] < ci["ci_high"])).all()
    assert props["se"].isna().eq(props["flag"].eq("no gold")).all()


def test_group_means_ci_with_gold_is_the_corrected_mean_with_the_naive_alongside():
    units, gold, _ = _study(8)
    got = group_means_ci(units, "condition", "sentiment", cluster="author", gold=gold)
    ref = corrected_means(units, gold, "condition", "sentiment", cluster="author")
    np.testing.assert_allclose(got["mean"], ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(got["naive_mean"], ref["naive"], rtol=1e-12)
    assert set(got["method"]) == {"DSL, cluster-robust (author)"}
    assert {"n_gold", "naive_ci_low", "naive_ci_high", "flag"} <= set(got.columns)
    # two grouping keys: split back, original values kept
    units["year"] = np.where(units.index % 2 == 0, 2024, 2025)
    two = group_means_ci(units, ["condition", "year"], "sentiment", gold=gold)
    assert len(two) == 6 and two["year"].dtype.kind == "i"
    flat = group_means_ci(units, "condition", "sentiment", gold=gold)
    assert (two.groupby("condition")["n"].sum() == flat.set_index("condition")["n"]).all()


def test_groups_without_gold_units_get_no_interval():
    units, gold, _ = _study(9)
    units.loc[units.index[:5], "condition"] = "rare"
    gold = gold[~gold["post_id"].isin(units["post_id"][:5])]
    got = corrected_means(units, gold, "condition", "sentiment").set_index("condition")
    assert got.loc["rare", "flag"] == "no gold" and np.isnan(got.loc["rare", "se"])
    assert (got.drop("rare")["flag"] == "").all()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda u, g: (u, g.assign(post_id="zz" + g["post_id"])), "match no unit"),
        (lambda u, g: (u, pd.concat([g, g.iloc[:1]])), "not unique"),
        (lambda u, g: (u, g.assign(pi=1.5)), "inclusion probabilities"),
        (lambda u, g: (u, g.drop(columns="sentiment")), "no column sentiment"),
        (lambda u, g: (u.drop(columns="post_id"), g), "units: no column(s) post_id"),
    ],
)
def test_bad_gold_is_a_one_line_error_naming_the_problem(change, message):
    units, gold, _ = _study(10, n=200, n_gold=20)
    u, g = change(units, gold)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        corrected_means(u, g, "condition", "sentiment")


def test_cli_means_and_props_with_gold_write_the_corrected_and_naive_estimates(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    units, gold, _ = _study(11)
    units.to_csv(tmp_path / "units.csv", index=False)
    gold.to_csv(tmp_path / "gold.csv", index=False)
    u, g = str(tmp_path / "units.csv"), str(tmp_path / "gold.csv")
    out = tmp_path / "m.csv"
    args = ["stats", "means", u, "--by", "condition", "--cluster", "author", "--gold", g]
    res = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    want = corrected_means(units, gold, "condition", "sentiment", cluster="author")
    np.testing.assert_allclose(got["mean"], want["estimate"], rtol=1e-9)
    np.testing.assert_allclose(got["naive_mean"], want["naive"], rtol=1e-9)

    out = tmp_path / "p.csv"
    props = ["stats", "props", u, "--by", "condition", "--label", "sentiment", "-o", str(out)]
    res = CliRunner().invoke(main, [*props, "--gold", g])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    want = corrected_proportions(units, gold, "condition", "sentiment")
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-9)

    # without --gold: the naive shares, cluster-robust, equal to the indicator means
    res = CliRunner().invoke(main, [*props, "--cluster", "author"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index(["condition", "sentiment"])
    share = units.assign(x=units["sentiment"].eq("negative")).groupby("condition")["x"].mean()
    np.testing.assert_allclose(got.xs("negative", level="sentiment")["estimate"], share)
    assert set(got["method"]) == {"cluster-robust"}


@pytest.mark.parametrize(
    "gold_change, extra, message",
    [
        (lambda g: g.assign(post_id="x" + g["post_id"]), [], "gold.csv: 300 row(s) match no unit"),
        (lambda g: g.drop(columns="sentiment"), [], "gold.csv: no column(s) sentiment"),
        (lambda g: g.assign(pi=0.0), [], "gold.csv: column pi: inclusion probabilities"),
        (lambda g: g, ["--method", "bootstrap"], "--method bootstrap does not apply"),
        (
            lambda g: g.assign(sentiment="happy"),
            [],
            "gold.csv: column 'sentiment': unknown sentiment label(s): ['happy']",
        ),
    ],
)
def test_cli_bad_gold_is_one_line_naming_the_file(tmp_path, gold_change, extra, message):
    from click.testing import CliRunner

    from vsdstats.cli import main

    units, gold, _ = _study(12)
    units.to_csv(tmp_path / "units.csv", index=False)
    gold_change(gold).to_csv(tmp_path / "gold.csv", index=False)
    res = CliRunner().invoke(
        main,
        [
            "stats",
            "means",
            str(tmp_path / "units.csv"),
            "--by",
            "condition",
            "--gold",
            str(tmp_path / "gold.csv"),
            *extra,
        ],
    )
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], res.output
    assert "Traceback" not in res.output
