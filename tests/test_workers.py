"""``--workers N``: coding in several processes sharing the study store."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI

from vsdstats.cli import main
from vsdstats.coding.engine import EngineConfig
from vsdstats.coding.parallel import shard, worker_config
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.store import text_key
from vsdstats.tables.codebook import load_codebook
from vsdstats.testing import require

SPEC = build_prompt(load_codebook())
KEY = "sk-test-workers-0123456789abcdef"
TEXTS = [
    f"Post {i}: I asked ChatGPT for help with my panic attacks and it calmed me down."
    for i in range(120)
]


def _posts(tmp: Path, n: int = 200) -> Path:
    rows = [(f"p{i}", TEXTS[(i * 7) % len(TEXTS)]) for i in range(n)]  # duplicates
    p = tmp / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(p, index=False)
    return p


def _args(posts: Path, out: Path, url: str, workers: int, conc: int = 16) -> list[str]:
    return [
        "code", str(posts), "--out", str(out), "--model", "gpt-4o-mini",
        "--base-url", url, "--concurrency", str(conc), "--workers", str(workers),
        "--no-progress",
    ]  # fmt: skip


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = pd.read_parquet(out / "coded_units.parquet")
    units = units.sort_values(["post_id", "unit_index"]).reset_index(drop=True)
    status = pd.read_parquet(out / "post_status.parquet")
    return units, status.sort_values("post_id").reset_index(drop=True)


def test_shard_and_split_config():
    items = [(f"{h:02x}", f"t{h}") for h in (5, 3, 9, 1, 7)]
    assert shard(items, 2) == [
        [("01", "t1"), ("05", "t5"), ("09", "t9")],
        [("03", "t3"), ("07", "t7")],
    ]
    cfg = EngineConfig(model="m", api_key="sk-secret-value", concurrency=5, rpm=600, tpm=9000)
    w = worker_config(cfg, 2)
    assert (w.concurrency, w.rpm, w.tpm, w.workers) == (3, 300, 4500, 1)
    assert w.api_key != "sk-secret-value"


def test_two_workers_match_one_worker(tmp_path):
    posts = _posts(tmp_path)
    results = {}
    for workers in (1, 2):
        with FakeOpenAI(render=SPEC.messages, delay=0.02) as srv:
            srv.add_texts(TEXTS)
            srv.script(TEXTS[3], ["not_relevant"])
            srv.script(TEXTS[11], ["bad_label"])  # fails validation every time
            out = tmp_path / f"w{workers}"
            res = CliRunner().invoke(
                main, _args(posts, out, srv.base_url, workers), env={"OPENAI_API_KEY": KEY}
            )
            assert res.exit_code == 0, res.output + repr(res.exception)
            counts = dict(srv.counts)
        # one request per distinct text (three for the one that always fails validation)
        assert counts == {t: (3 if t == TEXTS[11] else 1) for t in TEXTS}
        s = json.loads((out / "code_summary.json").read_text())
        assert s["reconciles"] and s["posts_in"] == 200
        assert s["distinct_texts"] == s["texts_sent"] == 120
        assert s["requests"] == 122 and s["validation_retries"] == 2
        assert s["coded"] + s["not_relevant"] + s["failed"] == 200
        assert KEY not in (out / "code_summary.json").read_text()
        results[workers] = (s, *_tables(out))
    s1, u1, st1 = results[1]
    s2, u2, st2 = results[2]
    pd.testing.assert_frame_equal(u1, u2)
    pd.testing.assert_frame_equal(st1, st2)
    for k in ("coded", "not_relevant", "failed", "units", "requests", "prompt_tokens"):
        assert s1[k] == s2[k], k
    assert s1["cost_usd"] == pytest.approx(s2["cost_usd"])


@pytest.mark.parametrize("flag", ["--baseline", "--batch"])
def test_workers_rejected_with_baseline_and_batch(tmp_path, flag):
    posts = _posts(tmp_path, 4)
    args = ["code", str(posts), "--out", str(tmp_path / "o"), "--workers", "2", flag]
    if flag == "--batch":
        args += ["--model", "gpt-4o-mini"]
    res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": KEY})
    assert res.exit_code == 2
    assert "--workers" in res.output and flag in res.output


def _cmd(posts: Path, out: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "vsdstats", *_args(posts, out, url, 2, conc=4)]


def test_kill_9_of_two_workers_resumes_without_paying_twice(tmp_path):
    require(hasattr(signal, "SIGKILL"), "needs SIGKILL")  # fails under CI
    texts = TEXTS[:60]
    rows = [(f"p{i}", texts[i % len(texts)]) for i in range(80)]
    posts = tmp_path / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(posts, index=False)
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    with FakeOpenAI(render=SPEC.messages, delay=0.15) as srv:
        srv.add_texts(texts)
        out = tmp_path / "killed"
        proc = subprocess.Popen(
            _cmd(posts, out, srv.base_url),
            env=env,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: the workers die with it
        )
        deadline = time.monotonic() + 60
        while srv.total < 20 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err.decode("utf-8", "replace")[-3000:]
        time.sleep(0.3)  # let the killed workers' connections close
        con = sqlite3.connect(out / "study.sqlite")
        finished = {h for (h,) in con.execute("SELECT text_hash FROM results")}
        con.close()
        assert 0 < len(finished) < len(texts)
        before = srv.counts
        subprocess.run(
            _cmd(posts, out, srv.base_url), env=env, check=True, timeout=120, capture_output=True
        )
        after = srv.counts
    for t in texts:
        if text_key(t) in finished:  # committed before the kill: never requested again
            assert after[t] == before[t] == 1, t
        else:
            assert after[t] >= 1
    status = pd.read_parquet(out / "post_status.parquet")
    assert len(status) == 80 and set(status["status"]) == {"coded"}
    s = json.loads((out / "code_summary.json").read_text())
    assert s["reconciles"] and s["texts_already_done"] == len(finished)
