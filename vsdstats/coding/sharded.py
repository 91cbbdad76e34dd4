"""Coding shards on Dask distributed workers (``vsdstats code --dask local:N|tcp://HOST:PORT``).

The distinct texts still to code (those not finished in ``STUDY/study.sqlite``) are
sharded exactly as ``--workers`` shards them (:func:`vsdstats.coding.parallel.shard`:
sorted by text hash, dealt round-robin) into one Dask task per shard.  The number of
shards is the number of workers in the cluster when the run starts, or ``shards``
(``--shards N``).  Each task runs the ordinary asyncio
:class:`~vsdstats.coding.engine.Engine` on its shard
(:func:`vsdstats.coding.parallel.run_shard`, the same code as a ``--workers`` process)
with the global limits split by the number of shards
(:func:`vsdstats.coding.parallel.worker_config`):

- ``rpm`` and ``tpm``: each shard gets ``limit / shards``, so the sum over the shards is
  the global limit (a shard that finishes early leaves its share unused; with more shards
  than workers, fewer shards run at once and less than the limit is used);
- concurrency: ``concurrency`` is dealt out, ``concurrency // shards`` each and one more
  for the first ``concurrency % shards``, so the sum is ``concurrency`` (at least one per
  shard).

Stores.  SQLite is not safe on every network file system, so the tasks never open the
main store: task ``i`` commits each finished text to its own *shard store*
``STUDY/shards/<run key hash>-<i>.sqlite`` (the same :class:`~vsdstats.coding.store.Store`
class and schema) and skips every text already in it.  Dask re-runs the task of a worker
that died (``kill -9``, a lost node) on another worker, and that retry sends no request
for the texts its killed attempt had committed: only the texts in flight at the kill are
paid twice (at most the shard's concurrency).  The client merges each shard store into
``study.sqlite`` as soon as its task finishes, then deletes it; at the start of a run it
first merges the leftovers of an interrupted run (:func:`merge_shards`), so those texts
count as already done.  A run that stops on an error or an interrupt merges what the
shard stores hold but keeps them (a task of a remote cluster may still be running: do not
rerun before it ends).  The run's counters are those of the results merged from the shard
stores (killed attempts included).  Progress is reported per shard, when its task ends:
the client does not read a shard store while a worker writes it (SQLite's WAL mode needs
shared memory, which a network file system does not give across hosts).

Requirements.  The study folder must be visible to every worker at the same path (on a
remote cluster: a shared file system; the shard stores are written by the workers and
read by the client).  Workers need the same vsdstats version (checked at connection,
:mod:`vsdstats.cluster`).  The API key is never pickled or sent to the cluster: each
task reads it from the environment variable named by ``EngineConfig.api_key_env``.  The
worker processes of ``--dask local:N`` inherit this process's environment; on a remote
cluster the variable must be set where the workers are started (a task fails with a
clear error if it is not).  A ``--base-url`` carrying credentials is refused for the
same reason: the URL is part of the settings sent to the workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vsdstats.coding.parallel import DUMMY_KEY, _check_key, run_shard, shard, worker_config
from vsdstats.coding.results import RunStats
from vsdstats.coding.store import FINISHED, RunKey, Store

if TYPE_CHECKING:
    from vsdstats.coding.engine import Engine

SHARD_DIR = "shards"


@dataclass(frozen=True)
class Shard:
    """One task: shard ``index`` of ``count``, its texts and its share of the limits."""

    index: int
    count: int
    items: list[tuple[str, str]]
    cfg: Any  # EngineConfig without the key (worker_config)


def key_hash(key: RunKey) -> str:
    """A short stable name for ``key`` (the prefix of its shard stores)."""
    raw = json.dumps(dataclasses.asdict(key), sort_keys=True).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]


def shard_dir(main_store: str | Path) -> Path:
    """``STUDY/shards`` beside ``STUDY/study.sqlite`` (absolute: workers may run elsewhere)."""
    return Path(main_store).resolve().parent / SHARD_DIR


def shard_path(main_store: str | Path, key: RunKey, index: int) -> Path:
    """The shard store of shard ``index`` for ``key``."""
    return shard_dir(main_store) / f"{key_hash(key)}-{index}.sqlite"


def split_config(cfg: Any, n: int, index: int) -> Any:
    """Shard ``index`` of ``n``: :func:`~vsdstats.coding.parallel.worker_config` (rpm and
    tpm ``/ n``, no key) with the concurrency dealt out so that the shares sum to it."""
    base, extra = divmod(max(1, cfg.concurrency), n)
    return dataclasses.replace(
        worker_config(cfg, n), concurrency=max(1, base + (1 if index < extra else 0))
    )


def plan_shards(cfg: Any, items: list[tuple[str, str]], n: int) -> list[Shard]:
    """``items`` in ``n`` shards (empty ones dropped), each with its share of the limits."""
    n = max(1, min(n, len(items)))
    parts = shard(items, n) if items else []
    return [Shard(i, n, part, split_config(cfg, n, i)) for i, part in enumerate(parts) if part]


def merge_shards(
    store: Store,
    key: RunKey,
    paths: list[Path] | None = None,
    *,
    delete: bool = True,
    on_result: Any = None,
) -> RunStats:
    """Copy the results of shard stores (default: every one of ``key`` beside ``store``)
    into ``store``; return their counters.  A finished result in ``store`` is not replaced
    by a failed one.  ``delete``: remove the shard stores afterwards."""
    if paths is None:
        d = shard_dir(store.path)
        paths = sorted(d.glob(f"{key_hash(key)}-*.sqlite")) if d.is_dir() else []
    stats = RunStats()
    for p in paths:
        if not p.is_file():
            continue
        with Store(p) as s:
            rows = list(s.results(key).values())
        finished = store.done(key)
        keep = [r for r in rows if r.status in FINISHED or r.text_hash not in finished]
        store.put_many(key, keep)
        for r in keep:
            stats.add(r)
            if on_result is not None:
                on_result(r)
        if delete:
            for f in (p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")):
                f.unlink(missing_ok=True)
    if delete and paths:
        try:
            shard_dir(store.path).rmdir()
        except OSError:  # other keys' shard stores, or already gone
            pass
    return stats


def code_shard_task(
    items: list[tuple[str, str]],
    cfg: Any,
    codebook: Any,
    prompt_hash: str,
    path: str,
    durable: bool,
    key: RunKey,
    key_required: bool,
) -> dict[str, Any]:
    """The Dask task: code the texts of ``items`` not yet in the shard store ``path``;
    its report: the texts ``skipped`` (committed by an earlier attempt) and ``sent``, and
    the limits it ran with."""
    with Store(path, durable=durable) as s:
        done = s.done(key, include_failed=True)  # paid for by an earlier attempt
    todo = [it for it in items if it[0] not in done]
    if todo:
        run_shard(todo, cfg, codebook, prompt_hash, path, durable, key, key_required=key_required)
    return {
        "path": path,
        "skipped": len(items) - len(todo),
        "sent": len(todo),
        "concurrency": cfg.concurrency,
        "rpm": cfg.rpm,
        "tpm": cfg.tpm,
    }


def check_engine(engine: Engine) -> None:
    """ValueError unless ``engine`` can be run as Dask tasks (see the module docstring)."""
    from vsdstats.coding.redact import url_secrets

    cfg = engine.cfg
    if not engine._own_client:
        raise ValueError("--dask cannot use a client passed in (each task makes its own)")
    if cfg.workers > 1:
        raise ValueError("--dask and workers > 1 exclude each other")
    if url_secrets(cfg.base_url):
        raise ValueError(
            "--dask would send the base URL's credentials to the workers: put the key in "
            "the API key variable instead"
        )
    _check_key(cfg)


def run_sharded(
    engine: Engine,
    items: list[tuple[str, str]],
    store: Store,
    key: RunKey,
    client: Any,
    *,
    shards: int | None = None,
    on_task: Callable[[int, dict[str, Any]], None] | None = None,
) -> RunStats:
    """Code ``items`` in Dask tasks on ``client``'s cluster; merge the results into
    ``store``; the counters of the results merged.  ``on_task(shard, report)`` is called
    as each task ends (:func:`code_shard_task`).  See the module docstring."""
    check_engine(engine)
    cfg = engine.cfg
    t0 = time.perf_counter()
    stats = RunStats()
    if not items:
        return stats
    workers = sorted(client.scheduler_info()["workers"])
    n = shards or len(workers)
    if n < 1:
        raise RuntimeError("the Dask cluster has no workers")
    plan = plan_shards(cfg, items, n)
    token = uuid.uuid4().hex[:8]
    futures = {}
    for sh in plan:
        path = shard_path(store.path, key, sh.index)
        fut = client.submit(
            code_shard_task,
            sh.items,
            sh.cfg,
            engine.codebook,
            engine.spec.prompt_hash,
            str(path),
            store.durable,
            key,
            cfg.api_key != DUMMY_KEY,
            key=f"vsdstats-code-{key_hash(key)}-{sh.index}of{sh.count}-{token}",
            workers=[workers[sh.index % len(workers)]] if workers else None,
            allow_other_workers=True,
            retries=0,  # a worker's death is retried by the scheduler (allowed-failures)
        )
        futures[fut] = (sh.index, path)
    from distributed import as_completed

    merged: set[Path] = set()
    try:
        for fut in as_completed(list(futures)):
            report = fut.result()  # raises the task's error
            index, path = futures[fut]
            stats.merge(merge_shards(store, key, [path], on_result=engine.on_result))
            merged.add(path)
            if on_task is not None:
                on_task(index, report)
    except BaseException:
        client.cancel(list(futures))
        rest = [p for _, p in futures.values() if p not in merged]
        merge_shards(store, key, rest, delete=False)  # keep them: a task may still write
        raise
    stats.elapsed_s = time.perf_counter() - t0
    return stats
