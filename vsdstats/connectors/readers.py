"""Building blocks shared by platform connectors: JSON lines and documents with
rejects instead of exceptions, timestamps to UTC, HTML to plain text.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from html.parser import HTMLParser
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from vsdstats.connectors.io import open_source, read_prefix
from vsdstats.connectors.records import RawPost, Reject, Source

JsonLine = tuple[int, Any]
BOM = b"\xef\xbb\xbf"
SNIFF_LINES = 20  # non-blank lines looked at to tell JSON lines from a broken document
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte-order mark."""
    return data[3:] if data.startswith(BOM) else data


def _fix(s: str) -> str:
    return _SURROGATE.sub("\ufffd", s)


def replace_surrogates(s: str) -> str:
    """``s`` with lone UTF-16 surrogates replaced by U+FFFD (``s`` itself when valid)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _fix(s)
    return s


def scrub_surrogates(value: Any) -> Any:
    """``value`` with lone UTF-16 surrogates (from escapes like ``"\\ud800"``) in every
    string, dict key included, replaced by U+FFFD; iterative, so any depth is fine."""
    if isinstance(value, str):
        return _fix(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        v = parent[key]
        if isinstance(v, str):
            parent[key] = _fix(v)
        elif isinstance(v, list):
            stack.extend((v, i) for i in range(len(v)))
        elif isinstance(v, dict):
            if any(isinstance(k, str) and _SURROGATE.search(k) for k in v):
                v = parent[key] = {_fix(k) if isinstance(k, str) else k: x for k, x in v.items()}
            stack.extend((v, k) for k in v)
    return root[0]


def loads(text: str | bytes) -> Any:
    """``json.loads`` with a leading BOM ignored and lone surrogates replaced by U+FFFD
    (see :func:`scrub_surrogates`); raises what ``json.loads`` raises."""
    if isinstance(text, bytes):
        text = strip_bom(text).decode("utf-8")
    elif text.startswith("\ufeff"):
        text = text[1:]
    value = json.loads(text)
    return scrub_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def iter_json_lines(stream: BinaryIO, name: str) -> Iterator[JsonLine | Reject]:
    """``(line_number, parsed)`` for every non-blank line; a Reject for bad lines.

    Undecodable bytes, truncated or non-JSON lines become ``Reject(name, line, reason)``;
    a BOM at the start is skipped and lone surrogates become U+FFFD.  An empty file
    yields one Reject at line 0 so that it is never silently ignored.
    """
    seen = False
    for i, raw in enumerate(stream, start=1):
        if i == 1:
            raw = strip_bom(raw)
        if not raw.strip():
            continue
        seen = True
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Reject(name, i, f"undecodable bytes at column {exc.start + 1}")
            continue
        try:
            yield i, loads(text)
        except json.JSONDecodeError as exc:
            yield Reject(name, i, f"not JSON: {exc.msg} (column {exc.colno})")
        except (ValueError, RecursionError) as exc:  # e.g. int too long, nesting too deep
            yield Reject(name, i, f"not JSON: {exc}")
    if not seen:
        yield Reject(name, 0, "empty file")


def load_json_document(stream: BinaryIO, name: str) -> Any | Reject:
    """The whole stream parsed as one JSON document (BOM skipped, lone surrogates
    replaced), or a Reject naming the problem."""
    return _document(strip_bom(stream.read()), name)


def _document(data: bytes, name: str, first_line: int = 1) -> Any | Reject:
    if not data.strip():
        return Reject(name, 0, "empty file")
    try:
        return loads(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + first_line
        return Reject(name, line, f"undecodable bytes at byte {exc.start}")
    except json.JSONDecodeError as exc:
        line = exc.lineno + first_line - 1
        return Reject(name, line, f"not JSON: {exc.msg} (column {exc.colno})")
    except (ValueError, RecursionError) as exc:  # e.g. int too long, nesting too deep
        return Reject(name, first_line, f"not JSON: {exc}")


def _parses(line: bytes) -> bool:
    """Whether one line on its own is a JSON object or array (a JSON-lines record)."""
    if not line.lstrip().startswith((b"{", b"[")):
        return False
    try:
        return isinstance(loads(line), (dict, list))
    except (ValueError, RecursionError):
        return False


def looks_like_json_lines(lines: list[bytes]) -> bool:
    """Whether a file whose non-blank lines start with ``lines`` holds JSON lines: at
    least half of the first :data:`SNIFF_LINES` are JSON objects or arrays on their own,
    so a truncated or garbled first line does not hide the good lines after it."""
    sample = [ln for ln in lines if ln.strip()][:SNIFF_LINES]
    good = sum(map(_parses, sample))
    return len(sample) > 1 and good > 0 and 2 * good >= len(sample)


def iter_json_values(stream: BinaryIO, name: str) -> Iterator[JsonLine | Reject]:
    """``(line, value)`` for a file holding one JSON document (line 1) or JSON lines.

    A leading BOM is skipped.  A file that is not one document is read as JSON lines
    (one value or Reject per non-blank line) when :func:`looks_like_json_lines`; else,
    when a document starts at the beginning of one of the first :data:`SNIFF_LINES`
    lines, each non-blank line before it is a Reject and the document is read from
    there; else as JSON lines if any of the first lines is a JSON object or array on
    its own, or all start one at column 0; otherwise the document's single Reject is
    yielded (a broken pretty-printed document is one bad record, not one per line).
    """
    data, damage = read_prefix(stream)
    if damage is not None:  # a cut .gz/.zst: the values of the lines before it, then it
        if data.strip():
            yield from iter_json_values(io.BytesIO(data), name)
        raise damage
    data = strip_bom(data)
    doc = _document(data, name)
    if not isinstance(doc, Reject):
        yield 1, doc
        return
    lines = list(islice(io.BytesIO(data), 4 * SNIFF_LINES))
    if looks_like_json_lines(lines):
        yield from iter_json_lines(io.BytesIO(data), name)
        return
    later = _skip_to_document(data, lines, name)
    if later is not None:
        yield from later
    elif _record_lines(lines):
        yield from iter_json_lines(io.BytesIO(data), name)  # bad JSON lines, each counted
    else:
        yield doc


def _record_lines(lines: list[bytes]) -> bool:
    """Several non-blank lines, some a JSON value on its own or all starting a value at
    column 0 (cut JSON lines; a pretty-printed document indents its inner lines)."""
    sample = [ln for ln in lines if ln.strip()]
    if len(sample) < 2:
        return False
    return any(map(_parses, sample)) or all(ln.startswith((b"{", b"[")) for ln in sample)


def _skip_to_document(data: bytes, lines: list[bytes], name: str) -> list[Any] | None:
    """Rejects for the bad lines before a document starting at column 0 of one of the
    first lines, then ``(line, document)``; None if there is no such document (or a line
    before it is a JSON value on its own: then it is the last of some JSON lines)."""
    offset = 0
    for k, line in enumerate(lines[:SNIFF_LINES], start=1):
        if k > 1 and _parses(lines[k - 2]):
            return None  # a good line among the first: JSON lines, not a document
        if k > 1 and line.startswith((b"{", b"[")):
            later = _document(data[offset:], name, first_line=k)
            if not isinstance(later, Reject):
                bad = [
                    Reject(name, i, "not JSON: a bad line before the document")
                    for i, ln in enumerate(lines[: k - 1], start=1)
                    if ln.strip()
                ]
                return [*bad, (k, later)]
        offset += len(line)
    return None


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


def read_json_records(
    source: Source, convert: Callable[[Any], Iterable[RawPost | str]]
) -> Iterator[RawPost | Reject]:
    """Drive a JSON connector: every post ``convert(value)`` yields, and a Reject for
    every reason string it yields, for each JSON value in ``source`` (one document or
    JSON lines, see :func:`iter_json_values`).  Never raises on bad data.

    ``source_file``/``source_line`` are filled in: a file holding one JSON value numbers
    its records 1..n in document order; a JSON-lines file gives each record its line.
    A value yielding nothing, a post id seen before in the file, an unreadable stream
    or a converter error each become a Reject.
    """
    return json_records(source, lambda value, _line: convert(value))


def json_records(
    source: Source, convert: Callable[[Any, int], Iterable[RawPost | Reject | str]]
) -> Iterator[RawPost | Reject]:
    """:func:`read_json_records` with ``convert(value, line)`` told the line the value
    starts on; a Reject it yields is passed on as it is."""
    name, stream = open_source(source)
    try:
        data, damage = read_prefix(stream)  # a cut .gz/.zst: what came before the damage
    except Exception as exc:  # e.g. an OSError
        yield Reject(name, 0, f"cannot read file: {type(exc).__name__}: {exc}")
        return
    finally:
        if isinstance(source, (str, Path)):
            stream.close()
    empty = damage is not None and not data.strip()
    values = [] if empty else list(iter_json_values(io.BytesIO(data), name))
    single = len(values) == 1
    seen: dict[str, int] = {}
    n = 0
    for item in values:
        if isinstance(item, Reject):
            yield item
            continue
        line, value = item
        produced = 0
        try:
            for out in convert(value, line):
                produced += 1
                n += 1
                where = n if single else line
                if isinstance(out, Reject):
                    yield out
                elif isinstance(out, str):
                    yield Reject(name, where, out)
                elif not out.post_id:
                    yield Reject(name, where, "empty post id")
                elif out.post_id in seen:
                    first = seen[out.post_id]
                    yield Reject(name, where, f"duplicate post id (first at record {first})")
                else:
                    seen[out.post_id] = where
                    out.source_file, out.source_line = name, where
                    yield out
        except Exception as exc:  # a converter bug must not lose the rest of the file
            yield Reject(name, line, f"cannot convert: {type(exc).__name__}: {exc}")
        if not produced:
            yield Reject(name, line, "no records in this JSON value (empty page)")
    if damage is not None:  # the incomplete last line and the rest
        yield Reject(name, data.count(b"\n") + 1, damage.detail)
