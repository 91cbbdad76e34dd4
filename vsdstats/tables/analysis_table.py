"""The analysis table: one row per coded unit, joined with its post.

A study folder holds coded units (``coded_units.{parquet,csv}``, written by ``vsdstats
code``) and posts (``posts.parquet``, or a hand-made ``posts.csv``); the units carry
only ``post_id``.  :func:`study_table` joins each unit with its post's
:data:`~vsdstats.tables.models.UNIT_POST_COLUMNS` (platform, author pseudonym,
created_at, community, score, replies, lang) and returns the columns and dtypes of
:data:`~vsdstats.tables.models.ANALYSIS_COLUMNS`: the table that ``vsdstats export``
writes and that every ``stats`` command and ``paper`` read (:func:`read_units` reads a
study folder, a ``.duckdb`` file or any table file).  Posts without the columns added
later (community, score, replies) give missing values; a unit whose post is not in the
posts table, a post id that is not unique, or an author that is not a pseudonym is an
error naming the file.

:func:`export_study` writes the table as ``.parquet``, ``.csv`` (with the
``.schema.json`` that ``R/read_study.R`` reads, see :func:`vsdstats.tables.io.write_typed_csv`)
or ``.duckdb`` (tables ``units`` and ``posts``; needs the ``duckdb`` extra).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vsdstats.tables.io import (
    DUCKDB_TABLE,
    TableError,
    duckdb_module,
    read_table,
    write_typed_csv,
)
from vsdstats.tables.models import ANALYSIS_COLUMNS, PSEUDONYM_PATTERN, UNIT_POST_COLUMNS
from vsdstats.tables.study import StudyDir, read_posts

#: Post columns a study's posts table must have (the others may be missing: NA).
REQUIRED_POST_COLUMNS = ("post_id", "platform", "author", "created_at")
#: What ``vsdstats export -o`` writes, by extension.
EXPORT_FORMATS = (".parquet", ".csv", ".duckdb")


class AnalysisTableError(TableError):
    """A study folder or table cannot become the analysis table."""


@dataclass(frozen=True)
class StudyFiles:
    """The two tables of a study folder that the analysis table joins."""

    folder: Path
    units: Path
    posts: Path | None

    @classmethod
    def of(cls, folder: str | Path) -> StudyFiles:
        study = StudyDir(folder)
        units = study.table("coded_units")
        if units is None:
            raise AnalysisTableError(
                f"{study.root}: no coded_units.parquet or coded_units.csv in the folder "
                f"(code the study first: vsdstats code {study.root})"
            )
        return cls(study.root, units, study.table("posts"))

    @property
    def source(self) -> str:
        """``coded_units.parquet + posts.parquet`` with the folder, for messages."""
        return f"{self.units} + {self.posts}" if self.posts else str(self.units)


def _read_posts(path: Path) -> pd.DataFrame:
    """post_id and the :data:`UNIT_POST_COLUMNS` a posts file has (Parquet: only those
    columns are read, never the text)."""
    want = ["post_id", *UNIT_POST_COLUMNS]
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            have = pq.read_schema(path).names
            cols = [c for c in want if c in have]
            posts = pd.read_parquet(path, columns=cols)
        except (OSError, ValueError) as exc:
            raise AnalysisTableError(f"{path}: cannot read table: {exc}") from None
    else:
        posts = read_table(path)
    missing = [c for c in REQUIRED_POST_COLUMNS if c not in posts.columns]
    if missing:
        raise AnalysisTableError(f"{path}: missing required column(s) {', '.join(missing)}")
    return posts[[c for c in want if c in posts.columns]]


def join_posts(
    units: pd.DataFrame, posts: pd.DataFrame, units_name: str, posts_name: str
) -> pd.DataFrame:
    """``units`` (left, in their order) with each unit's post columns, on ``post_id``
    (many units to one post).  A post column the units already carry is replaced by the
    post's; errors name ``units_name`` / ``posts_name``."""
    if "post_id" not in units.columns:
        raise AnalysisTableError(f"{units_name}: missing required column(s) post_id")
    posts = posts.assign(post_id=posts["post_id"].astype("string"))
    dup = posts["post_id"].duplicated()
    if dup.any():
        raise AnalysisTableError(
            f"{posts_name}: column 'post_id' is not unique (e.g. {posts['post_id'][dup].iloc[0]!r})"
        )
    units = units.drop(columns=[c for c in posts.columns if c != "post_id" and c in units])
    units = units.assign(post_id=units["post_id"].astype("string"))
    joined = units.merge(posts, on="post_id", how="left", validate="many_to_one")
    lost = ~units["post_id"].isin(posts["post_id"]).to_numpy()
    if lost.any():
        raise AnalysisTableError(
            f"{units_name}: {int(lost.sum())} unit(s) have a post_id not in "
            f"{Path(posts_name).name} (e.g. {joined['post_id'][lost].iloc[0]!r})"
        )
    return joined


