"""``vsdstats filter --dask``: the dump filter as one Dask task per file or chunk.

Plan: every input is one task; an uncompressed NDJSON file larger than ``chunk_bytes``
is cut into byte ranges at line starts (a line belongs to the range its first byte is
in), one task each.  ``.zst``/``.gz`` files are one task: a compressed stream can only
be read from its start.  Posts tables (``.parquet``/``.csv``/``.tsv``) are one task
per file.

Each task filters its piece with :func:`vsdstats.filter.stream.filter_stream` (the
same code as a single-process run) and writes its kept records to
``OUT/part-FFFFF-CCCCC.parquet`` (file and chunk number): a temporary file renamed into
place when complete, so an attempt killed with its worker leaves no part and its retry
writes the same name.  NDJSON parts have the columns ``source_file`` and ``record``
(the kept line's bytes, unchanged, without its newline; in DuckDB
``CAST(record AS VARCHAR)`` gives the JSON text); table parts have the input's columns.

The client counts from the tasks' results (one per task, however often a task was
retried): the counts are summed, reject line numbers made per file by adding the lines
of the file's earlier chunks, and the rejects merged in input order into
``OUT/rejects.csv``; ``OUT/counts.json`` has the totals and each task's counts.  The
records of the parts, read in name order, are the single-process output line for line.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from vsdstats.cluster import spare_cores
from vsdstats.connectors.records import Reject
from vsdstats.filter import DEFAULT_FIELDS
from vsdstats.filter.relevance import RelevanceFilter
from vsdstats.filter.stream import (
    FilterCounts,
    FilterError,
    _filter_tables,
    _open_input,
    filter_stream,
    is_table,
    write_rejects,
)

CHUNK_BYTES = 256 << 20
PART_GLOB = "part-*.parquet"
TMP_GLOB = "tmp-*-part-*"
_COMPRESSED = (".zst", ".gz")


@dataclass(frozen=True)
class Piece:
    """One task: ``path`` (input number ``file``), bytes ``[start, end)`` or all of it."""

    path: str
    file: int
    chunk: int = 0
    start: int = 0
    end: int | None = None

    @property
    def part(self) -> str:
        return f"part-{self.file:05d}-{self.chunk:05d}.parquet"


def _line_start(fh: BinaryIO, pos: int) -> int:
    """The first line start at or after ``pos`` (0 stays 0)."""
    if pos <= 0:
        return 0
    fh.seek(pos - 1)
    if fh.read(1) == b"\n":
        return pos
    rest = fh.readline()
    return pos + len(rest)


def plan(inputs: Sequence[str | Path], chunk_bytes: int = CHUNK_BYTES) -> list[Piece]:
    """The tasks for ``inputs``: plain NDJSON files over ``chunk_bytes`` cut at lines."""
    pieces: list[Piece] = []
    for i, p in enumerate(inputs):
        path = Path(p)
        size = path.stat().st_size
        if is_table(path) or path.suffix.lower() in _COMPRESSED or size <= chunk_bytes:
            pieces.append(Piece(str(p), i))
            continue
        with path.open("rb") as fh:
            cuts = sorted({_line_start(fh, k) for k in range(0, size, chunk_bytes)} | {size})
        starts = [c for c in cuts[:-1] if c < size]
        for j, (a, b) in enumerate(zip(starts, cuts[1:], strict=False)):
            pieces.append(Piece(str(p), i, j, a, b))
    return pieces


class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of an open file."""

    def __init__(self, fh: BinaryIO, start: int, end: int) -> None:
        self.fh, self.left = fh, end - start
        fh.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(b)[: self.left]
        n = self.fh.readinto(view)  # type: ignore[attr-defined]
        self.left -= n or 0
        return n or 0

    def close(self) -> None:
        self.fh.close()
        super().close()


def _atomic(dest: Path, write: Any) -> Any:
    """``write(tmp)`` then ``tmp`` renamed to ``dest``: a killed attempt leaves no part."""
    tmp = dest.with_name(f"tmp-{uuid.uuid4().hex}-{dest.name}")
    try:
        out = write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return out


_FILTERS: dict[str, RelevanceFilter] = {}


def _worker_filter(rf: RelevanceFilter) -> RelevanceFilter:
    """One filter per worker process and term set: Hyperscan compiles once, not per task."""
    return _FILTERS.setdefault(repr(rf.terms), rf)


