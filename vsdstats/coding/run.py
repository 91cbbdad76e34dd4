"""Code a study: the one entry point that chooses the coder and the route.

:func:`code_study` reads the posts, codes each distinct text once (the offline
baseline, the single-process asyncio :class:`~vsdstats.coding.engine.Engine`, ``workers``
processes via :mod:`vsdstats.coding.parallel`, shards as Dask tasks (``dask``, with
per-shard stores merged into the study store, :mod:`vsdstats.coding.sharded`), or the
OpenAI Batch API (split into batches within its limits) via
:mod:`vsdstats.coding.batch` with what the batch did not finish re-sent as ordinary
requests), commits every result to ``STUDY/study.sqlite``, and writes the outputs,
``code_summary.json`` and a provenance manifest ``STUDY/manifests/code-<UTC time>.json``
(:func:`code_manifest`, :mod:`vsdstats.provenance`).  :func:`preview` is ``--dry-run``:
the exact system prompt, response schema and request for the first text to be coded,
with no request made.  :func:`code_texts` is the route choice alone, for callers that
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
from vsdstats.provenance import write_manifest
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
    #: ``--dask``: a Dask cluster spec (local:N or a scheduler address), see
    #: :mod:`vsdstats.coding.sharded`; ``shards``: tasks (default: one per worker)
    dask: str | None = None
    shards: int | None = None
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
    temperature: float = 0.0
    seed: int | None = None
    #: ``--open``: dimensions the model also labels in its own words (issue 14)
    open_dimensions: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise :class:`InputError` for settings that cannot go together."""
        if self.open_dimensions and self.baseline:
            raise InputError("--open asks the LLM for free-text labels; --baseline has none")
        if self.open_dimensions and self.workers > 1:
            raise InputError("--open codes in one process (--workers 1)")
        if not self.baseline and not self.model:
            raise InputError("--model is required (or use --baseline)")
        if self.baseline and self.batch:
            raise InputError("--baseline and --batch exclude each other")
        if self.dask:
            other = [
                flag
                for flag, on in (
                    ("--workers > 1", self.workers > 1),
                    ("--baseline", self.baseline),
                    ("--batch", self.batch),
                    ("--open", bool(self.open_dimensions)),
                )
                if on
            ]
            if other:
                raise InputError(f"--dask and {other[0]} exclude each other")
        elif self.shards is not None:
            raise InputError("--shards needs --dask")
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
        d["open_dimensions"] = list(self.open_dimensions)
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
    argv: list[str] | None = None,
) -> CodeOutcome:
    """Code the posts of ``posts_path`` (a table or a study folder) into study ``out``.

    ``argv`` is the command line recorded (redacted) in the manifest (default: the
    current one, :func:`vsdstats.provenance.command_line`).

    Raises :class:`InputError` for bad settings or input, :class:`CodingStopped` (its
    message redacted) when the API stops the run; ``KeyboardInterrupt`` passes through,
    with every finished text saved.
    """
    from vsdstats.coding.outputs import (
        load_posts,
        open_label_table,
        post_tables,
        summarize,
        write_outputs,
    )
    from vsdstats.coding.redact import Redactor
    from vsdstats.ingest.textnorm import EMPTY_HASH
    from vsdstats.tables.codebook import load_codebook

    out = _out_dir(posts_path, out)
    inp = Path(posts_path)
    settings.check()
    cb = load_codebook(settings.codebook)
    posts = load_posts(inp, settings.limit)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    distinct = _distinct(posts)
    per_text = posts["text_hash"].value_counts().to_dict()

    study = StudyDir(out)
    with Store(study.store, durable=settings.durable) as store:
        spec = None
        if settings.baseline:
            from vsdstats.coding.baseline import MODEL_NAME

            key = RunKey(cb.version, MODEL_NAME, f"baseline:{cb.sha256[:16]}")
        else:
            spec = _prompt(cb, settings)
            key = RunKey(spec.codebook_version, str(settings.model), spec.prompt_hash)
        if settings.dask:  # results of an interrupted --dask run first (paid for)
            from vsdstats.coding.sharded import merge_shards

            merge_shards(store, key)
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
        if not settings.baseline:
            _note_other_sampling(results, settings, log)
        units, status = post_tables(posts, results)
        open_labels = open_label_table(posts, results) if settings.open_dimensions else None
        written = write_outputs(out, units, status, open_labels)
        extra = {
            "coder": "baseline" if settings.baseline else "llm",
            "model": key.model,
            "mode": None if settings.baseline else ("batch" if settings.batch else settings.mode),
            "temperature": None if settings.baseline else settings.temperature,
            "seed": None if settings.baseline else settings.seed,
            "codebook_version": key.codebook_version,
            "prompt_hash": key.prompt_hash,
            "elapsed_s": round(time.perf_counter() - t0, 3),
        }
        if open_labels is not None:
            extra["open_dimensions"] = ", ".join(settings.open_dimensions)
            extra["open_labels"] = len(open_labels)
        summary = summarize(
            status, stats, distinct=len(distinct), skipped=len(done & distinct.keys()), extra=extra
        )
        store.finish_run(run_id, summary)
    path = study.code_summary
    path.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    manifest = code_manifest(
        settings,
        cb,
        spec,
        inputs=[_posts_file(inp), Path(cb.source)],
        outputs=[*written, path],
        summary=summary,
        results=results,
        recorded=recorded,
        argv=argv,
    )
    mpath = write_manifest(out, manifest)
    return CodeOutcome(summary, [*written, path, mpath])