def typed(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """``df`` with the :data:`ANALYSIS_COLUMNS` first, in their dtypes (a missing one is
    all NA), then its other columns; errors name ``source`` and the column."""
    out = pd.DataFrame(index=df.index)
    for c, dtype in ANALYSIS_COLUMNS.items():
        if c not in df.columns:
            out[c] = pd.Series(pd.NA, index=df.index, dtype=dtype)
            continue
        s = df[c]
        try:
            if dtype.startswith("datetime"):
                if not isinstance(s.dtype, pd.DatetimeTZDtype):
                    s = pd.to_datetime(s.astype("string"), format="ISO8601", utc=True)
                out[c] = s.dt.tz_convert("UTC").astype(dtype)
            elif dtype == "Int64" and not pd.api.types.is_integer_dtype(s.dtype):
                out[c] = pd.to_numeric(s).astype(dtype)
            else:
                out[c] = s.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise AnalysisTableError(
                f"{source}: column {c!r} cannot be read as {dtype}: {exc}"
            ) from None
    for c in df.columns:
        if c not in out.columns:
            out[c] = df[c]
    return out.reset_index(drop=True)


def check_authors(df: pd.DataFrame, source: str) -> None:
    """AnalysisTableError unless every author is missing or a pseudonym (a_<24 hex>)."""
    if "author" not in df.columns:
        return
    author = df["author"].astype("string")
    bad = author.notna() & ~author.str.fullmatch(PSEUDONYM_PATTERN.strip("^$")).fillna(False)
    if bad.to_numpy().any():
        i = int(bad.to_numpy().argmax())
        raise AnalysisTableError(
            f"{source}: column 'author' row {i} is not a pseudonym (a_ + 24 hex digits); "
            "pseudonymize authors at ingest, never publish handles"
        )


def study_table(folder: str | Path) -> tuple[pd.DataFrame, str]:
    """(the analysis table of a study folder, where it came from).  Without a posts
    table the units are returned as they are (typed; post columns they lack are NA)."""
    files = StudyFiles.of(folder)
    units = read_table(files.units)
    if files.posts is not None:
        posts = _read_posts(files.posts)
        units = join_posts(units, posts, str(files.units), str(files.posts))
    else:
        lack = [c for c in REQUIRED_POST_COLUMNS if c not in units.columns]
        if lack:
            raise AnalysisTableError(
                f"{files.units}: no posts.parquet or posts.csv in {files.folder} to join "
                f"with, and the units have no column(s) {', '.join(lack)}"
            )
    check_authors(units, files.source)
    return typed(units, files.source), files.source


def read_units(path: str | Path) -> pd.DataFrame:
    """The table at ``path``: a study folder's analysis table (:func:`study_table`), or
    a table file (:func:`vsdstats.tables.io.read_table`: CSV, TSV, JSON lines, Parquet,
    a ``.duckdb`` file's ``units`` table)."""
    p = Path(path)
    if p.is_dir():
        return study_table(p)[0]
    return read_table(p)


# ------------------------------------------------------------------- export


@dataclass
class Export:
    """What :func:`export_study` wrote."""

    out: Path
    n_units: int
    source: str
    files: list[Path] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # .duckdb: table -> rows


def check_export_path(out: str | Path) -> Path:
    """``out`` if its extension is one :data:`EXPORT_FORMATS` names, else an error."""
    p = Path(out)
    if p.suffix.lower() not in EXPORT_FORMATS:
        what = f"extension {p.suffix!r}" if p.suffix else "no extension"
        raise AnalysisTableError(f"{p}: cannot export with {what}; use {', '.join(EXPORT_FORMATS)}")
    if p.is_dir():
        raise AnalysisTableError(f"{p}: is a folder; give a file name such as units.parquet")
    return p


def _all_posts(folder: Path, posts_path: Path | None) -> pd.DataFrame | None:
    """Every post of the study (all columns, text included) for a .duckdb export."""
    if posts_path is None:
        return None
    if posts_path.suffix.lower() == ".parquet":
        return read_posts(folder)
    return read_table(posts_path)


def write_duckdb(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """Each frame as a table of the DuckDB file ``out`` (created or replaced, in one
    transaction; other tables in the file are left alone)."""
    import pyarrow as pa

    duckdb = duckdb_module(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(out))
    except duckdb.Error as exc:
        raise AnalysisTableError(f"{out}: cannot open as a DuckDB database: {exc}") from None
    try:
        con.execute("BEGIN TRANSACTION")
        for name, df in tables.items():
            con.register("_vsdstats_export", pa.Table.from_pandas(df, preserve_index=False))
            try:
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _vsdstats_export")
            finally:
                con.unregister("_vsdstats_export")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise AnalysisTableError(f"{out}: cannot write table: {exc}") from None
    finally:
        con.close()


def write_analysis(df: pd.DataFrame, out: str | Path, posts: pd.DataFrame | None = None) -> Export:
    """Write the analysis table ``df`` to ``out`` (format from the extension, see
    :data:`EXPORT_FORMATS`); a ``.duckdb`` file also gets table ``posts`` if given."""
    p = check_export_path(out)
    res = Export(out=p, n_units=len(df), source="")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        res.files = list(write_typed_csv(df, p))
    elif suffix == ".parquet":
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f"{p.name}.tmp-{os.getpid()}")
        try:
            df.to_parquet(tmp, index=False)
            os.replace(tmp, p)
        except (OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            raise AnalysisTableError(f"{p}: cannot write table: {exc}") from None
        res.files = [p]
    else:
        tables = {DUCKDB_TABLE: df, **({"posts": posts} if posts is not None else {})}
        write_duckdb(tables, p)
        res.files, res.tables = [p], {k: len(v) for k, v in tables.items()}
    return res


def export_study(study: str | Path, out: str | Path) -> Export:
    """The analysis table of ``study`` (a study folder, or any table :func:`read_units`
    reads) written to ``out``; a study folder exported to ``.duckdb`` also gives table
    ``posts`` (every post, text included)."""
    check_export_path(out)
    p = Path(study)
    posts = None
    if p.is_dir():
        df, source = study_table(p)
        if Path(out).suffix.lower() == ".duckdb":
            files = StudyFiles.of(p)
            posts = _all_posts(files.folder, files.posts)
    else:
        source = str(p)
        df = read_units(p)
        check_authors(df, source)
    if len(df) == 0:
        raise AnalysisTableError(f"{source}: no coded units to export")
    res = write_analysis(df, out, posts)
    res.source = source
    return res
