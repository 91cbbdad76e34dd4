"""Coding throughput against a local OpenAI-compatible server answering after 0.5 s.

The scripted server (tests/fake_openai.py) runs in its own process so it is not the
bottleneck (its own latency is reported).  Measured, each with the real instructor +
openai clients over HTTP:

- the asyncio engine, ~3000 distinct posts at concurrency 64: posts/s vs the ideal
  64 / 0.5 = 128 posts/s (target >= 80%), and the engine process's CPU time per post;
- the original design, a ThreadPoolExecutor(4) with the sync client, on 120 posts
  (target: engine >= 12x its posts/s);
- the engine at concurrency 256 and 512 to show scaling: with a fixed 0.5 s server
  latency, responses come back in waves and each waits for the client to process the
  ones before it, so throughput is about C / (0.5 s + C * cpu / 2); the client CPU per
  post is what limits scaling (the server's own latency is reported to show it is not
  the bottleneck).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import Report

ROOT = Path(__file__).resolve().parents[1]
DELAY = 0.5
N_MAIN, N_SYNC, N_SCALE = 3000, 120, 3000
N_512 = 4000
N_W256, N_W512 = 4000, 8000
MODE = os.environ.get("VSDSTATS_BENCH_MODE", "tools")


def _texts(n: int, tag: str) -> list[str]:
    return [
        f"Post {tag}-{i}: I talked to ChatGPT about my anxiety every night and it "
        f"honestly helped me calm down before exams, number {i}."
        for i in range(n)
    ]


def _start_server(texts: list[str], tmp: Path) -> tuple[subprocess.Popen, str]:
    tf = tmp / "texts.json"
    tf.write_text(json.dumps(texts), "utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_openai.py"),
            "--delay",
            str(DELAY),
            "--texts",
            str(tf),
        ],
        stdout=subprocess.PIPE,
        stderr=open(tmp / "server.log", "w"),
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def _server_stats(base_url: str, since: int = 0) -> dict:
    """The server's chat latencies from the ``since``-th request on, and its CPU seconds."""
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/_stats?since={since}", timeout=10) as r:
        return json.loads(r.read())


