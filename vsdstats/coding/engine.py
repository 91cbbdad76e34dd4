"""The asyncio coding engine: instructor over the async OpenAI client.

Distinct texts are sent with at most ``concurrency`` requests in flight, optional
requests-per-minute and tokens-per-minute buckets, and retries with exponential
backoff and full jitter on 429, 5xx, timeouts and dropped connections (honouring
``Retry-After``, capped).  Validation retries (the validation error fed back to the
model) are instructor's ``max_retries``; the openai client itself never retries
(``max_retries=0``) so every retry is counted here.  Each finished text goes to a
single writer task that commits it to the :class:`~vsdstats.coding.store.Store` (the
results waiting in its queue together, in one transaction) before it is counted or
reported.  The API key is held only by the client: it is never logged or stored, and
failure reasons and log records are scrubbed of it and of the base URL's credentials
(:mod:`vsdstats.coding.redact`).

Every request carries the run's ``temperature`` and, when set, ``seed``
(:meth:`EngineConfig.sampling`, passed through instructor to
``chat.completions.create``).  What each request got back -- the raw text, the model id
the API returned and its ``system_fingerprint`` -- is caught by instructor's
``completion:response`` hook (validation retries included) and stored with the text's
result (:func:`~vsdstats.coding.results.apply_responses`).

CPU per request matters: at high concurrency the client, not the server, is the limit.
So the engine

- hands the post to the validators through
  :func:`~vsdstats.coding.response.post_text_context` rather than instructor's
  ``context=`` (which makes instructor render every message, the long system prompt
  included, as a Jinja template on every call);
- passes instructor a response model already wrapped as instructor's
  ``OpenAISchema`` with a memoised JSON schema (:func:`request_model`): otherwise
  instructor derives a new wrapper class -- and so a new JSON schema -- per call;
- shares one HTTP connection pool sized to the concurrency (HTTP/1.1 keep-alive), on
  openai's aiohttp transport when aiohttp is installed (instructor depends on it), else
  httpx's.

Even so one process saturates one core (about 2 ms of CPU per request); with
``EngineConfig.workers > 1`` :meth:`Engine.run` hands the texts to that many processes
(:mod:`vsdstats.coding.parallel`: concurrency, rpm and tpm split evenly across them).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vsdstats.coding.failures import Failure, classify
from vsdstats.coding.ratelimit import Pause, TokenBucket, backoff
from vsdstats.coding.redact import Redactor, client_url, has_userinfo, redacting_logs
from vsdstats.coding.response import post_text_context
from vsdstats.coding.results import (
    RunStats,
    apply_extraction,
    apply_responses,
    apply_usage,
    response_record,
    usage_tokens,
)
from vsdstats.coding.store import RunKey, Store, TextResult

if TYPE_CHECKING:
    from vsdstats.coding.pricing import Price
    from vsdstats.tables.codebook import Codebook

MODES = ("json", "tools", "json_schema", "md_json")
_REQUESTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "vsdstats_requests", default=None
)
#: what each request of the current text got back (:func:`response_record`)
_RESPONSES: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "vsdstats_responses", default=None
)


@dataclass
class EngineConfig:
    """Settings of one coding run (the key and the base URL are kept out of ``repr``)."""

    model: str
    api_key: str = field(default="not-needed", repr=False)
    base_url: str | None = field(default=None, repr=False)  # may carry credentials
    mode: str = "tools"
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    max_retries: int = 2  # validation retries (instructor)
    http_retries: int = 6  # 429 / 5xx / timeout / connection retries (ours)
    timeout: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 120.0
    price: Price | None = None
    price_factor: float = 1.0
    http: str = "auto"  # HTTP transport: auto (aiohttp if installed, else httpx) | httpx | aiohttp
    workers: int = 1  # processes (> 1: see vsdstats.coding.parallel)
    api_key_env: str | None = None  # where workers > 1 read the key (never passed to them)
    temperature: float | None = 0.0  # sent with every request (None: not sent)
    seed: int | None = None  # sent with every request when set (best-effort determinism)

    def sampling(self) -> dict[str, Any]:
        """The sampling parameters sent with every chat-completions request."""
        out: dict[str, Any] = {}
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    def redact(self, s: str) -> str:
        """``s`` with the API key, anything shaped like an OpenAI key, the base URL's
        credentials and those of any URL in it masked."""
        return Redactor(self.api_key, self.base_url)(s)

    def client_kwargs(self) -> dict[str, Any]:
        """``base_url`` and ``default_query`` for ``openai.AsyncOpenAI``."""
        url, query = client_url(self.base_url)
        return {"base_url": url, "default_query": query}


def make_client(cfg: EngineConfig) -> Any:
    """instructor's AsyncInstructor over ``openai.AsyncOpenAI`` (no client-side retries)."""
    import instructor
    import openai

    # instructor logs every failed attempt at ERROR; without this, Python's last-resort
    # handler would print them all on stderr.  Applications that configure logging
    # still receive them (the records propagate).
    log = logging.getLogger("instructor")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())

    # One pool for the run, as many connections as requests in flight, all kept alive
    # (openai's default keeps only 100 idle connections: above that concurrency every
    # request would open a new connection).
    n = max(1, cfg.concurrency)
    limits = _httpx().Limits(max_connections=n, max_keepalive_connections=n)
    http = None
    if cfg.http == "aiohttp" and has_userinfo(cfg.base_url):
        raise RuntimeError("http='aiohttp' cannot send a base URL with user:password@ (use httpx)")
    # aiohttp refuses credentials in the URL beside openai's Authorization header; httpx
    # sends them as basic auth (e.g. for a proxy in front of a local server).
    auto = cfg.http == "auto" and not has_userinfo(cfg.base_url)
    if (auto or cfg.http == "aiohttp") and _has_aiohttp(openai):
        # openai's aiohttp transport: about 1 ms less CPU per request than httpx's pool,
        # which scans every connection on each request.
        try:
            http = openai.DefaultAioHttpClient(limits=limits, timeout=cfg.timeout)
        except RuntimeError:  # openai 1.x without its aiohttp extra
            http = None
    if http is None and cfg.http == "aiohttp":
        raise RuntimeError("http='aiohttp' needs aiohttp and openai >= 1.87 (openai[aiohttp])")
    if http is None:
        http = openai.DefaultAsyncHttpxClient(limits=limits, timeout=cfg.timeout)
    client = openai.AsyncOpenAI(
        api_key=cfg.api_key,
        **cfg.client_kwargs(),
        max_retries=0,
        timeout=cfg.timeout,
        http_client=http,
    )
    return instructor.from_openai(client, mode=instructor_mode(cfg.mode))


