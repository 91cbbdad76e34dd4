"""``vsdstats ingest --dask``: read and normalize files on Dask workers, one task each.

Two passes, so that the result is the single-process result:

1. *On the workers*, one task per input file: the connector reads the file, every
   record is normalized and pseudonymized exactly as in
   :func:`vsdstats.ingest.pipeline.ingest_files` (the same :class:`Normalizer`, the same
   secret, so the same pseudonyms), rejects are counted and kept with their safe
   reasons, and the normalized rows are written in input order to a Parquet part
   (``_relevant`` says whether the relevance filter, if any, keeps the row).  A part is
   written to a temporary name and renamed when complete, so a task retried after its
   worker died rewrites it; its counts come back as the task's single result.
2. *On the client*, the parts are read in input order and routed into the output as a
   single-process run routes rows: exact deduplication by ``(platform, post_id)``
   across all files (and against the posts already in the output), then the relevance
   decision, then the ``dup_text`` flag; rejects are written in input order.  This pass
   does no parsing or normalizing, and holds only the 8-byte key sets of a
   single-process run.

The secret is never sent to the workers: each loads it as the client did (the secret
file, ``$VSDSTATS_SECRET`` or the study's key; workers of a local cluster inherit the
client's environment and home folder) and the task fails unless its keyed fingerprint
matches the client's.  Remote workers must see the inputs, the study and the secret at
the same paths (a shared file system).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsdstats.connectors.records import RawPost, Reject
from vsdstats.ingest.normalize import Normalizer
from vsdstats.ingest.pipeline import (
    IngestError,
    IngestReport,
    RejectsFound,
    Relevance,
    _records,
    _renamed,
    _Run,
    check_inputs,
    count_reject,
    display_name,
    resolve_connector,
)
from vsdstats.ingest.pseudonymize import file_label
from vsdstats.ingest.report import FileCounts
from vsdstats.ingest.secret import SecretError, load_secret, secret_id
from vsdstats.tables.study import SCHEMA

PART_SCHEMA = SCHEMA.append(SCHEMA.field("dup_text").with_name("_relevant"))


@dataclass(frozen=True)
class FileTask:
    """What a worker needs to normalize one file (no secret: only its fingerprint)."""

    platform: str
    path: str
    name: str
    format: str | None
    out: str
    secret_file: str | None
    secret_id: str
    part: str
    relevance: Any = None
    extra_plugins: tuple[object, ...] = ()
    batch_size: int = 50_000


@dataclass
class FileResult:
    """A task's counts and rejects (rows are in its part)."""

    counts: FileCounts
    rejects: list[tuple[str, int, str]] = field(default_factory=list)


def _worker_secret(task: FileTask) -> bytes:
    try:
        secret = load_secret(task.secret_file, task.out)
    except SecretError as exc:
        raise IngestError(f"Dask worker: {exc}") from None
    if secret_id(secret) != task.secret_id:
        raise IngestError(
            "Dask worker: its secret differs from the client's; give --secret-file on a "
            "file system the workers share, or the same $VSDSTATS_SECRET"
        )
    return secret


