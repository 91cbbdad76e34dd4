"""Batch API route: requests split into batches within the per-batch limits; reruns
collect the recorded batches instead of submitting (and paying for) them again."""

from __future__ import annotations

import asyncio
import math

import pytest
from fake_openai import FakeOpenAI

from vsdstats.coding.batch import (
    MAX_BATCH_BYTES,
    MAX_BATCH_REQUESTS,
    BatchRunner,
    request_line,
    split_batches,
)
from vsdstats.coding.engine import EngineConfig
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.store import RunKey, Store, text_key
from vsdstats.tables.codebook import load_codebook

CB = load_codebook()
SPEC = build_prompt(CB)
TEXTS = [f"Post {i}: ChatGPT helped me sort out my thoughts when I felt low." for i in range(23)]
ITEMS = [(text_key(t), t) for t in TEXTS]


def _runner(srv: FakeOpenAI, store: Store, **kw) -> BatchRunner:
    cfg = EngineConfig(model="gpt-4o-mini", base_url=srv.base_url, timeout=10)
    key = RunKey(CB.version, cfg.model, SPEC.prompt_hash)
    return BatchRunner(SPEC, cfg, store, key, codebook=CB, poll_interval=0.01, **kw)


def _batches(store: Store) -> list[tuple[str, list[str], str]]:
    import json

    rows = store.con.execute("SELECT batch_id, text_hashes, status FROM batches ORDER BY rowid")
    return [(b, json.loads(h), s) for b, h, s in rows]


def test_openai_limits():
    assert MAX_BATCH_REQUESTS == 50_000 and MAX_BATCH_BYTES == 200_000_000


def test_split_by_count_and_by_size():
    lines = [(f"h{i}", b"x" * (10 + i % 3) + b"\n") for i in range(10)]
    parts = split_batches(lines, max_requests=4)
    assert [len(p) for p in parts] == [4, 4, 2]
    assert [h for p in parts for h, _ in p] == [h for h, _ in lines]  # order kept
    parts = split_batches(lines, max_bytes=30)
    assert all(sum(len(x) for _, x in p) <= 30 for p in parts)
    assert [len(p) for p in parts] == [2] * 5
    both = split_batches(lines, max_requests=1, max_bytes=10**6)
    assert len(both) == 10
    with pytest.raises(ValueError, match="over the batch file limit"):
        split_batches(lines, max_bytes=11)
    assert split_batches([], max_requests=3) == []


@pytest.mark.parametrize("limit", [5, 23, 100])
def test_runner_submits_ceil_n_over_limit_batches(tmp_path, limit):
    with FakeOpenAI(render=SPEC.messages, batch_delay=0.01) as srv:
        srv.add_texts(TEXTS)
        with Store(tmp_path / "study.sqlite") as store:
            runner = _runner(srv, store, max_requests=limit)
            out = asyncio.run(runner.run(ITEMS))
            recorded = _batches(store)
            done = store.done(runner.key)
            todo = [it for it in ITEMS if it[0] not in done]
            again = asyncio.run(_runner(srv, store, max_requests=limit).run(todo))
        n_batches = len(srv.state.batches)
        counts = srv.counts
    assert n_batches == math.ceil(len(TEXTS) / limit) == len(out.batch_ids) == len(recorded)
    assert sorted(h for _, hs, _ in recorded for h in hs) == sorted(h for h, _ in ITEMS)
    assert all(len(hs) <= limit and s == "completed" for _, hs, s in recorded)
    assert out.requeue == [] and out.stats.texts == len(TEXTS) and done == set(dict(ITEMS))
    assert again.batch_ids == [] and todo == []  # the rerun submits nothing
    assert counts == {t: 1 for t in TEXTS}


def test_runner_splits_by_bytes(tmp_path):
    cfg = EngineConfig(model="gpt-4o-mini")
    size = max(len(request_line(SPEC, cfg, h, t)) for h, t in ITEMS)
    with FakeOpenAI(render=SPEC.messages, batch_delay=0.01) as srv:
        srv.add_texts(TEXTS)
        with Store(tmp_path / "study.sqlite") as store:
            runner = _runner(srv, store, max_bytes=3 * size)
            out = asyncio.run(runner.run(ITEMS))
        files = [srv.state.files[b["input_file_id"]] for b in srv.state.batches.values()]
    assert len(files) == math.ceil(len(TEXTS) / 3) == len(out.batch_ids)
    assert all(len(f) <= 3 * size for f in files)
    assert out.stats.texts == len(TEXTS) and out.requeue == []


def test_crash_between_and_after_submissions_never_repays(tmp_path):
    """A run dies after submitting 2 of 5 batches; the rerun collects those two and
    submits only the texts in neither; a rerun that times out waiting collects later."""
    with FakeOpenAI(render=SPEC.messages, batch_delay=0.3) as srv:
        srv.add_texts(TEXTS)
        with Store(tmp_path / "study.sqlite") as store:
            crashing = _runner(srv, store, max_requests=5)
            real = crashing._submit_lines
            calls = []

            async def flaky(lines):
                if len(calls) == 2:
                    raise ConnectionError("network down")
                calls.append(len(lines))
                return await real(lines)

            crashing._submit_lines = flaky
            with pytest.raises(ConnectionError):
                asyncio.run(crashing.run(ITEMS))
            assert len(srv.state.batches) == 2 and len(store.open_batches(crashing.key)) == 2
            # rerun, killed while waiting: the three new batches are recorded, none collected
            waiting = _runner(srv, store, max_requests=5, max_wait=0.0)
            with pytest.raises(TimeoutError):
                asyncio.run(waiting.run(ITEMS))
            assert len(srv.state.batches) == len(_batches(store)) == 5
            out = asyncio.run(_runner(srv, store, max_requests=5).run(ITEMS))
            assert len(srv.state.batches) == 5  # nothing submitted twice
            assert store.open_batches(waiting.key) == {}
            assert store.done(waiting.key) == set(dict(ITEMS))
            counts = srv.counts
    assert out.requeue == [] and len(out.batch_ids) >= 3
    assert counts == {t: 1 for t in TEXTS}  # every request paid once