def run_piece(
    piece: Piece,
    out_dir: str,
    rf: RelevanceFilter,
    fields: Sequence[str],
    engine: str,
    pipelined: bool = False,
) -> FilterCounts:
    """Filter one piece into its part file (the Dask task); its counts, lines per piece.
    ``pipelined``: decompress in a second thread (see :func:`filter_files_dask`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rf = _worker_filter(rf)
    dest = Path(out_dir) / piece.part
    if is_table(piece.path):
        return _atomic(dest, lambda tmp: _filter_tables([piece.path], tmp, rf, fields))
    name, stream = _open_input(piece.path)
    if piece.end is not None:
        stream = io.BufferedReader(_Range(stream, piece.start, piece.end), 1 << 20)  # type: ignore[assignment]
    records: list[bytes] = []

    def write(data: bytes) -> None:
        records.extend(data.split(b"\n")[:-1])

    with stream:
        counts = filter_stream(stream, name, write, rf, fields, engine=engine, pipelined=pipelined)
    table = pa.table(
        {
            "source_file": pa.array([name] * len(records), pa.string()).dictionary_encode(),
            "record": pa.array(records, pa.binary()),
        }
    )
    _atomic(dest, lambda tmp: pq.write_table(table, tmp))
    return counts


def merge_counts(pieces: Sequence[Piece], results: Sequence[FilterCounts]) -> FilterCounts:
    """The run's counts: sums, rejects renumbered per file (earlier chunks' lines added)."""
    total = FilterCounts()
    offset: dict[int, int] = {}
    for piece, c in zip(pieces, results, strict=True):
        base = offset.get(piece.file, 0)
        for name in ("read", "kept", "dropped", "rejected", "no_text", "pages"):
            setattr(total, name, getattr(total, name) + getattr(c, name))
        total.page_posts += c.page_posts
        total.page_kept += c.page_kept
        total.rejects.extend(Reject(r.source_file, r.line + base, r.reason) for r in c.rejects)
        total.damaged.extend(c.damaged)
        offset[piece.file] = base + c.read
    return total


def filter_files_dask(
    client: Any,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    rf: RelevanceFilter,
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    engine: str = "auto",
    chunk_bytes: int = CHUNK_BYTES,
    pipelined: bool | None = None,
) -> FilterCounts:
    """Filter ``inputs`` on the Dask ``client`` into the folder ``out_dir`` (partitioned
    Parquet, ``rejects.csv``, ``counts.json``); the counts of the whole run.

    ``pipelined`` (default: when every host has a CPU more than its worker threads)
    lets each task decompress in a second thread as the single-process filter does;
    when the workers already fill the cores, that thread would only crowd another
    worker's, so each task then decompresses and scans in turn on its one core.
    """
    if not inputs:
        raise FilterError("no input files")
    tables = [is_table(p) for p in inputs]
    if any(tables) and not all(tables):
        raise FilterError("inputs mix posts tables and NDJSON dumps; filter them separately")
    out = Path(out_dir)
    if out.suffix.lower() in (".jsonl", ".zst", ".gz", ".parquet", ".csv", ".tsv"):
        raise FilterError(f"{out}: with --dask, -o is a folder of Parquet parts")
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob(PART_GLOB), *out.glob(TMP_GLOB)]:
        old.unlink()
    pieces = plan(inputs, chunk_bytes)
    where = str(out.resolve())
    if pipelined is None:
        pipelined = spare_cores(client)
    futures = [
        client.submit(run_piece, p, where, rf, tuple(fields), engine, pipelined, key=_key(p, where))
        for p in pieces
    ]
    results = client.gather(futures)
    for stale in out.glob(TMP_GLOB):  # left by attempts killed with their worker
        stale.unlink()
    total = merge_counts(pieces, results)
    if not all(tables):
        write_rejects(total.rejects, out / "rejects.csv")
    summary = {
        "totals": {k: v for k, v in asdict(total).items() if k not in ("rejects", "damaged")},
        "damaged": total.damaged,
        "tasks": [
            {"part": p.part, "file": p.file, "chunk": p.chunk, "start": p.start, "end": p.end}
            | {k: getattr(c, k) for k in ("read", "kept", "dropped", "rejected")}
            for p, c in zip(pieces, results, strict=True)
        ],
    }
    (out / "counts.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return total


def _key(piece: Piece, where: str) -> str:
    import hashlib

    h = hashlib.blake2b(f"{where}\0{piece}".encode(), digest_size=6).hexdigest()
    return f"vsdstats-filter-{piece.file}-{piece.chunk}-{h}"


def read_parts(out_dir: str | Path) -> Any:
    """The parts of ``out_dir`` in order as one Arrow table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(Path(out_dir).glob(PART_GLOB))
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None
