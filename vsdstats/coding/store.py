"""The study database: ``STUDY/study.sqlite``, one row per coded text.

Rows are keyed by ``(codebook_version, model, prompt_hash, text_hash)``, so a rerun
with the same codebook, model and prompt finds finished texts and sends no request
for them, while a new model or prompt version codes everything afresh beside the
old results.  The database runs in WAL mode with ``synchronous=NORMAL``: every
finished text is committed (alone, or with the others that finished at the same moment,
in one small transaction) before it is reported done, so a process killed at any
moment (even ``kill -9``) loses at most the texts that were still in flight.  Only
a power loss can drop the last few commits (``synchronous=FULL`` via ``durable=True``
closes that too, at the price of one fsync per text).

Each row also records how it was asked for and what came back (issue 11): the
``temperature`` and ``seed`` sent, the final response's raw text, the model id the API
returned and its ``system_fingerprint``, and in ``responses_json`` one record per request
made for the text.  Study folders made before these columns existed are upgraded on open
(the columns are added; their old rows read with the fields None).

The API key is never passed to, and so never written by, this module.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vsdstats.coding.usage import Usage
from vsdstats.ingest.textnorm import text_hash

FINISHED = ("coded", "not_relevant")
STATUSES = ("coded", "not_relevant", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    codebook_version TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('coded', 'not_relevant', 'failed')),
    units_json TEXT NOT NULL DEFAULT '[]',
    reason TEXT,
    coder TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    http_retries INTEGER NOT NULL DEFAULT 0,
    validation_retries INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    started_at REAL,
    finished_at REAL,
    temperature REAL,
    seed INTEGER,
    raw_response TEXT,
    returned_model TEXT,
    system_fingerprint TEXT,
    responses_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (codebook_version, model, prompt_hash, text_hash)
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    codebook_version TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    text_hashes TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    settings TEXT NOT NULL,
    summary TEXT
);
"""

#: Columns added to ``results`` after its first release, with their SQL types: a study
#: folder made before them gets them on open (``ALTER TABLE ... ADD COLUMN``), its old
#: rows read with these fields None (``responses`` empty).
_ADDED_COLUMNS = {
    "temperature": "REAL",
    "seed": "INTEGER",
    "raw_response": "TEXT",
    "returned_model": "TEXT",
    "system_fingerprint": "TEXT",
    "responses_json": "TEXT NOT NULL DEFAULT '[]'",
}


def text_key(text: str) -> str:
    """:func:`vsdstats.ingest.textnorm.text_hash`: texts that are "the same" are coded once."""
    return text_hash(text)


@dataclass(frozen=True)
class RunKey:
    """What a stored result depends on, besides the text."""

    codebook_version: str
    model: str
    prompt_hash: str


@dataclass
class TextResult(Usage):
    """The outcome of coding one distinct text (units without ``post_id``), with what its
    requests used (:class:`~vsdstats.coding.usage.Usage`; cost None until known)."""

    text_hash: str
    status: str
    units: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    coder: str = "llm"
    attempts: int = 0
    cost_usd: float | None = field(default=None, kw_only=True)
    started_at: float | None = None
    finished_at: float | None = None
    # what was asked and what came back (None for rows stored before they were recorded,
    # and for the baseline): the sampling settings sent, then the final response's raw
    # text (message content or tool-call arguments), the model id the API returned
    # (``completion.model``, e.g. a dated snapshot) and its ``system_fingerprint``;
    # ``responses`` has one such record per request made for the text (validation
    # retries included): id, model, system_fingerprint, finish_reason, raw.
    temperature: float | None = None
    seed: int | None = None
    raw_response: str | None = None
    returned_model: str | None = None
    system_fingerprint: str | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")


_FIELDS = frozenset(TextResult.__dataclass_fields__)


