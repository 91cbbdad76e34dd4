"""Coding in several worker processes (``EngineConfig.workers > 1``, ``--workers N``).

One Python process saturates one core at about 2 ms of client CPU per request (instructor,
openai, pydantic, JSON), so at high concurrency the client, not the server, becomes the
bottleneck.  With ``workers=N`` the distinct texts are coded by N processes, each running
the ordinary asyncio :class:`~vsdstats.coding.engine.Engine` with its own event loop,
client and connection pool:

- texts are sharded deterministically: sorted by text hash, then dealt round-robin;
- concurrency is split: each worker keeps at most ``ceil(concurrency / N)`` requests in
  flight;
- ``rpm`` and ``tpm`` limits are split evenly: each worker gets ``limit / N`` (the sum is
  the configured limit; a worker that finishes early leaves its share unused, and a
  ``Retry-After`` pause holds off only the worker that received it);
- every worker opens its own :class:`~vsdstats.coding.store.Store` connection to the same
  ``study.sqlite`` (WAL mode, one writer connection per process, ``busy_timeout`` so
  concurrent commits wait rather than fail) and commits each finished text before
  reporting it, so a ``kill -9`` of the whole process group loses only texts in flight;
- each committed result is sent to the parent over a multiprocessing queue (for the
  progress callback); each worker's :class:`~vsdstats.coding.engine.RunStats` are sent at
  the end and summed by the parent.

Processes are started with the ``spawn`` context: nothing of the parent (threads, an
event loop, an embedded R) is forked.  The API key is never pickled, passed on a command
line or written: workers read it from the environment variable named by
``EngineConfig.api_key_env`` (inherited from the parent).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import multiprocessing as mp
import os
import queue
import time
import traceback
from typing import TYPE_CHECKING, Any

from vsdstats.coding.results import RunStats
from vsdstats.coding.store import RunKey, Store, TextResult

if TYPE_CHECKING:
    from vsdstats.coding.engine import Engine

DUMMY_KEY = "not-needed"
_POLL_S = 0.2


def shard(items: list[tuple[str, str]], n: int) -> list[list[tuple[str, str]]]:
    """``items`` (text hash, text) sorted by hash and dealt round-robin into ``n`` shards."""
    ordered = sorted(items)
    return [ordered[i::n] for i in range(n)]


def worker_config(cfg: Any, n: int) -> Any:
    """The settings of one of ``n`` workers: concurrency and limits split, no key."""
    return dataclasses.replace(
        cfg,
        api_key=DUMMY_KEY,  # the worker reads the real key from cfg.api_key_env
        workers=1,
        concurrency=max(1, math.ceil(cfg.concurrency / n)),
        rpm=cfg.rpm / n if cfg.rpm else cfg.rpm,
        tpm=cfg.tpm / n if cfg.tpm else cfg.tpm,
    )


def _check_key(cfg: Any) -> None:
    if cfg.api_key == DUMMY_KEY:
        return
    env = cfg.api_key_env
    if not env or os.environ.get(env) != cfg.api_key:
        raise ValueError(
            "workers > 1 needs the API key in an environment variable: set "
            "EngineConfig.api_key_env to the name of the variable holding it"
        )


async def run_workers(
    engine: Engine, items: list[tuple[str, str]], store: Store, key: RunKey
) -> RunStats:
    """Code ``items`` in ``engine.cfg.workers`` processes; the merged counters of all."""
    cfg = engine.cfg
    if not engine._own_client:
        raise ValueError("workers > 1 cannot use a client passed in (each worker makes its own)")
    _check_key(cfg)
    stats = RunStats()
    t0 = time.perf_counter()
    n = max(1, min(cfg.workers, len(items)))
    if not items:
        return stats
    shards = shard(items, n)
    wcfg = worker_config(cfg, n)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    # The texts go through a queue, not the process arguments: spawn writes those to a
    # pipe it also holds open itself, so a worker dying at start-up would hang start().
    inboxes = [ctx.Queue() for _ in range(n)]
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(
                i,
                inboxes[i],
                wcfg,
                engine.codebook,
                engine.spec.prompt_hash,
                str(store.path),
                store.durable,
                key,
                q,
            ),
            name=f"vsdstats-code-{i}",
            daemon=True,
        )
        for i in range(n)
    ]
    finished: dict[int, RunStats] = {}
    try:
        for p, inbox, part in zip(procs, inboxes, shards, strict=True):
            p.start()
            inbox.cancel_join_thread()  # never wait on a worker that died unread
            inbox.put(part)
        while len(finished) < n:
            msgs = await asyncio.to_thread(_take, q, _POLL_S)
            if not msgs:
                lost = [i for i, p in enumerate(procs) if p.exitcode is not None]
                lost = [i for i in lost if i not in finished]
                if lost:  # exited without a report: one last look at the queue
                    msgs = await asyncio.to_thread(_take, q, 1.0)
                    if not msgs:
                        codes = ", ".join(f"{i}: exit {procs[i].exitcode}" for i in lost)
                        raise RuntimeError(f"coding worker(s) died without finishing ({codes})")
            for kind, wid, payload in msgs:
                if kind == "results":
                    if engine.on_result is not None:
                        for r in payload:
                            engine.on_result(r)
                elif kind == "done":
                    finished[wid] = payload
                else:  # "error"
                    raise RuntimeError(f"coding worker {wid} failed:\n{payload}")
    finally:
        for p in procs:
            if p.is_alive() and len(finished) < n:
                p.terminate()
        for p in procs:
            if p.pid is not None:
                p.join(10)
        for inbox in inboxes:
            inbox.close()
        q.close()
    for i in range(n):
        stats.merge(finished[i])
    stats.elapsed_s = time.perf_counter() - t0
    return stats


def _take(q: Any, timeout: float) -> list[tuple[str, int, Any]]:
    """The next message (waiting up to ``timeout`` s) and whatever else is queued."""
    try:
        out = [q.get(True, timeout)]
    except queue.Empty:
        return []
    while len(out) < 10_000:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            break
    return out


def _worker_main(
    wid: int,
    inbox: Any,
    cfg: Any,
    codebook: Any,
    prompt_hash: str,
    store_path: str,
    durable: bool,
    key: RunKey,
    q: Any,
) -> None:
    """One worker process: its own event loop, client, pool and store connection."""
    _exit_with_parent()
    try:
        buf: list[TextResult] = []
        items: list[tuple[str, str]] = inbox.get()
        stats = run_shard(
            items,
            cfg,
            codebook,
            prompt_hash,
            store_path,
            durable,
            key,
            on_result=buf.append,  # called after the commit
            after_commit=lambda: _flush(buf, q, wid),  # one message per commit
        )
        _flush(buf, q, wid)
        q.put(("done", wid, stats))
    except KeyboardInterrupt:
        pass
    except BaseException:
        q.put(("error", wid, worker_key(cfg).redact(traceback.format_exc())))
    finally:
        q.close()
        q.join_thread()


def worker_key(cfg: Any, *, required: bool = False) -> Any:
    """``cfg`` with the API key read from ``$api_key_env`` in this (worker) process.

    ``required``: raise if the variable is unset (the parent had a real key), rather than
    sending the dummy key."""
    env = cfg.api_key_env
    if env and os.environ.get(env):
        return dataclasses.replace(cfg, api_key=os.environ[env])
    if required:
        raise RuntimeError(
            f"the API key variable ${env} is not set in this worker's environment "
            "(set it where the worker is started)"
        )
    return cfg


def run_shard(
    items: list[tuple[str, str]],
    cfg: Any,
    codebook: Any,
    prompt_hash: str,
    store_path: str,
    durable: bool,
    key: RunKey,
    *,
    on_result: Any = None,
    after_commit: Any = None,
    key_required: bool = False,
) -> RunStats:
    """Code one shard in this process: the prompt rebuilt from ``codebook`` (checked
    against the parent's ``prompt_hash``), the key read from the environment
    (:func:`worker_key`), a fresh :class:`~vsdstats.coding.engine.Engine` and event loop,
    every result committed to the store at ``store_path``.  Used by the ``--workers``
    processes and by the ``--dask`` tasks (:mod:`vsdstats.coding.sharded`)."""
    from vsdstats.coding.engine import Engine
    from vsdstats.coding.prompt import build_prompt

    spec = build_prompt(codebook)
    if spec.prompt_hash != prompt_hash:
        raise RuntimeError("the worker's prompt differs from the parent's")
    cfg = worker_key(cfg, required=key_required)
    engine = Engine(spec, cfg, codebook, on_result=on_result)
    engine.after_commit = after_commit
    with Store(store_path, durable=durable) as store:
        return asyncio.run(engine.run(items, store, key))


def _exit_with_parent() -> None:
    """End this worker at once if the parent dies (e.g. ``kill -9`` of the parent alone):
    as with a ``kill -9`` of the run, committed texts stay and texts in flight are lost."""
    import threading
    from multiprocessing.connection import wait

    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="vsdstats-parent-watch", daemon=True).start()


def _flush(buf: list[TextResult], q: Any, wid: int) -> None:
    if buf:
        q.put(("results", wid, list(buf)))
        buf.clear()