def normalize_file(task: FileTask) -> FileResult:
    """Read and normalize one file into its part (the Dask task)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vsdstats.ingest.sinks import _batch_table

    conn = resolve_connector(task.platform, task.extra_plugins)
    normalize = Normalizer(_worker_secret(task), task.platform)
    res = FileResult(FileCounts(file=task.name))
    counts, path = res.counts, Path(task.path)
    dest = Path(task.part)
    tmp = dest.with_name(f"tmp-{uuid.uuid4().hex}-{dest.name}")
    rows: list[dict[str, Any]] = []
    relevant: list[bool] = []

    def flush(writer: Any) -> None:
        table = _batch_table(rows).append_column("_relevant", pa.array(relevant, pa.bool_()))
        writer.write_table(table)
        rows.clear()
        relevant.clear()

    def reject(file: str, line: int, reason: str) -> None:
        res.rejects.append((file, line, reason))

    try:
        with pq.ParquetWriter(tmp, PART_SCHEMA) as writer:
            for rec in _renamed(
                _records(conn, path, task.name, task.format, counts), path, task.name
            ):
                counts.read += 1
                row = normalize(rec, counts.file, counts) if isinstance(rec, RawPost) else ""
                if isinstance(row, str):  # a reject, or a post that cannot be normalized
                    if isinstance(rec, RawPost):
                        rec = Reject(counts.file, rec.source_line or 0, row)
                    elif not isinstance(rec, Reject):
                        rec = Reject(counts.file, 0, f"connector yielded a {type(rec).__name__}")
                    count_reject(rec, counts, normalize.masker, reject)
                    continue
                rows.append(row)
                rel = task.relevance
                relevant.append(rel is None or bool(rel.match_text(row["text"])))
                if len(rows) >= task.batch_size:
                    flush(writer)
            flush(writer)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return res


def _route(run: _Run, part: str, counts: FileCounts) -> None:
    """Rows of one part into the output, as :func:`..pipeline._rows` routes them."""
    import pyarrow.parquet as pq

    batch: list[dict[str, Any]] = []
    for rb in pq.ParquetFile(part).iter_batches(batch_size=run.batch_size):
        for row in rb.to_pylist():
            relevant = row.pop("_relevant")
            if not run.dedup.new_id(row["platform"], row["post_id"]):
                counts.duplicates += 1
            elif not relevant:
                counts.filtered_out += 1
            else:
                row["dup_text"] = run.dedup.dup_text(row["text_hash"])
                counts.dup_texts += row["dup_text"]
                counts.kept += 1
                batch.append(row)
                if len(batch) >= run.batch_size:
                    run.sink.write(batch)
                    batch = []
    if batch:
        run.sink.write(batch)


def ingest_files_dask(
    client: Any,
    platform: str,
    paths: Any,
    out: str | Path,
    *,
    secret_file: str | Path | None = None,
    relevance: Relevance | None = None,
    strict: bool = False,
    format: str | None = None,
    extra_plugins: tuple[object, ...] = (),
    batch_size: int = 50_000,
    keep_file_names: bool = False,
) -> IngestReport:
    """:func:`vsdstats.ingest.pipeline.ingest_files` on the Dask ``client`` (one task per
    file); the same output and report."""
    _, files = check_inputs(platform, paths, format, extra_plugins)
    try:
        secret = load_secret(secret_file, out)
    except SecretError as exc:
        raise IngestError(str(exc)) from None
    run = _Run(platform, out, secret, relevance, batch_size)
    report = run.report
    outp = Path(out).resolve()
    parts = outp.parent / f".{outp.name}.parts-{report.run_id}"
    try:
        parts.mkdir(parents=True)
        tasks = []
        for i, path in enumerate(files):
            shown = display_name(path)
            name = shown if keep_file_names else file_label(str(path), secret)
            report.files.append(FileCounts(file=name, label=shown))
            tasks.append(
                FileTask(
                    platform,
                    os.fspath(path.resolve()),
                    name,
                    format,
                    os.fspath(outp),
                    os.fspath(Path(secret_file).resolve()) if secret_file else None,
                    report.secret_id,
                    os.fspath(parts / f"part-{i:05d}.parquet"),
                    relevance,
                    extra_plugins,
                    batch_size,
                )
            )
        futures = [
            client.submit(normalize_file, t, key=f"vsdstats-ingest-{i}-{report.run_id}")
            for i, t in enumerate(tasks)
        ]
        for task, counts, future in zip(tasks, report.files, futures, strict=True):
            res = future.result()  # in input order, as the single-process run
            counts.merge(res.counts)
            counts.format = res.counts.format
            for file, line, reason in res.rejects:
                run.sink.reject(file, line, reason)
            _route(run, task.part, counts)
        run.commit()
    except BaseException:
        run.sink.abort()
        raise
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    if strict and report.rejected:
        raise RejectsFound(report)
    return report
