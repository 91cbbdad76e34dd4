"""The Reddit connector: format detection and dispatch."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

from vsdstats.connector_kit import peek, read_guarded
from vsdstats.platforms import Connector, Record, Reject, Source

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
        """``pushshift-ndjson`` for dump lines, ``reddit-api-json`` for API listings."""
        head = _decompress_head(head).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"["):
            return API if b'"Listing"' in head[:4096] else None
        if not head.startswith(b"{"):
            return None
        if b'"interactions"' in head[:200] and b"reddit.com" in head:
            return API  # a PRAW betamax cassette wrapping API responses
        first = head.split(b"\n", 1)[0]
        if b'"kind"' in first[:200] and b'"Listing"' in first[:200]:
            return API
        try:
            obj = json.loads(first)
        except ValueError:  # first line cut by the head, or a pretty-printed document
            if b'"Listing"' in head[:4096]:
                return API
            keys = (b'"created_utc"', b'"subreddit"')
            return PUSHSHIFT if all(k in first for k in keys) else None
        if isinstance(obj, dict) and "created_utc" in obj and ("title" in obj or "body" in obj):
            return PUSHSHIFT
        return None

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
