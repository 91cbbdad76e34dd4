"""A study's posts table and where it lives: a study folder, one Parquet file, or a
DuckDB database (the one place that knows their file names).

- study folder ``STUDY/``: ``posts.parquet``, ``rejects.csv`` (file,line,reason),
  ``ingest_report.json`` (one entry per run) and ``.vsdstats/secret.key``;
- ``NAME.parquet``: rejects and report beside it as ``NAME.rejects.csv`` and
  ``NAME.report.json``;
- ``NAME.duckdb``: tables ``posts``, ``rejects`` and ``ingest_runs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vsdstats.errors import InputError
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
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("kind", pa.string()),
        ("text_hash", pa.string()),
        ("dup_text", pa.bool_()),
    ]
)


COLUMNS = SCHEMA.names


class StudyError(InputError):
    """The output location is unusable (wrong kind, unreadable, different columns)."""


def out_kind(out: str | Path) -> str:
    """``parquet``, ``duckdb`` or ``folder`` for an ``--out`` value."""
    suffix = Path(out).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".duckdb":
        return "duckdb"
    return "folder"


def default_secret_path(out: str | Path) -> Path | None:
    """``STUDY/.vsdstats/secret.key`` for a study folder; None for single-file outputs."""
    return Path(out) / ".vsdstats" / "secret.key" if out_kind(out) == "folder" else None


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
        import duckdb

        if not p.is_file():
            raise StudyError(f"no such DuckDB file: {p}")
        con = duckdb.connect(str(p), read_only=True)
        try:
            rel = con.sql(f"SELECT {', '.join(COLUMNS)} FROM posts")
            fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # duckdb 2 / 1
            table = fetch()
        finally:
            con.close()
    else:
        path = p / "posts.parquet" if p.is_dir() else p
        if not path.is_file():
            raise StudyError(f"no posts found at {path}")
        table = pq.read_table(path)
    df = table.to_pandas(types_mapper=_types)
    return validate_frame(df, "post", source=str(p))
