"""A study's tables and where they live: a study folder, one Parquet file, or a DuckDB
database.  :class:`StudyDir` is the one place that knows a study folder's file names.

- study folder ``STUDY/``: ``posts.parquet``, ``rejects.csv`` (file,line,reason),
  ``ingest_report.json`` (one entry per run) and ``.vsdstats/secret.key`` (ingest);
  ``study.sqlite``, ``coded_units.{parquet,csv}``, ``post_status.{parquet,csv}`` and
  ``code_summary.json`` (code); ``manifests/<command>-<UTC time>.json``, one provenance
  record per run (:mod:`vsdstats.provenance`);
- ``NAME.parquet``: rejects and report beside it as ``NAME.rejects.csv`` and
  ``NAME.report.json``;
- ``NAME.duckdb``: tables ``posts``, ``rejects`` and ``ingest_runs``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vsdstats.errors import InputError
from vsdstats.tables.io import duckdb_module
from vsdstats.tables.models import validate_frame

SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("thread_id", pa.string()),
        ("parent_id", pa.string()),
        ("author", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("text", pa.string()),
        ("url", pa.string()),
        ("lang", pa.string()),
        ("community", pa.string()),
        ("score", pa.int64()),
        ("replies", pa.int64()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("kind", pa.string()),
        ("text_hash", pa.string()),
        ("dup_text", pa.bool_()),
    ]
)


COLUMNS = SCHEMA.names

#: Columns added to the posts table after its first release (community, score and
#: replies): a study or DuckDB file written before them reads and appends with them
#: missing (NA), never "different columns".
ADDED_COLUMNS = ("community", "score", "replies")


def upgrade(table: pa.Table) -> pa.Table | None:
    """``table`` with the :data:`ADDED_COLUMNS` it lacks (all null) in :data:`SCHEMA`'s
    order, cast to it; None if its columns are not those of SCHEMA (less added ones)."""
    names = table.column_names
    if names == COLUMNS:
        return table.cast(SCHEMA)
    if [c for c in COLUMNS if c not in ADDED_COLUMNS] != [c for c in names if c in COLUMNS]:
        return None
    if set(names) - set(COLUMNS):
        return None
    for c in ADDED_COLUMNS:
        if c not in names:
            table = table.append_column(SCHEMA.field(c), pa.nulls(len(table), SCHEMA.field(c).type))
    return table.select(COLUMNS).cast(SCHEMA)


class StudyError(InputError):
    """The output location is unusable (wrong kind, unreadable, different columns)."""


@dataclass(frozen=True)
class StudyDir:
    """The file names of a study folder (nothing is created or checked here)."""

    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    posts = property(lambda self: self.root / "posts.parquet")
    rejects = property(lambda self: self.root / "rejects.csv")
    ingest_report = property(lambda self: self.root / "ingest_report.json")
    # where the secret lived before it moved out of the study (still read if there)
    legacy_secret = property(lambda self: self.root / ".vsdstats" / "secret.key")
    study_id_file = property(lambda self: self.root / ".vsdstats" / "study-id")
    store = property(lambda self: self.root / "study.sqlite")
    code_summary = property(lambda self: self.root / "code_summary.json")
    manifests = property(lambda self: self.root / "manifests")  # vsdstats.provenance

    def output(self, stem: str, ext: str) -> Path:
        """Where ``code`` writes table ``stem`` (coded_units, post_status) as ``ext``."""
        return self.root / f"{stem}{ext}"

    def table(self, stem: str) -> Path | None:
        """``STUDY/<stem>.parquet``, else ``.csv``, if one exists (e.g. coded_units)."""
        for ext in (".parquet", ".csv"):
            p = self.output(stem, ext)
            if p.is_file():
                return p
        return None


def out_kind(out: str | Path) -> str:
    """``parquet``, ``duckdb`` or ``folder`` for an ``--out`` value."""
    suffix = Path(out).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".duckdb":
        return "duckdb"
    return "folder"


CONFIG_ENV = "VSDSTATS_CONFIG_DIR"


def config_dir() -> Path:
    """The user's vsdstats configuration folder: ``$VSDSTATS_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/vsdstats``, else ``~/.config/vsdstats``."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "vsdstats"


def study_id(out: str | Path, create: bool = False) -> str | None:
    """The study's random id (``STUDY/.vsdstats/study-id``, 32 hex digits; not secret:
    it only names the study's key in :func:`config_dir`), made when ``create``."""
    f = StudyDir(out).study_id_file
    if f.is_file():
        text = f.read_text(encoding="ascii").strip()
        if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
            return text
        raise StudyError(f"{f}: not a study id (32 lower-case hex digits)")
    if not create:
        return None
    f.parent.mkdir(parents=True, exist_ok=True)
    sid = secrets.token_hex(16)
    f.write_text(sid + "\n", encoding="ascii")
    return sid


def default_secret_path(out: str | Path, create_id: bool = False) -> Path | None:
    """Where a study folder's secret lives: ``config_dir()/secrets/<study id>.key``,
    outside the study, so sharing the folder never shares the key (a study made before
    the move keeps its ``STUDY/.vsdstats/secret.key``).  None for single-file outputs,
    and for a study without an id unless ``create_id``."""
    if out_kind(out) != "folder":
        return None
    study = StudyDir(out)
    if study.legacy_secret.is_file():
        return study.legacy_secret
    sid = study_id(out, create=create_id)
    return None if sid is None else config_dir() / "secrets" / f"{sid}.key"


def _types(t: pa.DataType) -> Any:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    return None


def read_posts(study_or_file: str | Path) -> pd.DataFrame:
    """Posts of a study folder, ``.parquet`` file or ``.duckdb`` database, validated with
    :func:`vsdstats.tables.models.validate_frame`."""
    p = Path(study_or_file)
    if out_kind(p) == "duckdb":
        duckdb = duckdb_module(p)  # the optional extra, or a one-line error naming it
        if not p.is_file():
            raise StudyError(f"no such DuckDB file: {p}")
        con = duckdb.connect(str(p), read_only=True)
        try:
            have = {r[0] for r in con.execute("DESCRIBE posts").fetchall()}
            cols = [c for c in COLUMNS if c in have]  # older files lack ADDED_COLUMNS
            rel = con.sql(f"SELECT {', '.join(cols)} FROM posts")
            fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # duckdb 2 / 1
            table = fetch()
        finally:
            con.close()
    else:
        path = StudyDir(p).posts if p.is_dir() else p
        if not path.is_file():
            raise StudyError(f"no posts found at {path}")
        table = pq.read_table(path)
    df = table.to_pandas(types_mapper=_types)
    return validate_frame(df, "post", source=str(p))
