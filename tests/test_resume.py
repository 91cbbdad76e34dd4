"""A run killed with SIGKILL resumes without losing finished work or paying twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from fake_openai import FakeOpenAI

from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.store import text_key
from vsdstats.tables.codebook import load_codebook
from vsdstats.testing import require

SPEC = build_prompt(load_codebook())
TEXTS = [
    f"Post {i}: at 3am I talk to ChatGPT about my depression and it helps me get through."
    for i in range(60)
]
KILL_AFTER = 20


def _cmd(posts: Path, out: Path, url: str) -> list[str]:
    return [
        sys.executable, "-m", "vsdstats", "code", str(posts), "--out", str(out),
        "--model", "gpt-4o-mini", "--base-url", url, "--concurrency", "4", "--no-progress",
    ]  # fmt: skip


def _units(out: Path) -> pd.DataFrame:
    df = pd.read_parquet(out / "coded_units.parquet")
    return df.sort_values(["post_id", "unit_index"]).reset_index(drop=True)


def test_kill_9_resume_no_lost_work_no_double_pay(tmp_path):
    require(hasattr(signal, "SIGKILL"), "needs SIGKILL")  # fails under CI
    rows = [(f"p{i}", TEXTS[i % len(TEXTS)]) for i in range(80)]
    posts = tmp_path / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(posts, index=False)
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-resume-0123456789"}
    with FakeOpenAI(render=SPEC.messages, delay=0.15) as srv:
        srv.add_texts(TEXTS)
        srv.script(TEXTS[7], ["not_relevant"])
        out = tmp_path / "killed"
        proc = subprocess.Popen(_cmd(posts, out, srv.base_url), env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while srv.total < KILL_AFTER and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        # killed mid-run, not finished (or crashed: then show why)
        assert proc.returncode == -signal.SIGKILL, err.decode("utf-8", "replace")[-3000:]
        con = sqlite3.connect(out / "study.sqlite")
        finished = {
            h for (h,) in con.execute("SELECT text_hash FROM results WHERE status != 'failed'")
        }
        con.close()
        assert 0 < len(finished) < len(TEXTS)
        before = srv.counts
        assert not (out / "coded_units.parquet").exists()

        subprocess.run(
            _cmd(posts, out, srv.base_url), env=env, check=True, timeout=120, capture_output=True
        )
        after = srv.counts
        for t in TEXTS:
            if text_key(t) in finished:  # finished before the kill: never requested again
                assert after[t] == before[t] == 1, t
            else:
                assert after[t] >= 1
        status = pd.read_parquet(out / "post_status.parquet")
        assert len(status) == 80 and set(status["status"]) == {"coded", "not_relevant"}

        fresh = tmp_path / "fresh"
        subprocess.run(
            _cmd(posts, fresh, srv.base_url), env=env, check=True, timeout=120, capture_output=True
        )
    pd.testing.assert_frame_equal(_units(out), _units(fresh))
    assert len(_units(fresh)) == 78  # 80 posts; p7 and p67 (same text) not relevant
