"""Reading and writing tidy tables with clear errors; the format follows the extension.

Read: CSV, TSV, JSON lines, Parquet, and a DuckDB database's table ``units`` (the
analysis table ``vsdstats export`` writes; needs the ``duckdb`` extra).  Write: CSV,
TSV, JSON (array of records), JSON lines, Parquet, Markdown (escaped) and Excel .xlsx
(openpyxl).  Any other extension is refused with an error listing the supported ones,
never silently written as CSV.

Typed CSV (:func:`write_typed_csv`): ``NAME.csv`` with a sidecar ``NAME.schema.json``,
an ordered object column -> R type (``character``, ``integer``, ``double``,
``logical``, ``POSIXct``), so R without arrow or duckdb reads it typed
(``R/read_study.R``) and :func:`read_table` reads it back with the same types.  In such
a file an empty field is a missing value (``NA``) in every column, so an empty string
reads as missing; any other text, ``NA`` included, is kept as written.  Timestamps are
UTC, ISO 8601 with ``Z`` (``2024-05-01T13:45:00.000000Z``); logicals ``TRUE``/``FALSE``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from vsdstats.errors import InputError

#: The table of a .duckdb file that :func:`read_table` reads (``vsdstats export`` writes it).
DUCKDB_TABLE = "units"
#: How to install DuckDB support, named in the error when it is missing.
DUCKDB_EXTRA = "pip install 'vsdstats[duckdb]'"
#: R types of a typed CSV's schema -> the pandas dtype each reads as.
R_TYPES = {
    "character": "string",
    "integer": "Int64",
    "double": "Float64",
    "logical": "boolean",
    "POSIXct": "datetime64[ns, UTC]",
}
_R_INT_MAX = 2**31 - 1  # R's integer is 32-bit; larger counts are written as double
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

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
    """Read a tidy table; the format follows the file extension (a ``.csv`` with a
    ``.schema.json`` beside it is read with the types it names)."""
    p = Path(path)
    suffix = p.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None and suffix != ".duckdb":
        if not p.exists():
            raise TableError(f"{p}: no such file or folder")
        known = ", ".join([*READERS, ".duckdb"])
        what = "a folder" if p.is_dir() else f"unknown table format {p.suffix!r}"
        raise TableError(f"{p}: {what} (use {known}, or a study folder where one is read)")
    if not p.is_file():
        raise TableError(f"{p}: no such file")
    if suffix == ".duckdb":
        return _read_duckdb(p)
    if suffix == ".csv" and schema_path(p).is_file():
        return read_typed_csv(p)
    try:
        return reader(p)
    except (ValueError, ImportError, OSError, pd.errors.ParserError) as exc:
        raise TableError(f"{p}: cannot read table: {exc}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def duckdb_module(path: str | Path) -> Any:
    """The ``duckdb`` module, or TableError ``<path>: ... needs the duckdb package
    (pip install 'vsdstats[duckdb]')`` when the optional extra is not installed."""
    try:
        import duckdb
    except ImportError:
        raise TableError(
            f"{path}: a .duckdb file needs the duckdb package ({DUCKDB_EXTRA})"
        ) from None
    return duckdb


def arrow_dtypes(t: Any) -> Any:
    """pandas' nullable dtype for an Arrow type (``types_mapper`` of ``to_pandas``)."""
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    if pa.types.is_boolean(t):
        return pd.BooleanDtype()
    if pa.types.is_floating(t):
        return pd.Float64Dtype()
    return None


