"""The dump filter behind ``vsdstats filter``: keep posts that mention an LLM chatbot and
a mental-health term.

Two kinds of input:

- NDJSON dumps (``.jsonl``, ``.ndjson``, ``.json``, ``.zst``, ``.gz``; e.g. Pushshift or
  Arctic Shift): lines are streamed (``.zst`` with zstd's long window, never to disk),
  a byte pre-filter picks candidate lines in whole blocks, candidates are parsed and
  the exact text check runs on their text fields; kept lines are written unchanged.
  Candidates that cannot be parsed are *rejected* and listed with their line numbers
  in ``OUT.rejects.csv``.  ``read`` counts every line (blank ones are dropped), so
  ``read = kept + dropped + rejected``.  An X API v2 page line (``data`` a list of
  tweets) is read as its tweets: kept when one matches, with ``data`` cut down to the
  matching tweets.  A truncated or corrupt ``.zst``/``.gz`` is one more rejected line
  (naming the byte offset) after the lines before the damage, which are filtered as
  usual; the command then fails (exit code 1) naming the file.
- Posts tables (``.parquet``, ``.csv``, ``.tsv`` with a ``text`` column, e.g. from
  ``vsdstats ingest``): matching rows are kept.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from vsdstats.connectors.io import TruncatedInput, open_source, read_chunks
from vsdstats.connectors.readers import BOM
from vsdstats.connectors.records import Reject
from vsdstats.errors import InputError
from vsdstats.filter import DEFAULT_FIELDS
from vsdstats.filter.relevance import RelevanceFilter

TABLE_SUFFIXES = (".parquet", ".csv", ".tsv")
BLOCK_SIZE = 1 << 24


class FilterError(InputError):
    """Inputs or outputs of the filter are unusable (the message names the file)."""


@dataclass
class FilterCounts:
    """What happened to every line or row read."""

    read: int = 0
    kept: int = 0
    dropped: int = 0
    rejected: int = 0
    no_text: int = 0  # parsed but without any of the text fields (counted as dropped)
    pages: int = 0  # X API v2 page lines checked tweet by tweet (kept or dropped)
    page_posts: int = 0  # tweets in those pages
    page_kept: int = 0  # of them, the matching ones (written)
    rejects: list[Reject] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # truncated or corrupt inputs

    @property
    def balanced(self) -> bool:
        return self.read == self.kept + self.dropped + self.rejected

    def summary(self) -> str:
        s = f"read {self.read}, kept {self.kept}, dropped {self.dropped}, rejected {self.rejected}"
        notes = [f"{self.no_text} without a text field"] if self.no_text else []
        if self.pages:
            notes.append(
                f"{self.pages} X API page lines read as their {self.page_posts} tweets, "
                f"{self.page_kept} of them kept"
            )
        return s + (f" ({'; '.join(notes)})" if notes else "")


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def _get(obj: dict[str, Any], dotted: str) -> Any:
    if dotted in obj:
        return obj[dotted]
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


Block = tuple[bytes, int, int, int]  # buffer, start, end, number of lines in [start, end)


def _count_lines(buf: bytes, start: int, end: int) -> int:
    """Newlines in ``buf[start:end]``, counted without holding the GIL (numpy), so the
    scan in the other thread goes on meanwhile (``bytes.count`` would hold it)."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(buf, np.uint8, end - start, start) == 10))


Piece = tuple[bytes, int, int, int]  # piece, first newline, after the last one, lines between


def _found(stream: BinaryIO, size: int) -> Iterator[Piece]:
    """The pieces of :func:`read_chunks` with their newlines found and counted."""
    for chunk in read_chunks(stream, size):
        first = chunk.find(b"\n")
        last = chunk.rfind(b"\n") + 1
        yield chunk, first, last, _count_lines(chunk, first + 1, last) if last > first + 1 else 0


