"""Reading and writing tidy tables with clear errors; the format follows the extension.

Read: CSV, TSV, JSON lines, Parquet.  Write: CSV, TSV, JSON (array of records), JSON
lines, Parquet, Markdown (escaped) and Excel .xlsx (openpyxl).  Any other extension is
refused with an error listing the supported ones, never silently written as CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from vsdstats.errors import InputError

READERS = {
    ".csv": lambda p: pd.read_csv(p, dtype_backend="numpy_nullable"),
    ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype_backend="numpy_nullable"),
    ".jsonl": lambda p: pd.read_json(p, lines=True, dtype=False, encoding="utf-8-sig"),
    ".ndjson": lambda p: pd.read_json(p, lines=True, dtype=False, encoding="utf-8-sig"),
    ".parquet": pd.read_parquet,
}


class TableError(InputError):
    """A table file cannot be read or written."""


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


# ------------------------------------------------------------------ markdown

_MD_PUNCT = re.compile(r"([\\`*_\[\]])")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_escape(value: object, cell: bool = True) -> str:
    """Text safe to put in Markdown: no raw HTML, emphasis, code, links or entities.

    ``<`` that would open a tag and ``&`` that would start an entity become ``&lt;`` /
    ``&amp;``; ``\\ ` * _ [ ]`` are backslash-escaped (CommonMark 2.4); in a table
    ``cell`` also ``|``.  Newlines become spaces.  '<10' and '5 & 6' stay as they are.
    """
    s = _MD_PUNCT.sub(r"\\\1", str(value))
    s = _MD_TAG.sub("&lt;", _MD_ENTITY.sub("&amp;", s))
    if cell:
        s = s.replace("|", r"\|")
    return " ".join(s.splitlines())


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``df`` (numbers right-aligned, cells escaped)."""
    cols = [markdown_escape(c) for c in df.columns]
    align = ["---:" if pd.api.types.is_numeric_dtype(t) else "---" for t in df.dtypes]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join(align) + " |"]
    for row in df.itertuples(index=False):
        cells = ["" if _isna(v) else markdown_escape(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------- writing


def _write_xlsx(df: pd.DataFrame, p: Path) -> None:
    out = df.copy()
    for c in out.columns:  # Excel has no time zones: write UTC wall time
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC").dt.tz_localize(None)
    out.to_excel(p, index=False, engine="openpyxl")


WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    ".csv": lambda df, p: df.to_csv(p, index=False, lineterminator="\n"),
    ".tsv": lambda df, p: df.to_csv(p, sep="\t", index=False, lineterminator="\n"),
    ".json": lambda df, p: df.to_json(p, orient="records", date_format="iso", indent=1),
    ".jsonl": lambda df, p: df.to_json(p, orient="records", lines=True, date_format="iso"),
    ".ndjson": lambda df, p: df.to_json(p, orient="records", lines=True, date_format="iso"),
    ".parquet": lambda df, p: df.to_parquet(p, index=False),
    ".md": lambda df, p: p.write_text(to_markdown(df), encoding="utf-8", newline="\n"),
    ".xlsx": _write_xlsx,
}


def check_writable(path: str | Path) -> Path:
    """``path`` if its extension names a format :func:`write_table` writes, else TableError."""
    p = Path(path)
    if p.suffix.lower() not in WRITERS:
        what = f"extension {p.suffix!r}" if p.suffix else "no extension"
        raise TableError(f"{p}: cannot write a table with {what}; use one of {', '.join(WRITERS)}")
    return p


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a tidy table in the format its extension names (see ``WRITERS``)."""
    p = check_writable(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        WRITERS[p.suffix.lower()](df, p)
    except (ImportError, OSError) as exc:
        raise TableError(f"{p}: cannot write table: {exc}") from None
    return p
