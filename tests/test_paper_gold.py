"""``paper --gold``: the corrected columns of table5 and table12 (DSL), checked against
the human labels directly and against the coder's known bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vsdstats.paper.config import PaperError
from vsdstats.paper.run import run_paper
from vsdstats.paper.simulate import simulate_corpus

SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def _coded(seed: int, n: int = 2500) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated corpus as truth, and a coder that calls 40% of the negative units
    in depression neutral (a condition-dependent error)."""
    truth = simulate_corpus(n=n, seed=seed)
    rng = np.random.default_rng(seed)
    soften = (truth["condition"] == "depressive") & (truth["sentiment"] == "negative")
    soften &= rng.random(len(truth)) < 0.4
    coded = truth.assign(sentiment=truth["sentiment"].where(~soften, "neutral"))
    return truth, coded


def _write(tmp: Path, coded: pd.DataFrame, gold: pd.DataFrame) -> tuple[Path, Path]:
    units = tmp / "units.csv"
    coded.assign(created_at=coded["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        units, index=False
    )
    gold_p = tmp / "gold.csv"
    gold.to_csv(gold_p, index=False)
    return units, gold_p


def _table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_gold_of_every_unit_gives_the_human_means_in_table5(tmp_path):
    truth, coded = _coded(5)
    gold = truth[["post_id", "unit_index", "sentiment"]].assign(pi=1.0)
    units, gold_p = _write(tmp_path, coded, gold)
    out = tmp_path / "out"
    run_paper(units, out, gold=gold_p, min_cell=5, figures=False, log=lambda _m: None)
    t5 = _table(out, "table5_means")
    assert {"Gold N", "Mean (corrected, DSL)", "95% CI (corrected)"} <= set(t5.columns)
    cond = t5[t5["By"] == "Condition"].set_index("Group")
    human = truth["sentiment"].map(SCORE).groupby(truth["condition"]).mean()
    llm = coded["sentiment"].map(SCORE).groupby(coded["condition"]).mean()
    dep = cond.loc[cond.index.str.lower().str.startswith("depressive")].iloc[0]
    assert float(dep["Mean (corrected, DSL)"]) == pytest.approx(human["depressive"], abs=5e-4)
    assert float(dep["Mean sentiment"]) == pytest.approx(llm["depressive"], abs=5e-4)
    assert "design-based supervised learning" in (out / "tables" / "table5_means.md").read_text()


def test_random_gold_sample_corrects_the_coders_bias_in_table12(tmp_path):
    truth, coded = _coded(6)
    pick = np.random.default_rng(60).choice(len(truth), 800, replace=False)
    gold = truth.iloc[pick][["post_id", "unit_index", "sentiment"]]
    units, gold_p = _write(tmp_path, coded, gold)
    out = tmp_path / "out"
    run_paper(units, out, gold=gold_p, min_cell=5, figures=False, log=lambda _m: None)
    t12 = _table(out, "table12_corrected")
    dep = t12[t12["Condition"].str.lower().str.startswith("depressive")]
    neg = dep[dep["Sentiment"].str.lower() == "negative"].iloc[0]
    true_share = (truth.loc[truth["condition"] == "depressive", "sentiment"] == "negative").mean()
    lo, hi = (float(x) for x in neg["95% CI (corrected)"].strip("[]").split(","))
    assert lo <= true_share <= hi
    _, nhi = (float(x) for x in neg["95% CI (naive)"].strip("[]").split(","))
    assert nhi < true_share  # the softened negatives: the naive share is too low
    # gold counts are published like every count: small ones as <k
    assert all((g.isdigit() and int(g) >= 5) or g.startswith("<") for g in t12["Gold N"])
    readme = (out / "README.md").read_text()
    assert "table12_corrected" in readme


def test_gold_rows_that_match_no_unit_are_a_one_line_error(tmp_path):
    truth, coded = _coded(7, n=600)
    gold = truth[["post_id", "unit_index", "sentiment"]].iloc[:50]
    gold = gold.assign(unit_index=np.arange(99, 149))
    units, gold_p = _write(tmp_path, coded, gold)
    with pytest.raises(PaperError, match=r"gold\.csv: 50 row\(s\) match no unit"):
        run_paper(units, tmp_path / "o", gold=gold_p, figures=False, log=lambda _m: None)


def test_analysis_option_takes_a_users_file_or_a_shipped_name(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main
    from vsdstats.paper.config import find_project_file, resolve_analysis, shipped_analyses

    assert "study" in shipped_analyses()
    assert resolve_analysis("study") == find_project_file("analysis/study.toml")
    mine = tmp_path / "mine.toml"
    text = find_project_file("analysis/study.toml").read_text()
    # the user's own definitions: naive (unclustered) means
    old = 'cluster = "author"\nby = ["llm_product", "condition"]'
    assert old in text
    mine.write_text(text.replace(old, old.replace('"author"', '""'), 1))
    _, coded = _coded(8, n=800)
    units, _ = _write(tmp_path, coded, coded[["post_id"]].iloc[:0])
    out = tmp_path / "out"
    run_paper(units, out, analysis=mine, min_cell=5, figures=False, log=lambda _m: None)
    readme = (out / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("- Analyses:"))
    assert "mine.toml (sha256 " in line and str(tmp_path) not in line
    assert "95% CI (naive t)" not in _table(out, "table5_means").columns
    res = CliRunner().invoke(main, ["paper", str(units), "--analysis", "nope", "-o", str(out)])
    assert res.exit_code == 2
    assert "--analysis nope: no such file, and not a shipped analysis (" in res.output


def test_gold_units_of_multi_unit_posts_join_the_coded_unit_they_are(tmp_path: Path) -> None:
    """An adjudicated gold table numbers its units 0, 1, ... in its own order
    (validate adjudicate); paper --gold pairs them with the coded units by quote and
    order, never by labels, so a gold table equal to the coding agrees perfectly."""
    from vsdstats.paper.run import _read_gold
    from vsdstats.tables.codebook import load_codebook

    truth = simulate_corpus(n=1500, seed=4)
    multi = truth.groupby("post_id")["unit_index"].transform("size") > 1
    assert multi.sum() > 100
    coded = truth.assign(quote=[f"distinct words of unit {i} here" for i in range(len(truth))])
    gold = coded[coded["post_id"].isin(set(coded.loc[multi, "post_id"].head(300)))]
    # the gold sheet lists each post's units in reverse order, renumbered from 0
    gold = gold.sort_values(["post_id", "unit_index"], ascending=[True, False])
    gold = gold.assign(unit_index=gold.groupby("post_id").cumcount())
    gold = gold[["post_id", "unit_index", "sentiment", "condition", "quote"]]
    cb = load_codebook()
    g = _read_gold(coded, _write(tmp_path, coded, gold)[1], cb)
    m = g.gold.merge(g.coded, on=g.key, suffixes=("_gold", "_coded"))
    assert len(m) == len(gold)
    assert (m["sentiment_gold"] == m["sentiment_coded"]).all()
    assert (m["quote_gold"] == m["quote_coded"]).all()
    assert any("quote overlap and order" in n for n in g.notes)
