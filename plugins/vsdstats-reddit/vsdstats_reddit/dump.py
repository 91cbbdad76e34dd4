"""Pushshift / Arctic Shift dump files: one submission or comment per line (NDJSON)."""

from __future__ import annotations

from typing import Any

from vsdstats.connectors import Record, Reject

from .things import BadThing, thing_to_post


def dump_line(value: Any, name: str, line: int) -> Record:
    """One dump line's value (the file is streamed line by line, plain or .zst/.gz
    decompressed by open_source)."""
    if isinstance(value, dict) and value.get("kind") == "Listing":
        return Reject(name, line, "a Reddit API Listing, not a dump line (use reddit-api-json)")
    try:
        return thing_to_post(value, name, line)
    except BadThing as exc:
        return Reject(name, line, str(exc))
