"""Live collection through google-api-python-client (YouTube Data API v3).

``collect(query)`` pages through ``search.list(q=query, type="video", part="snippet",
publishedAfter=since, publishedBefore=until)`` (50 videos a page) and, for each video
found, ``commentThreads.list(videoId=..., part="snippet,replies")`` (100 threads a
page); threads go through the plugin's Data API mapping (:mod:`.connector`), as
``youtube-data-api`` files do.  ``--since/--until`` select the videos by publication
time (the comments under them may be later).

Cursor (yielded after every page): ``{"search": <pageToken of the next search page or
None>, "videos": [video ids of the current search page still to read], "comments":
<pageToken of the next comment page of videos[0] or None>}``; ``{}`` once the search
is exhausted.  A rerun resumes there, so a run stopped by the daily quota continues
the next day without re-spending quota on pages already read.

Credential: YOUTUBE_API_KEY (an API key of a Google Cloud project with the YouTube Data
API v3 enabled).  YOUTUBE_API_BASE_URL points the client at another server (tests,
proxies).  The client uses its bundled discovery document (``static_discovery=True``):
no request before the first search.

The key travels as the ``key=`` query parameter, so it is kept out of everything that
could reach a study or --keep-raw: raw responses are labelled by their path only, the
client's retry warnings (which quote the request URL) are redacted, and an
``HttpError`` (whose text holds the URL) is never quoted.

Errors: 429 and 5xx are retried by googleapiclient (``num_retries``: exponential
backoff, up to 2**n s with jitter); 403 ``quotaExceeded`` / ``rateLimitExceeded`` /
``dailyLimitExceeded`` ends the run with a one-line error (the cursor of the last
complete page is kept); a video with comments disabled (403 ``commentsDisabled``) or
gone (404) is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from vsdstats.connectors import Cursor, RawPost, RawSink, Record, Reject, credential

from .connector import _thread

SOURCE = "collect:youtube"
CREDENTIALS = ("YOUTUBE_API_KEY",)
DEFAULT_BASE = "https://youtube.googleapis.com/"
NUM_RETRIES = 5  # googleapiclient's exponential backoff on 429/5xx
SEARCH_PAGE = 50  # search.list maxResults ceiling
THREAD_PAGE = 100  # commentThreads.list maxResults ceiling
QUOTA_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded", "dailyLimitExceeded"})
SKIP_REASONS = frozenset({"commentsDisabled", "videoNotFound", "forbidden"})
_KEY_RE = re.compile(r"([?&]key=)[^&\s'\"]*")


class QuotaUsedUp(Exception):
    """The API answered that the project's daily quota is spent."""


class _Skip(Exception):
    """A video whose comments cannot be read (disabled, gone): skipped."""


