"""A scripted, local OpenAI-compatible HTTP server for tests and benchmarks.

A small raw-asyncio HTTP/1.1 server (keep-alive, no dependencies) serving

- ``POST /v1/chat/completions``: answers depend on the post text found in the request
  (``FakeOpenAI.script(text, [...])`` gives a sequence of behaviours, one per request for
  that text, the last one repeating; unscripted texts get ``default``);
- ``POST /v1/files``, ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
  ``GET /v1/batches/{id}``: a minimal Batch API that answers every line like the chat
  endpoint would.

Behaviours: ``ok`` (valid extraction), ``not_relevant``, ``invalid_json``, ``bad_label``
(a label outside the codebook), ``bad_quote`` (a quote not in the post), ``inject``
(complies with an injection: label ``happy``), ``refuse``, ``429`` (with ``Retry-After``),
``500``, ``slow`` (sleeps ``slow_delay`` s, past the client timeout, then answers),
``drop`` (closes the connection without answering), ``echo_url`` (a 400 whose message
echoes the request URL, query and basic-auth credentials included, as careless proxies
do).  The request targets (path and query) are kept in ``targets``.  Each request is
counted per text (``counts``) and logged with its arrival time (``log``); with
``record=True`` its JSON body is kept too (``requests(text)``, or ``bodies()`` for all,
in order).  Completions carry ``model`` (the requested name, or ``served_model`` as an
API names its dated snapshot) and ``system_fingerprint`` (``fingerprint``; None sends
null, as some servers do).  Open coding (``code --open``): when the request's schema
has ``OpenLabels``, each unit without its own ``open_labels`` gets one label per open
dimension from ``open_label(text, dimension, unit)`` (default: the unit's code with
spaces).  Category naming (``codebook induce --name-with``): a request for the
``CategoryName`` tool is answered by ``namer(user message)`` (default: the first member
listed, as code ``<member>_named``).  ``GET /_stats?since=N``
returns the latencies of the chat requests from the N-th on and the server process's CPU
time (for benchmarks).

Run it in a thread (``with FakeOpenAI(...) as srv: srv.base_url``) or as a separate
process: ``python tests/fake_openai.py --delay 0.5 --texts texts.json`` prints
``PORT <n>`` and serves until killed (the benchmark does this).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_UNIT: dict[str, str] = {
    "llm_product": "chatgpt",
    "llm_version": "unspecified",
    "sentiment": "positive",
    "condition": "anxiety",
    "perspective": "emotional_support",
    "value": "human_welfare",
}

Render = Callable[[str], list[dict[str, Any]]]
OpenLabel = Callable[[str, str, dict[str, Any]], str]
Namer = Callable[[str], dict[str, str]]


def default_namer(user: str) -> dict[str, str]:
    """Name a category after the first member listed (``- member (n)``)."""
    import re

    first = next(ln[2:].rsplit(" (", 1)[0] for ln in user.splitlines() if ln.startswith("- "))
    code = re.sub(r"[^a-z0-9]+", "_", first.lower()).strip("_")
    return {"code": f"{code}_named", "label": first.title(), "definition": f"Posts about {first}."}


@dataclass
class Behavior:
    """One scripted answer.  ``kind`` is one of the behaviours in the module docstring."""

    kind: str = "ok"
    retry_after: str | None = None  # 429: the Retry-After header value
    units: list[dict[str, Any]] | None = None  # ok: explicit units (default: one unit)


def B(kind: str, **kw: Any) -> Behavior:
    """Shorthand: ``B("429", retry_after="1")``."""
    return Behavior(kind, **kw)


def default_quote(text: str) -> str:
    """A verbatim quote: the first 60 characters of the text, stripped."""
    return text[:60].strip() or text


@dataclass
class _State:
    texts: dict[str, str] = field(default_factory=dict)  # rendered user content -> text
    known: set[str] = field(default_factory=set)
    scripts: dict[str, list[Behavior]] = field(default_factory=dict)
    served: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)
    log: list[tuple[float, str | None, str]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # text -> requests
    all_bodies: list[dict[str, Any]] = field(default_factory=list)  # every chat request
    targets: list[str] = field(default_factory=list)  # request path?query, in order


class FakeOpenAI:
    """The scripted server; ``start()`` runs it in a daemon thread on 127.0.0.1."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        slow_delay: float = 5.0,
        default: str = "ok",
        render: Render | None = None,
        unit: dict[str, str] | None = None,
        batch_delay: float = 0.2,
        record: bool = False,
        served_model: str | None = None,
        fingerprint: str | None = "fp_fake0001",
        open_label: OpenLabel | None = None,
        namer: Namer | None = None,
    ) -> None:
        self.delay = delay
        self.slow_delay = slow_delay
        self.default = default
        self.render = render
        self.unit = dict(unit or DEFAULT_UNIT)
        self.batch_delay = batch_delay
        self.record = record
        self.served_model = served_model
        self.fingerprint = fingerprint
        self.open_label = open_label or (lambda text, dim, unit: unit[dim].replace("_", " "))
        self.namer = namer or default_namer
        self.state = _State()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ scripting
    def add_texts(self, texts: Iterable[str]) -> None:
        """Register post texts so requests can be attributed to them."""
        with self._lock:
            for t in texts:
                self.state.known.add(t)
                if self.render is not None:
                    for m in self.render(t):
                        if m.get("role") == "user" and isinstance(m.get("content"), str):
                            self.state.texts[m["content"]] = t

    def script(self, text: str, behaviors: list[Behavior | str]) -> None:
        """Answers for successive requests about ``text`` (the last one repeats)."""
        self.add_texts([text])
        with self._lock:
            self.state.scripts[text] = [b if isinstance(b, Behavior) else B(b) for b in behaviors]

    @property
    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.state.counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.state.counts.values())

    def times(self, text: str) -> list[float]:
        """Arrival times (time.monotonic) of the requests about ``text``."""
        with self._lock:
            return [t for t, tx, _ in self.state.log if tx == text]

    def requests(self, text: str) -> list[dict[str, Any]]:
        """The JSON bodies of the chat requests about ``text`` (needs ``record=True``)."""
        with self._lock:
            return list(self.state.bodies.get(text, []))

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of all chat requests, in arrival order (needs ``record=True``)."""
        with self._lock:
            return list(self.state.all_bodies)

    def reset_counts(self) -> None:
        """Forget request counts and times (scripts go on where they were)."""
        with self._lock:
            self.state.counts.clear()
            self.state.log.clear()

    # ------------------------------------------------------------ lifecycle
    def stats(self, query: str = "") -> dict[str, Any]:
        """Chat latencies (from the ``since``-th request on) and this process's CPU time."""
        since = int(dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv).get("since", 0))
        lat = self.state.latencies[since:]
        return {
            "n": len(self.state.latencies),
            "count": len(lat),
            "mean": sum(lat) / len(lat) if lat else None,
            "max": max(lat) if lat else None,
            "cpu_s": time.process_time(),
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        def _run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=_run, name="fake-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def _close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(_close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def serve_forever(self, port: int = 0) -> None:
        """Serve in the current event loop (subprocess mode)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]
        print(f"PORT {self.port}", flush=True)
        async with self._server:
            await self._server.serve_forever()

    # ------------------------------------------------------------ HTTP plumbing
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await _read_chunked(reader)
                else:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                path, _, query = target.partition("?")
                if method == "GET" and path == "/_stats":
                    resp = 200, {}, json.dumps(self.stats(query)).encode()
                else:
                    self.state.targets.append(target)
                    resp = await self._route(method, path, headers, body, target)
                if resp is None:  # drop the connection
                    writer.transport.abort()
                    return
                status, extra, payload = resp
                hdrs = {"content-type": "application/json", **extra}
                out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}"]
                out += [f"{k}: {v}" for k, v in hdrs.items()]
                out.append(f"content-length: {len(payload)}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # server stopping: end quietly
            writer.transport.abort()
        finally:
            writer.close()

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes, target: str = ""
    ) -> tuple[int, dict[str, str], bytes] | None:
        if method == "POST" and path.endswith("/chat/completions"):
            t0 = time.monotonic()
            echo = _echo_url(headers, target)
            status, extra, payload = await self._chat(json.loads(body), live=True, echo=echo)
            self.state.latencies.append(time.monotonic() - t0)
            if status == -1:
                return None
            return status, extra, json.dumps(payload).encode()
        if method == "POST" and path.endswith("/files"):
            return 200, {}, json.dumps(self._upload(headers, body)).encode()
        if method == "GET" and path.endswith("/content") and "/files/" in path:
            fid = path.split("/files/", 1)[1].rsplit("/content", 1)[0]
            data = self.state.files.get(fid)
            if data is None:
                return 404, {}, _error("no such file")
            return 200, {"content-type": "application/octet-stream"}, data
        if method == "POST" and path.endswith("/batches"):
            return 200, {}, json.dumps(self._create_batch(json.loads(body))).encode()
        if method == "GET" and "/batches/" in path:
            b = self.state.batches.get(path.rsplit("/", 1)[1])
            if b is None:
                return 404, {}, _error("no such batch")
            return 200, {}, json.dumps(b).encode()
        return 404, {}, _error(f"no route {method} {path}")

    # ------------------------------------------------------------ chat
    def _find_text(self, messages: list[dict[str, Any]]) -> str | None:
        users = [m.get("content") for m in messages if m.get("role") == "user"]
        users = [u for u in users if isinstance(u, str)]
        for u in users:
            t = self.state.texts.get(u)
            if t is not None:
                return t
        for u in users:
            if u in self.state.known:
                return u
        best = None
        for t in self.state.known:  # fallback: slow substring search
            if any(t in u for u in users) and (best is None or len(t) > len(best)):
                best = t
        return best

    def _next_behavior(self, text: str | None) -> Behavior:
        with self._lock:
            self.state.counts[text] += 1
            self.state.log.append((time.monotonic(), text, ""))
            script = self.state.scripts.get(text) if text is not None else None
            if not script:
                return B(self.default)
            i = self.state.served[text]
            self.state.served[text] += 1
            return script[min(i, len(script) - 1)]

    async def _chat(
        self, req: dict[str, Any], *, live: bool, echo: str = ""
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        text = self._find_text(req.get("messages", []))
        if self.record:
            with self._lock:
                self.state.all_bodies.append(req)
                if text is not None:
                    self.state.bodies.setdefault(text, []).append(req)
        beh = self._next_behavior(text)
        if live and self.delay:
            await asyncio.sleep(self.delay)
        k = beh.kind
        if k == "429":
            return 429, {"retry-after": beh.retry_after or "1"}, json.loads(_error("rate limit"))
        if k == "500":
            return 500, {}, json.loads(_error("server error"))
        if k == "echo_url":
            return 400, {}, json.loads(_error(f"bad request for url {echo}"))
        if k == "drop":
            return -1, {}, {}
        if k == "slow" and live:
            await asyncio.sleep(self.slow_delay)
        body = self._completion(req, text or "", beh)
        return 200, {}, body

    def _content(
        self, text: str, beh: Behavior, open_dims: list[str] | None = None
    ) -> tuple[str | None, str | None]:
        """(JSON content, refusal) for a behaviour (``open_dims``: labels to add)."""
        unit = {**self.unit, "quote": default_quote(text)}
        k = beh.kind
        if k == "refuse":
            return None, "I can't help with that."
        if k == "invalid_json":
            return '{"relevant": true, "units": [ {"llm_product": ', None
        if k == "not_relevant":
            return json.dumps({"relevant": False, "units": []}), None
        if k == "bad_label":
            unit["perspective"] = "telepathy"
        elif k == "inject":
            unit["sentiment"] = "happy"
        elif k == "bad_quote":
            unit["quote"] = "words that never appear in the post at all"
        units = beh.units if beh.units is not None else [unit]
        if open_dims:
            units = [
                u
                if "open_labels" in u
                else {**u, "open_labels": {d: self.open_label(text, d, u) for d in open_dims}}
                for u in units
            ]
        return json.dumps({"relevant": True, "units": units}), None

    def _completion(self, req: dict[str, Any], text: str, beh: Behavior) -> dict[str, Any]:
        tools = req.get("tools") or []
        if tools and tools[0]["function"]["name"] == "CategoryName" and beh.kind == "ok":
            user = next(m["content"] for m in req["messages"] if m.get("role") == "user")
            content, refusal = json.dumps(self.namer(user)), None
        else:
            content, refusal = self._content(text, beh, _open_dims(req))
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": refusal}
        if refusal is None and req.get("tools"):
            choice = req.get("tool_choice")
            name = (
                choice["function"]["name"]
                if isinstance(choice, dict)
                else req["tools"][0]["function"]["name"]
            )
            message["tool_calls"] = [
                {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {"name": name, "arguments": content},
                }
            ]
        elif refusal is None:
            message["content"] = content
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in req["messages"]) // 4
        completion_tokens = len(content or refusal or "") // 4
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.served_model or req.get("model", "fake"),
            "system_fingerprint": self.fingerprint,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
            },
        }

    # ------------------------------------------------------------ files and batches
    def _upload(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        ctype = headers.get("content-type", "")
        boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
        data, filename, purpose = b"", "upload", "batch"
        for part in body.split(b"--" + boundary):
            if b"\r\n\r\n" not in part:
                continue
            head, _, content = part.partition(b"\r\n\r\n")
            content = content.removesuffix(b"\r\n")
            if b'name="file"' in head:
                data = content
                if b'filename="' in head:
                    filename = head.split(b'filename="', 1)[1].split(b'"', 1)[0].decode()
            elif b'name="purpose"' in head:
                purpose = content.decode()
        fid = f"file-{uuid.uuid4().hex[:16]}"
        self.state.files[fid] = data
        return {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }

    def _create_batch(self, req: dict[str, Any]) -> dict[str, Any]:
        bid = f"batch_{uuid.uuid4().hex[:16]}"
        batch = {
            "id": bid,
            "object": "batch",
            "endpoint": req.get("endpoint", "/v1/chat/completions"),
            "input_file_id": req["input_file_id"],
            "completion_window": req.get("completion_window", "24h"),
            "status": "validating",
            "created_at": int(time.time()),
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        self.state.batches[bid] = batch
        asyncio.get_running_loop().create_task(self._run_batch(batch))
        return dict(batch)

    async def _run_batch(self, batch: dict[str, Any]) -> None:
        batch["status"] = "in_progress"
        await asyncio.sleep(self.batch_delay)
        out, err = [], []
        lines = self.state.files[batch["input_file_id"]].decode().splitlines()
        for line in filter(None, lines):
            item = json.loads(line)
            status, _, body = await self._chat(item["body"], live=False)
            rid = f"batch_req_{uuid.uuid4().hex[:12]}"
            if status == 200:
                out.append(
                    {
                        "id": rid,
                        "custom_id": item["custom_id"],
                        "response": {"status_code": 200, "request_id": rid, "body": body},
                        "error": None,
                    }
                )
            else:
                code = "server_error" if status != 429 else "rate_limit_exceeded"
                err.append(
                    {
                        "id": rid,
                        "custom_id": item["custom_id"],
                        "response": None,
                        "error": {"code": code, "message": f"status {status}"},
                    }
                )
        for key, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{uuid.uuid4().hex[:16]}"
                self.state.files[fid] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[key] = fid
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(err)}
        batch["completed_at"] = int(time.time())
        batch["status"] = "completed"


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _open_dims(req: dict[str, Any]) -> list[str]:
    """The open-coded dimensions the request's schema asks for (``OpenLabels``)."""
    tools = req.get("tools") or []
    schema: Any = tools[0]["function"].get("parameters") if tools else None
    fmt = req.get("response_format") or {}
    if schema is None and isinstance(fmt.get("json_schema"), dict):
        schema = fmt["json_schema"].get("schema")
    defs = (schema or {}).get("$defs", {})
    return list(defs.get("OpenLabels", {}).get("properties", {}))


def _echo_url(headers: dict[str, str], target: str) -> str:
    """The request URL as the client saw it: basic-auth credentials put back in."""
    import base64

    auth = headers.get("authorization", "")
    userinfo = ""
    if auth.lower().startswith("basic "):
        userinfo = base64.b64decode(auth.split(" ", 1)[1]).decode("utf-8", "replace") + "@"
    return f"http://{userinfo}{headers.get('host', '')}{target}"


def _error(msg: str) -> bytes:
    return json.dumps({"error": {"message": msg, "type": "fake", "code": None}}).encode()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while True:
        size = int((await reader.readline()).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return data
        data += await reader.readexactly(size)
        await reader.readline()


def _prompt_render(codebook_path: str | None) -> Render:
    from vsdstats.coding.prompt import build_prompt
    from vsdstats.tables.codebook import load_codebook

    return build_prompt(load_codebook(codebook_path)).messages


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="scripted local OpenAI-compatible server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--texts", help="JSON list of post texts to attribute requests to")
    ap.add_argument("--codebook", default=None)
    args = ap.parse_args(argv)
    srv = FakeOpenAI(delay=args.delay, render=_prompt_render(args.codebook))
    if args.texts:
        with open(args.texts, encoding="utf-8") as f:
            srv.add_texts(json.load(f))

    async def _report() -> None:  # latency stats on stderr, for the benchmark
        while True:
            await asyncio.sleep(1.0)
            lat = srv.state.latencies
            if lat:
                import sys

                print(
                    f"LAT n={len(lat)} max={max(lat):.3f} mean={sum(lat) / len(lat):.3f}",
                    file=sys.stderr,
                    flush=True,
                )

    async def _main() -> None:
        asyncio.get_running_loop().create_task(_report())
        await srv.serve_forever(args.port)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
