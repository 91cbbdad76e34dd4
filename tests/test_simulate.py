"""The replication corpus: calibration, determinism and recovery of the planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vsdstats.paper.simulate import (
    CONDITION_COUNTS,
    LLM_COUNTS,
    PUBLISHED_N,
    SIMULATED_COLUMNS,
    perspective_base_counts,
    scaled_counts,
    simulate_corpus,
)
from vsdstats.stats import (
    chisq_independence,
    crosstab,
    delta_pmi,
    log_odds_dirichlet,
    mixed_logit,
    pmi,
    weighted_log_odds,
)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate_corpus(n=6000, seed=11)


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    return simulate_corpus(seed=2026)  # the default: the published total


def test_default_is_the_published_total(full: pd.DataFrame) -> None:
    # 39,380 condition units, each condition with exactly its published count
    assert PUBLISHED_N == 39_380 == sum(CONDITION_COUNTS.values())
    assert len(full) == PUBLISHED_N
    assert full["condition"].value_counts().to_dict() == CONDITION_COUNTS
    # the LLM families are published for 38,380 units: scaled by largest remainders
    assert sum(LLM_COUNTS.values()) == 38_380
    assert full["llm_product"].value_counts().to_dict() == {
        k: v for k, v in scaled_counts(LLM_COUNTS, PUBLISHED_N).items() if v
    }


def test_cli_default_n(tmp_path) -> None:
    from click.testing import CliRunner

    from vsdstats.cli import main

    out = tmp_path / "c.csv"
    r = CliRunner().invoke(main, ["simulate", "-o", str(out), "--n", "300"])
    assert r.exit_code == 0, r.output
    assert "(300 synthetic units)" in r.output
    help_text = CliRunner().invoke(main, ["simulate", "--help"]).output
    assert "39380" in help_text


@pytest.mark.parametrize("n", [100, 4001, 6000])
def test_margins_equal_scaled_counts(n: int) -> None:
    df = simulate_corpus(n=n, seed=3)
    assert list(df.columns) == SIMULATED_COLUMNS
    assert len(df) == n
    cond = df["condition"].value_counts().to_dict()
    llm = df["llm_product"].value_counts().to_dict()
    assert cond == {k: v for k, v in scaled_counts(CONDITION_COUNTS, n).items() if v}
    assert llm == {k: v for k, v in scaled_counts(LLM_COUNTS, n).items() if v}


def test_perspective_shares_near_mapped_base_counts(full: pd.DataFrame) -> None:
    base = perspective_base_counts()
    total = sum(base.values())
    share = full["perspective"].value_counts(normalize=True)
    for code, k in base.items():
        # planted condition/sentiment boosts move shares a little, never by > 3 points
        assert abs(share.get(code, 0.0) - k / total) < 0.03, code
    assert share.idxmax() == "instrumental_support"


def test_deterministic_and_seed_dependent() -> None:
    a = simulate_corpus(n=2000, seed=5)
    b = simulate_corpus(n=2000, seed=5)
    c = simulate_corpus(n=2000, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a[["sentiment", "perspective", "value"]].equals(
        c[["sentiment", "perspective", "value"]]
    )


def test_authors_are_pseudonyms_and_times_utc(small: pd.DataFrame) -> None:
    assert small["author"].str.fullmatch(r"a_[0-9a-f]{24}").all()
    assert str(small["created_at"].dt.tz) == "UTC"
    assert small.groupby("post_id")["author"].nunique().max() == 1


def test_chisq_recovers_planted_sentiment_effects(small: pd.DataFrame) -> None:
    res = chisq_independence(crosstab(small, "condition", "sentiment"), simulate=False)
    assert res.log_p_value < np.log(1e-10)
    z = res.adjusted_residuals
    for cond in ("adhd", "autism"):
        assert z.loc[cond, "positive"] > 2.0, cond
        assert z.loc[cond, "negative"] < -2.0, cond
    for cond in ("schizophrenia", "bipolar"):
        assert z.loc[cond, "negative"] > 2.0, cond
        assert z.loc[cond, "positive"] < -2.0, cond


def test_logodds_ranks_instrumental_and_appraisal_support(full: pd.DataFrame) -> None:
    counts = full.groupby(["condition", "perspective"]).size().reset_index(name="n")
    lo = weighted_log_odds(counts, "condition", "perspective", "n")
    mcq = log_odds_dirichlet(counts, "condition", "perspective", "n")

    def ranking(tab: pd.DataFrame, col: str, cond: str) -> list[str]:
        sub = tab[tab["condition"] == cond].sort_values(col, ascending=False)
        return sub["perspective"].tolist()

    # tidylo puts the strongest planted effect first ...
    assert ranking(lo, "log_odds_weighted", "adhd")[0] == "instrumental_support"
    assert ranking(lo, "log_odds_weighted", "schizophrenia").index("instrumental_support") > 3
    # ... but lifts rare features (its prior is as large as the data), so the planted
    # second effects are checked on MCQ's zeta, the statistic for distinctiveness claims
    z = "zeta"
    assert ranking(mcq, z, "adhd")[:2] == ["instrumental_support", "appraisal_support"]
    assert set(ranking(mcq, z, "autism")[:2]) == {"appraisal_support", "instrumental_support"}
    assert set(ranking(mcq, z, "schizophrenia")[:2]) == {
        "psychological_harm",
        "clinical_skepticism",
    }


def test_pmi_pairs_privacy_with_ethics(small: pd.DataFrame) -> None:
    p = pmi(small, "value", "perspective")
    priv = p[p["value"] == "privacy"].set_index("perspective")
    assert priv["pmi"].idxmax() == "ethics"
    assert priv.loc["ethics", "pmi"] > 1.5  # planted boost exp(2) on privacy | ethics
    assert priv.loc["ethics", "npmi"] > 0.2
    d = delta_pmi(small, "value", "perspective", "condition")
    row = d[(d["value"] == "privacy") & (d["perspective"] == "ethics")]
    # the association is planted for every condition alike, so delta-PMI is near 0
    assert row["delta_pmi"].dropna().abs().median() < 1.0


@pytest.mark.needs_r
def test_mixed_logit_recovers_condition_and_author_effects(small: pd.DataFrame) -> None:
    d = pd.DataFrame(
        {
            "negative": (small["sentiment"] == "negative").astype(int),
            "condition": pd.Categorical(small["condition"], categories=list(CONDITION_COUNTS)),
            "platform": small["platform"],
            "author": small["author"],
        }
    )
    fit = mixed_logit("negative ~ condition + (1|platform) + (1|author)", d)
    fx = fit.fixed.set_index("term")
    assert fx.loc["conditionschizophrenia", "odds_ratio"] > 1.5
    assert fx.loc["conditionschizophrenia", "or_ci_low"] > 1.0
    assert fx.loc["conditionadhd", "or_ci_high"] < 1.0
    author_var = fit.random.set_index("group").loc["author", "variance"]
    assert author_var > 0.1  # planted author SD 0.7 -> variance 0.49


# ------------------------------------------------- the simulator and the codebook

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vsdstats.paper.simulate import version_release_dates  # noqa: E402
from vsdstats.tables.codebook import load_codebook  # noqa: E402
from vsdstats.tables.models import CodedUnit, validate_frame  # noqa: E402

CB = load_codebook()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(100, 1500), seed=st.integers(0, 2**32 - 1))
def test_every_simulated_unit_validates_against_the_codebook(n: int, seed: int) -> None:
    df = simulate_corpus(n=n, seed=seed)
    released = version_release_dates(CB)
    for row in df.drop(columns=["platform", "author", "created_at"]).to_dict("records"):
        CodedUnit(**row).check(CB)  # labels, llm_version within llm_product, version
    validate_frame(df, "coded_unit", codebook=CB, source="simulated")
    dated = df["llm_version"].map(released)
    ok = dated.isna() | (df["created_at"] >= dated)
    assert ok.all(), df.loc[~ok, ["llm_version", "created_at"]].head()


def test_versions_none_and_release_dates(full: pd.DataFrame) -> None:
    released = version_release_dates(CB)
    # the later of the codebook's date and the releases.toml marker: Gemini 2.5 was
    # public (experimental) in March 2025, the fig6 marker is June 2025
    assert released["gemini_2_5"] >= pd.Timestamp("2025-06-01", tz="UTC")
    assert released["gpt_5"] >= pd.Timestamp("2025-08-07", tz="UTC")
    first = full.groupby("llm_version")["created_at"].min()
    for code, t in released.items():
        if code in first:
            assert first[code] >= t, code
    v = full["llm_version"].value_counts()
    assert v.idxmax() == "unspecified" and v["gpt_4o"] > v["gpt_3_5"] > 0
    assert {"gpt_4o", "gpt_5", "claude_3_5_sonnet", "claude_4", "gemini_2_5"} <= set(v.index)
    fam = {c.code: c.family for c in CB.dimensions["llm_version"].categories}
    named = full[full["llm_version"] != "unspecified"]
    assert (named["llm_version"].map(fam) == named["llm_product"]).all()
    # "none" is drawn for both dimensions, rarely, and co-occurs (planted boost)
    p_none = (full["perspective"] == "none").mean()
    v_none = (full["value"] == "none").mean()
    assert 0.003 < p_none < 0.03 and 0.01 < v_none < 0.08
    v_given_p = (full.loc[full["perspective"] == "none", "value"] == "none").mean()
    assert v_given_p > 2 * v_none
