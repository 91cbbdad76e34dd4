"""Live collection with the official ``atproto`` Python client (Bluesky's XRPC API).

``collect(query, since=, until=)`` pages through ``app.bsky.feed.searchPosts``
(``q`` = the query, ``sort=latest``, ``since``/``until`` as ISO 8601 datetimes, up to
100 posts a page), following the response's ``cursor``; that cursor is the resume
state (``Cursor({"cursor": "..."})`` after each page, ``Cursor({})`` once the search
returns no further cursor).  Each post view goes through the same mapping as a saved
``searchPosts`` response (:mod:`vsdstats_bluesky.connector`).  Bluesky has no
communities, so ``--community`` is refused.

Credentials (``vsdstats.connectors.credential``): BLUESKY_HANDLE and
BLUESKY_APP_PASSWORD (an app password from Settings > Privacy and security > App
passwords, not the account password), used once per run for
``com.atproto.server.createSession``.  BLUESKY_BASE_URL (default
``https://bsky.social``) points the client at another server (a PDS, tests).

Rate limits: atproto does not retry; a 429 raises ``RateLimitExceededError``.  It is
retried after ``Retry-After`` seconds, else until ``ratelimit-reset`` (a Unix time),
else after 2, 4, 8, ... s, at most MAX_RETRIES times; a page answered with
``ratelimit-remaining: 0`` also waits for ``ratelimit-reset`` before the next request.
An access token the server calls expired (``400 ExpiredToken``) is refreshed once with
``com.atproto.server.refreshSession`` (if that fails too: a new ``createSession``) and
the request repeated.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from vsdstats.connectors import Cursor, RawSink, Record, Reject, credential
from vsdstats.connectors.credentials import CredentialError
from vsdstats.ingest.pipeline import IngestError

from .connector import _post_view, _safe

SOURCE = "collect:bluesky"
PAGE = 100  # searchPosts' largest page
MAX_RETRIES = 5
MAX_WAIT = 900.0  # Bluesky's rate-limit windows are at most 5 minutes for reads
CREDENTIALS = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
DEFAULT_BASE_URL = "https://bsky.social"
_EXPIRED = {"ExpiredToken", "InvalidToken"}


def iso(dt: datetime) -> str:
    """``dt`` as the ISO 8601 UTC datetime searchPosts takes (``...Z``)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _xrpc_error(exc: Exception) -> str | None:
    """The XRPC ``error`` name of an atproto request error (e.g. ``ExpiredToken``)."""
    content = getattr(getattr(exc, "response", None), "content", None)
    return getattr(content, "error", None)


def rate_limit_wait(exc: Any, attempt: int, now: float | None = None) -> float:
    """Seconds to wait after a 429: Retry-After, else until ratelimit-reset, else 2^(n+1)."""
    if exc.retry_after is not None:
        wait = float(exc.retry_after)
    elif exc.reset_at is not None:
        wait = exc.reset_at.timestamp() - (time.time() if now is None else now)
    else:
        wait = 2.0 ** (attempt + 1)
    return min(max(wait, 0.0), MAX_WAIT)


class Session:
    """An atproto ``Client`` logged in with the credentials, with retry rules."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        from atproto import Client

        self.handle = credential("BLUESKY_HANDLE")
        self.password = credential("BLUESKY_APP_PASSWORD")
        self.sleep = sleep
        self.client = Client(base_url=os.environ.get("BLUESKY_BASE_URL") or DEFAULT_BASE_URL)
        self.login()

    def login(self) -> None:
        """``com.atproto.server.createSession``; a refusal is a one-line CredentialError."""
        from atproto.exceptions import AtProtocolError

        try:
            self.client.login(self.handle, self.password, fetch_bsky_profile=False)
        except AtProtocolError as exc:  # the message never holds the password
            raise CredentialError(
                f"Bluesky login (createSession) failed: {exc}; check BLUESKY_HANDLE and "
                "BLUESKY_APP_PASSWORD"
            ) from None

    def refresh(self) -> None:
        """``com.atproto.server.refreshSession``, else a new session."""
        from atproto.exceptions import AtProtocolError

        try:
            self.client._refresh_and_set_session()  # the client's own refresh path
        except AtProtocolError:
            self.login()

    def query(self, nsid: str, params: Any) -> Any:
        """``nsid`` with ``params``: the response (headers and JSON content), after
        waiting out 429s and refreshing an expired token once."""
        from atproto.exceptions import (
            AtProtocolError,
            BadRequestError,
            RateLimitExceededError,
            UnauthorizedError,
        )

        refreshed = False
        attempt = 0
        while True:
            try:
                response = self.client.invoke_query(nsid, params=params)
            except RateLimitExceededError as exc:
                if attempt == MAX_RETRIES:
                    raise IngestError(
                        f"Bluesky kept answering 429 Too Many Requests ({MAX_RETRIES} retries)"
                    ) from None
                self.sleep(rate_limit_wait(exc, attempt))
                attempt += 1
                continue
            except (BadRequestError, UnauthorizedError) as exc:
                if _xrpc_error(exc) in _EXPIRED and not refreshed:
                    refreshed = True
                    self.refresh()
                    continue
                raise IngestError(f"Bluesky {nsid}: {exc}") from None
            except AtProtocolError as exc:
                raise IngestError(f"Bluesky {nsid}: {exc}") from None
            self._respect_remaining(response.headers)
            return response

    def _respect_remaining(self, headers: dict[str, Any]) -> None:
        """Sleep until ``ratelimit-reset`` when a response says no requests remain."""
        try:
            remaining = int(headers.get("ratelimit-remaining", 1))
            reset = float(headers.get("ratelimit-reset", 0))
        except (TypeError, ValueError):
            return
        if remaining <= 0 and reset:
            self.sleep(min(max(reset - time.time(), 0.0), MAX_WAIT))


def post_to_record(view: Any, line: int) -> Record:
    """A searchPosts post view through the connector's mapping."""
    out = _safe(_post_view, view)
    if isinstance(out, str):
        return Reject(SOURCE, line, out)
    out.source_file = None
    return out


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    session: Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Record | Cursor]:
    """Search posts matching ``query`` (see the module docstring)."""
    from atproto import models

    session = session if session is not None else Session(sleep)
    cursor = (state or {}).get("cursor")
    n = 0
    while True:
        page = PAGE if limit is None else max(1, min(PAGE, limit - n))
        params = models.AppBskyFeedSearchPosts.Params(
            q=query,
            sort="latest",
            limit=page,
            cursor=cursor,
            since=iso(since) if since else None,
            until=iso(until) if until else None,
        )
        response = session.query("app.bsky.feed.searchPosts", params)
        body = response.content if isinstance(response.content, dict) else {}
        if raw is not None:
            raw("app.bsky.feed.searchPosts", json.dumps(body, ensure_ascii=False).encode())
        posts = body.get("posts") if isinstance(body.get("posts"), list) else []
        following = body.get("cursor") if isinstance(body.get("cursor"), str) else None
        for i, view in enumerate(posts):
            n += 1
            yield post_to_record(view, n)
            if limit is not None and n >= limit and i < len(posts) - 1:
                # stopped inside a page: the next run reads this page again (ingest
                # drops the posts it already has, by id)
                yield Cursor({"cursor": cursor} if cursor else {})
                return
        cursor = following
        if not posts or not cursor:
            yield Cursor({})  # the search is exhausted: the next run starts from the newest
            return
        yield Cursor({"cursor": cursor})
        if limit is not None and n >= limit:
            return