def _has_aiohttp(openai: Any) -> bool:
    if not hasattr(openai, "DefaultAioHttpClient"):
        return False
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return False
    return True


def _httpx() -> Any:
    """The httpx module the installed openai client is built on (httpx or httpx2)."""
    try:
        import httpx2  # type: ignore[import-not-found]  # openai >= 3

        return httpx2
    except ImportError:
        import httpx

        return httpx


@functools.lru_cache(maxsize=16)
def request_model(model: type[Any]) -> type[Any]:
    """``model`` as instructor's ``OpenAISchema`` subclass with a memoised JSON schema.

    Validation, field names, title and schema are those of ``model``; only the work is
    done once: instructor wraps a plain model in a fresh subclass on every call, so its
    own schema cache never hits.  Callers get a fresh copy of the schema each time (the
    request handlers add keys to it).
    """
    import instructor

    base = instructor.openai_schema(model)
    cache: dict[Any, str] = {}

    def model_json_schema(cls: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        parent = super(fast, cls).model_json_schema
        try:
            key = (cls, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return parent(*args, **kwargs)
        if key not in cache:
            cache[key] = json.dumps(parent(*args, **kwargs))
        return json.loads(cache[key])

    fast = type(
        model.__name__,
        (base,),
        {
            "__doc__": model.__doc__,
            "__module__": model.__module__,
            "__qualname__": model.__qualname__,
            "model_json_schema": classmethod(model_json_schema),
        },
    )
    return fast


def instructor_mode(name: str) -> Any:
    import instructor

    modes = {
        "json": instructor.Mode.JSON,
        "tools": instructor.Mode.TOOLS,
        "json_schema": instructor.Mode.JSON_SCHEMA,
        "md_json": instructor.Mode.MD_JSON,
    }
    return modes[name]


def _count_request(*_: Any, **__: Any) -> None:
    box = _REQUESTS.get()
    if box is not None:
        box[0] += 1


def _record_response(response: Any) -> None:
    """instructor's ``completion:response`` hook: keep what this request got back."""
    records = _RESPONSES.get()
    if records is not None:
        records.append(response_record(response))


class Engine:
    """Codes distinct texts concurrently and hands every result to the store writer."""

    def __init__(
        self,
        spec: Any,
        cfg: EngineConfig,
        codebook: Codebook,
        *,
        client: Any | None = None,
        on_result: Callable[[TextResult], None] | None = None,
    ) -> None:
        self.spec = spec
        self.cfg = cfg
        self.codebook = codebook
        self._own_client = client is None
        self.client = client
        self.on_result = on_result
        self.after_commit: Callable[[], None] | None = None  # after each committed batch
        self.pause = Pause()
        self.rpm = TokenBucket(cfg.rpm) if cfg.rpm else None
        self.tpm = TokenBucket(cfg.tpm) if cfg.tpm else None
        self._schema_tokens = len(json.dumps(spec.response_model.model_json_schema())) // 4
        self._system_tokens = len(json.dumps(spec.messages("")[:1])) // 4
        self._model = request_model(spec.response_model)

    # ------------------------------------------------------------ public
    async def run(self, items: list[tuple[str, str]], store: Store, key: RunKey) -> RunStats:
        """Code ``items`` (text hash, text); commit each result; return the run's counters."""
        with redacting_logs(Redactor(self.cfg.api_key, self.cfg.base_url)):
            return await self._run(items, store, key)

    async def _run(self, items: list[tuple[str, str]], store: Store, key: RunKey) -> RunStats:
        if self.cfg.workers > 1:
            raise ValueError(
                "Engine.run codes in this process: use vsdstats.coding.run.code_texts "
                "for workers > 1"
            )
        stats = RunStats()
        t0 = time.perf_counter()
        if self._own_client:  # bound to this event loop; closed at the end of the run
            self.client = make_client(self.cfg)
        self.client.on("completion:kwargs", _count_request)
        self.client.on("completion:response", _record_response)
        todo: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        done: asyncio.Queue[TextResult | None] = asyncio.Queue()
        for it in items:
            todo.put_nowait(it)
        sem = asyncio.Semaphore(self.cfg.concurrency)
        n_workers = max(1, min(len(items), 2 * self.cfg.concurrency))
        for _ in range(n_workers):
            todo.put_nowait(None)

        async def worker() -> None:
            while (it := await todo.get()) is not None:
                await done.put(await self.code_text(it[0], it[1], sem))

        async def writer() -> None:
            end = False
            while not end:
                batch = [await done.get()]
                while not done.empty():  # whatever else finished meanwhile
                    batch.append(done.get_nowait())
                if None in batch:
                    end = True
                    batch = [r for r in batch if r is not None]
                store.put_many(key, batch)  # one transaction, committed before counting
                for r in batch:
                    stats.add(r)
                    if self.on_result is not None:
                        self.on_result(r)
                if self.after_commit is not None:
                    self.after_commit()

        wtask = asyncio.create_task(writer())
        try:
            await asyncio.gather(*(worker() for _ in range(n_workers)))
        finally:
            await done.put(None)
            await wtask
            self.client.off("completion:kwargs", _count_request)
            self.client.off("completion:response", _record_response)
            if self._own_client:
                await self.client.client.close()
        stats.elapsed_s = time.perf_counter() - t0
        return stats

    async def code_text(self, text_hash: str, text: str, sem: asyncio.Semaphore) -> TextResult:
        """Code one text to a finished or failed result (never raises for API trouble)."""
        box = [0]
        _REQUESTS.set(box)  # each worker task has its own context copy
        records: list[dict[str, Any]] = []
        _RESPONSES.set(records)
        r = TextResult(text_hash=text_hash, status="failed", coder="llm", started_at=time.time())
        tokens = [0, 0, 0]
        fail: Failure | None = None
        for attempt in range(self.cfg.http_retries + 1):
            r.attempts = attempt + 1
            await self._admit(text)
            before = box[0]
            try:
                async with sem:
                    with post_text_context(text):  # seen by the quote validator
                        extraction, completion = await self.client.create_with_completion(
                            model=self.cfg.model,
                            response_model=self._model,
                            messages=self.spec.messages(text),
                            max_retries=self.cfg.max_retries,
                            **self.cfg.sampling(),
                        )
            except Exception as exc:  # every failure is classified
                fail = classify(exc)
                self._account(tokens, fail.usage, box[0] - before, text)
                if fail.kind != "transient":
                    break
                if attempt < self.cfg.http_retries:
                    r.http_retries += 1
                    await asyncio.sleep(self._delay(attempt, fail.wait))
                continue
            usage = getattr(extraction, "_total_usage", None) or completion.usage
            self._account(tokens, usage, box[0] - before, text)
            fail = None
            apply_extraction(
                r,
                extraction,
                codebook=self.codebook,
                model=self.cfg.model,
                codebook_version=self.spec.codebook_version,
            )
            break
        if fail is not None:
            r.status, r.units = "failed", []
            tail = f" (after {r.attempts} attempts)" if fail.kind == "transient" else ""
            r.reason = self.cfg.redact(fail.reason + tail)
        r.requests = box[0]
        apply_responses(r, records, temperature=self.cfg.temperature, seed=self.cfg.seed)
        r.validation_retries = max(0, r.requests - r.attempts)
        apply_usage(r, (tokens[0], tokens[1], tokens[2]), self.cfg.price, self.cfg.price_factor)
        r.finished_at = time.time()
        return r

    # ------------------------------------------------------------ helpers
    def _estimate(self, text: str) -> int:
        user = len(json.dumps(self.spec.user_content(text))) // 4
        return self._system_tokens + user + self._schema_tokens + 400

    async def _admit(self, text: str) -> None:
        await self.pause.wait()
        if self.rpm is not None:
            await self.rpm.acquire(1)
        if self.tpm is not None:
            await self.tpm.acquire(self._estimate(text))

    def _account(self, tokens: list[int], usage: Any, n_requests: int, text: str) -> None:
        p, c, cached = usage_tokens(usage)
        tokens[0] += p
        tokens[1] += c
        tokens[2] += cached
        if self.rpm is not None and n_requests > 1:
            self.rpm.debit(n_requests - 1)
        if self.tpm is not None:
            self.tpm.debit(p + c - self._estimate(text))

    def _delay(self, attempt: int, wait: float | None) -> float:
        if wait is not None:
            wait = min(wait, self.cfg.retry_after_cap)
            self.pause.extend(wait)  # every worker holds off, not just this one
            return wait
        return backoff(attempt, base=self.cfg.backoff_base, cap=self.cfg.backoff_cap)