def duckdb_tables(con: Any) -> list[str]:
    """The tables (and views) of an open DuckDB connection's main schema, sorted."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return sorted(r[0] for r in rows)


def _read_duckdb(p: Path) -> pd.DataFrame:
    """Table :data:`DUCKDB_TABLE` of a DuckDB database file."""
    duckdb = duckdb_module(p)
    try:
        con = duckdb.connect(str(p), read_only=True)
    except duckdb.Error as exc:
        raise TableError(f"{p}: cannot open as a DuckDB database: {_one_line(exc)}") from None
    try:
        tables = duckdb_tables(con)
        if DUCKDB_TABLE not in tables:
            raise TableError(
                f"{p}: no table {DUCKDB_TABLE!r} (tables: {', '.join(tables) or 'none'}); "
                f"write one with: vsdstats export STUDY -o {p.name}"
            )
        rel = con.sql(f"SELECT * FROM {DUCKDB_TABLE}")
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # duckdb 2 / 1
        table = fetch()
    except duckdb.Error as exc:
        raise TableError(f"{p}: cannot read table {DUCKDB_TABLE!r}: {_one_line(exc)}") from None
    finally:
        con.close()
    df = table.to_pandas(types_mapper=arrow_dtypes)
    for c in df.columns:  # DuckDB hands TIMESTAMPTZ back in the session's zone
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            df[c] = df[c].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return df


# ------------------------------------------------------------------ typed CSV


def schema_path(csv_path: str | Path) -> Path:
    """``NAME.schema.json`` beside ``NAME.csv``."""
    p = Path(csv_path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(f"{stem}.schema.json")


def r_type(s: pd.Series) -> str:
    """The R type a column is written as (see :data:`R_TYPES`)."""
    dt = s.dtype
    if isinstance(dt, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dt):
        return "POSIXct"
    if pd.api.types.is_bool_dtype(dt):
        return "logical"
    if pd.api.types.is_integer_dtype(dt):
        x = s.dropna()
        return "integer" if x.empty or x.abs().max() <= _R_INT_MAX else "double"
    if pd.api.types.is_numeric_dtype(dt):
        return "double"
    return "character"


def write_typed_csv(df: pd.DataFrame, path: str | Path) -> tuple[Path, Path]:
    """``df`` as ``path`` (.csv) and its ``.schema.json`` (see the module docstring),
    each written to a temporary file first and moved into place."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    types = {str(c): r_type(df[c]) for c in df.columns}
    out = pd.DataFrame(index=df.index)
    for c, t in zip(df.columns, types.values(), strict=True):
        s = df[c]
        if t == "POSIXct":
            s = pd.to_datetime(s, utc=True).dt.strftime(_TIME_FORMAT)
        elif t == "logical":
            s = s.astype("boolean").map({True: "TRUE", False: "FALSE"}, na_action="ignore")
        elif t == "double" and pd.api.types.is_integer_dtype(s.dtype):
            s = s.astype("Float64")
        out[c] = s
    sp = schema_path(p)
    tmp, stmp = (x.with_name(f"{x.name}.tmp-{os.getpid()}") for x in (p, sp))
    try:
        out.to_csv(tmp, index=False, lineterminator="\n", na_rep="", encoding="utf-8")
        stmp.write_text(json.dumps(types, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, p)
        os.replace(stmp, sp)
    except OSError as exc:
        for x in (tmp, stmp):
            x.unlink(missing_ok=True)
        raise TableError(f"{p}: cannot write table: {exc}") from None
    return p, sp


def read_schema(path: str | Path) -> dict[str, str]:
    """The column -> R type object of a ``.schema.json`` (TableError naming the file)."""
    sp = Path(path)
    try:
        types = json.loads(sp.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TableError(f"{sp}: cannot read the schema: {_one_line(exc)}") from None
    if not isinstance(types, dict):
        raise TableError(f"{sp}: expected an object column -> type, got {type(types).__name__}")
    for col, t in types.items():
        if t not in R_TYPES:
            raise TableError(
                f"{sp}: column {col!r} has type {t!r}, not one of {', '.join(R_TYPES)}"
            )
    return types


def read_typed_csv(path: str | Path) -> pd.DataFrame:
    """A CSV written by :func:`write_typed_csv`, typed by its ``.schema.json``; errors
    name the file, the column and the first bad row."""
    p = Path(path)
    sp = schema_path(p)
    types = read_schema(sp)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise TableError(f"{p}: cannot read table: {_one_line(exc)}") from None
    if list(raw.columns) != list(types):
        raise TableError(
            f"{p}: columns {', '.join(raw.columns)} differ from {sp.name} ({', '.join(types)})"
        )
    out = pd.DataFrame(index=raw.index)
    for col, t in types.items():
        s = raw[col]
        if t == "character":
            conv = s.astype("string")
        elif t == "POSIXct":
            conv = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")
            conv = conv.astype("datetime64[ns, UTC]")
        elif t == "logical":
            conv = s.map({"TRUE": True, "FALSE": False}).astype("boolean")
        else:
            conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna().to_numpy() & s.notna().to_numpy()
        if t == "integer":
            bad |= (conv.notna() & (conv % 1 != 0)).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise TableError(
                f"{p}: column {col!r} data row {i + 1}: {s.iloc[i]!r} is not {t} ({sp.name})"
            )
        out[col] = conv.astype(R_TYPES[t]) if t in ("integer", "double") else conv
    return out


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
