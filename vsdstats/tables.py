"""Reading and writing tidy tables (CSV, TSV, JSON lines, Parquet) with clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

READERS = {
    ".csv": lambda p: pd.read_csv(p, dtype_backend="numpy_nullable"),
    ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype_backend="numpy_nullable"),
    ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False, encoding="utf-8-sig"),
    ".ndjson": lambda p: pd.read_json(p, lines=True, dtype=False, encoding="utf-8-sig"),
    ".parquet": pd.read_parquet,
}


class TableError(ValueError):
    """A table file cannot be read."""


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a tidy table; the format follows the file extension."""
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise TableError(f"{p}: unknown table format {p.suffix!r} (use {', '.join(READERS)})")
    if not p.is_file():
        raise TableError(f"{p}: no such file")
    try:
        return reader(p)
    except (ValueError, ImportError, OSError, pd.errors.ParserError) as exc:
        raise TableError(f"{p}: cannot read table: {exc}") from None


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a tidy table (CSV by default; TSV, JSONL, Parquet by extension)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ext = p.suffix.lower()
    if ext == ".parquet":
        df.to_parquet(p, index=False)
    elif ext in (".jsonl", ".ndjson"):
        df.to_json(p, orient="records", lines=True, date_format="iso")
    else:
        df.to_csv(p, sep="\t" if ext == ".tsv" else ",", index=False, lineterminator="\n")
    return p
