"""The calibration framework (vsdstats.stats.calibration): rows, the markdown table,
the command, and each check module run with a few replicates."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from vsdstats.stats import calibration
from vsdstats.stats.calibration import COLUMNS, row, run_all, to_markdown
from vsdstats.stats.calibration.scenarios import (
    clustered_units,
    gold_sample,
    llm_coder,
    unclustered_units,
)


def test_row_rates_targets_and_monte_carlo_error():
    r = row("c", "s", "m", "type-I error", 30, 500, 0.03, 0.07)
    assert r["value"] == pytest.approx(0.06) and r["meets"] is True
    assert r["mc_se"] == pytest.approx(math.sqrt(0.06 * 0.94 / 500))
    assert row("c", "s", "m", "t", 40, 500, 0.03, 0.07)["meets"] is False
    assert row("c", "s", "m", "coverage", 470, 500, low=0.93)["target"] == ">= 0.93"
    assert row("c", "s", "m", "e", 3, 500, high=0.07)["target"] == "<= 0.07"
    info = row("c", "s", "m", "e", 3, 500)
    assert info["target"] == "" and math.isnan(info["meets"])
    assert row("c", "s", "m", "coverage", 90, 120, reps=20)["reps"] == 20


def test_markdown_marks_missed_targets():
    table = pd.DataFrame(
        [
            row("A", "null", "good", "e", 25, 500, 0.03, 0.07),
            row("A", "null", "bad", "e", 80, 500, 0.03, 0.07),
        ]
    )
    text = to_markdown(table, "# T")
    assert text.startswith("# T") and "## A" in text
    assert "| null | good | e | 0.050" in text and "**NO**" in text.split("| bad |")[1]


def test_scenarios_have_the_nesting_they_claim():
    rng = np.random.default_rng(1)
    u = clustered_units(rng)
    assert len(u) == 4000 and u["author"].nunique() <= 800 and u["platform"].nunique() == 6
    # 75% of an author's posts in the home condition: the modal share is high
    share = u.groupby("author")["condition"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    sizes = u.groupby("author").size()
    assert share[sizes >= 8].mean() > 0.7
    assert (u.groupby("author")["platform"].nunique() == 1).all()
    flat = unclustered_units(rng, n=500)
    assert flat["author"].is_unique
    coded = llm_coder(u, rng)
    err = (coded["llm_sentiment"] != coded["sentiment"]).groupby(coded["condition"]).mean()
    assert err["adhd"] > err["general"] + 0.15  # the error depends on condition
    gold = gold_sample(coded, 300, rng)
    assert len(gold) == 300 and gold["post_id"].is_unique and (gold["pi"] == 300 / 4000).all()


@pytest.mark.parametrize("name", calibration.MODULES)
def test_each_check_module_returns_rates(name):
    mod = importlib.import_module(f"vsdstats.stats.calibration.{name}")  # never skipped
    table = mod.run(reps=3, seed=5)
    assert list(table.columns) == COLUMNS or set(COLUMNS) <= set(table.columns)
    assert len(table) > 0
    assert table["value"].between(0, 1).all(), table
    assert (table.loc[table["target"] != "", "meets"].isin([True, False])).all()


def test_run_all_and_the_command_write_the_table(tmp_path):
    from vsdstats.stats.calibration.__main__ import main

    table = run_all(reps=2, seed=3, only=["chisq"])
    assert set(table["check"]) == {"condition x sentiment chi-square"}
    out = tmp_path / "cal.md"
    code = main(["--reps", "2", "--only", "means", "--out", str(out)])
    text = out.read_text()
    assert "mean sentiment" in text and "--reps 2" in text
    assert code in (0, 1)  # 2 replicates may miss a target; the table is what counts


def test_gold_corrected_intervals_cover_where_the_naive_ones_do_not():
    from vsdstats.stats.calibration import corrected

    got = corrected.run(reps=12, seed=7)
    dsl = got[got["method"].str.startswith("DSL")]
    naive = got[got["method"].str.startswith("naive")]
    assert len(dsl) == len(naive) == 3
    # 12 data sets x 6 conditions: a bounded check of the 500-replicate table
    assert (dsl["value"] >= 0.85).all(), dsl
    assert (naive["value"] <= 0.6).all(), naive


def test_the_committed_calibration_table_covers_every_check_and_meets_its_targets():
    """docs/calibration.md (written by tox -e calibration) is there, has a section per
    registered check module with >= 500 replicates, and no missed target."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "calibration.md").read_text()
    for name in calibration.MODULES:
        mod = importlib.import_module(f"vsdstats.stats.calibration.{name}")
        checks = [v for k, v in vars(mod).items() if k.startswith("CHECK")]
        assert checks and all(f"## {c}" in text for c in checks), name
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| scen")]
    assert rows and all(int(ln.rstrip(" |").rsplit("|", 1)[-1]) >= 500 for ln in rows)
    assert "**NO**" not in text
