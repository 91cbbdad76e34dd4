"""``vsdstats filter --dask`` on a local cluster of 2 workers vs 1 worker (target: speed-up
>= 1.7x on 2 cores).

Four synthetic Reddit-comment dumps (``make_dump`` from ``bench_filter``, ~150 MB of
NDJSON each, different seeds, .zst with the long window) are filtered with
:func:`vsdstats.filter.parallel.filter_files_dask`, one task per file, on ``local:1``
and ``local:2`` clusters started side by side.  Only the filter call is timed, best of
three runs per cluster, the clusters taking turns.  The report passes only
if all runs read every generated line and have the same, balanced counts.  The detail
gives the throughput per worker (uncompressed MB per second per worker) and the cores the
workers keep busy, the figures ``docs/scaling.md`` uses for its capacity model.  With the
default ``pipelined=None`` a local:1 task decompresses in a second thread (a CPU is
spare), local:2 tasks do not (their workers fill the CPUs).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _common import Report
from bench_filter import make_dump

N_FILES = 4
FILE_BYTES = 150_000_000
TARGET = 1.7
REPEAT = 3
_KEYS = ("read", "kept", "dropped", "rejected")


def _generate(tmp: Path) -> tuple[list[Path], int, int]:
    paths = [tmp / f"RC_synthetic-{i:02d}.zst" for i in range(N_FILES)]
    ctx = multiprocessing.get_context("fork") if os.name == "posix" else None
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=ctx) as ex:
        # make_dump, not a function of this module: run.py loads it outside sys.modules
        seeds = [2026 + i for i in range(N_FILES)]
        infos = list(ex.map(make_dump, paths, [FILE_BYTES] * N_FILES, seeds))
    return paths, sum(i["bytes"] for i in infos), sum(i["lines"] for i in infos)


def _cpu(client: object) -> float:
    """CPU seconds used so far by all worker processes (every thread of each)."""
    return sum(client.run(time.process_time).values())  # type: ignore[attr-defined]


def _timed(specs: list[str], paths: list[Path], out: Path, rf: object) -> list[tuple]:
    """Per cluster ``spec``: best-of-``REPEAT`` seconds of the filter call, the cores its
    workers kept busy in that run (worker CPU seconds / wall seconds), and its counts.
    The clusters run side by side and take turns, so a drift in the host's speed hits
    them alike."""
    from contextlib import ExitStack

    from vsdstats.cluster import dask_client
    from vsdstats.filter.parallel import filter_files_dask

    best = {s: (float("inf"), 0.0) for s in specs}
    seen: dict[str, list[dict]] = {s: [] for s in specs}
    with ExitStack() as stack:
        clients = {s: stack.enter_context(dask_client(s)) for s in specs}
        for k in range(REPEAT):
            for spec, client in clients.items():
                dest = out / f"{spec.replace(':', '')}-{k}"  # a fresh folder: fresh task keys
                c0 = _cpu(client)
                t = time.perf_counter()
                counts = filter_files_dask(client, paths, dest, rf)
                wall = time.perf_counter() - t
                if wall < best[spec][0]:
                    best[spec] = (wall, (_cpu(client) - c0) / wall)
                seen[spec].append(
                    {k: getattr(counts, k) for k in _KEYS} | {"balanced": counts.balanced}
                )
    result = []
    for spec in specs:
        first = seen[spec][0]
        if any(s != first for s in seen[spec]):
            first["balanced"] = False  # repeated runs disagree
        result.append((*best[spec], first))
    return result


def run() -> list[Report]:
    from vsdstats.filter.relevance import RelevanceFilter
    from vsdstats.tables.codebook import load_codebook

    rf = RelevanceFilter.from_codebook(load_codebook())
    engine = "hyperscan" if rf._hyperscan() is not None else "re"
    with tempfile.TemporaryDirectory(prefix="vsdstats-bench-dask-") as tmp_s:
        tmp = Path(tmp_s)
        t = time.perf_counter()
        paths, nbytes, nlines = _generate(tmp)
        gen_s = time.perf_counter() - t
        zst_mb = sum(p.stat().st_size for p in paths) / 1e6
        (t1, cores1, c1), (t2, cores2, c2) = _timed(["local:1", "local:2"], paths, tmp, rf)
    mb = nbytes / 1e6
    ok_counts = c1 == c2 and c1["balanced"] and c1["read"] == nlines
    ratio = t1 / t2
    detail = (
        f"{N_FILES} files, {mb:.0f} MB in {nlines} lines, {zst_mb:.0f} MB .zst, "
        f"generated in {gen_s:.0f}s; local:1 {t1:.1f}s = {mb / t1:.0f} MB/s per worker, "
        f"{cores1:.2f} cores busy = {mb / t1 / cores1:.0f} MB/s per core; "
        f"local:2 {t2:.1f}s = {mb / t2:.0f} MB/s, {mb / t2 / 2:.0f} MB/s per worker, "
        f"{cores2:.2f} cores busy (efficiency {ratio / 2:.0%}; by default a local:1 task "
        f"decompresses in a second thread, using the spare CPU, and local:2 tasks, whose "
        f"workers fill the CPUs, decompress and scan in turn); "
        f"kept {c2['kept']}, dropped {c2['dropped']}, "
        f"rejected {c2['rejected']}; counts "
        f"{'identical and balanced' if ok_counts else f'DIFFER: {c1} vs {c2}'}; "
        f"{os.cpu_count()} CPUs; prefilter engine {engine}"
    )
    return [
        Report(
            f"filter --dask local:2 vs local:1 on {N_FILES} .zst files",
            t2,
            t1,
            f">= {TARGET:g}x (ratio = local:1 time / local:2 time)",
            ratio >= TARGET and ok_counts,
            detail,
        )
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
