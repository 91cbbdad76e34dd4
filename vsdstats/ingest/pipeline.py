"""Ingest: platform files -> normalized, pseudonymized, deduplicated posts.

For each file the platform's connector yields :class:`RawPost` or :class:`Reject`
records; each post is normalized to :class:`vsdstats.tables.models.Post` with the author
replaced by a keyed pseudonym and mentions/identities masked (:mod:`vsdstats.ingest.masking`),
deduplicated by ``(platform, post_id)`` (first kept, later copies counted, before
the relevance filter, so a second copy of a filtered post is a duplicate), flagged
``dup_text`` when its normalized text was seen before, optionally filtered for
relevance, and written in batches (:mod:`vsdstats.tables.study`).  Every record read is
accounted for: ``read = kept + duplicates + filtered_out + rejected``, per file.

Privacy: ``author`` is the pseudonym of the author handle, or of the author id when
there is no handle (Reddit's ``[deleted]``/``[removed]`` give no author); text follows
:mod:`vsdstats.ingest.masking` (mentions and profile links -> ``@a_...``, e-mails ->
``[email]``, phone numbers -> ``[phone]``, known identities and their look-alikes ->
pseudonyms); post, thread and parent ids have identities scrubbed too, and an id that is
a URL (or holds a mention) becomes a keyed hash ``h_...``.  A ``url`` that names a user
is rewritten to an equivalent permalink where one is known (X status, Reddit comments,
TikTok videos) and otherwise dropped (counted as ``urls_dropped``).  Reject reasons
name the field and the problem: connectors do not quote identity values, and ingest
masks mentions, e-mails and phones in them and drops the values that builtin errors
quote.  Files are stored (``source_file``, rejects, report) as a keyed hash of their
path, ``f_<12 hex>.<ext>`` (``keep_file_names=True``: the path as given, with the home
folder shown as ``~``).  Lone UTF-16 surrogates (broken emoji in some dumps) become
U+FFFD so every kept string is valid UTF-8.

Memory: rows are written in batches of ``batch_size``; the only state growing with the
input is two sets of 8-byte digests (post ids and text hashes, about 100 bytes per post
in CPython).  With 64-bit digests the chance of any false duplicate is about
n**2 / 2**65 (3e-4 for 10**8 posts).

Secret: see :mod:`vsdstats.ingest.secret` (``secret=`` bytes, a secret file, the
``VSDSTATS_SECRET`` variable or the study's key in the user's config folder).  Each run records a
``secret_id`` (a keyed fingerprint, not the secret) and refuses to append to a study
made with another secret.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from vsdstats.connectors.base import Connector, Cursor
from vsdstats.connectors.io import TruncatedInput, is_parts_folder, open_source, read_prefix
from vsdstats.connectors.manager import PluginError, connectors
from vsdstats.connectors.records import RawPost, Reject
from vsdstats.errors import InputError, VsdstatsError
from vsdstats.ingest.console import IngestProgress
from vsdstats.ingest.masking import Masker
from vsdstats.ingest.normalize import Normalizer, clean
from vsdstats.ingest.pseudonymize import file_label
from vsdstats.ingest.report import FileCounts, IngestReport
from vsdstats.ingest.secret import SECRET_BYTES, SecretError, load_secret, secret_id
from vsdstats.ingest.sinks import open_sink
from vsdstats.ingest.textnorm import normalize_text, text_hash
from vsdstats.tables.study import StudyError, read_posts

__all__ = [
    "FileCounts",
    "IngestError",
    "IngestReport",
    "RejectsFound",
    "ingest_files",
    "ingest_records",
    "load_secret",
    "normalize_text",
    "read_posts",
    "text_hash",
]

SNIFF_BYTES = 64 * 1024
MAX_REASON = 300  # characters of a reject reason kept
MAX_REASONS = 200  # distinct reasons counted per file in the report (the rest lumped)


class IngestError(InputError):
    """A usage problem: unknown platform, missing file, unusable secret or output."""


class RejectsFound(VsdstatsError, RuntimeError):
    """``strict=True`` and some records were rejected (outputs are written)."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__(f"{report.rejected} record(s) rejected")
        self.report = report


class Relevance(Protocol):
    def match_text(self, text: str) -> bool: ...


# ------------------------------------------------------------- text hashes
# normalize_text / text_hash: one definition for ingest and coding (vsdstats.ingest.textnorm).


