"""`vsdstats paper --analysis replication`: the original study's choices, checked
against independent references (scipy, statsmodels, a direct Games-Howell formula)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from vsdstats.paper.analyses import compute
from vsdstats.paper.choices import choices_table
from vsdstats.paper.config import PaperError, load_study
from vsdstats.paper.denominators import Denominators, incomplete_last_month, load_denominators
from vsdstats.paper.inputs import validate_units
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.stats import sentiment_score
from vsdstats.tables.codebook import load_codebook

N, SEED = 6000, 11


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return validate_units(simulate_corpus(n=N, seed=SEED), load_codebook(), "sim")


@pytest.fixture(scope="module")
def rep(units: pd.DataFrame):
    return compute(units, load_codebook(), load_study("replication"), seed=1, glmm=False)


def _eligible(units: pd.DataFrame, dim: str) -> set[str]:
    """The groups of ``dim`` replication.toml lets in, counted independently."""
    cfg = load_study("replication")["denominators"]
    counts = units[dim].value_counts()
    low = cfg["min_units"].get(dim, 0)
    out = set(counts[counts >= low].index) - set(cfg["exclude"].get(dim, []))
    return {str(c) for c in out}


def test_denominator_rules_decide_every_comparison(units, rep) -> None:
    conds, fams = _eligible(units, "condition"), _eligible(units, "llm_product")
    assert "other" not in conds and "other" not in fams
    cells = rep.cells["condition_sentiment"]
    assert set(cells["row"].astype(str)) == conds
    assert set(rep.cells["llm_sentiment"]["row"].astype(str)) == fams
    m = rep.means
    assert set(m.loc[m["by"] == "condition", "group"]) == conds
    assert set(m.loc[m["by"] == "llm_product", "group"]) == fams
    assert set(rep.fingerprint["llm_product"]) <= fams
    assert set(rep.fingerprint["condition"]) <= conds
    assert set(rep.logodds["condition"]) == conds
    assert set(rep.anova_groups["group"]) == fams
    dropped = {(d.dimension, d.code) for d in rep.dropped}
    dims = ("condition", "llm_product", "value", "perspective")
    want = {(dim, str(c)) for dim in dims for c in units[dim].unique()} - {
        (dim, c) for dim in dims for c in _eligible(units, dim)
    }
    assert dropped == want and ("value", "none") in dropped
    assert "none" not in set(rep.cells["condition_value"]["col"].astype(str))
    assert "none" not in set(rep.logodds["feature"])
    assert "none" not in set(rep.pmi["value"]) | set(rep.pmi["perspective"])


def test_pearson_test_and_residuals_equal_scipy_on_the_kept_units(units, rep) -> None:
    conds = _eligible(units, "condition")
    kept = units[units["condition"].isin(conds)]
    tab = pd.crosstab(kept["condition"], kept["sentiment"])
    chi2, p, dof, expected = stats.chi2_contingency(tab.to_numpy(), correction=False)
    r = rep.chisq["condition_sentiment"]
    assert r.statistic == pytest.approx(chi2, rel=1e-10) and r.dof == dof
    assert r.p_value == pytest.approx(p, rel=1e-6, abs=1e-300)
    from vsdstats.paper.handoff import residuals_frame

    res = residuals_frame(rep, load_codebook())
    res = res[res["test"] == "condition_sentiment"].set_index(["row", "col"])
    e = pd.DataFrame(expected, index=tab.index, columns=tab.columns)
    for (row, col), got in res["pearson_residual"].items():
        o = tab.loc[row, col]
        assert got == pytest.approx((o - e.loc[row, col]) / math.sqrt(e.loc[row, col]), rel=1e-9)
    assert rep.residual == "pearson" and rep.residual_limit == 4.0
    assert not rep.clustered  # cluster = "": the original's independent-units tests


def _scored(units: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """The eligible families in codebook order, and their units' scores (pingouin's
    input; families renamed so its alphabetical order is the codebook's)."""
    fams = [f for f in load_codebook().codes("llm_product") if f in _eligible(units, "llm_product")]
    d = units[units["llm_product"].isin(fams)]
    key = {f: f"{i:02d}{f}" for i, f in enumerate(fams)}
    return fams, pd.DataFrame(
        {"g": d["llm_product"].map(key), "y": sentiment_score(d["sentiment"]).astype(float)}
    )


