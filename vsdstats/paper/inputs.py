"""Reading the paper job's input: a coded table file (a ``.duckdb`` file's ``units``
table too) or a study folder, validated."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from vsdstats.paper.config import PaperError
from vsdstats.tables.analysis_table import study_table
from vsdstats.tables.codebook import Codebook
from vsdstats.tables.io import TableError, read_table
from vsdstats.tables.models import CODE_FIELDS, PSEUDONYM_PATTERN, SchemaError, check_versions

#: Columns the paper job needs on every coded unit.
REQUIRED_COLUMNS = ("post_id", *CODE_FIELDS, "platform", "author", "created_at")


def _read(path: Path) -> pd.DataFrame:
    try:
        return read_table(path)
    except TableError as exc:
        raise PaperError(str(exc)) from None


def read_study_folder(folder: Path) -> tuple[pd.DataFrame, str]:
    """coded_units.{parquet,csv} joined with posts.{parquet,csv} on post_id (the analysis
    table of :func:`vsdstats.tables.analysis_table.study_table`)."""
    try:
        return study_table(folder)
    except TableError as exc:
        raise PaperError(str(exc)) from None


def validate_units(df: pd.DataFrame, codebook: Codebook, source: str) -> pd.DataFrame:
    """Check columns, labels and timestamps; return a clean copy (codes as str, UTC times)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise PaperError(
            f"{source}: missing required column(s) {', '.join(missing)} "
            f"(the paper job needs {', '.join(REQUIRED_COLUMNS)})"
        )
    if len(df) == 0:
        raise PaperError(f"{source}: the table has no rows")
    out = df.copy()
    for c in ("post_id", *CODE_FIELDS, "platform"):
        bad = out[c].isna().to_numpy()
        if bad.any():
            raise PaperError(f"{source}: column {c!r} is missing a value at row {bad.argmax()}")
        out[c] = out[c].astype(str).str.strip()
    for f in CODE_FIELDS:
        allowed = set(codebook.codes(f))
        bad = ~out[f].isin(allowed).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise PaperError(
                f"{source}: column {f!r} row {i}: value {out[f].iloc[i]!r} is not a category "
                f"of codebook {codebook.name} {codebook.version} "
                f"(allowed: {', '.join(codebook.codes(f))})"
            )
    try:  # llm_version (codebook 1.1): a code of the row's family, or missing (1.0)
        check_versions(out, codebook, source)
    except SchemaError as exc:
        raise PaperError(str(exc)) from None
    author = out["author"].astype("string")
    bad = author.notna() & ~author.str.fullmatch(PSEUDONYM_PATTERN.strip("^$")).fillna(False)
    if bad.to_numpy().any():
        i = int(bad.to_numpy().argmax())
        raise PaperError(
            f"{source}: column 'author' row {i} is not a pseudonym (a_ + 24 hex digits); "
            "pseudonymize authors at ingest, never publish handles"
        )
    # no author (a deleted account, a platform without one): each such post is its own
    # cluster for the author-clustered statistics, under a placeholder pseudonym derived
    # from the post id alone (nothing about a person)
    out["author"] = author.astype(object).where(author.notna(), None)
    missing = out["author"].isna().to_numpy()
    if missing.any():
        out.loc[missing, "author"] = [
            "a_" + hashlib.sha256(f"no-author:{pid}".encode()).hexdigest()[:24]
            for pid in out.loc[missing, "post_id"]
        ]
    created = out["created_at"]
    if not isinstance(created.dtype, pd.DatetimeTZDtype):
        parsed = pd.to_datetime(
            created.astype("string"), format="ISO8601", utc=True, errors="coerce"
        )
        bad = (parsed.isna() & created.notna()).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise PaperError(
                f"{source}: column 'created_at' row {i}: cannot parse {created.iloc[i]!r} "
                "as an ISO 8601 timestamp"
            )
        created = parsed
    conditions = sorted(out["condition"].unique())
    if len(conditions) < 2:
        raise PaperError(
            f"{source}: column 'condition' has {len(conditions)} distinct value(s) "
            f"({', '.join(map(repr, conditions))}) in {len(out)} row(s); the paper compares "
            "conditions, so it needs at least 2"
        )
    out["created_at"] = created.dt.tz_convert("UTC")
    if out["created_at"].isna().any():
        i = int(out["created_at"].isna().to_numpy().argmax())
        raise PaperError(f"{source}: column 'created_at' is missing a value at row {i}")
    return out.reset_index(drop=True)


def load_units(path: str | Path, codebook: Codebook) -> tuple[pd.DataFrame, str]:
    """Coded units from a table file or a study folder, validated; returns (df, source)."""
    p = Path(path)
    if p.is_dir():
        df, source = read_study_folder(p)
    elif p.exists():
        df, source = _read(p), str(p)
    else:
        raise PaperError(f"{p}: no such file or folder")
    return validate_units(df, codebook, source), source
