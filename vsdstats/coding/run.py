"""Code a study: the one entry point that chooses the coder and the route.

:func:`code_study` reads the posts, codes each distinct text once (the offline
baseline, the single-process asyncio :class:`~vsdstats.coding.engine.Engine`, ``workers``
processes via :mod:`vsdstats.coding.parallel`, or the OpenAI Batch API via
:mod:`vsdstats.coding.batch` with what the batch did not finish re-sent as ordinary
requests), commits every result to ``STUDY/study.sqlite``, and writes the outputs and
``code_summary.json``.  :func:`code_texts` is the route choice alone, for callers that
hold an engine.  The API key is read from an environment variable and never stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vsdstats.coding.results import RunStats
from vsdstats.coding.store import RunKey, Store, TextResult
from vsdstats.errors import InputError, VsdstatsError
from vsdstats.tables.study import StudyDir

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DUMMY_KEY = "not-needed"

#: ``progress(total_posts, posts_per_text)`` -> a context manager that is called with
#: every committed :class:`TextResult`.
ProgressFactory = Callable[[int, dict[str, int]], AbstractContextManager[Callable[[Any], None]]]


class CodingStopped(VsdstatsError, RuntimeError):
    """The coding run stopped part-way (finished texts are saved; a rerun resumes)."""


@dataclass
class CodeSettings:
    """How to code: the coder, the model and its endpoint, limits and retries."""

    model: str | None = None
    baseline: bool = False
    batch: bool = False
    base_url: str | None = field(default=None, repr=False)  # may carry credentials
    api_key_env: str = DEFAULT_KEY_ENV
    mode: str = "tools"
    concurrency: int = 16
    workers: int = 1
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 2
    http_retries: int = 6
    timeout: float = 60.0
    poll_interval: float = 30.0
    codebook: str | Path | None = None
    limit: int | None = None
    retry_failed: bool = True
    price_in: float | None = None
    price_out: float | None = None
    durable: bool = False

    def check(self) -> None:
        """Raise :class:`InputError` for settings that cannot go together."""
        if not self.baseline and not self.model:
            raise InputError("--model is required (or use --baseline)")
        if self.baseline and self.batch:
            raise InputError("--baseline and --batch exclude each other")
        if self.workers > 1 and (self.baseline or self.batch):
            mode = "--baseline" if self.baseline else "--batch"
            raise InputError(
                f"--workers > 1 is for LLM requests only; {mode} runs in one process (--workers 1)"
            )

    def recorded(self) -> dict[str, Any]:
        """The settings as stored with the run: no key, the base URL redacted."""
        from vsdstats.coding.redact import redact_url

        d = {k: v for k, v in asdict(self).items() if k != "api_key_env"}
        d["codebook"] = None if self.codebook is None else str(self.codebook)
        d["base_url"] = redact_url(self.base_url)
        return d


@dataclass
class CodeOutcome:
    """What a run wrote: the summary (also in ``code_summary.json``) and the files."""

    summary: dict[str, Any]
    written: list[Path]


def api_key(settings: CodeSettings, log: Callable[[str], None]) -> str:
    """The key from ``$api_key_env``; the dummy key for a custom endpoint without one."""
    key = os.environ.get(settings.api_key_env)
    if key:
        return key
    if settings.base_url:
        log(
            f"note: ${settings.api_key_env} is not set; sending the dummy key "
            f"{DUMMY_KEY!r} (fine for local OpenAI-compatible servers)"
        )
        return DUMMY_KEY
    raise InputError(f"set ${settings.api_key_env} (or --api-key-env NAME) to your API key")


async def code_texts(
    engine: Any, items: list[tuple[str, str]], store: Store, key: RunKey
) -> RunStats:
    """Code ``items`` (text hash, text) with ``engine``: in this process, or in
    ``engine.cfg.workers`` processes."""
    if engine.cfg.workers > 1:
        from vsdstats.coding.parallel import run_workers

        return await run_workers(engine, items, store, key)
    return await engine.run(items, store, key)


def code_study(
    posts_path: str | Path,
    out: str | Path | None,
    settings: CodeSettings,
    *,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> CodeOutcome:
    """Code the posts of ``posts_path`` (a table or a study folder) into study ``out``.

    Raises :class:`InputError` for bad settings or input, :class:`CodingStopped` (its
    message redacted) when the API stops the run; ``KeyboardInterrupt`` passes through,
    with every finished text saved.
    """
    from vsdstats.coding.outputs import load_posts, post_tables, summarize, write_outputs
    from vsdstats.coding.redact import Redactor
    from vsdstats.ingest.textnorm import EMPTY_HASH
    from vsdstats.tables.codebook import load_codebook

    inp = Path(posts_path)
    if out is None:
        if not inp.is_dir():
            raise InputError("--out STUDY is required when the input is a file")
        out = inp
    out = Path(out)
    settings.check()
    cb = load_codebook(settings.codebook)
    posts = load_posts(inp, settings.limit)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    first = posts.drop_duplicates("text_hash")
    distinct = dict(zip(first["text_hash"], first["text"], strict=True))
    per_text = posts["text_hash"].value_counts().to_dict()

    study = StudyDir(out)
    with Store(study.store, durable=settings.durable) as store:
        spec = None
        if settings.baseline:
            from vsdstats.coding.baseline import MODEL_NAME

            key = RunKey(cb.version, MODEL_NAME, f"baseline:{cb.sha256[:16]}")
        else:
            from vsdstats.coding.prompt import build_prompt

            spec = build_prompt(cb)
            key = RunKey(spec.codebook_version, str(settings.model), spec.prompt_hash)
        done = store.done(key, include_failed=not settings.retry_failed)
        todo = [(h, t) for h, t in distinct.items() if h not in done and h != EMPTY_HASH]
        recorded = {**settings.recorded(), "input_path": str(inp), "out": str(out)}
        run_id = store.start_run({**recorded, "key": key.__dict__})
        n_todo = sum(per_text[h] for h, _ in todo)
        bar = progress(n_todo, per_text) if progress is not None and todo else nullcontext(None)
        with bar as on_result:
            tick = on_result or (lambda r: None)
            try:
                if settings.baseline:
                    stats = _code_baseline(cb, todo, store, key, tick)
                else:
                    stats = _code_llm(spec, cb, todo, store, key, tick, settings, log)
            except (KeyboardInterrupt, InputError):
                raise
            except Exception as exc:  # e.g. the batch API refusing: one redacted line
                redact = Redactor(os.environ.get(settings.api_key_env), settings.base_url)
                msg = redact(" ".join(f"{type(exc).__name__}: {exc}".split()))
                raise CodingStopped(
                    f"coding stopped: {msg} (finished texts are saved; rerun to resume)"
                ) from None
        results = store.results(key, distinct)
        units, status = post_tables(posts, results)
        written = write_outputs(out, units, status)
        extra = {
            "coder": "baseline" if settings.baseline else "llm",
            "model": key.model,
            "mode": None if settings.baseline else ("batch" if settings.batch else settings.mode),
            "codebook_version": key.codebook_version,
            "prompt_hash": key.prompt_hash,
            "elapsed_s": round(time.perf_counter() - t0, 3),
        }
        summary = summarize(
            status, stats, distinct=len(distinct), skipped=len(done & distinct.keys()), extra=extra
        )
        store.finish_run(run_id, summary)
    path = study.code_summary
    path.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return CodeOutcome(summary, [*written, path])


def _code_baseline(
    cb: Any, todo: list[tuple[str, str]], store: Store, key: RunKey, tick: Callable[[Any], None]
) -> RunStats:
    from vsdstats.coding.baseline import BaselineCoder
    from vsdstats.coding.results import PLACEHOLDER_POST_ID

    coder = BaselineCoder(cb)
    stats = RunStats()
    for h, text in todo:
        t = time.time()
        relevant, units = coder.code(PLACEHOLDER_POST_ID, text)
        r = TextResult(
            text_hash=h,
            status="coded" if relevant else "not_relevant",
            units=[u.model_dump(exclude={"post_id"}) for u in units],
            coder="baseline",
            cost_usd=0.0,
            started_at=t,
            finished_at=time.time(),
        )
        store.put(key, r)
        stats.add(r)
        tick(r)
    return stats


def _code_llm(
    spec: Any,
    cb: Any,
    todo: list[tuple[str, str]],
    store: Store,
    key: RunKey,
    tick: Callable[[Any], None],
    s: CodeSettings,
    log: Callable[[str], None],
) -> RunStats:
    from vsdstats.coding.engine import Engine, EngineConfig
    from vsdstats.coding.pricing import price_for

    cfg = EngineConfig(
        model=str(s.model),
        api_key=api_key(s, log),
        base_url=s.base_url,
        mode=s.mode,
        concurrency=s.concurrency,
        workers=s.workers,
        api_key_env=s.api_key_env,
        rpm=s.rpm,
        tpm=s.tpm,
        max_retries=s.max_retries,
        http_retries=s.http_retries,
        timeout=s.timeout,
        price=price_for(str(s.model), s.price_in, s.price_out),
    )
    if not todo:
        return RunStats()

    async def go() -> RunStats:
        items = todo
        stats = RunStats()
        if s.batch:
            from vsdstats.coding.batch import BatchRunner

            runner = BatchRunner(
                spec,
                cfg,
                store,
                key,
                codebook=cb,
                poll_interval=s.poll_interval,
                on_result=tick,
                log=log,
            )
            res = await runner.run(items)
            stats = res.stats
            items = res.requeue
            if items:
                log(f"re-sending {len(items)} text(s) as ordinary requests")
        if items:
            engine = Engine(spec, cfg, cb, on_result=tick)
            stats.merge(await code_texts(engine, items, store, key))
        return stats

    return asyncio.run(go())