def _cpu() -> float:
    """CPU seconds of this process and its finished child processes (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _engine_run(
    base_url: str, texts: list[str], concurrency: int, tmp: Path, workers: int = 1
) -> tuple[float, float, float]:
    """Wall and CPU seconds, and the steady-state posts/s (without start-up and tail)."""
    from vsdstats.coding.engine import Engine, EngineConfig
    from vsdstats.coding.prompt import build_prompt
    from vsdstats.coding.run import code_texts
    from vsdstats.coding.store import RunKey, Store, text_key
    from vsdstats.tables.codebook import load_codebook

    cb = load_codebook()
    spec = build_prompt(cb)
    cfg = EngineConfig(
        model="bench",
        base_url=base_url,
        concurrency=concurrency,
        timeout=30,
        mode=MODE,
        workers=workers,
    )
    store = Store(tmp / f"study-{concurrency}-{workers}.sqlite")
    key = RunKey(cb.version, "bench", spec.prompt_hash)
    done: list[float] = []
    engine = Engine(spec, cfg, cb, on_result=lambda r: done.append(time.perf_counter()))
    items = [(text_key(t), t) for t in texts]
    c0, t0 = _cpu(), time.perf_counter()
    stats = asyncio.run(code_texts(engine, items, store, key))
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    store.close()
    if stats.statuses["coded"] != len(texts):
        raise RuntimeError(f"not all coded: {stats.statuses}")
    k = len(done) // 10  # steady state: the middle 80% of the results
    steady = (len(done) - 2 * k) / max(done[-k - 1] - done[k], 1e-9) if k else len(done) / wall
    return wall, cpu, steady


def _sync_run(base_url: str, texts: list[str]) -> float:
    """The original design: 4 threads, the sync openai + instructor client."""
    import instructor
    import openai

    from vsdstats.coding.prompt import build_prompt
    from vsdstats.tables.codebook import load_codebook

    spec = build_prompt(load_codebook())
    client = instructor.from_openai(
        openai.OpenAI(api_key="not-needed", base_url=base_url, max_retries=0, timeout=30),
        mode=instructor.Mode.JSON,
    )

    def one(text: str) -> object:
        return client.create(
            model="bench",
            response_model=spec.response_model,
            messages=spec.messages(text),
            max_retries=2,
            context={"text": text},
        )

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, texts))
    assert len(results) == len(texts)
    return time.perf_counter() - t0


def run() -> list[Report]:
    main, sync, scale = _texts(N_MAIN, "a"), _texts(N_SYNC, "b"), _texts(N_SCALE, "c")
    warm, s512 = _texts(64, "warm"), _texts(N_512, "d")
    w256, w512 = _texts(N_W256, "e"), _texts(N_W512, "f")
    res: dict[str, tuple[int, int, int, float, float, float, str, float]] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, url = _start_server(warm + main + sync + scale + s512 + w256 + w512, tmp)

        def engine(name: str, texts: list[str], conc: int, workers: int = 1) -> None:
            s0 = _server_stats(url)
            wall, cpu, steady = _engine_run(url, texts, conc, tmp, workers)
            s1 = _server_stats(url, s0["n"])
            srv_cpu = (s1["cpu_s"] - s0["cpu_s"]) / max(s1["count"], 1)
            lat = f"latency n={s1['count']} mean={s1['mean']:.3f} max={s1['max']:.3f}s"
            res[name] = (len(texts), conc, workers, wall, cpu, steady, lat, srv_cpu)

        try:
            _engine_run(url, warm, 64, tmp)  # warm-up
            engine("64", main, 64)
            wall_sync = _sync_run(url, sync)
            engine("256", scale, 256)
            engine("512", s512, 512)
            engine("w256", w256, 256, 2)
            engine("w512", w512, 512, 2)
        finally:
            proc.terminate()
            proc.wait(10)

    def detail(name: str) -> str:
        n, conc, workers, wall, cpu, steady, lat, srv_cpu = res[name]
        ideal = conc / DELAY
        procs = " (all processes, start-up included)" if workers > 1 else ""
        return (
            f"{n / wall:.1f} posts/s = {n / wall / ideal:.0%} of ideal {ideal:.0f}; steady "
            f"{steady:.0f} posts/s = {steady / ideal:.0%}; client CPU {cpu / n * 1e3:.2f} "
            f"ms/post{procs}; server {lat}, CPU {srv_cpu * 1e3:.2f} ms/req"
        )

    n64, _, _, wall64, *_ = res["64"]
    rate64, rate_sync = n64 / wall64, N_SYNC / wall_sync
    ideal64 = 64 / DELAY
    eff = rate64 / ideal64
    ratio = rate64 / rate_sync
    reports = [
        Report(
            "coding engine c=64 vs ideal 128 posts/s",
            wall64,
            N_MAIN / ideal64,
            ">= 80% of ideal",
            eff >= 0.8,
            detail("64"),
        ),
        Report(
            "coding engine c=64 vs 4-thread sync client (per post)",
            1 / rate64,
            1 / rate_sync,
            ">= 12x",
            ratio >= 12,
            f"engine {rate64:.1f} posts/s, sync x4 {rate_sync:.1f} posts/s on {N_SYNC} posts",
        ),
    ]
    for name, label in (
        ("256", "c=256"),
        ("512", "c=512"),
        ("w256", "c=256 workers=2"),
        ("w512", "c=512 workers=2"),
    ):
        n, conc, _, wall, *_ = res[name]
        reports.append(
            Report(
                f"coding engine {label} (scaling)",
                wall,
                n / (conc / DELAY),
                "report only",
                True,
                detail(name),
            )
        )
    return reports


if __name__ == "__main__":
    os.chdir(ROOT)
    for r in run():
        print(r.line())
