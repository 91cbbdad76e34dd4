"""Live collection from the TikTok Research API over httpx.

Token: ``POST /v2/oauth/token/`` (``grant_type=client_credentials`` with
TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET, form-encoded) gives a bearer token
(``expires_in`` 7200 s); a response with error code ``access_token_invalid`` gets a
new token once, then the request is repeated.

Videos: ``POST /v2/research/video/query/?fields=...`` with body ``{"query": {"and":
[{"operation": "IN", "field_name": "keyword", "field_values": [query]}]},
"start_date", "end_date", "max_count": 100, "cursor", "search_id"}``; pages follow
``data.cursor`` and ``data.search_id`` while ``data.has_more``.  Dates are UTC days
(YYYYMMDD, both ends included); the API takes at most 30 days per query, so
``--since..--until`` is split into windows of 30 days, read oldest first.  Without
``--until`` the window ends today, without ``--since`` 29 days before ``--until``.

Comments: for each video of a page with ``comment_count > 0``,
``POST /v2/research/video/comment/list/?fields=...`` with ``{"video_id", "max_count":
100, "cursor"}``, paged by ``data.cursor`` while ``data.has_more``.

Both map through the plugin's Research API mapping (:mod:`.connector`).  Cursor
(yielded after every request's records): ``{"window": "YYYYMMDD" (its first day),
"cursor", "search_id", "more" (has_more of the last video page), "videos": [ids
still to read comments of], "comment_cursor"}``; ``{}`` once every window is read.

Rate limits: a 429 (or 5xx) is retried after ``Retry-After`` seconds when given, else
``x-ratelimit-reset`` (epoch seconds), else 2, 4, 8, ... s, up to MAX_RETRIES times;
error code ``daily_quota_limit_exceeded`` ends the run with a one-line error, the
cursor of the last complete page kept.  ``--limit`` is checked after each page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from vsdstats.connectors import Cursor, RawPost, RawSink, Record, Reject, credential

from .connector import _value

SOURCE = "collect:tiktok"
CREDENTIALS = ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET")
DEFAULT_BASE = "https://open.tiktokapis.com"
MAX_RETRIES = 5
MAX_COUNT = 100  # the Research API's page ceiling
WINDOW_DAYS = 30  # end_date - start_date may not exceed 30 days
VIDEO_FIELDS = (
    "id,video_description,create_time,region_code,like_count,comment_count,"
    "share_count,view_count,hashtag_names,username"
)
COMMENT_FIELDS = "id,video_id,text,like_count,reply_count,parent_comment_id,create_time"
QUOTA_CODES = frozenset({"daily_quota_limit_exceeded"})


def _fail(message: str) -> Exception:
    from vsdstats.ingest.pipeline import IngestError

    return IngestError(f"tiktok: {message}")


def windows(since: datetime | None, until: datetime | None, today: date | None = None):
    """``(start, end)`` day pairs covering since..until, each at most WINDOW_DAYS - 1
    days apart (so both ends included stay within TikTok's 30-day limit)."""
    end = (until.astimezone(timezone.utc).date() if until else None) or (
        today or datetime.now(timezone.utc).date()
    )
    start = since.astimezone(timezone.utc).date() if since else end - timedelta(WINDOW_DAYS - 1)
    out = []
    while start <= end:
        stop = min(start + timedelta(WINDOW_DAYS - 1), end)
        out.append((start, stop))
        start = stop + timedelta(1)
    return out


class Client:
    """Bearer-token POSTs to the Research API with retries (see the module docstring)."""

    def __init__(
        self, raw: RawSink | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        import httpx

        self.base = (os.environ.get("TIKTOK_API_BASE_URL") or DEFAULT_BASE).rstrip("/")
        self.key = credential("TIKTOK_CLIENT_KEY")
        self.secret = credential("TIKTOK_CLIENT_SECRET")
        self.http = httpx.Client(timeout=60.0)
        self.raw, self.sleep = raw, sleep
        self.token: str | None = None

    def fetch_token(self) -> str:
        r = self._send(
            "/v2/oauth/token/",
            data={
                "client_key": self.key,
                "client_secret": self.secret,
                "grant_type": "client_credentials",
            },
        )
        body = _json(r)
        token = body.get("access_token") if isinstance(body, dict) else None
        if r.status_code != 200 or not isinstance(token, str) or not token:
            code = body.get("error") if isinstance(body, dict) else None
            raise _fail(
                f"the token request was refused (HTTP {r.status_code}"
                f"{', ' + str(code) if isinstance(code, str) else ''}): check "
                "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET"
            )
        self.token = token
        return token

    def _send(self, path: str, **kwargs: Any) -> Any:
        """One POST with the 429/5xx retries."""
        import httpx

        for attempt in range(MAX_RETRIES + 1):
            try:
                r = self.http.post(self.base + path, **kwargs)
            except httpx.HTTPError as exc:
                raise _fail(f"{path}: {type(exc).__name__}") from None
            code = _code(r)
            if code in QUOTA_CODES:
                raise _fail(
                    "the Research API's daily quota is used up; the pages read so far are "
                    "stored and the same command resumes tomorrow"
                )
            if r.status_code != 429 and r.status_code < 500:
                return r
            if attempt == MAX_RETRIES:
                raise _fail(f"{path}: HTTP {r.status_code} after {MAX_RETRIES} retries")
            self.sleep(_wait(r, attempt))
        raise AssertionError("unreachable")

    def post(self, path: str, fields: str, body: dict[str, Any], label: str) -> dict[str, Any]:
        """The ``data`` of a Research API response (a new token once if it expired)."""
        if self.token is None:
            self.fetch_token()
        for renewed in (False, True):
            r = self._send(
                path,
                params={"fields": fields},
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
            if _code(r) == "access_token_invalid" and not renewed:
                self.fetch_token()
                continue
            break
        if self.raw is not None:
            self.raw(label, r.content)
        doc = _json(r)
        err = doc.get("error") if isinstance(doc, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        if r.status_code != 200 or code not in (None, "ok"):
            msg = err.get("message") if isinstance(err, dict) else None
            raise _fail(f"{path}: HTTP {r.status_code} {code or ''} {msg or ''}".rstrip())
        data = doc.get("data")
        return data if isinstance(data, dict) else {}


def _json(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _code(r: Any) -> str | None:
    doc = _json(r)
    err = doc.get("error") if isinstance(doc, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    return code if isinstance(code, str) else None


def _wait(r: Any, attempt: int) -> float:
    """Seconds before retry ``attempt``: Retry-After, x-ratelimit-reset, else 2**(n+1)."""
    try:
        if r.headers.get("Retry-After"):
            return min(max(float(r.headers["Retry-After"]), 0.0), 600.0)
        if r.headers.get("x-ratelimit-reset"):
            return min(max(float(r.headers["x-ratelimit-reset"]) - time.time(), 0.0), 600.0)
    except ValueError:
        pass
    return 2.0 ** (attempt + 1)


def _records(data: dict[str, Any], n: int) -> Iterator[Record]:
    """The page's videos or comments through the plugin's mapping (Rejects numbered on)."""
    if not any(isinstance(data.get(k), list) for k in ("videos", "comments")):
        return
    for i, out in enumerate(_value({"data": data}), start=n + 1):
        if isinstance(out, RawPost):
            out.source_file = None
            yield out
        else:
            yield Reject(SOURCE, i, out)


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    client: Client | None = None,
) -> Iterator[Record | Cursor]:
    """Videos matching ``query`` and their comments (see the module docstring)."""
    api = client if client is not None else Client(raw)
    st: dict[str, Any] = dict(state or {})
    spans = windows(since, until)
    first = st.get("window")
    if first is not None:
        spans = [w for w in spans if w[0].strftime("%Y%m%d") >= first]
    n = 0
    for start, end in spans:
        day = start.strftime("%Y%m%d")
        if st.get("window") != day:
            st = {"window": day, "cursor": 0, "search_id": None, "more": True, "videos": []}
            st["comment_cursor"] = 0
        while True:
            while st["videos"]:
                video = st["videos"][0]
                body = {"video_id": int(video), "max_count": MAX_COUNT}
                body["cursor"] = st["comment_cursor"]
                path = "/v2/research/video/comment/list/"
                data = api.post(path, COMMENT_FIELDS, body, "comment-list")
                for rec in _records(data, n):
                    n += 1
                    yield rec
                if data.get("has_more") and isinstance(data.get("cursor"), int):
                    st["comment_cursor"] = data["cursor"]
                else:
                    st["videos"], st["comment_cursor"] = st["videos"][1:], 0
                yield Cursor(dict(st))
                if limit is not None and n >= limit:
                    return
            if not st["more"]:
                break
            body = {
                "query": {
                    "and": [{"operation": "IN", "field_name": "keyword", "field_values": [query]}]
                },
                "start_date": day,
                "end_date": end.strftime("%Y%m%d"),
                "max_count": MAX_COUNT,
                "cursor": st["cursor"],
            }
            if st["search_id"]:
                body["search_id"] = st["search_id"]
            data = api.post("/v2/research/video/query/", VIDEO_FIELDS, body, "video-query")
            videos = [v for v in data.get("videos") or [] if isinstance(v, dict)]
            for rec in _records(data, n):
                n += 1
                yield rec
            st["videos"] = [
                str(v.get("id", v.get("video_id")))
                for v in videos
                if isinstance(v.get("id", v.get("video_id")), int) and v.get("comment_count")
            ]
            st["comment_cursor"] = 0
            st["more"] = bool(data.get("has_more")) and isinstance(data.get("cursor"), int)
            st["cursor"] = data.get("cursor") if st["more"] else 0
            st["search_id"] = data.get("search_id") or st["search_id"]
            yield Cursor(dict(st))
            if limit is not None and n >= limit:
                return
    yield Cursor({})
