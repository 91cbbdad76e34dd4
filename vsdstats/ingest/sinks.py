"""Where ingest writes posts, rejects and its report (see :mod:`vsdstats.tables.study`
for the layouts).

Checkpoints (live collection, after each page): a commit followed by a new open in
the same run, so a Parquet study is rewritten once per checkpoint.

Appending: Parquet files cannot grow in place, so a run into an existing study streams
the existing rows (batch by batch) into a new file, seeding the duplicate sets with
them, then appends the new rows and atomically replaces the old file; an interrupted
run leaves the old file intact.  DuckDB appends inside one transaction.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vsdstats.connectors.readers import replace_surrogates, scrub_surrogates
from vsdstats.tables.io import TableError, duckdb_module
from vsdstats.tables.study import (
    ADDED_COLUMNS,
    COLUMNS,
    SCHEMA,
    StudyDir,
    StudyError,
    out_kind,
    upgrade,
)

KeyFn = Callable[[str, str, str], None]  # (platform, post_id, text_hash) of a stored post


def _batch_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The rows as an Arrow table; lone surrogates (not UTF-8) become U+FFFD."""
    try:
        return pa.Table.from_pylist(rows, schema=SCHEMA)
    except UnicodeEncodeError:
        clean = [{k: _utf8(v) for k, v in r.items()} for r in rows]
        return pa.Table.from_pylist(clean, schema=SCHEMA)


def _utf8(value: Any) -> Any:
    """Strings (in dicts and lists too) with lone surrogates replaced by U+FFFD, so that
    every stored string is valid UTF-8; other values unchanged."""
    return scrub_surrogates(value) if isinstance(value, (str, dict, list)) else value


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Sink:
    """Receives post batches and rejects; ``commit`` makes them visible, ``abort`` drops them."""

    def open(self, seen: KeyFn) -> dict[str, Any] | None:
        """Prepare; call ``seen`` for every stored post; return the last run's report."""
        raise NotImplementedError

    def write(self, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def reject(self, file: str, line: int, reason: str) -> None:
        raise NotImplementedError

    def commit(self, report: dict[str, Any]) -> None:
        raise NotImplementedError

    def checkpoint(self, report: dict[str, Any]) -> None:
        """Commit what was written so far and go on writing in the same run (its
        report entry, keyed by ``run_id``, is replaced by each later one)."""
        self.commit(report)
        self.open(lambda platform, post_id, text_hash: None)  # dedup keeps its sets

    def abort(self) -> None:
        raise NotImplementedError


def _add_run(runs: list[Any], report: dict[str, Any]) -> list[Any]:
    """``runs`` with ``report`` appended, or replacing the entry of the same run."""
    if runs and isinstance(runs[-1], dict) and runs[-1].get("run_id") == report.get("run_id"):
        runs = runs[:-1]
    return [*runs, report]


class ParquetSink(Sink):
    """``posts.parquet`` (or NAME.parquet) with rejects CSV and report JSON beside it."""

    def __init__(self, posts: Path, rejects: Path, report: Path) -> None:
        self.posts, self.rejects_path, self.report_path = posts, rejects, report
        self._tmp = posts.with_name(f"{posts.name}.tmp-{os.getpid()}")
        self._rtmp = rejects.with_name(f"{rejects.name}.tmp-{os.getpid()}")
        self._writer: pq.ParquetWriter | None = None
        self._rfile: Any = None
        self._csv: Any = None

    def open(self, seen: KeyFn) -> dict[str, Any] | None:
        self.posts.parent.mkdir(parents=True, exist_ok=True)
        last = None
        if self.report_path.exists():
            try:
                runs = json.loads(self.report_path.read_text(encoding="utf-8")).get("runs", [])
                last = runs[-1] if runs else None
            except (OSError, ValueError, AttributeError) as exc:
                raise StudyError(f"{self.report_path}: unreadable report: {exc}") from None
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        if self.posts.exists():
            try:
                pf = pq.ParquetFile(self.posts)
                for batch in pf.iter_batches(batch_size=50_000):
                    table = pa.Table.from_batches([batch])
                    upgraded = upgrade(table)  # a study from before ADDED_COLUMNS: NA
                    if upgraded is None:
                        raise StudyError(
                            f"{self.posts}: existing columns {table.column_names} differ from "
                            f"{COLUMNS}; ingest into a new study"
                        )
                    table = upgraded
                    for p, i, h in zip(
                        table["platform"].to_pylist(),
                        table["post_id"].to_pylist(),
                        table["text_hash"].to_pylist(),
                        strict=True,
                    ):
                        seen(p, i, h)
                    self._writer.write_table(table)
            except (OSError, pa.ArrowException) as exc:
                self.abort()
                raise StudyError(f"{self.posts}: cannot read existing posts: {exc}") from None
            except StudyError:
                self.abort()
                raise
        self._rfile = self._rtmp.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._rfile)
        return last

    def write(self, rows: list[dict[str, Any]]) -> None:
        assert self._writer is not None
        self._writer.write_table(_batch_table(rows))

    def reject(self, file: str, line: int, reason: str) -> None:
        self._csv.writerow([replace_surrogates(file), line, replace_surrogates(reason)])

    def commit(self, report: dict[str, Any]) -> None:
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        self._rfile.close()
        os.replace(self._tmp, self.posts)
        new = not self.rejects_path.exists()
        with self.rejects_path.open("a", newline="", encoding="utf-8") as dst:
            if new:
                csv.writer(dst).writerow(["file", "line", "reason"])
            with self._rtmp.open(encoding="utf-8", newline="") as src:
                for chunk in iter(lambda: src.read(1 << 20), ""):
                    dst.write(chunk)
        self._rtmp.unlink()
        runs: list[Any] = []
        if self.report_path.exists():
            runs = json.loads(self.report_path.read_text(encoding="utf-8")).get("runs", [])
        runs = _add_run(runs, _utf8(report))
        _atomic_write_text(self.report_path, json.dumps({"runs": runs}, indent=2) + "\n")

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # best effort while failing
                pass
            self._writer = None
        if self._rfile is not None:
            self._rfile.close()
        for p in (self._tmp, self._rtmp):
            p.unlink(missing_ok=True)