def _prompt(cb: Any, settings: CodeSettings) -> Any:
    """The run's :class:`~vsdstats.coding.prompt.PromptSpec` (open labels for ``--open``)."""
    from vsdstats.coding.prompt import build_prompt

    try:
        return build_prompt(cb, tuple(settings.open_dimensions))
    except ValueError as exc:
        raise InputError(f"--open-dimensions: {exc}") from None


def _note_other_sampling(
    results: dict[str, TextResult], settings: CodeSettings, log: Callable[[str], None]
) -> None:
    """Say when stored results kept for this run's outputs were sampled otherwise
    (results are keyed by codebook, model and prompt, not by temperature or seed)."""
    now = (settings.temperature, settings.seed)
    other = unrecorded = 0
    for r in results.values():
        if r.coder != "llm":
            continue
        if r.temperature is None and r.seed is None and not r.responses:
            unrecorded += 1
        elif (r.temperature, r.seed) != now:
            other += 1
    if other or unrecorded:
        log(
            f"note: of the stored results used, {other:,} were coded with another "
            f"temperature or seed and {unrecorded:,} before these were recorded; they are "
            "kept (see the manifest's results.by_sampling; code into a new --out to recode)"
        )


def _out_dir(posts_path: str | Path, out: str | Path | None) -> Path:
    if out is None:
        if not Path(posts_path).is_dir():
            raise InputError("--out STUDY is required when the input is a file")
        return Path(posts_path)
    return Path(out)


def _distinct(posts: Any) -> dict[str, str]:
    """text hash -> text of each distinct text, in order of first appearance."""
    first = posts.drop_duplicates("text_hash")
    return dict(zip(first["text_hash"], first["text"], strict=True))


def _posts_file(inp: Path) -> Path:
    return StudyDir(inp).posts if inp.is_dir() else inp


def _secrets(settings: CodeSettings) -> list[str]:
    """The credentials a manifest must not contain: the key and the base URL's."""
    from vsdstats.coding.redact import url_secrets

    key = os.environ.get(settings.api_key_env)
    return [*([key] if key else []), *url_secrets(settings.base_url)]


