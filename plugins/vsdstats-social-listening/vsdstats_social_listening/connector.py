"""The social-listening connector: Brandwatch-style CSV and JSONL exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from vsdstats.platforms import Connector, Record, Reject, Source, open_source

from .rows import norm
from .tables import HEADER_SCAN, _Prefixed, is_header, read_csv, read_jsonl

CSV = "brandwatch-csv"
JSONL = "brandwatch-jsonl"


class SocialListeningConnector(Connector):
    """Mentions exported by social-listening tools; each row keeps its own platform."""

    name = "social-listening"
    formats = (CSV, JSONL)
    version = "0.1.0"

    def sniff(self, head: bytes) -> str | None:
        """``brandwatch-csv`` if a header row is in ``head``, ``brandwatch-jsonl`` if the
        first line is a mention object; else None."""
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = head.decode("utf-16", errors="ignore")
        else:
            text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="ignore")
        lines = text.splitlines()
        first = next((ln for ln in lines if ln.strip()), "")
        if first.lstrip().startswith("{"):
            try:
                obj = json.loads(first)
            except ValueError:
                return None
            results = obj.get("results") if isinstance(obj, dict) else None
            if isinstance(results, list) and results:
                obj = results[0]
            keys = {norm(str(k)) for k in obj} if isinstance(obj, dict) else set()
            return JSONL if "date" in keys and keys & {"fulltext", "snippet"} else None
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
        name, stream = open_source(source)
        try:
            if format is None:
                head = stream.read(1 << 16)
                stream = io.BufferedReader(_Prefixed(head, stream))  # type: ignore[assignment]
                format = self.sniff(head) or (
                    JSONL if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else CSV
                )
            if format == CSV:
                yield from read_csv(stream, name)
            elif format == JSONL:
                yield from read_jsonl(stream, name)
            else:
                yield Reject(name, 0, f"unknown format {format!r} (reads {self.formats})")
        except Exception as exc:  # never raise on bad data
            yield Reject(name, 0, f"could not read: {type(exc).__name__}: {exc}")
        finally:
            if isinstance(source, (str, Path)):
                stream.close()
