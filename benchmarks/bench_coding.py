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
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import Report

ROOT = Path(__file__).resolve().parents[1]
DELAY = 0.5
N_MAIN, N_SYNC, N_SCALE = 3000, 120, 3000
N_512 = 4000
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


def _server_latency(tmp: Path) -> str:
    lines = [x for x in (tmp / "server.log").read_text().splitlines() if x.startswith("LAT")]
    return lines[-1] if lines else "LAT n/a"


def _engine_run(
    base_url: str, texts: list[str], concurrency: int, tmp: Path
) -> tuple[float, float]:
    from vsdstats.codebook import load_codebook
    from vsdstats.coding.engine import Engine, EngineConfig
    from vsdstats.coding.prompt import build_prompt
    from vsdstats.coding.store import RunKey, Store, text_key

    cb = load_codebook()
    spec = build_prompt(cb)
    cfg = EngineConfig(
        model="bench", base_url=base_url, concurrency=concurrency, timeout=30, mode=MODE
    )
    store = Store(tmp / f"study-{concurrency}.sqlite")
    key = RunKey(cb.version, "bench", spec.prompt_hash)
    engine = Engine(spec, cfg, cb)
    items = [(text_key(t), t) for t in texts]
    c0, t0 = time.process_time(), time.perf_counter()
    stats = asyncio.run(engine.run(items, store, key))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    store.close()
    if stats.statuses["coded"] != len(texts):
        raise RuntimeError(f"not all coded: {stats.statuses}")
    return wall, cpu


def _sync_run(base_url: str, texts: list[str]) -> float:
    """The original design: 4 threads, the sync openai + instructor client."""
    import instructor
    import openai

    from vsdstats.codebook import load_codebook
    from vsdstats.coding.prompt import build_prompt

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
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc, url = _start_server(warm + main + sync + scale + s512, tmp)
        try:
            _engine_run(url, warm, 64, tmp)  # warm-up
            wall64, cpu64 = _engine_run(url, main, 64, tmp)
            lat64 = _server_latency(tmp)
            wall_sync = _sync_run(url, sync)
            wall256, cpu256 = _engine_run(url, scale, 256, tmp)
            lat256 = _server_latency(tmp)
            wall512, cpu512 = _engine_run(url, s512, 512, tmp)
            lat512 = _server_latency(tmp)
        finally:
            proc.terminate()
            proc.wait(10)
    rate64, rate_sync, rate256 = N_MAIN / wall64, N_SYNC / wall_sync, N_SCALE / wall256
    rate512 = N_512 / wall512
    ideal64 = 64 / DELAY
    eff = rate64 / ideal64
    ratio = rate64 / rate_sync
    return [
        Report(
            "coding engine c=64 vs ideal 128 posts/s",
            wall64,
            N_MAIN / ideal64,
            ">= 80% of ideal",
            eff >= 0.8,
            f"{rate64:.1f} posts/s = {eff:.0%} of ideal; CPU {cpu64 / N_MAIN * 1e3:.2f} ms/post; "
            f"server {lat64}",
        ),
        Report(
            "coding engine c=64 vs 4-thread sync client (per post)",
            1 / rate64,
            1 / rate_sync,
            ">= 12x",
            ratio >= 12,
            f"engine {rate64:.1f} posts/s, sync x4 {rate_sync:.1f} posts/s on {N_SYNC} posts",
        ),
        Report(
            "coding engine c=256 (scaling)",
            wall256,
            N_SCALE / (256 / DELAY),
            "report only",
            True,
            f"{rate256:.1f} posts/s = {rate256 / (256 / DELAY):.0%} of ideal 512; "
            f"CPU {cpu256 / N_SCALE * 1e3:.2f} ms/post; server {lat256}",
        ),
        Report(
            "coding engine c=512 (scaling)",
            wall512,
            N_512 / (512 / DELAY),
            "report only",
            True,
            f"{rate512:.1f} posts/s = {rate512 / (512 / DELAY):.0%} of ideal 1024; "
            f"CPU {cpu512 / N_512 * 1e3:.2f} ms/post; server {lat512}",
        ),
    ]


if __name__ == "__main__":
    os.chdir(ROOT)
    for r in run():
        print(r.line())