def code_manifest(
    settings: CodeSettings,
    cb: Any,
    spec: Any,
    *,
    inputs: list[Path],
    outputs: list[Path],
    summary: dict[str, Any],
    results: dict[str, TextResult],
    recorded: dict[str, Any],
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """The provenance record of a ``code`` run (:func:`vsdstats.provenance.build_manifest`)
    plus: ``seeds`` and ``sampling`` (temperature, seed) as sent; ``model`` settings;
    ``codebook`` (name, version, SHA-256 of its file); ``prompt`` (SHA-256 of the exact
    system prompt text sent, of the response schema, and the store's ``prompt_hash``);
    ``results``: how the stored results behind the outputs were made (texts per returned
    model id, system fingerprint and sampling settings; ``unrecorded`` for rows stored
    before these were kept)."""
    from collections import Counter

    from vsdstats.provenance import build_manifest, file_record, sha256_text

    roles = ["posts", "codebook"]
    ins = [file_record(p, role) for p, role in zip(inputs, roles, strict=False) if p.is_file()]
    outs = [file_record(p) for p in outputs if Path(p).is_file()]
    llm = not settings.baseline
    prompt: dict[str, Any] | None = None
    if llm and spec is not None:
        system, schema, _ = rendered(spec, settings)
        prompt = {
            "system_sha256": sha256_text(system),
            "schema_sha256": sha256_text(json.dumps(schema, sort_keys=True, ensure_ascii=False)),
            "prompt_hash": spec.prompt_hash,
            "template_version": spec.template_version,
        }
    used: dict[str, Counter] = {"returned_model": Counter(), "system_fingerprint": Counter()}
    sampling: Counter = Counter()
    for r in results.values():
        if r.coder != "llm":
            continue
        if r.responses or r.temperature is not None or r.seed is not None:
            sampling[f"temperature={r.temperature} seed={r.seed}"] += 1
        else:
            sampling["unrecorded"] += 1
        used["returned_model"][str(r.returned_model or "unrecorded")] += 1
        used["system_fingerprint"][str(r.system_fingerprint or "none or unrecorded")] += 1
    return build_manifest(
        "code",
        inputs=ins,
        outputs=outs,
        settings=recorded,
        argv=argv,
        secrets=_secrets(settings),
        seeds={"seed": settings.seed if llm else None},
        sampling={"temperature": settings.temperature, "seed": settings.seed} if llm else None,
        model={
            "coder": "llm" if llm else "baseline",
            "model": summary.get("model"),
            "mode": summary.get("mode"),
            "base_url": recorded.get("base_url"),
            "max_retries": settings.max_retries,
            "timeout": settings.timeout,
        },
        codebook={"name": cb.name, "version": cb.version, "sha256": cb.sha256},
        prompt=prompt,
        results={
            "texts": len(results),
            "by_sampling": dict(sampling),
            **{k: dict(v) for k, v in used.items()},
        },
        summary=summary,
    )


def rendered(spec: Any, settings: CodeSettings, text: str = "") -> tuple[str, Any, dict]:
    """(system prompt as sent, response schema as sent, request body) for ``text``:
    the chat-completions body instructor builds in ``settings.mode`` with the sampling
    parameters (:func:`vsdstats.coding.batch.request_body`)."""
    from vsdstats.coding.batch import request_body
    from vsdstats.coding.engine import EngineConfig

    cfg = EngineConfig(
        model=str(settings.model),
        mode=settings.mode,
        temperature=settings.temperature,
        seed=settings.seed,
    )
    body = request_body(spec, cfg, text)
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    return system, sent_schema(spec, body), body


def sent_schema(spec: Any, body: dict[str, Any]) -> Any:
    """The JSON schema of the response model as ``body`` carries it: the tool's
    parameters (tools), the response format's schema (json_schema), else the model's
    schema that instructor writes into the system message (json, md_json)."""
    tools = body.get("tools")
    if tools:
        return tools[0]["function"]["parameters"]
    fmt = body.get("response_format") or {}
    if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
        return fmt["json_schema"].get("schema")
    return spec.response_model.model_json_schema()


@dataclass
class Preview:
    """``--dry-run``: what the first request would be (nothing is sent)."""

    system: str
    schema: Any
    request: dict[str, Any]
    endpoint: str
    todo: int  # distinct texts that would be coded
    text_hash: str | None  # of the text in ``request`` (None: nothing left to code)


def preview(posts_path: str | Path, out: str | Path | None, settings: CodeSettings) -> Preview:
    """The exact system prompt, response schema and rendered request for the first text
    that a run would code (texts finished in an existing study are skipped, as a run
    would); makes no request, needs no API key and writes nothing."""
    from vsdstats.coding.outputs import load_posts
    from vsdstats.coding.redact import redact_url
    from vsdstats.coding.store import finished_hashes
    from vsdstats.ingest.textnorm import EMPTY_HASH
    from vsdstats.tables.codebook import load_codebook

    if settings.baseline:
        raise InputError("--dry-run shows the LLM request; --baseline sends none")
    out_dir = _out_dir(posts_path, out)
    settings.check()
    cb = load_codebook(settings.codebook)
    posts = load_posts(Path(posts_path), settings.limit)
    spec = _prompt(cb, settings)
    key = RunKey(spec.codebook_version, str(settings.model), spec.prompt_hash)
    done = finished_hashes(StudyDir(out_dir).store, key, include_failed=not settings.retry_failed)
    todo = [(h, t) for h, t in _distinct(posts).items() if h not in done and h != EMPTY_HASH]
    h, text = todo[0] if todo else (None, "")
    system, schema, body = rendered(spec, settings, text)
    base = (redact_url(settings.base_url) or "https://api.openai.com/v1").rstrip("/")
    return Preview(system, schema, body, f"POST {base}/chat/completions", len(todo), h)


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
        temperature=s.temperature,
        seed=s.seed,
    )
    if not todo:
        return RunStats()
    if s.dask:
        return _code_dask(spec, cfg, cb, todo, store, key, tick, s)

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


def _code_dask(
    spec: Any,
    cfg: Any,
    cb: Any,
    todo: list[tuple[str, str]],
    store: Store,
    key: RunKey,
    tick: Callable[[Any], None],
    s: CodeSettings,
) -> RunStats:
    """``--dask``: shards on a Dask cluster (:mod:`vsdstats.coding.sharded`)."""
    from vsdstats.cluster import dask_client
    from vsdstats.coding.engine import Engine
    from vsdstats.coding.sharded import check_engine, run_sharded

    engine = Engine(spec, cfg, cb, on_result=tick)
    try:
        check_engine(engine)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with dask_client(str(s.dask)) as client:
        return run_sharded(engine, todo, store, key, client, shards=s.shards)
