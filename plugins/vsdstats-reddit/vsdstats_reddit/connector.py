"""The Reddit connector: format detection and dispatch."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

from vsdstats.connectors import (
    SNIFF_LINES,
    Connector,
    Record,
    Reject,
    Source,
    head_values,
    peek,
    read_guarded,
    strip_bom,
)

from .dump import read_dump
from .listing import read_api

PUSHSHIFT = "pushshift-ndjson"
API = "reddit-api-json"
_HEAD = 1 << 16


class RedditConnector(Connector):
    """Reddit submissions and comments from dumps, API listings, or snscrape."""

    name = "reddit"
    formats = (PUSHSHIFT, API)
    can_collect = True
    live_module = "vsdstats_reddit.live"
    version = "0.1.0"

    def sniff(self, head: bytes) -> str | None:
        """``pushshift-ndjson`` for dump lines, ``reddit-api-json`` for API listings; the
        first lines that parse are looked at, so a bad first line does not hide the rest."""
        head = strip_bom(_decompress_head(head))
        body = head.lstrip(b" \t\r\n")
        if b'"interactions"' in body[:200] and b"reddit.com" in head:
            return API  # a PRAW betamax cassette wrapping API responses
        values = head_values(head)
        for value in values:
            if _is_listing(value):
                return API
            if (
                isinstance(value, dict)
                and "created_utc" in value
                and ("title" in value or "body" in value)
            ):
                return PUSHSHIFT
        if values:
            return None
        # the first line cut by the head, or a pretty-printed document, after bad lines
        starts = [ln for ln in body.split(b"\n")[:SNIFF_LINES] if ln.startswith((b"{", b"["))]
        if not starts:
            return None
        body = body[body.index(starts[0]) :]
        if b'"Listing"' in body[:4096]:
            return API
        first = starts[0]
        keys = (b'"created_utc"', b'"subreddit"')
        return PUSHSHIFT if all(k in first for k in keys) else None

    def read(self, source: Source, format: str | None = None) -> Iterator[Record]:
        """Submissions and comments as RawPosts; everything else as Rejects."""
        return read_guarded(source, partial(self._read, format=format))

    def _read(self, name: str, stream: BinaryIO, format: str | None) -> Iterator[Record]:
        if format is None:
            head, stream = peek(stream, _HEAD)
            format = self.sniff(head)
            if format is None:
                yield Reject(name, 0, "empty file" if not head.strip() else _not_reddit(head))
                return
        if format == PUSHSHIFT:
            yield from read_dump(stream, name)
        elif format == API:
            yield from read_api(stream, name)
        else:
            yield Reject(name, 0, f"unknown format {format!r} (reddit reads {self.formats})")


def _is_listing(value: object) -> bool:
    """A Reddit API Listing, or a list of them (a submission with its comments)."""
    if isinstance(value, list):
        return bool(value) and all(_is_listing(v) for v in value)
    return isinstance(value, dict) and value.get("kind") == "Listing"


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
