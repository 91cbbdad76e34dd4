"""The study database: keys, persistence, and mapping text results to posts."""

from __future__ import annotations

import sqlite3

import pandas as pd

from vsdstats.coding.outputs import post_tables
from vsdstats.coding.store import RunKey, Store, TextResult, text_key
from vsdstats.tables.models import CODED_UNIT_COLUMNS

KEY = RunKey("1.0.0", "gpt-4o-mini", "p" * 64)
UNIT = {
    "unit_index": 0,
    "llm_product": "chatgpt",
    "llm_version": "unspecified",
    "sentiment": "positive",
    "condition": "anxiety",
    "perspective": "emotional_support",
    "value": "calmness",
    "quote": "it calmed me down last night",
    "coder": "llm",
    "model": "gpt-4o-mini",
    "codebook_version": "1.0.0",
}


def test_text_key_normalizes_nfkc_case_and_whitespace():
    a = text_key("ChatGPT  helped\nme")
    assert a == text_key("chatgpt helped me ") == text_key("ＣｈａｔＧＰＴ helped\tme")
    assert a != text_key("chatgpt helped you")
    assert len(a) == 64


def test_put_done_results_roundtrip_and_persist(tmp_path):
    path = tmp_path / "study.sqlite"
    with Store(path) as s:
        s.put(KEY, TextResult("h1", "coded", [UNIT], prompt_tokens=10, cost_usd=0.1))
        s.put(KEY, TextResult("h2", "not_relevant"))
        s.put(KEY, TextResult("h3", "failed", reason="timeout", attempts=7))
        assert s.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Store(path) as s:  # a new process would see the same
        assert s.done(KEY) == {"h1", "h2"}
        assert s.done(KEY, include_failed=True) == {"h1", "h2", "h3"}
        assert s.done(RunKey("1.0.0", "other-model", KEY.prompt_hash)) == set()
        res = s.results(KEY)
        assert res["h1"].units == [UNIT] and res["h1"].cost_usd == 0.1
        assert (res["h3"].reason, res["h3"].attempts) == ("timeout", 7)
        s.put(KEY, TextResult("h3", "coded", [UNIT]))  # a retried failure replaces the row
        assert s.results(KEY, ["h3"])["h3"].status == "coded"


def test_each_put_is_committed_immediately(tmp_path):
    path = tmp_path / "study.sqlite"
    s = Store(path)
    s.put(KEY, TextResult("h1", "coded", [UNIT]))
    other = sqlite3.connect(path)  # another reader sees it without close/commit by s
    assert other.execute("SELECT count(*) FROM results").fetchone()[0] == 1
    other.close()
    s.close()


def test_invalid_status_rejected():
    try:
        TextResult("h", "maybe")
    except ValueError as exc:
        assert "maybe" in str(exc)
    else:
        raise AssertionError("status 'maybe' accepted")


def test_batches_recorded_until_closed(tmp_path):
    with Store(tmp_path / "s.sqlite") as s:
        s.add_batch(KEY, "batch_1", ["h1", "h2"])
        assert s.open_batches(KEY) == {"batch_1": ["h1", "h2"]}
        s.close_batch("batch_1", "completed")
        assert s.open_batches(KEY) == {}


def test_post_tables_map_results_to_every_post():
    posts = pd.DataFrame(
        {
            "post_id": ["a", "b", "c", "d", "e"],
            "text": ["x", "x", "y", "", "z"],
            "text_hash": ["h1", "h1", "h2", text_key(""), "h9"],
        }
    )
    results = {
        "h1": TextResult("h1", "coded", [UNIT, {**UNIT, "unit_index": 1}]),
        "h2": TextResult("h2", "failed", reason="refused"),
    }
    units, status = post_tables(posts, results)
    assert list(units.columns) == list(CODED_UNIT_COLUMNS)
    assert units["post_id"].tolist() == ["a", "a", "b", "b"]
    assert units["unit_index"].tolist() == [0, 1, 0, 1]
    assert status["status"].tolist() == ["coded", "coded", "failed", "not_relevant", "failed"]
    assert status["n_units"].tolist() == [2, 2, 0, 0, 0]
    assert status.loc[2, "reason"] == "refused"
    assert "not coded" in status.loc[4, "reason"]