def test_welch_anova_equals_pingouin(units, rep) -> None:
    import pingouin as pg

    fams, d = _scored(units)
    ref = pg.welch_anova(data=d, dv="y", between="g").iloc[0]
    w = rep.anova.iloc[0]
    assert w["F"] == pytest.approx(ref["F"], rel=1e-9)
    assert w["df2"] == pytest.approx(ref["ddof2"], rel=1e-9)
    assert w["p_value"] == pytest.approx(ref["p_unc"], rel=1e-7)
    assert w["k"] == len(fams) and w["n"] == len(d)


def test_games_howell_equals_pingouin_in_codebook_order(units, rep) -> None:
    import pingouin as pg

    fams, d = _scored(units)
    ref = pg.pairwise_gameshowell(data=d, dv="y", between="g")
    got = rep.gameshowell
    assert list(zip(got["A"], got["B"], strict=True)) == list(itertools.combinations(fams, 2))
    np.testing.assert_allclose(got["t"], ref["T"], rtol=1e-9)
    np.testing.assert_allclose(got["diff"], ref["diff"], rtol=1e-9)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=1e-9)
    np.testing.assert_allclose(got["p_value"], ref["pval"], rtol=1e-4, atol=1e-6)


def test_monthly_top_conditions_are_the_largest_eligible_ones(units, rep) -> None:
    conds = _eligible(units, "condition")
    counts = units.loc[units["condition"].isin(conds), "condition"].value_counts()
    mc = rep.monthly_conditions
    ranked = mc.drop_duplicates("condition").sort_values("rank")["condition"].tolist()
    assert ranked == counts.index[:5].tolist()
    months = units["created_at"].dt.strftime("%Y-%m").nunique() - bool(rep.dropped_month)
    assert (mc.groupby("condition").size() == months).all()
    for c in ranked:  # each month's n is the units of that condition in that month
        sub = units[units["condition"] == c]
        n = sub["created_at"].dt.strftime("%Y-%m").value_counts()
        got = mc[mc["condition"] == c]
        got = got.set_index(pd.to_datetime(got["month"]).dt.strftime("%Y-%m"))
        for month, k in got["n"].items():
            assert k == n.get(month, 0)


def test_the_incomplete_last_month_is_left_out_of_every_series(units) -> None:
    cut = pd.Timestamp("2025-06-17", tz="UTC")
    short = units[units["created_at"] <= cut]
    assert incomplete_last_month(short["created_at"]) == "2025-06"
    res = compute(short, load_codebook(), load_study("replication"), seed=1, glmm=False)
    assert res.dropped_month == "2025-06"
    assert res.monthly["month"].max() == "2025-05-01"
    assert pd.to_datetime(res.monthly_conditions["month"]).max() == pd.Timestamp("2025-05-01")
    whole = units[units["created_at"] < pd.Timestamp("2025-07-01", tz="UTC")]
    if whole["created_at"].max().day == 30:  # the data reach the month's last day
        assert incomplete_last_month(whole["created_at"]) is None


@given(
    st.dates(
        min_value=pd.Timestamp("2020-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()
    )
)
@settings(max_examples=60, deadline=None)
def test_a_month_is_complete_exactly_when_the_data_reach_its_last_day(day) -> None:
    ts = pd.Series(pd.to_datetime([pd.Timestamp(day) + pd.Timedelta(hours=12)], utc=True))
    last = (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).day
    got = incomplete_last_month(ts)
    assert (got is None) == (day.day == last)
    if got is not None:
        assert got == f"{day.year:04d}-{day.month:02d}"


@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=60),
    st.integers(0, 12),
)
@settings(max_examples=80, deadline=None)
def test_keep_is_the_groups_with_enough_units_minus_the_excluded(codes, low) -> None:
    df = pd.DataFrame({"condition": codes})
    den = Denominators({"condition": low}, {"condition": ("d",)})
    kept = den.keep(df, ["condition"])
    counts = df["condition"].value_counts()
    want = {c for c, n in counts.items() if n >= low and c != "d"}
    assert set(kept["condition"]) == want
    assert len(kept) == sum(counts[c] for c in want)
    gone = {d.code for d in den.dropped(df, "condition")}
    assert gone == set(counts.index) - want