def _pieces(stream: BinaryIO, size: int, threaded: bool = True) -> Iterator[Piece | TruncatedInput]:
    """:func:`_found`, read (decompressed) in a thread that overlaps the scan when
    ``threaded``; a :class:`TruncatedInput` is the last item of a damaged stream."""
    if not threaded:
        try:
            yield from _found(stream, size)
        except TruncatedInput as exc:
            yield exc
        return
    q: queue.Queue[Any] = queue.Queue(maxsize=max(2, (64 << 20) // size))
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            for piece in _found(stream, size):
                put(piece)
                if stop.is_set():
                    return
            put(None)
        except TruncatedInput as exc:
            put(exc)
            put(None)
        except BaseException as exc:  # re-raised in the consumer
            put(exc)

    t = threading.Thread(target=work, name="vsdstats-filter-reader", daemon=True)
    t.start()
    try:
        while (item := q.get()) is not None:
            if isinstance(item, BaseException) and not isinstance(item, TruncatedInput):
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _blocks(stream: BinaryIO, size: int | None = None, threaded: bool = True) -> Iterator[Block]:
    """Blocks of whole lines ``(buf, start, end, n_lines)``: ``buf[start:end]`` ends with
    ``\n``.  Reading (decompressing) runs in a thread, overlapping the scan, unless not
    ``threaded``; a line straddling two pieces becomes a small block of its own (no
    large copies).  ``size`` is the read size (default :data:`BLOCK_SIZE`, looked up at
    call time).  A damaged stream ends with its :class:`TruncatedInput` raised after
    the lines before it."""
    rest = b""
    for item in _pieces(stream, size or BLOCK_SIZE, threaded):
        if isinstance(item, TruncatedInput):
            raise item  # an incomplete line in rest belongs to the damage
        chunk, first, last, n = item
        if first < 0:
            rest += chunk
            continue
        head = rest + chunk[: first + 1]
        yield head, 0, len(head), 1
        if n:
            yield chunk, first + 1, last, n
        rest = chunk[last:]
    if rest:
        yield rest + b"\n", 0, len(rest) + 1, 1


def filter_stream(
    stream: BinaryIO,
    name: str,
    write: Callable[[bytes], Any],
    rf: RelevanceFilter,
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    engine: str = "auto",
    counts: FilterCounts | None = None,
    pipelined: bool = True,
) -> FilterCounts:
    """Filter one NDJSON stream, writing kept lines (with ``\\n``) through ``write``.

    A truncated or corrupt compressed stream ends the file with one reject (counted as
    one line read: the incomplete line and the rest) after the lines before it.
    ``pipelined`` decompresses in a second thread (worth it when a core is free for it).
    """
    c = counts if counts is not None else FilterCounts()
    check = _Checker(rf, fields, c)
    base = c.read  # lines of earlier files: line numbers are per file
    try:
        for block, start, end, n in _blocks(stream, threaded=pipelined):
            kept: list[bytes] = []
            for s, e in rf.scan_block(block, engine=engine, start=start, end=end):
                out = check(block, s, e)
                if isinstance(out, str):
                    line = c.read - base + block.count(b"\n", start, s) + 1
                    c.rejects.append(Reject(name, line, out))
                elif out is not None:
                    kept.append(out)
            if kept:
                write(b"".join(kept))
            c.read += n
            c.kept += len(kept)
    except TruncatedInput as exc:
        c.read += 1
        c.rejects.append(Reject(name, c.read - base, exc.detail))
        c.damaged.append(str(exc))
    c.rejected = len(c.rejects)
    c.dropped = c.read - c.kept - c.rejected
    return c


class _Checker:
    """The exact check of one candidate line: the line to write, None (dropped) or a
    reject reason.  An X API v2 page (``data`` a list of tweets) is read as its tweets:
    kept when one of them matches, with ``data`` cut down to the matching ones."""

    def __init__(self, rf: RelevanceFilter, fields: Sequence[str], counts: FilterCounts):
        self.match, self.c = rf.match_fields, counts
        self.plain = [f for f in fields if "." not in f]
        self.dotted = [f for f in fields if "." in f]

    def texts(self, obj: dict[str, Any]) -> list[str]:
        texts = [v for f in self.plain if isinstance(v := obj.get(f), str)]
        return texts + [v for f in self.dotted if isinstance(v := _get(obj, f), str)]

    def __call__(self, block: bytes, s: int, e: int) -> bytes | str | None:
        try:
            obj = json.loads(block[s:e])
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            return _reason(exc)
        if not isinstance(obj, dict):
            return f"not a JSON object ({type(obj).__name__})"
        if block.startswith(BOM, s):  # a byte-order mark is not part of the record
            s += len(BOM)
        texts = self.texts(obj)
        if texts:
            return block[s : e + 1] if self.match(texts) else None
        data = obj.get("data")
        if isinstance(data, list) and data and all(isinstance(t, dict) for t in data):
            return self.page(obj, data, block[s : e + 1])
        if isinstance(data, dict) and (texts := self.texts(data)):  # {"data": one tweet}
            return block[s : e + 1] if self.match(texts) else None
        self.c.no_text += 1
        return None

    def page(self, obj: dict[str, Any], tweets: list[dict[str, Any]], line: bytes) -> bytes | None:
        hits = [t for t in tweets if (texts := self.texts(t)) and self.match(texts)]
        self.c.pages += 1
        self.c.page_posts += len(tweets)
        self.c.page_kept += len(hits)
        if not hits:
            return None
        if len(hits) == len(tweets):
            return line
        return json.dumps({**obj, "data": hits}).encode() + b"\n"


def _reason(exc: ValueError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"undecodable bytes at column {exc.start + 1}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} at column {exc.colno}"
    return f"not JSON: {exc}"


def _open_out(path: Path, suffix: str) -> BinaryIO:
    """``path`` opened for writing, compressed as ``suffix`` (.zst, .gz) says."""
    fh = path.open("wb")
    if suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(fh, closefd=True)  # type: ignore[return-value]
    if suffix == ".gz":
        import gzip

        return gzip.GzipFile(fileobj=fh, mode="wb")  # type: ignore[return-value]
    return fh


def rejects_path(out: str | Path) -> Path:
    return Path(f"{out}.rejects.csv")


def write_rejects(rejects: Sequence[Reject], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source_file", "line", "reason"])
        w.writerows((r.source_file, r.line, r.reason) for r in rejects)
    return path


def filter_files(
    inputs: Sequence[str | Path],
    out: str | Path,
    rf: RelevanceFilter,
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    engine: str = "auto",
) -> FilterCounts:
    """Filter NDJSON dumps (or posts tables) ``inputs`` into ``out``; the Python API of
    ``vsdstats filter``.  NDJSON rejects go to ``OUT.rejects.csv``."""
    if not inputs:
        raise FilterError("no input files")
    tables = [is_table(p) for p in inputs]
    if any(tables) and not all(tables):
        raise FilterError("inputs mix posts tables and NDJSON dumps; filter them separately")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if all(tables):
        return _filter_tables(inputs, out, rf, fields)
    if is_table(out):
        raise FilterError(f"{out}: NDJSON input is written as .jsonl (or .jsonl.zst), not a table")
    tmp = out.with_name(out.name + ".part")
    counts = FilterCounts()
    try:
        with _open_out(tmp, out.suffix) as sink:
            for p in inputs:
                name, stream = _open_input(p)
                with stream:
                    filter_stream(
                        stream, name, sink.write, rf, fields, engine=engine, counts=counts
                    )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    write_rejects(counts.rejects, rejects_path(out))
    return counts


def _open_input(p: str | Path) -> tuple[str, BinaryIO]:
    try:
        return open_source(p)
    except OSError as exc:
        raise FilterError(f"{p}: cannot open: {exc.strerror or exc}") from None


def _filter_tables(
    inputs: Sequence[str | Path], out: Path, rf: RelevanceFilter, fields: Sequence[str]
) -> FilterCounts:
    import pandas as pd

    from vsdstats.tables.io import TableError, read_table, write_table

    counts = FilterCounts()
    kept = []
    for p in inputs:
        try:
            df = read_table(p)
        except TableError as exc:
            raise FilterError(str(exc)) from None
        cols = [f for f in fields if f in df.columns]
        if not cols:
            raise FilterError(
                f"{p}: none of the text columns {', '.join(fields)}; "
                f"it has {', '.join(map(str, df.columns))}"
            )
        texts = df[cols].astype("object").where(df[cols].notna(), None).to_numpy()
        mask = [rf.match_fields([t for t in row if isinstance(t, str)]) for row in texts]
        counts.no_text += sum(all(not isinstance(t, str) for t in row) for row in texts)
        sel = df[pd.Series(mask, index=df.index, dtype=bool)]
        kept.append(sel)
        counts.read += len(df)
        counts.kept += len(sel)
    counts.dropped = counts.read - counts.kept
    write_table(pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0], out)
    return counts
