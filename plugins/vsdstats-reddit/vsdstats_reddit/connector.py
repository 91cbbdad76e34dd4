"""The Reddit connector: format detection and dispatch."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import Any

from vsdstats.connectors import SNIFF_LINES, JsonConnector, JsonFile, JsonFormat, Record, strip_bom

from .dump import dump_line
from .listing import api_value

PUSHSHIFT = "pushshift-ndjson"
API = "reddit-api-json"
_HEAD = 1 << 16


def _is_listing(value: object) -> bool:
    """A Reddit API Listing, or a list of them (a submission with its comments)."""
    if isinstance(value, list):
        return bool(value) and all(_is_listing(v) for v in value)
    return isinstance(value, dict) and value.get("kind") == "Listing"


def _is_dump_line(value: object) -> bool:
    """A Pushshift submission or comment."""
    return (
        isinstance(value, dict) and "created_utc" in value and ("title" in value or "body" in value)
    )


class RedditConnector(JsonConnector):
    """Reddit submissions and comments from dumps, API listings, or snscrape; a file's
    format is sniffed from its head unless given."""

    name = "reddit"
    formats = (
        JsonFormat(PUSHSHIFT, match=_is_dump_line, parser="parse_dump", lines=True),
        JsonFormat(API, match=_is_listing, parser="parse_api"),
    )
    sniff_order = (API, PUSHSHIFT)
    read_mode = "values"
    can_collect = True
    live_module = "vsdstats_reddit.praw_live"  # Reddit's API through PRAW
    credentials = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")

    def sniff(self, head: bytes) -> str | None:
        """``pushshift-ndjson`` for dump lines, ``reddit-api-json`` for API listings; the
        first lines that parse are looked at, so a bad first line does not hide the rest."""
        head = strip_bom(_decompress_head(head))
        body = head.lstrip(b" \t\r\n")
        if b'"interactions"' in body[:200] and b"reddit.com" in head:
            return API  # a PRAW betamax cassette wrapping API responses
        return super().sniff(head)

    def sniff_head(self, head: bytes) -> str | None:
        """The first line cut by the head, or a pretty-printed document, after bad lines."""
        body = head.lstrip(b" \t\r\n")
        starts = [ln for ln in body.split(b"\n")[:SNIFF_LINES] if ln.startswith((b"{", b"["))]
        if not starts:
            return None
        body = body[body.index(starts[0]) :]
        if b'"Listing"' in body[:4096]:
            return API
        first = starts[0]
        keys = (b'"created_utc"', b'"subreddit"')
        return PUSHSHIFT if all(k in first for k in keys) else None

    def not_ours_head(self, head: bytes) -> str:
        return _not_reddit(head)

    def parse_dump(self, value: Any, file: JsonFile) -> Iterator[Record]:
        yield dump_line(value, file.name, file.line)

    def parse_api(self, value: Any, file: JsonFile) -> Iterator[Record]:
        return api_value(value, file.name, file.line)


def _not_reddit(head: bytes) -> str:
    hint = ""
    if any(k in head for k in (b'"author_id"', b'"conversationId"', b'"rawContent"', b"twitter")):
        hint = " (looks like X/Twitter data)"
    elif b"youtube#" in head:
        hint = " (looks like YouTube data)"
    elif b'"at://' in head:
        hint = " (looks like Bluesky data)"
    return f"not a Reddit file: neither Pushshift dump lines nor Reddit API listings{hint}"


def _decompress_head(head: bytes) -> bytes:
    """Decompressed start of a .zst or .gz head (for sniffing raw compressed bytes)."""
    try:
        if head.startswith(b"\x28\xb5\x2f\xfd"):
            import zstandard

            dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
            with dctx.stream_reader(io.BytesIO(head)) as r:
                return r.read(_HEAD)
        if head.startswith(b"\x1f\x8b"):
            return zlib.decompressobj(wbits=31).decompress(head, _HEAD)
    except Exception:  # truncated head: decompress what we can, else not ours
        return b""
    return head
