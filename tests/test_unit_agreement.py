"""Unit-level agreement (issue 13): units matched within posts before labels are
compared, unit counts, quote overlap; and `validate` and `stats agreement` giving the
same numbers on the same files.  Synthetic records only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import precision_recall_fscore_support

from vsdstats.cli import main
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.compare import compare_codings
from vsdstats.validate.units import exact_span, match_units, token_f1, unit_summary

CB = load_codebook()


def test_token_f1_and_exact_span_by_hand():
    # tokens: "it helped me a lot" vs "it helped a little": common it, helped, a = 3
    assert token_f1("It helped me a lot", "it helped a little") == pytest.approx(2 * 3 / (5 + 4))
    assert token_f1("the the cat", "the cat cat") == pytest.approx(2 * 2 / 6)  # multiset
    assert math.isnan(token_f1(None, "x")) and math.isnan(token_f1("  ", "x"))
    assert exact_span("It  helped\nme", "it helped me") == 1.0
    assert exact_span("it helped", "it helped me") == 0.0


def _post_pair():
    gold = pd.DataFrame(
        {
            "post_id": ["a", "a"],
            "unit_index": [0, 1],
            "condition": ["adhd", "anxiety"],
            "llm_product": ["chatgpt", "claude"],
            "sentiment": ["positive", "negative"],
            "quote": ["chatgpt keeps my adhd tasks in order", "claude made my anxiety worse"],
        }
    )
    coded = pd.DataFrame(
        {
            "post_id": ["a", "a", "a"],
            "unit_index": [0, 1, 2],
            "condition": ["general", "anxiety", "adhd"],
            "llm_product": ["gemini", "claude", "chatgpt"],
            "sentiment": ["neutral", "negative", "neutral"],
            "quote": ["gemini is fine", "claude made my anxiety much worse", "adhd tasks"],
        }
    )
    return gold, coded


def test_units_are_matched_by_condition_and_product_not_by_position():
    gold, coded = _post_pair()
    pairs = match_units(gold, coded)
    m = pairs[pairs["match"] != "coded only"].set_index("gold_row")
    assert m.loc[0, "coded_row"] == 2 and m.loc[1, "coded_row"] == 1
    assert (m["match"] == "condition+product").all()
    assert pairs["match"].tolist().count("coded only") == 1  # the gemini unit
    assert m.loc[1, "quote_f1"] == pytest.approx(2 * 5 / (5 + 6))
    s = unit_summary(pairs).set_index("measure")["value"]
    assert s["gold units"] == 2 and s["coded units"] == 3 and s["matched pairs"] == 2
    assert s["coded units unmatched"] == 1 and s["gold units unmatched"] == 0
    assert s["posts with the same number of units (share)"] == 0.0
    assert s["quote exact-span rate"] == 0.0
    # no condition/product in common: the quote decides, then order
    g2 = gold.assign(condition=None, llm_product=None)
    c2 = coded.assign(condition=None, llm_product=None)
    p2 = match_units(g2, c2)
    q = p2[p2["gold_row"] == 1].iloc[0]
    assert q["coded_row"] == 1 and q["match"] == "quote"


def test_unit_fields_compared_on_matched_pairs_match_sklearn():
    gold, coded = _post_pair()
    v = compare_codings(
        gold.assign(relevant="yes"), coded, ["relevant", "sentiment"], "post_id", "g", "c", CB
    )
    s = v.result.summary.set_index("field")
    # matched pairs: (positive, neutral) and (negative, negative); one coded unit extra
    assert s.loc["sentiment", "n"] == 2 and s.loc["sentiment", "n_coded_only"] == 1
    assert s.loc["sentiment", "percent_agreement"] == 50.0
    pc = v.result.per_category.set_index(["field", "category"])
    p, _, f, _ = precision_recall_fscore_support(
        ["positive", "negative"], ["neutral", "negative"], labels=["negative"], zero_division=0
    )
    assert pc.loc[("sentiment", "negative"), "f1"] == pytest.approx(f[0])
    assert pc.loc[("sentiment", "negative"), "precision"] == pytest.approx(p[0])


def _files(tmp_path, seed=4):
    rng = np.random.default_rng(seed)
    conds = ["adhd", "anxiety", "depressive"]
    gold, coded = [], []
    for i in range(60):
        pid = f"q{i:02d}"
        if rng.random() < 0.1:
            gold.append({"post_id": pid, "relevant": None})  # not coded by the human
            continue
        rel = rng.random() < 0.8
        k = int(rng.integers(1, 3)) if rel else 0
        if not k:
            gold.append({"post_id": pid, "relevant": "no"})
        for u in range(k):
            c = rng.choice(conds)
            gold.append(
                {
                    "post_id": pid,
                    "unit_index": u,
                    "relevant": "yes",
                    "condition": c,
                    "sentiment": rng.choice(["positive", "negative"]),
                    "quote": f"my {c} and the bot {u}",
                }
            )
            if rng.random() < 0.85:
                coded.append(
                    {
                        "post_id": pid,
                        "unit_index": u,
                        "condition": c if rng.random() < 0.8 else rng.choice(conds),
                        "sentiment": rng.choice(["positive", "negative"]),
                        "quote": f"my {c} and the bot",
                    }
                )
    for i in range(60, 72):  # coded posts outside the gold sample
        coded.append(
            {
                "post_id": f"q{i:02d}",
                "unit_index": 0,
                "condition": "adhd",
                "sentiment": "positive",
                "quote": "x",
            }
        )
    g, c = tmp_path / "gold.csv", tmp_path / "coded.csv"
    pd.DataFrame(gold).to_csv(g, index=False)
    pd.DataFrame(coded).to_csv(c, index=False)
    return g, c


def test_validate_and_stats_agreement_report_the_same_numbers(tmp_path):
    g, c = _files(tmp_path)
    r1 = CliRunner().invoke(main, ["validate", str(g), str(c), "-o", str(tmp_path / "v.md")])
    assert r1.exit_code == 0, r1.output
    r2 = CliRunner().invoke(
        main, ["stats", "agreement", str(g), str(c), "-o", str(tmp_path / "s.csv")]
    )
    assert r2.exit_code == 0, r2.output
    a = pd.read_csv(tmp_path / "v.summary.csv")
    b = pd.read_csv(tmp_path / "s.csv")
    pd.testing.assert_frame_equal(a, b)
    assert set(a["field"]) == {"relevant", "condition", "sentiment"}
    # coded posts outside the gold sample are not 'coded only' disagreements (was 0 vs 72)
    assert "12 coded items" in r2.stderr
    assert (a.loc[a["field"] == "relevant", "n_coded_only"] == 0).all()
    units = pd.read_csv(tmp_path / "v.unit_summary.csv").set_index("measure")["value"]
    assert units["gold units"] > units["matched pairs"] > 0
    assert 0 < units["quote token F1 (mean over matched pairs)"] < 1
