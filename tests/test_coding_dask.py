"""``code --dask``: shards of the texts as Dask tasks on a LocalCluster, per-shard stores."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI

from vsdstats.cli import main
from vsdstats.coding.engine import Engine, EngineConfig
from vsdstats.coding.parallel import shard
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.sharded import plan_shards, run_sharded, shard_dir, shard_path
from vsdstats.coding.store import RunKey, Store, text_key
from vsdstats.tables.codebook import load_codebook
from vsdstats.testing import require

pytest.importorskip("distributed")

CB = load_codebook()
SPEC = build_prompt(CB)
KEY = "sk-test-dask-0123456789abcdef"
TEXTS = [
    f"Post {i}: I asked ChatGPT for help with my panic attacks and it calmed me down."
    for i in range(60)
]
RUN_KEY = RunKey(SPEC.codebook_version, "gpt-4o-mini", SPEC.prompt_hash)


def _items(texts: list[str]) -> list[tuple[str, str]]:
    return [(text_key(t), t) for t in texts]


def _posts(tmp: Path, n: int = 90) -> Path:
    rows = [(f"p{i}", TEXTS[(i * 7) % len(TEXTS)]) for i in range(n)]  # duplicates
    p = tmp / "posts.csv"
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(p, index=False)
    return p


def _code(posts: Path, out: Path, url: str, *extra: str) -> None:
    args = [
        "code", str(posts), "--out", str(out), "--model", "gpt-4o-mini", "--base-url", url,
        "--concurrency", "4", "--no-progress", *extra,
    ]  # fmt: skip
    res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": KEY})
    assert res.exit_code == 0, res.output + repr(res.exception)


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = pd.read_parquet(out / "coded_units.parquet")
    units = units.sort_values(["post_id", "unit_index"]).reset_index(drop=True)
    status = pd.read_parquet(out / "post_status.parquet")
    return units, status.sort_values("post_id").reset_index(drop=True)


def test_shards_split_the_global_limits():
    items = _items(TEXTS)
    cfg = EngineConfig(model="m", api_key="sk-secret-value", concurrency=5, rpm=600, tpm=9000)
    for n in (1, 2, 3):
        plan = plan_shards(cfg, items, n)
        assert [s.items for s in plan] == shard(items, n)  # the --workers sharding
        assert sum(s.cfg.concurrency for s in plan) == 5
        assert sum(s.cfg.rpm for s in plan) == pytest.approx(600)
        assert sum(s.cfg.tpm for s in plan) == pytest.approx(9000)
        assert all(s.cfg.api_key != "sk-secret-value" and s.cfg.workers == 1 for s in plan)
    assert len(plan_shards(cfg, items[:2], 8)) == 2  # no empty shards
    unlimited = plan_shards(EngineConfig(model="m", concurrency=1), items, 3)
    assert [s.cfg.concurrency for s in unlimited] == [1, 1, 1]
    assert all(s.cfg.rpm is None and s.cfg.tpm is None for s in unlimited)


def test_dask_matches_single_process_and_merges_leftovers(tmp_path):
    posts = _posts(tmp_path)
    results = {}
    for route in ("single", "dask"):
        out = tmp_path / route
        with FakeOpenAI(render=SPEC.messages, delay=0.01) as srv:
            srv.add_texts(TEXTS)
            srv.script(TEXTS[3], ["not_relevant"])
            srv.script(TEXTS[11], ["bad_label"])  # fails validation every time
            if route == "single":
                _code(posts, out, srv.base_url)
            else:
                # the shard store an interrupted --dask run left behind: merged first
                left = [(text_key(t), t) for t in TEXTS[20:25]]
                cfg = EngineConfig(model="gpt-4o-mini", base_url=srv.base_url, timeout=10)
                with Store(shard_path(out / "study.sqlite", RUN_KEY, 1)) as s:
                    asyncio.run(Engine(SPEC, cfg, CB).run(left, s, RUN_KEY))
                _code(posts, out, srv.base_url, "--dask", "local:2")
                assert not shard_dir(out / "study.sqlite").exists()
            counts = dict(srv.counts)
            assert counts == {t: (3 if t == TEXTS[11] else 1) for t in TEXTS}
            summary = json.loads((out / "code_summary.json").read_text())
            srv.reset_counts()
            again = ["--no-retry-failed", *(["--dask", "local:2"] if route == "dask" else [])]
            _code(posts, out, srv.base_url, *again)
            assert srv.total == 0  # a rerun pays nothing
        assert summary["reconciles"] and summary["posts_in"] == 90
        results[route] = (summary, *_tables(out))
    (s1, u1, st1), (s2, u2, st2) = results["single"], results["dask"]
    pd.testing.assert_frame_equal(u1, u2)
    pd.testing.assert_frame_equal(st1, st2)
    for k in ("coded", "not_relevant", "failed", "units", "distinct_texts"):
        assert s1[k] == s2[k], k
    assert s1["texts_already_done"] == 0 and s2["texts_already_done"] == 5  # the leftovers
    assert s1["texts_sent"] == 60 and s2["texts_sent"] == 55
    assert s2["requests"] == s1["requests"] - 5


@pytest.mark.parametrize(
    "extra", [["--workers", "2"], ["--batch"], ["--baseline"], ["--open"], ["--shards", "2"]]
)
def test_dask_excludes_other_routes(tmp_path, extra):
    posts = _posts(tmp_path, 4)
    args = ["code", str(posts), "--out", str(tmp_path / "o"), "--model", "m", *extra]
    if extra != ["--shards", "2"]:
        args += ["--dask", "local:2"]
    res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": KEY})
    assert res.exit_code == 2, res.output
    assert "--dask" in res.output


@pytest.fixture(scope="module")
def client():
    from vsdstats.cluster import dask_client

    with dask_client("local:2") as c:
        yield c


def test_killed_worker_does_not_repay(tmp_path, client):
    require(hasattr(signal, "SIGKILL"), "needs SIGKILL")  # fails under CI
    items = _items(TEXTS)
    with FakeOpenAI(render=SPEC.messages, delay=0.08) as srv:
        srv.add_texts(TEXTS)
        cfg = EngineConfig(
            model="gpt-4o-mini", base_url=srv.base_url, concurrency=4, rpm=6000, timeout=10
        )
        plan = plan_shards(cfg, items, 2)
        assert [s.cfg.concurrency for s in plan] == [2, 2]
        assert sum(s.cfg.rpm for s in plan) == 6000
        box: dict[str, object] = {}
        reports: dict[int, dict] = {}

        def run() -> None:
            try:
                with Store(tmp_path / "study.sqlite") as store:
                    engine = Engine(SPEC, cfg, CB)
                    box["stats"] = run_sharded(
                        engine, items, store, RUN_KEY, client, on_task=reports.__setitem__
                    )
            except BaseException as exc:  # reported below
                box["error"] = exc

        th = threading.Thread(target=run)
        th.start()
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 30
        victim = None
        while victim is None and time.monotonic() < deadline and th.is_alive():
            for addr, keys in client.processing().items():
                for k in keys:
                    i = int(re.search(r"-(\d+)of2-", str(k)).group(1))
                    texts = [t for _, t in plan[i].items]
                    if sum(srv.counts[t] for t in texts) >= 6:  # some committed, mid-shard
                        victim = (addr, i, texts)
            time.sleep(0.005)
        assert victim is not None, "no shard was seen mid-run"
        addr, i, texts = victim
        os.kill(pids[addr], signal.SIGKILL)
        th.join(60)
        assert not th.is_alive()
        assert "error" not in box, repr(box.get("error"))
        assert pids[addr] not in client.run(os.getpid).values()  # it was killed
        counts = srv.counts
        with Store(tmp_path / "study.sqlite") as store:
            res = store.results(RUN_KEY)
            todo = [it for it in items if it[0] not in store.done(RUN_KEY)]
            srv.reset_counts()
            rerun = run_sharded(Engine(SPEC, cfg, CB), todo, store, RUN_KEY, client)
        assert srv.total == 0 and rerun.requests == 0  # nothing left, nothing paid
    assert set(res) == {h for h, _ in items}  # every text coded exactly once in the store
    assert {r.status for r in res.values()} == {"coded"}
    assert all(counts[t] >= 1 for t in TEXTS)
    twice = [t for t in TEXTS if counts[t] > 1]
    assert all(t in texts for t in twice)  # only the killed shard's texts in flight
    assert len(twice) <= plan[i].cfg.concurrency and max(counts.values()) <= 2
    assert not shard_dir(tmp_path / "study.sqlite").exists()
    stats = box["stats"]
    assert stats.texts == len(TEXTS)
    # the killed shard's retry skipped what its first attempt had committed
    assert reports[i]["skipped"] >= 6 - plan[i].cfg.concurrency > 0
    assert reports[i]["skipped"] + reports[i]["sent"] == len(texts)
    assert reports[1 - i]["skipped"] == 0
    # the limits the tasks ran with sum to the global ones
    assert sum(r["rpm"] for r in reports.values()) == 6000
    assert sum(r["concurrency"] for r in reports.values()) == 4


def test_more_shards_than_workers(tmp_path, client):
    items = _items(TEXTS[:20])
    with FakeOpenAI(render=SPEC.messages) as srv:
        srv.add_texts(TEXTS)
        cfg = EngineConfig(
            model="gpt-4o-mini", base_url=srv.base_url, concurrency=3, tpm=9e6, timeout=10
        )
        reports: dict[int, dict] = {}
        ticks = []
        with Store(tmp_path / "study.sqlite") as store:
            engine = Engine(SPEC, cfg, CB, on_result=ticks.append)
            stats = run_sharded(
                engine, items, store, RUN_KEY, client, shards=3, on_task=reports.__setitem__
            )
            done = store.done(RUN_KEY)
        counts = srv.counts
    assert sorted(reports) == [0, 1, 2]
    assert [reports[k]["concurrency"] for k in range(3)] == [1, 1, 1]
    assert sum(r["tpm"] for r in reports.values()) == pytest.approx(9e6)
    assert sum(r["sent"] for r in reports.values()) == 20 == stats.texts == len(ticks)
    assert done == {h for h, _ in items} and counts == {t: 1 for t in TEXTS[:20]}
    assert not shard_dir(tmp_path / "study.sqlite").exists()