_DUCK_POSTS = """CREATE TABLE IF NOT EXISTS posts (
  platform VARCHAR, post_id VARCHAR, thread_id VARCHAR, parent_id VARCHAR, author VARCHAR,
  created_at TIMESTAMPTZ, text VARCHAR, url VARCHAR, lang VARCHAR, community VARCHAR,
  score BIGINT, replies BIGINT, source_file VARCHAR, source_line BIGINT, kind VARCHAR,
  text_hash VARCHAR, dup_text BOOLEAN)"""

# a database written before ADDED_COLUMNS gets them (NULL in its old rows)
_DUCK_UPGRADE = [
    f"ALTER TABLE posts ADD COLUMN IF NOT EXISTS {c} {'VARCHAR' if c == 'community' else 'BIGINT'}"
    for c in ADDED_COLUMNS
]


_DUCK_REJECTS = "CREATE TABLE IF NOT EXISTS rejects (file VARCHAR, line BIGINT, reason VARCHAR)"


_DUCK_RUNS = """CREATE TABLE IF NOT EXISTS ingest_runs (
  run_id VARCHAR, started_at VARCHAR, finished_at VARCHAR, platform VARCHAR, report VARCHAR)"""


class DuckDBSink(Sink):
    """Tables ``posts``, ``rejects`` and ``ingest_runs`` in one DuckDB file (one transaction)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: Any = None
        self._rejects: list[tuple[str, int, str]] = []

    def open(self, seen: KeyFn) -> dict[str, Any] | None:
        try:
            duckdb = duckdb_module(self.path)  # the optional extra
        except TableError as exc:
            raise StudyError(str(exc)) from None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
            for sql in (_DUCK_POSTS, *_DUCK_UPGRADE, _DUCK_REJECTS, _DUCK_RUNS):
                self._con.execute(sql)
            self._con.execute("BEGIN TRANSACTION")
            cur = self._con.execute("SELECT platform, post_id, text_hash FROM posts")
            while rows := cur.fetchmany(50_000):
                for p, i, h in rows:
                    seen(p, i, h)
            last = self._con.execute(
                "SELECT report FROM ingest_runs ORDER BY finished_at DESC LIMIT 1"
            ).fetchall()  # (fetchone would leave the result open for duckdb 2)
        except duckdb.Error as exc:
            self.abort()
            raise StudyError(f"{self.path}: cannot use DuckDB database: {exc}") from None
        return json.loads(last[0][0]) if last else None

    def _insert(self, table: str, data: pa.Table) -> None:
        self._con.register("_vsdstats_batch", data)
        try:
            cols = ", ".join(data.column_names)
            self._con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _vsdstats_batch")
        finally:
            self._con.unregister("_vsdstats_batch")

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._insert("posts", _batch_table(rows))

    def reject(self, file: str, line: int, reason: str) -> None:
        self._rejects.append((replace_surrogates(file), line, replace_surrogates(reason)))
        if len(self._rejects) >= 10_000:
            self._flush_rejects()

    def _flush_rejects(self) -> None:
        if self._rejects:
            file, line, reason = zip(*self._rejects, strict=True)
            data = pa.table(
                {"file": list(file), "line": pa.array(line, pa.int64()), "reason": list(reason)}
            )
            self._insert("rejects", data)
            self._rejects = []

    def commit(self, report: dict[str, Any]) -> None:
        self._flush_rejects()
        report = _utf8(report)
        self._con.execute("DELETE FROM ingest_runs WHERE run_id = ?", [report["run_id"]])
        self._con.execute(
            "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?)",
            [
                report["run_id"],
                report["started_at"],
                report["finished_at"],
                report["platform"],
                json.dumps(report),
            ],
        )
        self._con.execute("COMMIT")
        self._con.close()
        self._con = None

    def abort(self) -> None:
        if self._con is not None:
            try:
                self._con.execute("ROLLBACK")
            except Exception:  # best effort while failing
                pass
            self._con.close()
            self._con = None


def open_sink(out: str | Path) -> Sink:
    """The sink for an ``--out`` value (a folder is created if missing)."""
    p = Path(out)
    kind = out_kind(p)
    if kind == "duckdb":
        if p.exists() and not p.is_file():
            raise StudyError(f"{p} exists and is not a file")
        return DuckDBSink(p)
    if kind == "parquet":
        if p.exists() and not p.is_file():
            raise StudyError(f"{p} exists and is not a file")
        stem = p.with_suffix("")
        rejects = stem.with_name(stem.name + ".rejects.csv")
        return ParquetSink(p, rejects, stem.with_name(stem.name + ".report.json"))
    if p.exists() and not p.is_dir():
        raise StudyError(f"{p} exists and is not a folder (use .parquet or .duckdb for files)")
    study = StudyDir(p)
    return ParquetSink(study.posts, study.rejects, study.ingest_report)


def iter_rejects(study_or_file: str | Path) -> Iterator[tuple[str, int, str]]:
    """``(file, line, reason)`` of every reject stored with a study or file."""
    p = Path(study_or_file)
    if out_kind(p) == "duckdb":
        con = duckdb_module(p).connect(str(p), read_only=True)
        try:
            yield from con.execute("SELECT file, line, reason FROM rejects").fetchall()
        finally:
            con.close()
        return
    sink = open_sink(p)
    assert isinstance(sink, ParquetSink)
    if not sink.rejects_path.exists():
        return
    with sink.rejects_path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield row["file"], int(row["line"]), row["reason"]