class _RedactKey(logging.Filter):
    """Replaces ``key=<api key>`` in googleapiclient's log records (retry warnings
    quote the request URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "key=" in msg:
            record.msg, record.args = _KEY_RE.sub(r"\1REDACTED", msg), None
        return True


def _redact_logs() -> None:
    for name in ("googleapiclient.http", "googleapiclient.discovery"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _RedactKey) for f in log.filters):
            log.addFilter(_RedactKey())


def _http(raw: RawSink | None) -> Any:
    """An ``httplib2.Http`` handing each response body to ``raw`` (labelled by path)."""
    import httplib2

    class Http(httplib2.Http):
        def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
            resp, content = super().request(uri, *args, **kwargs)
            if raw is not None:
                path = uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                raw(path or "response", content)  # the path only: the URL holds the key
            return resp, content

    return Http(timeout=60)


def make_youtube(raw: RawSink | None = None) -> Any:
    """The ``youtube`` v3 Resource from the bundled discovery document."""
    from googleapiclient.discovery import build

    _redact_logs()
    base = os.environ.get("YOUTUBE_API_BASE_URL") or DEFAULT_BASE
    return build(
        "youtube",
        "v3",
        developerKey=credential("YOUTUBE_API_KEY"),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": base.rstrip("/") + "/"},
        http=_http(raw),
    )


def _reason(exc: Any) -> str:
    """The first ``error.errors[].reason`` (else ``error.details[].reason``) of an
    HttpError's JSON body (Google's error shape); never its URL."""
    try:
        err = json.loads(exc.content.decode("utf-8"))["error"]
        for key in ("errors", "details"):
            items = err.get(key)
            if isinstance(items, list) and items and isinstance(items[0], dict):
                if items[0].get("reason"):
                    return str(items[0]["reason"])
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return ""


def _execute(request: Any, skip: bool = False) -> dict[str, Any]:
    """``request.execute`` with googleapiclient's retries; quota errors -> QuotaUsedUp,
    a video's unreadable comments (``skip``) -> _Skip, else a RuntimeError without URL."""
    from googleapiclient.errors import HttpError

    try:
        return request.execute(num_retries=NUM_RETRIES)
    except HttpError as exc:
        status, reason = exc.resp.status, _reason(exc)
        if status in (403, 429) and reason in QUOTA_REASONS:
            raise QuotaUsedUp(reason) from None
        if skip and (status == 404 or reason in SKIP_REASONS):
            raise _Skip(reason) from None
        raise RuntimeError(  # the status and reason only: str(exc) quotes the key
            f"YouTube API error {status} {reason or exc.resp.reason}"
        ) from None


def _rfc3339(d: datetime | None) -> str | None:
    if d is None:
        return None
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    youtube: Any = None,
) -> Iterator[Record | Cursor]:
    """Comments under the videos that ``search.list`` finds for ``query`` (see the
    module docstring)."""
    from vsdstats.ingest.pipeline import IngestError

    yt = youtube if youtube is not None else make_youtube(raw)
    state = dict(state or {})
    videos: list[str] = list(state.get("videos") or [])
    search_token: str | None = state.get("search")
    comment_token: str | None = state.get("comments")
    started = bool(state)
    search_args = {"q": query, "type": "video", "part": "snippet", "maxResults": SEARCH_PAGE}
    for key, value in (("publishedAfter", since), ("publishedBefore", until)):
        if value is not None:
            search_args[key] = _rfc3339(value)
    n = 0

    def cursor() -> Cursor:
        return Cursor({"search": search_token, "videos": list(videos), "comments": comment_token})

    try:
        while True:
            while videos:
                args: dict[str, Any] = {
                    "videoId": videos[0],
                    "part": "snippet,replies",
                    "maxResults": THREAD_PAGE,
                    "textFormat": "plainText",
                }
                if comment_token:
                    args["pageToken"] = comment_token
                try:
                    page = _execute(yt.commentThreads().list(**args), skip=True)
                except _Skip:
                    page = {}  # comments disabled or video gone: the next video
                for item in page.get("items") or []:
                    for out in _thread(item) if isinstance(item, dict) else ["not an object"]:
                        n += 1
                        if isinstance(out, RawPost):
                            out.source_file = None
                            yield out
                        else:
                            yield Reject(SOURCE, n, out)
                comment_token = page.get("nextPageToken") or None
                if not comment_token:
                    videos.pop(0)
                yield cursor()
                if limit is not None and n >= limit:
                    return
            if started and search_token is None:
                yield Cursor({})  # the last search page was read: the search is complete
                return
            args = dict(search_args)
            if search_token:
                args["pageToken"] = search_token
            page = _execute(yt.search().list(**args))
            started = True
            videos = [
                it["id"]["videoId"]
                for it in page.get("items") or []
                if isinstance(it, dict)
                and isinstance(it.get("id"), dict)
                and isinstance(it["id"].get("videoId"), str)
            ]
            search_token, comment_token = page.get("nextPageToken") or None, None
            yield cursor()
    except QuotaUsedUp as exc:
        raise IngestError(
            f"youtube: the API's daily quota is used up ({exc}); the pages read so far are "
            "stored and the same command resumes after the quota resets (midnight Pacific time)"
        ) from None
