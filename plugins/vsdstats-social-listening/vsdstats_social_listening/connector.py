"""The social-listening connector: Brandwatch-style CSV and JSONL exports."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO

from vsdstats.connectors import Connector, Record, Reject, Source, head_values, peek, read_guarded

from .rows import norm
from .tables import HEADER_SCAN, is_header, read_csv, read_jsonl

CSV = "brandwatch-csv"
JSONL = "brandwatch-jsonl"


def _is_mention(obj: object) -> bool:
    """A mention object (or an API page whose first result is one)."""
    results = obj.get("results") if isinstance(obj, dict) else None
    if isinstance(results, list) and results:
        obj = results[0]
    keys = {norm(str(k)) for k in obj} if isinstance(obj, dict) else set()
    return "date" in keys and bool(keys & {"fulltext", "snippet"})


class SocialListeningConnector(Connector):
    """Mentions exported by social-listening tools; each row keeps its own platform."""

    name = "social-listening"
    formats = (CSV, JSONL)

    def sniff(self, head: bytes) -> str | None:
        """``brandwatch-jsonl`` if one of the first lines is a mention object,
        ``brandwatch-csv`` if a header row is in ``head``; else None."""
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = head.decode("utf-16", errors="ignore")
        else:
            text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
        # mention objects among the first lines that parse: a bad first line hides nothing
        if any(map(_is_mention, head_values(head))):
            return JSONL
        lines = text.splitlines()
        first = next((ln for ln in lines if ln.strip()), "")
        if first.lstrip().startswith("{"):
            return None
        for line in lines[:HEADER_SCAN]:
            for delim in (",", "\t", ";"):
                try:
                    if is_header(next(csv.reader([line], delimiter=delim))):
                        return CSV
                except (csv.Error, StopIteration):
                    continue
        return None

    def read(self, source: Source, format: str | None = None) -> Iterator[Record]:
        """Every row as a RawPost (platform from Page Type) or a Reject."""
        return read_guarded(source, partial(self._read, format=format))

    def _read(self, name: str, stream: BinaryIO, format: str | None) -> Iterator[Record]:
        if format is None:
            head, stream = peek(stream)
            format = self.sniff(head) or (
                JSONL if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else CSV
            )
        if format == CSV:
            yield from read_csv(stream, name)
        elif format == JSONL:
            yield from read_jsonl(stream, name)
        else:
            yield Reject(name, 0, f"unknown format {format!r} (reads {self.formats})")