def _id_key(platform: str, post_id: str) -> int:
    d = hashlib.blake2b(f"{platform}\0{post_id}".encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(d.digest(), "big")


def _hash_key(hex_hash: str) -> int:
    return int(hex_hash[:16], 16)


def display_name(path: str | Path) -> str:
    """The path as given, with the user's home folder shown as ``~``."""
    s = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (s == home or s.startswith(home + os.sep)):
        return "~" + s[len(home) :]
    return s


# --------------------------------------------------------------- the engine
def _has_sniff(conn: Connector) -> bool:
    return type(conn).sniff is not Connector.sniff


def _sniff(conn: Connector, path: Path) -> str | None:
    _, stream = open_source(path)
    try:
        head, _ = read_prefix(stream, SNIFF_BYTES)  # a cut stream: its damage is read later
    finally:
        stream.close()
    return conn.sniff(head)


def _records(
    conn: Connector, path: Path, name: str, fmt: str | None, counts: FileCounts
) -> Iterator[RawPost | Reject]:
    """The connector's records with failures turned into rejects and ``source_file`` fixed."""
    wrong = None
    if fmt is None and _has_sniff(conn):
        try:
            fmt = _sniff(conn, path)
        except Exception as exc:  # a corrupt file must not crash the run
            yield Reject(name, 0, f"cannot read file: {type(exc).__name__}: {exc}")
            return
        if fmt is None:
            wrong = f"does not look like a {conn.name} file"
    counts.format = fmt
    n = 0
    good = False
    last_line = 0
    try:
        for rec in conn.read(str(path), format=fmt):
            n += 1
            if isinstance(rec, Reject):
                last_line = rec.line
                reason = f"{wrong}: {rec.reason}" if wrong and not good else rec.reason
                yield Reject(name, rec.line, reason)
            elif isinstance(rec, RawPost):
                good = True
                last_line = rec.source_line or last_line
                yield rec
            else:
                yield Reject(name, last_line, f"connector yielded a {type(rec).__name__}")
    except TruncatedInput as exc:  # a cut .gz/.zst read by a connector without read_guarded
        yield Reject(name, last_line + 1, exc.detail)
        return
    except Exception as exc:  # a connector bug
        yield Reject(
            name, last_line + 1, f"reading stopped: {type(exc).__name__}: {exc} (rest unread)"
        )
        return
    if n == 0:
        yield Reject(name, 0, wrong or "no records read")


_NUM_RE = re.compile(r"\d+")
# builtin error messages that end in the offending value (int('SomeHandle'), float(...))
_VALUE_TAIL_RE = re.compile(
    r"(invalid literal for \w+\(\)(?: with base \d+)?|could not convert string to \w+"
    r"|invalid (?:decimal|numeric) literal|unexpected value)\s*:\s*.*",
    re.IGNORECASE,
)


def safe_reason(reason: str, masker: Masker) -> str:
    """A reject reason without values: builtin errors lose the value they quote, mentions,
    profile links, e-mails and phone numbers are masked, and it is cut to MAX_REASON."""
    return masker.mask_text(_VALUE_TAIL_RE.sub(r"\1", reason))[:MAX_REASON]


def _renamed(records: Iterator[RawPost | Reject], path: Path, name: str) -> Iterator[Any]:
    """Rejects whose reason quotes the input path (an OSError) name it as ``name``."""
    variants = sorted({str(path), os.fspath(path.resolve()), path.name}, key=len, reverse=True)
    for rec in records:
        if isinstance(rec, Reject) and any(v in rec.reason for v in variants):
            reason = rec.reason
            for v in variants:
                reason = reason.replace(v, name)
            rec = Reject(rec.source_file, rec.line, reason)
        yield rec


def _reason_key(reason: str) -> str:
    return _NUM_RE.sub("N", reason)


def resolve_connector(platform: str, extra_plugins: tuple[object, ...] = ()) -> Connector:
    """The connector for ``platform``; IngestError lists the installed ones."""
    try:
        found = connectors(extra_plugins)
    except PluginError as exc:
        raise IngestError(str(exc)) from None
    if platform not in found:
        have = ", ".join(found) or "none (install the plugins under plugins/)"
        raise IngestError(f"no connector for platform {platform!r}; installed: {have}")
    return found[platform].connector


def _check_secret(secret: bytes | None, secret_file: str | Path | None, out: str | Path) -> bytes:
    if secret is None:
        try:
            return load_secret(secret_file, out)
        except SecretError as exc:
            raise IngestError(str(exc)) from None
    if len(secret) < SECRET_BYTES:
        raise IngestError(f"the secret must be at least {SECRET_BYTES} bytes")
    return secret


class _Run:
    """One ingest run into ``out``: the secret, the sink, the dedup sets and the report,
    shared by :func:`ingest_files` (one source per file) and :func:`ingest_records`
    (one stream, checkpointed at every cursor)."""

    def __init__(
        self,
        platform: str,
        out: str | Path,
        secret: bytes,
        relevance: Relevance | None,
        batch_size: int,
    ) -> None:
        try:
            self.sink = open_sink(out)
        except StudyError as exc:
            raise IngestError(str(exc)) from None
        self.secret = secret
        self.relevance = relevance
        self.batch_size = batch_size
        self.report = IngestReport(
            platform=platform, out=display_name(out), relevance=relevance is not None
        )
        self.report.started_at = _now()
        self.report.secret_id = secret_id(secret)
        self.dedup = _Dedup()
        try:
            last = self.sink.open(self.dedup.seen)
        except StudyError as exc:
            raise IngestError(str(exc)) from None
        if last and last.get("secret_id") and last["secret_id"] != self.report.secret_id:
            self.sink.abort()
            raise IngestError(
                f"{out} was pseudonymized with a different secret; use the study's secret "
                "(or a new output) so that pseudonyms stay comparable"
            )
        self.normalize = Normalizer(secret, platform)

    def feed(
        self, records: Iterator[Any], counts: FileCounts, bar: IngestProgress
    ) -> Iterator[Any]:
        """Route ``records`` into the sink; yields every :class:`Cursor` in the stream
        once the rows kept before it are written (not yet committed)."""
        batch: list[dict[str, Any]] = []
        for batch, cursor in _rows(
            records, counts, self.normalize, self.dedup, self.relevance, self.sink, bar
        ):
            if cursor is not None:
                if batch:
                    self.sink.write(batch)
                    batch.clear()
                yield cursor
            elif len(batch) >= self.batch_size:
                self.sink.write(batch)
                batch.clear()
        if batch:
            self.sink.write(batch)

    def _finish_report(self) -> dict[str, Any]:
        self.report.posts_in_output = self.dedup.stored + self.report.kept
        self.report.finished_at = _now()
        return self.report.to_dict()

    def checkpoint(self) -> None:
        """Make everything written so far durable (the report records the run so far)."""
        self.sink.checkpoint(self._finish_report())

    def commit(self) -> None:
        self.sink.commit(self._finish_report())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_inputs(
    platform: str,
    paths: Sequence[str | Path] | str | Path,
    format: str | None,
    extra_plugins: tuple[object, ...] = (),
) -> tuple[Connector, list[Path]]:
    """The connector and the input files; IngestError for a usage problem."""
    conn = resolve_connector(platform, extra_plugins)
    if format is not None and conn.formats and format not in conn.formats:
        raise IngestError(
            f"{platform} has no format {format!r}; formats: {', '.join(conn.formats)}"
        )
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not files:
        raise IngestError("no input files given")
    for p in files:
        if not p.exists():
            raise IngestError(f"no such file: {p}")
        if not p.is_file() and not is_parts_folder(p):
            raise IngestError(f"not a file (nor a folder of `filter --dask` parts): {p}")
        if not os.access(p, os.R_OK):
            raise IngestError(f"cannot read file: {p} (permission denied)")
    return conn, files


def ingest_files(
    platform: str,
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    secret: bytes | None = None,
    secret_file: str | Path | None = None,
    relevance: Relevance | None = None,
    strict: bool = False,
    format: str | None = None,
    progress: bool = False,
    extra_plugins: tuple[object, ...] = (),
    batch_size: int = 50_000,
    console: Any = None,
    keep_file_names: bool = False,
) -> IngestReport:
    """Ingest ``paths`` of ``platform`` into ``out`` (study folder, .parquet or .duckdb).

    Files are named in the output (``source_file``, the rejects, the report) by a keyed
    hash of their path (:func:`vsdstats.ingest.pseudonymize.file_label`), since file names can hold
    a handle; ``keep_file_names=True`` stores :func:`display_name` instead.  The console
    summary and progress bar show the path as the user gave it (their own terminal).

    Raises IngestError for usage problems (nothing is written), RejectsFound after
    writing when ``strict`` and anything was rejected.
    """
    conn, files = check_inputs(platform, paths, format, extra_plugins)
    secret = _check_secret(secret, secret_file, out)
    run = _Run(platform, out, secret, relevance, batch_size)
    report = run.report
    try:
        with IngestProgress(progress, console) as bar:
            for path in files:
                shown = display_name(path)
                name = shown if keep_file_names else file_label(str(path), secret)
                counts = FileCounts(file=name, label=shown)
                report.files.append(counts)
                bar.start(shown)
                records = _renamed(_records(conn, path, name, format, counts), path, name)
                for _ in run.feed(records, counts, bar):
                    pass
        run.commit()
    except BaseException:
        run.sink.abort()
        raise
    if strict and report.rejected:
        raise RejectsFound(report)
    return report


def ingest_records(
    platform: str,
    records: Iterable[Any],
    out: str | Path,
    *,
    source: str,
    secret: bytes | None = None,
    secret_file: str | Path | None = None,
    relevance: Relevance | None = None,
    on_cursor: Callable[[Any], None] | None = None,
    progress: bool = False,
    batch_size: int = 50_000,
    console: Any = None,
) -> IngestReport:
    """Ingest a stream of RawPost/Reject ``records`` (e.g. from ``Connector.collect``)
    into ``out`` exactly as :func:`ingest_files` does a file named ``source``.

    A :class:`vsdstats.connectors.base.Cursor` in the stream is a checkpoint: the rows
    before it are made durable (posts, rejects, report) and then ``on_cursor(cursor)``
    is called, so state saved there never runs ahead of the posts.
    If the stream raises, the rows since the last checkpoint are dropped (a resumed
    run reads them again) and the exception propagates.
    """
    secret = _check_secret(secret, secret_file, out)
    run = _Run(platform, out, secret, relevance, batch_size)
    counts = FileCounts(file=source, label=source)
    run.report.files.append(counts)
    try:
        with IngestProgress(progress, console) as bar:
            bar.start(source)
            for item in run.feed(iter(records), counts, bar):
                run.checkpoint()
                if on_cursor is not None:
                    on_cursor(item)
        run.commit()
    except BaseException:
        run.sink.abort()
        raise
    return run.report


class _Dedup:
    """The only state growing with the input: 8-byte keys of post ids and text hashes."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.texts: set[int] = set()
        self.stored = 0

    def seen(self, platform: str, post_id: str, hex_hash: str) -> None:
        """Register a post already in the output."""
        self.stored += 1
        self.ids.add(_id_key(platform, post_id))
        if hex_hash:
            self.texts.add(_hash_key(hex_hash))

    def new_id(self, platform: str, post_id: str) -> bool:
        key = _id_key(platform, post_id)
        if key in self.ids:
            return False
        self.ids.add(key)
        return True

    def dup_text(self, hex_hash: str) -> bool:
        key = _hash_key(hex_hash)
        if key in self.texts:
            return True
        self.texts.add(key)
        return False


def count_reject(
    rec: Reject, counts: FileCounts, masker: Masker, reject: Callable[[str, int, str], Any]
) -> None:
    """Count ``rec`` (its reason made safe, lumped past MAX_REASONS) and pass it on."""
    counts.rejected += 1
    reason = safe_reason(clean(rec.reason) or "", masker)
    key = _reason_key(reason)
    if key not in counts.reasons and len(counts.reasons) >= MAX_REASONS:
        key = "other reasons (see the rejects)"
    counts.reasons[key] += 1
    reject(rec.source_file, rec.line, reason)


def _rows(
    records: Iterator[RawPost | Reject],
    counts: FileCounts,
    normalize: Normalizer,
    dedup: _Dedup,
    relevance: Relevance | None,
    sink: Any,
    bar: IngestProgress,
) -> Iterator[tuple[list[dict[str, Any]], Cursor | None]]:
    """Count and route every record; yields the growing batch of kept rows after each,
    with the Cursor when the item was one (a cursor is not a record: not counted)."""
    batch: list[dict[str, Any]] = []
    for rec in records:
        if isinstance(rec, Cursor):
            yield batch, rec
            continue
        counts.read += 1
        if not isinstance(rec, (RawPost, Reject)):
            rec = Reject(counts.file, 0, f"connector yielded a {type(rec).__name__}")
        row: dict[str, Any] | str = ""
        if isinstance(rec, RawPost):
            row = normalize(rec, counts.file, counts)
            if isinstance(row, str):
                rec = Reject(counts.file, rec.source_line or 0, row)
        if isinstance(rec, Reject):
            count_reject(rec, counts, normalize.masker, sink.reject)
            bar.advance(rejected=True)
        else:
            assert isinstance(row, dict)
            if not dedup.new_id(row["platform"], row["post_id"]):
                counts.duplicates += 1
            elif relevance is not None and not relevance.match_text(row["text"]):
                counts.filtered_out += 1
            else:
                row["dup_text"] = dedup.dup_text(row["text_hash"])
                counts.dup_texts += row["dup_text"]
                counts.kept += 1
                batch.append(row)
            bar.advance()
        yield batch, None
