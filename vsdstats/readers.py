"""Building blocks shared by platform connectors: JSON lines and documents with
rejects instead of exceptions, timestamps to UTC, HTML to plain text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any, BinaryIO

from vsdstats.platforms import Reject

JsonLine = tuple[int, Any]


def iter_json_lines(stream: BinaryIO, name: str) -> Iterator[JsonLine | Reject]:
    """``(line_number, parsed)`` for every non-blank line; a Reject for bad lines.

    Undecodable bytes, truncated or non-JSON lines become ``Reject(name, line, reason)``.
    An empty file yields one Reject at line 0 so that it is never silently ignored.
    """
    seen = False
    for i, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        seen = True
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Reject(name, i, f"undecodable bytes at column {exc.start + 1}")
            continue
        try:
            yield i, json.loads(text)
        except json.JSONDecodeError as exc:
            yield Reject(name, i, f"not JSON: {exc.msg} at column {exc.colno}")
    if not seen:
        yield Reject(name, 0, "empty file")


def load_json_document(stream: BinaryIO, name: str) -> Any | Reject:
    """The whole stream parsed as one JSON document, or a Reject naming the problem."""
    data = stream.read()
    if not data.strip():
        return Reject(name, 0, "empty file")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Reject(name, line, f"undecodable bytes at byte {exc.start}")
    except json.JSONDecodeError as exc:
        return Reject(name, exc.lineno, f"not JSON: {exc.msg} at column {exc.colno}")


_EPOCH_RE = re.compile(r"^-?\d+(\.\d+)?$")


def parse_time(value: Any, *, field: str = "time") -> datetime:
    """A timezone-aware UTC datetime from epoch seconds (int, float or numeric string)
    or ISO 8601 text ("Z", offsets, or none: taken as UTC).  ValueError names ``field``.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field}: missing or not a time: {value!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value), field)
    if isinstance(value, str):
        s = value.strip()
        if _EPOCH_RE.match(s):
            return _from_epoch(float(s), field)
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{field}: cannot parse time {value!r}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    raise ValueError(f"{field}: expected a number or ISO 8601 text, got {type(value).__name__}")


def _from_epoch(x: float, field: str) -> datetime:
    if x > 1e11:  # milliseconds
        x /= 1000.0
    try:
        return datetime.fromtimestamp(x, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{field}: epoch {x!r} out of range") from None


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "br", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCK - {"br"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from HTML (Mastodon ``content``, YouTube ``textDisplay``): tags dropped,
    entities decoded, paragraphs and line breaks kept as newlines, spaces collapsed."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    p = _TextExtractor()
    p.feed(markup)
    p.close()
    text = "".join(p.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def unescape_markdown(text: str) -> str:
    """Reddit bodies carry HTML entities (``&amp;``, ``&gt;``); decode them."""
    return html.unescape(text)
