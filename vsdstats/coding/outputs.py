"""What a coding run leaves in the study folder, and what it reads.

- :func:`load_posts`: the posts to code (a table or ``STUDY/posts.parquet``) with
  each post's ``text_hash``;
- :func:`post_tables`: text-level results mapped to every post (coded units and one
  status row per post);
- :func:`write_outputs`: ``coded_units`` and ``post_status`` as .parquet and .csv;
- :func:`open_label_table`: ``code --open``'s raw free-text labels, one row per unit
  and dimension (:data:`OPEN_LABEL_COLUMNS`, the LABELS table of ``codebook induce``),
  written as ``open_labels`` beside the units;
- :func:`summarize`: the reconciliation posts in = coded + not relevant + failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from vsdstats.coding.store import TextResult, text_key
from vsdstats.errors import InputError
from vsdstats.ingest.textnorm import EMPTY_HASH
from vsdstats.tables.study import StudyDir

#: The open-labels table: one row per coded unit and open-coded dimension.
OPEN_LABEL_COLUMNS = {
    "post_id": "string",
    "unit_index": "Int64",
    "dimension": "string",
    "label": "string",
    "quote": "string",
    "coder": "string",
    "model": "string",
}


def load_posts(path: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Posts (post_id, text, ...) from a table or ``STUDY/posts.parquet``, with ``text_hash``."""
    from vsdstats.tables.io import read_table
    from vsdstats.tables.models import SchemaError, validate_frame

    p = Path(path)
    if p.is_dir():
        p = StudyDir(p).posts
    df = read_table(p)
    if limit is not None:
        df = df.head(limit)
    if {"platform", "created_at"} <= set(df.columns):
        try:
            df = validate_frame(df, kind="post", source=str(p))
        except SchemaError as exc:
            raise InputError(str(exc)) from None
    missing = [c for c in ("post_id", "text") if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)}")
    if df["post_id"].isna().any():
        raise InputError(f"{p}: column 'post_id' has missing values")
    df = df.assign(post_id=df["post_id"].astype("string"), text=df["text"].fillna("").astype(str))
    return df.assign(text_hash=[text_key(t) for t in df["text"]]).reset_index(drop=True)


def post_tables(
    posts: pd.DataFrame, results: dict[str, TextResult]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(coded_units, post_status) for ``posts`` (post_id, text_hash[, text]).

    Text-level results are mapped to every post with that text.  A post whose text has
    no result is ``failed`` ("not coded (run interrupted?)"); a text with nothing to
    code (blank, or only links: :data:`~vsdstats.ingest.textnorm.EMPTY_HASH`) is
    ``not_relevant`` without a request.
    """
    from vsdstats.tables.models import CODED_UNIT_COLUMNS

    units: list[dict[str, Any]] = []
    status: list[dict[str, Any]] = []
    texts = posts["text"] if "text" in posts.columns else None
    for i, (pid, h) in enumerate(zip(posts["post_id"], posts["text_hash"], strict=True)):
        r = results.get(h)
        empty = h == EMPTY_HASH or (texts is not None and not str(texts.iloc[i]).strip())
        if r is None and empty:
            status.append(_status(pid, h, "not_relevant", 0, "no text to code (not sent)"))
            continue
        if r is None:
            status.append(_status(pid, h, "failed", 0, "not coded (run interrupted?)"))
            continue
        for u in r.units:
            units.append({**u, "post_id": pid})
        status.append(_status(pid, h, r.status, len(r.units), r.reason))
    cols = CODED_UNIT_COLUMNS
    udf = pd.DataFrame(units, columns=list(cols)).astype(cols)
    sdf = pd.DataFrame(status, columns=["post_id", "text_hash", "status", "n_units", "reason"])
    sdf = sdf.astype(
        {"post_id": "string", "text_hash": "string", "status": "string", "n_units": "Int64"}
    )
    sdf["reason"] = sdf["reason"].astype("string")
    return udf, sdf


def open_label_table(posts: pd.DataFrame, results: dict[str, TextResult]) -> pd.DataFrame:
    """The raw open labels of every post's units (:data:`OPEN_LABEL_COLUMNS`), in post,
    unit and dimension order; units coded without ``--open`` have none."""
    rows: list[dict[str, Any]] = []
    for pid, h in zip(posts["post_id"], posts["text_hash"], strict=True):
        r = results.get(h)
        for u in r.units if r is not None else []:
            for dim, label in (u.get("open_labels") or {}).items():
                rows.append(
                    {
                        "post_id": pid,
                        "unit_index": u.get("unit_index"),
                        "dimension": dim,
                        "label": label,
                        "quote": u.get("quote"),
                        "coder": u.get("coder"),
                        "model": u.get("model"),
                    }
                )
    return pd.DataFrame(rows, columns=list(OPEN_LABEL_COLUMNS)).astype(OPEN_LABEL_COLUMNS)


def _status(pid: str, h: str, status: str, n: int, reason: str | None) -> dict[str, Any]:
    return {"post_id": pid, "text_hash": h, "status": status, "n_units": n, "reason": reason}


def write_outputs(
    out: Path, units: pd.DataFrame, status: pd.DataFrame, open_labels: pd.DataFrame | None = None
) -> list[Path]:
    """``coded_units`` and ``post_status`` (and ``open_labels`` when given) as .parquet and
    .csv, each replaced atomically."""
    written = []
    tables = [("coded_units", units), ("post_status", status)]
    if open_labels is not None:
        tables.append(("open_labels", open_labels))
    for name, df in tables:
        for ext in (".parquet", ".csv"):
            path = StudyDir(out).output(name, ext)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            if ext == ".parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False, lineterminator="\n")
            os.replace(tmp, path)
            written.append(path)
    return written


def summarize(
    status: pd.DataFrame, stats: Any, *, distinct: int, skipped: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """The reconciliation: posts in = coded + not_relevant + failed, and what it cost."""
    counts = status["status"].value_counts().to_dict()
    coded, nrel, failed = (int(counts.get(s, 0)) for s in ("coded", "not_relevant", "failed"))
    cost = stats.cost_usd
    return {
        "posts_in": len(status),
        "coded": coded,
        "not_relevant": nrel,
        "failed": failed,
        "reconciles": len(status) == coded + nrel + failed,
        "units": int(status["n_units"].sum()),
        "distinct_texts": distinct,
        "texts_already_done": skipped,
        "texts_sent": stats.texts,
        "requests": stats.requests,
        "http_retries": stats.http_retries,
        "validation_retries": stats.validation_retries,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "cached_tokens": stats.cached_tokens,
        "cost_usd": "unknown" if cost is None else round(cost, 6),
        "failure_reasons": status.loc[status["status"] == "failed", "reason"]
        .value_counts()
        .head(10)
        .to_dict(),
        **extra,
    }
