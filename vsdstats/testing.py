"""Test helpers shared by the vsdstats suite and the plugins' tests (pytest and
hypothesis come with the ``test`` extra; nothing here runs at import).

- :func:`load_hypothesis_profiles`: "ci" (no deadline, bounded and derandomized
  examples; chosen when CI is set) and "dev"; HYPOTHESIS_PROFILE overrides.
- :func:`require`: a missing prerequisite (R, ../shared) skips a test on a developer
  machine and FAILS it when CI or VSDSTATS_REQUIRE_R is set, so CI never passes by
  skipping.
- :func:`shared_dir`: ../shared beside the checkout (real sample files, read-only).
- :class:`ReplayHandler`, :func:`replay_server`: the loopback servers that replay a
  platform's API to its real client library in the collectors' tests;
  :func:`folder_bytes`: every byte of a folder, to check no handle or key is in it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CI_MAX_EXAMPLES = 60
DEV_MAX_EXAMPLES = 100


def strict() -> bool:
    """True under CI (or VSDSTATS_REQUIRE_R): missing prerequisites fail."""
    return bool(os.environ.get("CI") or os.environ.get("VSDSTATS_REQUIRE_R"))


def require(condition: bool, why: str) -> None:
    """Skip on a developer machine, fail under CI, when a test prerequisite is missing."""
    import pytest

    if condition:
        return
    if strict():
        pytest.fail(f"required in CI but missing: {why}", pytrace=False)
    pytest.skip(why)


def load_hypothesis_profiles() -> None:
    """Register the "ci" and "dev" profiles and load the one in use."""
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        deadline=None,
        max_examples=CI_MAX_EXAMPLES,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("dev", deadline=None, max_examples=DEV_MAX_EXAMPLES)
    default = "ci" if os.environ.get("CI") else "dev"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or default)


def shared_dir(checkout: Path) -> Path:
    """``checkout/../shared``, or skip (fail under CI) when it is missing."""
    shared = checkout.resolve().parent / "shared"
    require(shared.is_dir(), f"shared fixtures not found at {shared}")
    return shared


class ReplayHandler(BaseHTTPRequestHandler):
    """Request handler of a loopback replay server: no request log on stderr, and
    :meth:`send_json` for the API's JSON answers."""

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer ``code`` with ``body`` as JSON (UTF-8) and any extra ``headers``."""
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def replay_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a thread; yields the base URL
    ``http://127.0.0.1:PORT``, and shuts the server down afterwards."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def folder_bytes(folder: str | Path) -> bytes:
    """The bytes of every file under ``folder``, concatenated (for "not in any byte")."""
    return b"".join(f.read_bytes() for f in sorted(Path(folder).rglob("*")) if f.is_file())
