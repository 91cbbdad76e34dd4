"""Reading the export files: CSV (with Brandwatch's preamble above the header) and JSONL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from vsdstats.connectors import Record, Reject, iter_json_lines, unread

from .rows import BadRow, norm, row_to_post

HEADER_SCAN = 50  # Brandwatch writes ~6-10 report lines above the header
_TEXT_COLS = {"fulltext", "snippet"}
_NEED = ({"date"}, {"url", "resourceid", "mentionid"}, _TEXT_COLS)


def is_header(cells: list[str]) -> bool:
    """A header row names Date, Url (or an id) and Full Text (or Snippet)."""
    cols = {norm(c) for c in cells}
    return all(cols & need for need in _NEED)


def decode_lines(data_lines: Iterator[bytes], bad: set[int]) -> Iterator[str]:
    """Decoded physical lines; undecodable ones are replaced and their numbers noted."""
    for i, raw in enumerate(data_lines, start=1):
        if i == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(i)
            yield raw.decode("utf-8", errors="replace")


def _physical_lines(stream: BinaryIO) -> Iterator[bytes]:
    head = stream.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 ("Unicode text" exports): small files
        text = (head + stream.read()).decode("utf-16", errors="replace")
        yield from (ln.encode("utf-8") for ln in io.StringIO(text, newline=""))
        return
    yield from unread(head, stream)


def read_csv(stream: BinaryIO, name: str) -> Iterator[Record]:
    """Rows after the detected header row; each a RawPost or a Reject."""
    bad: set[int] = set()
    lines = decode_lines(_physical_lines(stream), bad)
    sample = []
    for line in lines:
        sample.append(line)
        if len(sample) >= HEADER_SCAN or (line.strip() and _header_in(sample)):
            break
    if not any(s.strip() for s in sample):
        yield Reject(name, 0, "empty file")
        return
    found = _header_in(sample)
    if found is None:
        yield Reject(
            name,
            0,
            f"not a social-listening export: no header row naming Date, Url and Full Text "
            f"in the first {len(sample)} lines",
        )
        return
    header_line, delim, header = found
    cols = [norm(c) for c in header]
    reader = csv.reader(_chain(sample[header_line:], lines), delimiter=delim, strict=False)
    end, rows = header_line, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            if rows == 0:
                yield Reject(name, header_line, "export has a header row but no rows")
            return
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            start, end = end + 1, header_line + reader.line_num
            yield Reject(name, start, f"bad CSV row: {exc}")
            continue
        start, end = end + 1, header_line + reader.line_num
        if not any(c.strip() for c in cells):
            continue
        rows += 1
        if any(start <= b <= end for b in bad):
            yield Reject(name, start, "undecodable bytes (not UTF-8)")
        elif len(cells) != len(cols):
            yield Reject(name, start, f"row has {len(cells)} fields, header has {len(cols)}")
        else:
            yield _record(dict(zip(cols, cells, strict=True)), name, start)


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _header_in(sample: list[str]) -> tuple[int, str, list[str]] | None:
    """(lines above the header, delimiter, header cells) if the sample has a header."""
    for i, line in enumerate(sample):
        for delim in (",", "\t", ";"):
            if delim not in line:
                continue
            try:
                cells = next(csv.reader([line], delimiter=delim))
            except (csv.Error, StopIteration):
                continue
            if is_header(cells):
                return i + 1, delim, cells
    return None


def _record(row: dict[str, Any], name: str, line: int) -> Record:
    try:
        return row_to_post(row, name, line)
    except BadRow as exc:
        return Reject(name, line, str(exc))


def read_jsonl(stream: BinaryIO, name: str) -> Iterator[Record]:
    """One mention object per line (or a Brandwatch API page ``{"results": [...]}``)."""
    for item in iter_json_lines(stream, name):
        if isinstance(item, Reject):
            yield item
            continue
        line, value = item
        results = value.get("results") if isinstance(value, dict) else None
        if isinstance(results, list) and not results:
            yield Reject(name, line, "API page without mentions (empty results)")
        for obj in results if isinstance(results, list) else [value]:
            if not isinstance(obj, dict):
                yield Reject(name, line, f"not a mention: a JSON {type(obj).__name__}")
                continue
            row = {norm(str(k)): v for k, v in obj.items()}
            if not (set(row) & _TEXT_COLS and "date" in row):
                yield Reject(name, line, "not a social-listening mention (no Full Text and Date)")
                continue
            yield _record(row, name, line)