def test_bad_denominators_are_one_line_errors() -> None:
    cb = load_codebook()
    base = {"_source": "my.toml"}
    with pytest.raises(PaperError, match=r"my.toml: \[denominators\] exclude.condition: 'anxious'"):
        load_denominators({**base, "denominators": {"exclude": {"condition": ["anxious"]}}}, cb)
    with pytest.raises(PaperError, match=r"min_units: .colour. is not a dimension"):
        load_denominators({**base, "denominators": {"min_units": {"colour": 5}}}, cb)
    with pytest.raises(PaperError, match=r"min_units\.condition must be a whole number"):
        load_denominators({**base, "denominators": {"min_units": {"condition": "100"}}}, cb)
    with pytest.raises(PaperError, match="unknown key"):
        load_denominators({**base, "denominators": {"minimum": {}}}, cb)


def test_choices_are_read_from_the_analysis_files(tmp_path: Path) -> None:
    t = choices_table()
    orig = dict(zip(t["item"], t["original study (analysis/replication.toml)"], strict=True))
    ours = dict(zip(t["item"], t["ours (analysis/study.toml)"], strict=True))
    assert (
        "Pearson residuals" in orig["Residual heatmaps (fig3)"]
        and "±4" in orig["Residual heatmaps (fig3)"]
    )
    assert "cluster-robust" in ours["Residual heatmaps (fig3)"]
    assert "≥ 50" in orig["Denominators"] and "≥ 100" in orig["Denominators"]
    assert "Welch" in orig["LLM families (table2, table13, fig7)"]
    # a user's file shows as its own column, from its own settings
    study = load_study("replication")
    study["chisq"] = {**study["chisq"], "residual_limit": 3}
    mine = choices_table(study)
    assert "±3" in mine.set_index("item").loc["Residual heatmaps (fig3)", "this run"]


def test_default_analysis_keeps_every_group(units) -> None:
    res = compute(units, load_codebook(), load_study(), seed=1, glmm=False)
    assert res.dropped == [] and res.anova is None and res.residual == "adjusted"
    assert set(res.cells["condition_sentiment"]["row"].astype(str)) == set(
        units["condition"].astype(str)
    )


def test_paper_analysis_replication_end_to_end(tmp_path: Path) -> None:
    """The CLI run: table13, the README's side-by-side section, Pearson heatmaps read
    back from the PDF, the condition series figure, and run.csv saying what was drawn."""
    import shutil
    import subprocess

    from click.testing import CliRunner

    from vsdstats.cli import main

    out = tmp_path / "rep"
    args = ["paper", "--analysis", "replication", "--n", "3000", "--out", str(out)]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    assert (out / "tables" / "table13_welch.md").is_file()
    readme = (out / "README.md").read_text()
    assert (
        "## Original analysis and ours" in readme
        and "This run used `analysis/replication.toml`" in readme
    )
    assert "\\|platform" in readme  # pipes escaped: the Markdown table keeps its columns
    run = pd.read_csv(out / "handoff" / "run.csv")
    assert run.loc[0, "residual"] == "pearson" and run.loc[0, "residual_limit"] == 4
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils, R/install_r.sh) is needed"
    text = subprocess.run(
        ["pdftotext", str(out / "figures" / "fig3_residuals_condition_sentiment.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Pearson residuals" in text and "fixed" in text
    assert "Other condition" not in text  # excluded from the comparisons
    text6 = subprocess.run(
        ["pdftotext", str(out / "figures" / "fig6_monthly_conditions.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "largest conditions" in text6 and "95% t intervals" in text6


@pytest.mark.parametrize(
    ("analysis", "out"),
    [
        (None, "paper"),
        ("study", "paper"),
        ("replication", "paper/replication"),
        ("my/own.toml", "paper/own"),
    ],
)
def test_another_analysis_never_overwrites_the_default_outputs(analysis, out) -> None:
    from vsdstats.cli.paper import default_out

    assert default_out(analysis) == out