class Store:
    """SQLite store of text-level results; use from one thread (the writer).

    Several processes may each open one (``--workers``): a write waits for the others'
    (``busy_timeout``) instead of failing.
    """

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.con.execute("PRAGMA busy_timeout=30000")  # other writers: wait, do not fail
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self.con.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns of :data:`_ADDED_COLUMNS` an older study.sqlite lacks."""
        have = {r[1] for r in self.con.execute("PRAGMA table_info(results)")}
        for name, decl in _ADDED_COLUMNS.items():
            if name in have:
                continue
            try:
                self.con.execute(f"ALTER TABLE results ADD COLUMN {name} {decl}")
            except sqlite3.OperationalError as exc:  # added meanwhile by another process
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ results
    def put(self, key: RunKey, r: TextResult) -> None:
        """Insert or replace one result in its own transaction (committed on return)."""
        self.put_many(key, [r])

    def put_many(self, key: RunKey, results: list[TextResult]) -> None:
        """Insert or replace results in one transaction (all committed on return)."""
        if not results:
            return
        k = asdict(key)
        rows = []
        for r in results:
            row = asdict(r)
            row["units_json"] = json.dumps(row.pop("units"), ensure_ascii=False, sort_keys=True)
            row["responses_json"] = json.dumps(row.pop("responses"), ensure_ascii=False)
            row.update(k)
            rows.append(row)
        cols = ", ".join(rows[0])
        marks = ", ".join(f":{c}" for c in rows[0])
        with self._tx():
            self.con.executemany(f"INSERT OR REPLACE INTO results ({cols}) VALUES ({marks})", rows)

    def done(self, key: RunKey, *, include_failed: bool = False) -> set[str]:
        """Text hashes already finished under ``key`` (and failed ones if asked)."""
        return _done(self.con, key, include_failed)

    def results(self, key: RunKey, hashes: Iterable[str] | None = None) -> dict[str, TextResult]:
        """Stored results under ``key`` (all, or those of ``hashes``)."""
        cur = self.con.execute(
            "SELECT * FROM results WHERE codebook_version=? AND model=? AND prompt_hash=?",
            _k(key),
        )
        names = [d[0] for d in cur.description]
        want = set(hashes) if hashes is not None else None
        out: dict[str, TextResult] = {}
        for row in cur:
            d = dict(zip(names, row, strict=True))
            if want is not None and d["text_hash"] not in want:
                continue
            for c in ("codebook_version", "model", "prompt_hash"):
                d.pop(c)
            d["units"] = json.loads(d.pop("units_json"))
            d["responses"] = json.loads(d.pop("responses_json", None) or "[]")
            out[d["text_hash"]] = TextResult(**{k: v for k, v in d.items() if k in _FIELDS})
        return out

    # ------------------------------------------------------------ batches
    def add_batch(self, key: RunKey, batch_id: str, hashes: list[str]) -> None:
        with self._tx():
            self.con.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, 'submitted', ?, NULL)",
                (batch_id, *_k(key), json.dumps(hashes), time.time()),
            )

    def open_batches(self, key: RunKey) -> dict[str, list[str]]:
        """Submitted batches not yet collected: batch id -> text hashes."""
        cur = self.con.execute(
            "SELECT batch_id, text_hashes FROM batches WHERE codebook_version=? AND model=? "
            "AND prompt_hash=? AND status='submitted' ORDER BY created_at",
            _k(key),
        )
        return {b: json.loads(h) for b, h in cur}

    def close_batch(self, batch_id: str, status: str = "collected") -> None:
        with self._tx():
            self.con.execute(
                "UPDATE batches SET status=?, finished_at=? WHERE batch_id=?",
                (status, time.time(), batch_id),
            )

    # ------------------------------------------------------------ runs
    def start_run(self, settings: dict[str, Any]) -> int:
        with self._tx():
            cur = self.con.execute(
                "INSERT INTO runs (started_at, settings) VALUES (?, ?)",
                (time.time(), json.dumps(settings, sort_keys=True)),
            )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, summary: dict[str, Any]) -> None:
        with self._tx():
            self.con.execute(
                "UPDATE runs SET finished_at=?, summary=? WHERE run_id=?",
                (time.time(), json.dumps(summary, sort_keys=True), run_id),
            )

    # ------------------------------------------------------------ helpers
    def _tx(self) -> _Tx:
        return _Tx(self.con)


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")


def _k(key: RunKey) -> tuple[str, str, str]:
    return (key.codebook_version, key.model, key.prompt_hash)


def finished_hashes(path: str | Path, key: RunKey, *, include_failed: bool = False) -> set[str]:
    """:meth:`Store.done` read without creating or changing anything (``--dry-run``):
    empty if ``path`` does not exist."""
    p = Path(path)
    if not p.is_file():
        return set()
    con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return _done(con, key, include_failed)
    finally:
        con.close()


def _done(con: sqlite3.Connection, key: RunKey, include_failed: bool) -> set[str]:
    statuses = STATUSES if include_failed else FINISHED
    q = (
        "SELECT text_hash FROM results WHERE codebook_version=? AND model=? AND "
        f"prompt_hash=? AND status IN ({', '.join('?' * len(statuses))})"
    )
    return {r[0] for r in con.execute(q, (*_k(key), *statuses))}


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Successive slices of ``items`` of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
