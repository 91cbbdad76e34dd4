"""The X connector: format detection, API v2 pages, twarc-flat and snscrape lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from vsdstats.connectors import (
    JsonConnector,
    JsonFile,
    JsonFormat,
    RawPost,
    Record,
    Reject,
    strip_bom,
)

from .tweets import BadTweet, snscrape_to_post, v2_tweet_to_post

V2 = "x-api-v2"
FLAT = "twarc-flat"
SNSCRAPE = "snscrape-jsonl"
_PAGE_RE = re.compile(rb'^\s*(\[\s*)?\{\s*"(data|errors|includes|meta)"\s*:')


def classify(obj: Any) -> str | None:
    """The format a parsed JSON value belongs to, or None if it is not X data."""
    if isinstance(obj, list):
        pages = obj and all(isinstance(o, dict) and classify(o) == V2 for o in obj)
        return V2 if pages else None
    if not isinstance(obj, dict):
        return None
    meta = obj.get("meta")
    if "data" in obj or "errors" in obj or (isinstance(meta, dict) and "result_count" in meta):
        return V2 if not isinstance(obj.get("data"), dict) or "text" in obj["data"] else None
    if ("rawContent" in obj or "content" in obj) and "user" in obj and "date" in obj:
        return SNSCRAPE
    if "id" in obj and "text" in obj and ("author_id" in obj or "author" in obj):
        return FLAT
    return None


class XConnector(JsonConnector):
    """Tweets from X API v2 pages (twarc2), twarc-flattened lines, or snscrape.

    Every JSON value is classified on its own (a file may mix formats); with a
    ``format`` given, values of another format are Rejects.  Errors, edits, duplicates
    and bad lines are Rejects.
    """

    name = "x"
    formats = (
        JsonFormat(V2, parser="parse_page"),
        JsonFormat(FLAT, parser="parse_flat"),
        JsonFormat(SNSCRAPE, parser="parse_snscrape"),
    )
    read_mode = "values"
    mixed_formats = True
    # the X API v2 search through twarc (snscrape's Twitter search fails since X closed
    # unauthenticated search in 2023; vsdstats_x.live keeps its item mapping)
    can_collect = True
    live_module = "vsdstats_x.twarc_live"
    credentials = ("X_BEARER_TOKEN",)

    def classify(self, value: Any) -> str | None:
        return classify(value)

    def not_ours(self, value: Any) -> str:
        return _foreign(value)

    def sniff_head(self, head: bytes) -> str | None:
        """No value in ``head`` parses: its first line is cut off by the head, or it
        starts a pretty-printed document."""
        head = strip_bom(head).lstrip(b" \t\r\n")
        first = head.split(b"\n", 1)[0]
        if _PAGE_RE.match(head):
            return V2 if b'"text"' in head or b'"errors"' in head else None
        if b'"rawContent"' in first or b'"renderedContent"' in first:
            return SNSCRAPE
        if b'"author_id"' in first and b'"author"' in first and b'"text"' in first:
            return FLAT
        return None

    def parse_page(self, value: Any, file: JsonFile) -> Iterator[Record]:
        """The tweets of an API v2 page (or a list of pages)."""
        reader = _Reader.of(file)
        for page in value if isinstance(value, list) else [value]:
            yield from reader.page(page, file.line)

    def parse_flat(self, value: Any, file: JsonFile) -> Iterator[Record]:
        make = partial(v2_tweet_to_post, value, {}, {}, file.name, file.line)
        yield _Reader.of(file).one(make, file.line, value)

    def parse_snscrape(self, value: Any, file: JsonFile) -> Iterator[Record]:
        make = partial(snscrape_to_post, value, file.name, file.line)
        yield _Reader.of(file).one(make, file.line, value)


class _Reader:
    """State across one file: ids seen and versions superseded by edits."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: set[str] = set()
        self.older: dict[str, str] = {}  # superseded version id -> latest id

    @classmethod
    def of(cls, file: JsonFile) -> _Reader:
        """The state of ``file`` (made on its first tweet)."""
        if "x" not in file.state:
            file.state["x"] = cls(file.name)
        return file.state["x"]

    def page(self, page: dict[str, Any], line: int) -> Iterator[Record]:
        errors = page.get("errors") or []
        for err in errors if isinstance(errors, list) else [errors]:
            yield Reject(self.name, line, _api_error(err))
        inc = page.get("includes") if isinstance(page.get("includes"), dict) else {}
        users = _by_id(inc.get("users"))
        tweets = _by_id(inc.get("tweets"))
        data = page.get("data")
        data = [data] if isinstance(data, dict) else data
        if not isinstance(data, list) or not data:
            if not page.get("errors"):
                yield Reject(self.name, line, "API page without tweets (no data)")
            return
        for t in data:
            make = partial(v2_tweet_to_post, t, users, tweets, self.name, line)
            yield self.one(make, line, t)

    def one(self, make: Callable[[], RawPost], line: int, raw: Any) -> Record:
        try:
            post = make()
        except BadTweet as exc:
            return Reject(self.name, line, str(exc))
        return self._dedupe(post, raw, line)

    def _dedupe(self, post: RawPost, raw: Any, line: int) -> Record:
        hist = raw.get("edit_history_tweet_ids") if isinstance(raw, dict) else None
        hist = [str(h) for h in hist] if isinstance(hist, list) and hist else [post.post_id]
        latest = hist[-1]
        if post.post_id != latest:
            self.older[post.post_id] = latest
            return Reject(self.name, line, f"superseded edit version {post.post_id} of {latest}")
        if post.post_id in self.older:
            return Reject(
                self.name,
                line,
                f"superseded edit version {post.post_id} of {self.older[post.post_id]}",
            )
        if post.post_id in self.seen:
            return Reject(self.name, line, f"duplicate tweet {post.post_id}")
        self.seen.add(post.post_id)
        for old in hist[:-1]:
            self.older[old] = latest
        return post


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, dict) and "id" in i}


def _api_error(err: Any) -> str:
    """The API's error message, with the named resource (often a handle) redacted."""
    if not isinstance(err, dict):
        return "API error (unreadable error entry)"
    msg = str(err.get("detail") or err.get("message") or err.get("title") or "no detail")
    for k in ("value", "resource_id"):
        v = err.get(k)
        if isinstance(v, (str, int)) and str(v):
            msg = msg.replace(str(v), "<redacted>")
    title = err.get("title") or "error"
    rtype = err.get("resource_type") or "?"
    return f"API error ({title}, {rtype}): {msg}"


def _foreign(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]
    if isinstance(value, dict):
        if "created_utc" in value or value.get("kind") == "Listing":
            return "not X data (looks like Reddit)"
        if str(value.get("kind", "")).startswith("youtube#"):
            return "not X data (looks like YouTube)"
        return "not X data: neither an API v2 page, a twarc-flat tweet nor a snscrape tweet"
    return f"not X data: a JSON {type(value).__name__}"
