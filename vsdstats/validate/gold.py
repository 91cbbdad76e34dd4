"""Human gold codes for ``vsdstats validate`` and the sheets of ``vsdstats sample``.

GOLD is a table (CSV, TSV, JSONL, Parquet), typically a coding sheet written by
``vsdstats sample`` and filled in by a person, or a MentaLLaMA IMHI test file (columns
``query`` + one answer column; see :func:`read_imhi`).  CODED is a coded-units table or
a study folder (``STUDY/coded_units.parquet`` or ``.csv``; :func:`read_coded`).  Yes/no
columns accept yes/no, true/false and 1/0 (:func:`parse_yes_no`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.errors import InputError
from vsdstats.tables.codebook import Codebook
from vsdstats.tables.io import TableError, read_table
from vsdstats.tables.models import CODE_FIELDS
from vsdstats.tables.study import StudyDir

YES, NO = "yes", "no"
_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
SHEET_CODE_COLUMNS = ("relevant", *CODE_FIELDS, "quote", "coder_notes")
_IMHI_QUERY = re.compile(
    r"^\s*Consider this post:\s*\"(?P<post>.*)\"\s*Question:\s*(?P<question>.*?)\s*$", re.DOTALL
)
_IMHI_ANSWER = re.compile(r"^\W*(?P<label>yes|no)\b", re.IGNORECASE)


class ValidateError(InputError):
    """Unusable input for validate/sample (the message names the file and field)."""


@dataclass
class ImhiData:
    """A MentaLLaMA IMHI file split into posts and gold labels."""

    posts: pd.DataFrame  # post_id, text
    gold: pd.DataFrame  # post_id, <field>
    field: str
    question: str
    n_rows: int
    unparsed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)


def is_imhi(df: pd.DataFrame) -> bool:
    """An IMHI instruction file: a ``query`` column and exactly one other column."""
    return "query" in df.columns and len(df.columns) == 2


def read_imhi(df: pd.DataFrame, codebook: Codebook, source: str = "gold") -> ImhiData:
    """Post text and yes/no label of each row of an IMHI file.

    ``query`` is ``Consider this post: "<post>" Question: <question>`` (the post is the
    text between the first ``"`` and the last ``" Question:``); the answer column starts
    with ``Yes`` or ``No``.  Rows that do not fit are counted in ``unparsed`` (1-based
    record numbers) and left out.  The field is ``condition:<code>`` for the codebook
    condition whose terms occur in the question (e.g. "depression" -> ``depressive``),
    else ``label``.  Post ids are ``row<record number>``.
    """
    from vsdstats.coding.baseline import BaselineCoder

    answer_col = next(c for c in df.columns if c != "query")
    posts, labels, unparsed, questions = [], [], [], []
    for i, (q, a) in enumerate(zip(df["query"], df[answer_col], strict=True), start=1):
        m = _IMHI_QUERY.match(q) if isinstance(q, str) else None
        if m is None:
            unparsed.append((i, "query is not 'Consider this post: \"...\" Question: ...'"))
            continue
        la = _IMHI_ANSWER.match(a) if isinstance(a, str) else None
        if la is None:
            unparsed.append((i, f"{answer_col} does not start with yes/no"))
            continue
        posts.append({"post_id": f"row{i}", "text": m.group("post")})
        labels.append(la.group("label").lower())
        questions.append(m.group("question"))
    question = max(set(questions), key=questions.count) if questions else ""
    det = BaselineCoder(codebook, require_llm=False).detect(question)
    fld = f"condition:{det.conditions[0]}" if det.conditions else "label"
    posts_df = pd.DataFrame(posts, columns=["post_id", "text"])
    gold = pd.DataFrame({"post_id": posts_df["post_id"], fld: labels})
    return ImhiData(posts_df, gold, fld, question, len(df), unparsed)


def read_gold_table(path: str | Path) -> pd.DataFrame:
    """Any table validate or sample reads; an unreadable one is a :class:`ValidateError`."""
    try:
        return read_table(path)
    except TableError as exc:
        raise ValidateError(str(exc)) from None


def read_coded(path: str | Path) -> pd.DataFrame:
    """A coded-units table, or ``STUDY/coded_units.{parquet,csv}`` of a study folder."""
    p = Path(path)
    if p.is_dir():
        found = StudyDir(p).table("coded_units")
        if found is None:
            raise ValidateError(f"{p}: study folder has no coded_units.parquet or .csv")
        p = found
    df = read_gold_table(p)
    if "post_id" not in df.columns:
        raise ValidateError(f"{p}: no column post_id; it has {', '.join(map(str, df.columns))}")
    return df


def parse_yes_no(s: pd.Series, source: str, col: str) -> pd.Series:
    """``yes``/``no``/NA from yes/no, true/false, 1/0 (error names the row and value)."""
    out = []
    for i, v in enumerate(s, start=1):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(pd.NA)
            continue
        t = str(v).strip().lower()
        if t == "":
            out.append(pd.NA)
        elif t in _TRUE:
            out.append(YES)
        elif t in _FALSE:
            out.append(NO)
        else:
            raise ValidateError(
                f"{source}: column {col!r} row {i}: {v!r} is not yes/no (or true/false, 1/0)"
            )
    return pd.Series(out, index=s.index, dtype=object)


def first_units(df: pd.DataFrame, on: str) -> pd.DataFrame:
    """Each post's first unit (lowest ``unit_index``, else first row)."""
    order = df.assign(_row=np.arange(len(df)))
    keys = ["unit_index", "_row"] if "unit_index" in df.columns else ["_row"]
    order = order.sort_values([on, *keys], kind="stable")
    return order.drop_duplicates(on, keep="first").drop(columns="_row").set_index(on)
