"""``vsdstats code`` end to end against the scripted local server."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI

from vsdstats.cli import main
from vsdstats.coding.prompt import build_prompt
from vsdstats.tables.codebook import load_codebook
from vsdstats.tables.models import CODED_UNIT_COLUMNS, validate_frame

CB = load_codebook()
SPEC = build_prompt(CB)
FAKE_KEY = "sk-test-DISTINCTIVE-k3y-9f8e7d6c5b4a"
TEXTS = [
    "I vented to ChatGPT about my anxiety last night and it calmed me down.",
    "Claude helped me plan my week around my ADHD and I finally got things done.",
    "My Replika is the only one who checks on me when I am depressed these days.",
    "Off topic: ChatGPT wrote my cover letter. I also have a dentist appointment.",
]


@pytest.fixture
def server():
    with FakeOpenAI(render=SPEC.messages) as srv:
        srv.add_texts(TEXTS)
        srv.script(TEXTS[3], ["not_relevant"])
        yield srv


@pytest.fixture
def posts(tmp_path) -> Path:
    # 8 posts, 4 distinct texts; p5 differs from p1 only by case and whitespace
    rows = [(f"p{i}", TEXTS[i % 4]) for i in range(8)]
    rows[5] = ("p5", "  " + TEXTS[1].replace(" ", "  ") + "\n")
    rows.append(("p8", ""))
    p = tmp_path / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(p, index=False)
    return p


def run(args: list[str], **env: str):
    res = CliRunner().invoke(
        main, ["code", *args, "--no-progress"], env={"OPENAI_API_KEY": FAKE_KEY, **env}
    )
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def llm_args(posts: Path, out: Path, srv: FakeOpenAI, *extra: str) -> list[str]:
    args = [str(posts), "--out", str(out), "--model", "gpt-4o-mini"]
    return [*args, "--base-url", srv.base_url, "--concurrency", "4", *extra]


def summary(out: Path) -> dict:
    return json.loads((out / "code_summary.json").read_text())


def test_duplicates_coded_once_and_mapped(server, posts, tmp_path):
    out = tmp_path / "study"
    run(llm_args(posts, out, server))
    assert dict(server.counts) == {t: 1 for t in TEXTS}  # one request per distinct text
    units = pd.read_parquet(out / "coded_units.parquet")
    validate_frame(units, kind="coded_unit", codebook=CB)
    assert list(units.columns) == list(CODED_UNIT_COLUMNS)
    assert sorted(units["post_id"]) == ["p0", "p1", "p2", "p4", "p5", "p6"]
    assert (units["coder"] == "llm").all() and (units["model"] == "gpt-4o-mini").all()
    status = pd.read_csv(out / "post_status.csv", keep_default_na=False)
    assert list(status.columns) == ["post_id", "text_hash", "status", "n_units", "reason"]
    assert (
        status.set_index("post_id").loc["p1", "text_hash"]
        == (status.set_index("post_id").loc["p5", "text_hash"])
    )
    by = status.set_index("post_id")["status"].to_dict()
    assert by["p3"] == by["p7"] == "not_relevant" and by["p8"] == "not_relevant"
    s = summary(out)
    assert s["posts_in"] == 9 == s["coded"] + s["not_relevant"] + s["failed"]
    assert (s["coded"], s["not_relevant"], s["failed"], s["reconciles"]) == (6, 3, 0, True)
    assert (s["distinct_texts"], s["texts_sent"], s["requests"]) == (5, 4, 4)
    assert s["prompt_tokens"] > 0 and s["cost_usd"] > 0


def test_rerun_makes_zero_requests(server, posts, tmp_path):
    out = tmp_path / "study"
    run(llm_args(posts, out, server))
    first = pd.read_parquet(out / "coded_units.parquet")
    server.reset_counts()
    run(llm_args(posts, out, server))
    assert server.total == 0
    s = summary(out)
    assert (s["texts_sent"], s["requests"], s["texts_already_done"]) == (0, 0, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "coded_units.parquet"), first)


def test_failed_retried_on_rerun_unless_no_retry_failed(server, posts, tmp_path):
    out = tmp_path / "study"
    server.script(TEXTS[0], ["bad_quote", "bad_quote", "bad_quote", "ok"])
    run(llm_args(posts, out, server))
    s = summary(out)
    assert s["failed"] == 2 and "verbatim" in next(iter(s["failure_reasons"]))
    server.reset_counts()
    run(llm_args(posts, out, server, "--no-retry-failed"))
    assert server.total == 0
    run(llm_args(posts, out, server))
    assert dict(server.counts) == {TEXTS[0]: 1}
    assert summary(out)["failed"] == 0


def test_api_key_never_in_outputs_or_logs(server, posts, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "study"
    server.script(TEXTS[1], ["500", "ok"])
    server.script(TEXTS[2], ["bad_label"])
    res = run(llm_args(posts, out, server, "--http-retries", "2"))
    assert summary(out)["failed"] == 2
    assert FAKE_KEY not in res.output and FAKE_KEY not in caplog.text
    assert caplog.records  # logging was captured, so the check above means something
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "study.sqlite" for p in files)
    for p in files:
        assert FAKE_KEY.encode() not in p.read_bytes(), p


def test_dummy_key_for_local_server(server, posts, tmp_path):
    res = CliRunner().invoke(
        main,
        ["code", *llm_args(posts, tmp_path / "s", server), "--no-progress"],
        env={"OPENAI_API_KEY": ""},
    )
    assert res.exit_code == 0 and "not-needed" in res.output


def test_study_folder_input_and_unknown_model_cost(server, tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    pd.DataFrame(
        {
            "platform": ["reddit", "reddit"],
            "post_id": ["r1", "r2"],
            "created_at": pd.to_datetime(["2025-01-01", "2025-01-02"], utc=True),
            "text": TEXTS[:2],
        }
    ).to_parquet(study / "posts.parquet")
    args = [str(study), "--model", "local-llm", "--base-url", server.base_url]
    run(args)
    s = summary(study)
    assert s["cost_usd"] == "unknown" and s["coded"] == 2
    assert (study / "coded_units.csv").is_file()


def test_limit(server, posts, tmp_path):
    out = tmp_path / "s"
    run(llm_args(posts, out, server, "--limit", "3", "--mode", "json"))
    assert summary(out)["posts_in"] == 3 and server.total == 3


def test_baseline_needs_no_server(posts, tmp_path):
    out = tmp_path / "study"
    run([str(posts), "--out", str(out), "--baseline"])
    s = summary(out)
    assert s["coder"] == "baseline" and s["reconciles"] and s["posts_in"] == 9
    units = pd.read_parquet(out / "coded_units.parquet")
    assert len(units) > 0 and (units["coder"] == "baseline").all()
    validate_frame(units, kind="coded_unit", codebook=CB)
    run([str(posts), "--out", str(out), "--baseline"])
    assert summary(out)["texts_sent"] == 0


def test_batch_mode_requeues_invalid_answers(server, posts, tmp_path):
    out = tmp_path / "study"
    server.script(TEXTS[0], ["bad_label", "ok"])  # batch answer invalid, then fixed
    run(llm_args(posts, out, server, "--batch", "--poll-interval", "0.05"))
    s = summary(out)
    assert (s["coded"], s["not_relevant"], s["failed"]) == (6, 3, 0)
    assert s["mode"] == "batch" and s["requests"] == 5  # 4 batch lines + 1 re-sent request
    assert server.counts[TEXTS[0]] == 2 and server.counts[TEXTS[1]] == 1
    batch_units = pd.read_parquet(out / "coded_units.parquet")
    validate_frame(batch_units, kind="coded_unit", codebook=CB)
    server.reset_counts()
    run(llm_args(posts, out, server, "--batch", "--poll-interval", "0.05"))
    assert server.total == 0


def test_bad_input_is_reported(tmp_path):
    p = tmp_path / "x.csv"
    pd.DataFrame({"id": [1], "body": ["x"]}).to_csv(p, index=False)
    res = CliRunner().invoke(main, ["code", str(p), "--out", str(tmp_path), "--baseline"])
    assert res.exit_code == 2 and "post_id" in res.output
