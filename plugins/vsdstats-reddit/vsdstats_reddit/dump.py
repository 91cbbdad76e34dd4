"""Pushshift / Arctic Shift dump files: one submission or comment per line (NDJSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from vsdstats.connectors import Record, Reject, iter_json_lines

from .things import BadThing, thing_to_post


def read_dump(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Stream dump lines (plain, or .zst/.gz already decompressed by open_source)."""
    for item in iter_json_lines(stream, name):
        if isinstance(item, Reject):
            yield item
            continue
        line, value = item
        if isinstance(value, dict) and value.get("kind") == "Listing":
            yield Reject(name, line, "a Reddit API Listing, not a dump line (use reddit-api-json)")
            continue
        try:
            yield thing_to_post(value, name, line)
        except BadThing as exc:
            yield Reject(name, line, str(exc))
