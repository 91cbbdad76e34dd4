"""OpenAI Batch API mode for large corpora (half price, answers within 24 h).

1. one JSONL line per distinct text: ``custom_id`` = text hash, ``body`` = exactly the
   chat request instructor would send (built by instructor's own request handler for
   the chosen mode from ``spec.messages(text)`` and the response model);
2. split the lines into batches each within the Batch API's limits (at most
   ``max_requests`` lines, :data:`MAX_BATCH_REQUESTS` = 50,000, and ``max_bytes`` of
   input file, :data:`MAX_BATCH_BYTES` = 200 MB; both settable on
   :class:`BatchRunner`); for each, upload (``purpose="batch"``), create the batch, and
   record its id and texts in the study database at once, so a rerun after a crash
   (even between two submissions) polls the batches already recorded instead of paying
   for them again and submits only the texts in none of them;
3. poll every ``poll_interval`` seconds until the batch ends, download the output and
   error files, and validate every answer with the same response model and context
   (``spec.response_model.model_validate_json(content, context={"text": text})``);
4. valid answers are stored like ordinary results, through the same code as the
   engine's (:mod:`vsdstats.coding.results`: labels checked against the codebook, a
   label outside it ends ``failed``); invalid or missing ones are handed back to be
   re-queued as ordinary requests (which feed the validation error back to the model).
   Refusals end as ``failed`` with reason ``refused``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from vsdstats.coding.engine import EngineConfig, instructor_mode
from vsdstats.coding.redact import Redactor, redacting_logs
from vsdstats.coding.results import (
    RunStats,
    apply_extraction,
    apply_responses,
    apply_usage,
    response_record,
    short_message,
    usage_tokens,
)
from vsdstats.coding.store import RunKey, Store, TextResult

if TYPE_CHECKING:
    from vsdstats.tables.codebook import Codebook

BATCH_PRICE_FACTOR = 0.5
#: The OpenAI Batch API's limits per batch: requests (lines) and input file size.
MAX_BATCH_REQUESTS = 50_000
MAX_BATCH_BYTES = 200 * 1000 * 1000
TERMINAL = ("completed", "failed", "expired", "cancelled")


@dataclass
class BatchOutcome:
    """What a batch run stored, and what must be re-sent as ordinary requests."""

    stats: RunStats = field(default_factory=RunStats)
    requeue: list[tuple[str, str]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    batch_ids: list[str] = field(default_factory=list)


def request_body(spec: Any, cfg: EngineConfig, text: str) -> dict[str, Any]:
    """The chat-completions body instructor would send for ``text`` in ``cfg.mode``
    (model, messages, the sampling parameters, tools or response format)."""
    from instructor.v2.core.providers import Provider
    from instructor.v2.core.registry import mode_registry

    handlers = mode_registry.get_handlers(Provider.OPENAI, instructor_mode(cfg.mode))
    kwargs = {"model": cfg.model, "messages": spec.messages(text), **cfg.sampling()}
    _, body = handlers.request_handler(spec.response_model, kwargs)
    return body


def request_line(spec: Any, cfg: EngineConfig, h: str, text: str) -> bytes:
    """One line of the batch input file (with its newline) for text hash ``h``."""
    line = {
        "custom_id": h,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": request_body(spec, cfg, text),
    }
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


def build_jsonl(spec: Any, cfg: EngineConfig, items: list[tuple[str, str]]) -> bytes:
    """The batch input file: one request line per (text hash, text)."""
    return b"".join(request_line(spec, cfg, h, text) for h, text in items)


def split_batches(
    lines: list[tuple[str, bytes]],
    *,
    max_requests: int = MAX_BATCH_REQUESTS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[list[tuple[str, bytes]]]:
    """``lines`` (text hash, request line) in order, cut into batches of at most
    ``max_requests`` lines and ``max_bytes`` bytes each; ValueError for a line that is
    alone larger than ``max_bytes``."""
    if max_requests < 1 or max_bytes < 1:
        raise ValueError("batch limits must be positive")
    out: list[list[tuple[str, bytes]]] = []
    cur: list[tuple[str, bytes]] = []
    size = 0
    for h, line in lines:
        if len(line) > max_bytes:
            raise ValueError(
                f"the batch request for text {h[:12]} is {len(line):,} bytes, over the "
                f"batch file limit of {max_bytes:,}"
            )
        if cur and (len(cur) >= max_requests or size + len(line) > max_bytes):
            out.append(cur)
            cur, size = [], 0
        cur.append((h, line))
        size += len(line)
    if cur:
        out.append(cur)
    return out


def _content(body: dict[str, Any], mode: str) -> tuple[str | None, str | None]:
    """(JSON text, refusal) from a chat-completion body."""
    msg = (body.get("choices") or [{}])[0].get("message") or {}
    if msg.get("refusal"):
        return None, str(msg["refusal"])
    if mode == "tools" and msg.get("tool_calls"):
        return msg["tool_calls"][0]["function"]["arguments"], None
    content = msg.get("content") or ""
    if mode == "md_json" and "```" in content:
        content = content.split("```", 2)[1].removeprefix("json").strip()
    return content, None


class BatchRunner:
    """Submits, polls and collects batches for one run key."""

    def __init__(
        self,
        spec: Any,
        cfg: EngineConfig,
        store: Store,
        key: RunKey,
        *,
        codebook: Codebook,
        client: Any | None = None,
        poll_interval: float = 30.0,
        max_wait: float | None = None,
        max_requests: int = MAX_BATCH_REQUESTS,
        max_bytes: int = MAX_BATCH_BYTES,
        on_result: Callable[[TextResult], None] | None = None,
        log: Callable[[str], None] = lambda s: None,
    ) -> None:
        import openai

        self.spec, self.cfg, self.store, self.key = spec, cfg, store, key
        self.codebook = codebook
        self.client = client or openai.AsyncOpenAI(
            api_key=cfg.api_key, **cfg.client_kwargs(), max_retries=3, timeout=cfg.timeout
        )
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.on_result = on_result
        self.log = log

    async def run(self, items: list[tuple[str, str]]) -> BatchOutcome:
        """Code ``items`` through batches (resuming recorded ones); see the module doc."""
        with redacting_logs(Redactor(self.cfg.api_key, self.cfg.base_url)):
            return await self._run(items)

    async def _run(self, items: list[tuple[str, str]]) -> BatchOutcome:
        out = BatchOutcome()
        texts = dict(items)
        pending = {b: hs for b, hs in self.store.open_batches(self.key).items()}
        in_open = {h for hs in pending.values() for h in hs}
        new = [(h, t) for h, t in items if h not in in_open]
        lines = [(h, request_line(self.spec, self.cfg, h, t)) for h, t in new]
        parts = split_batches(lines, max_requests=self.max_requests, max_bytes=self.max_bytes)
        for part in parts:  # each recorded as soon as it is created
            pending[await self._submit_lines(part)] = [h for h, _ in part]
        for bid, hashes in pending.items():
            out.batch_ids.append(bid)
            await self.collect(bid, {h: texts[h] for h in hashes if h in texts}, out)
        return out

    async def submit(self, items: list[tuple[str, str]]) -> str:
        """Submit ``items`` as one batch (no splitting: see :meth:`run`); its id."""
        return await self._submit_lines(
            [(h, request_line(self.spec, self.cfg, h, t)) for h, t in items]
        )

    async def _submit_lines(self, lines: list[tuple[str, bytes]]) -> str:
        data = b"".join(line for _, line in lines)
        f = await self.client.files.create(file=("batch.jsonl", data), purpose="batch")
        b = await self.client.batches.create(
            input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        self.store.add_batch(self.key, b.id, [h for h, _ in lines])
        self.log(f"batch {b.id}: {len(lines)} requests submitted ({len(data):,} bytes)")
        return b.id

    async def wait(self, batch_id: str) -> Any:
        t0 = time.monotonic()
        while True:
            b = await self.client.batches.retrieve(batch_id)
            if b.status in TERMINAL:
                return b
            if self.max_wait is not None and time.monotonic() - t0 > self.max_wait:
                raise TimeoutError(f"batch {batch_id} still {b.status}; rerun to keep polling")
            await asyncio.sleep(self.poll_interval)

    async def collect(self, batch_id: str, texts: dict[str, str], out: BatchOutcome) -> None:
        b = await self.wait(batch_id)
        seen: set[str] = set()
        for fid in (b.output_file_id, b.error_file_id):
            if not fid:
                continue
            raw = (await self.client.files.content(fid)).read()
            for line in raw.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                h = row.get("custom_id")
                if h not in texts or h in seen:
                    continue
                seen.add(h)
                self._one(h, texts[h], row, out)
        for h, text in texts.items():
            if h not in seen:
                out.requeue.append((h, text))
                out.reasons[h] = f"no answer in batch {batch_id} ({b.status})"
        self.store.close_batch(batch_id, b.status)

    def _one(self, h: str, text: str, row: dict[str, Any], out: BatchOutcome) -> None:
        resp = row.get("response") or {}
        body = resp.get("body") or {}
        if row.get("error") or resp.get("status_code") != 200:
            err = row.get("error") or body.get("error") or {}
            out.requeue.append((h, text))
            out.reasons[h] = f"batch error: {err.get('code') or resp.get('status_code')}"
            return
        r = TextResult(
            text_hash=h,
            status="failed",
            coder="llm",
            attempts=1,
            requests=1,
            started_at=time.time(),
        )
        apply_usage(r, usage_tokens(body.get("usage")), self.cfg.price, BATCH_PRICE_FACTOR)
        apply_responses(
            r, [response_record(body)], temperature=self.cfg.temperature, seed=self.cfg.seed
        )
        content, refusal = _content(body, self.cfg.mode)
        if refusal is not None:
            r.reason = "refused"
        else:
            try:
                ex = self.spec.response_model.model_validate_json(
                    content or "", context={"text": text}
                )
            except ValidationError as exc:
                out.requeue.append((h, text))
                out.reasons[h] = f"batch answer invalid: {short_message(exc, 300)}"
                out.stats.add(r, count=False)  # tokens paid; the text is counted when re-sent
                return
            apply_extraction(
                r,
                ex,
                codebook=self.codebook,
                model=self.cfg.model,
                codebook_version=self.spec.codebook_version,
            )
        r.finished_at = time.time()
        self.store.put(self.key, r)
        out.stats.add(r)
        if self.on_result is not None:
            self.on_result(r)
