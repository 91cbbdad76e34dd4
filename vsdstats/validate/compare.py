"""Machine coding against human gold codes, per post: what ``vsdstats validate`` computes.

The per-post rule
    Both sides are collapsed to one row per post before comparison:

    - a nominal field (``condition``, ``sentiment``, ...) takes the label of the post's
      FIRST unit (lowest ``unit_index``, else first row) -- the simplest rule that keeps
      every field a single nominal label, as Cohen's kappa needs;
    - ``FIELD:CODE`` (e.g. ``condition:depressive``) is a binary presence field: ``yes``
      when any unit of the post has that code, else ``no``;
    - ``relevant`` is the gold sheet's ``relevant`` column (yes/no, true/false, 1/0); on
      the coded side the ``relevant`` column if there is one, else ``yes`` when the post
      has at least one unit.
    The posts compared are the gold posts that were coded (``relevant`` or some code
    filled in).  A gold post without coded units counts as coded "no units" (binary
    fields ``no``, nominal fields missing), so a partial coding run understates
    agreement.  A column of the gold table named exactly like a field is used as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.stats.agreement import AgreementResult
from vsdstats.tables.codebook import Codebook, load_codebook
from vsdstats.tables.io import write_table
from vsdstats.tables.models import CODE_FIELDS
from vsdstats.validate.gold import (
    NO,
    YES,
    ValidateError,
    first_units,
    is_imhi,
    parse_yes_no,
    read_coded,
    read_gold_table,
    read_imhi,
)


def collapse(
    df: pd.DataFrame, fields: list[str], ids: pd.Index, on: str, source: str, *, gold: bool
) -> pd.DataFrame:
    """One row per post in ``ids`` with each field (see the module docstring)."""
    df = df.copy()
    df[on] = df[on].astype("string").astype(object)
    first = first_units(df, on)
    out = pd.DataFrame(index=pd.Index(ids, name=on))
    has_units = pd.Series(ids.isin(df[on].unique()), index=ids)
    for f in fields:
        if f in df.columns and f != "relevant":
            col = first[f].reindex(ids).astype(object)
            binary = ":" in f or f == "label"
            out[f] = parse_yes_no(col, source, f) if binary else col.where(col.notna(), None)
        elif f == "relevant":
            if "relevant" in df.columns:
                out[f] = parse_yes_no(first["relevant"], source, "relevant").reindex(ids)
            elif gold:
                raise ValidateError(f"{source}: field 'relevant' needs a column 'relevant'")
            else:
                out[f] = np.where(has_units, YES, NO)
        elif ":" in f:
            dim, code = f.split(":", 1)
            if dim not in df.columns:
                raise ValidateError(f"{source}: field {f!r} needs a column {dim!r}")
            hit = set(df.loc[df[dim].astype("string") == code, on])
            out[f] = [YES if i in hit else NO for i in ids]
        else:
            raise ValidateError(f"{source}: no column {f!r} for field {f!r}")
    return out.reset_index()


def _coded_gold_ids(gold: pd.DataFrame, on: str) -> pd.Index:
    cols = [c for c in ("relevant", *CODE_FIELDS) if c in gold.columns]
    cols += [c for c in gold.columns if ":" in str(c) or c == "label"]
    if not cols:
        return pd.Index(gold[on].astype("string").astype(object).unique())
    done = gold[cols].notna().any(axis=1)
    return pd.Index(gold.loc[done, on].astype("string").astype(object).unique())


# ------------------------------------------------------------------- report
def _md_table(df: pd.DataFrame) -> str:
    from vsdstats.tables.io import markdown_escape

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.3f}"
        return "" if v is None or v is pd.NA else markdown_escape(v)

    head = "| " + " | ".join(map(markdown_escape, df.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def write_report(res, out: Path, header: list[str]) -> list[Path]:
    """REPORT.md plus REPORT.summary.csv, .per_category.csv, .confusion.csv."""
    stem = out.with_suffix("")
    paths = [out]
    for name in ("summary", "per_category", "confusion"):
        paths.append(write_table(getattr(res, name), f"{stem}.{name}.csv"))
    lines = [*header, "", "## Summary", "", _md_table(res.summary)]
    for fld in res.categories:
        wide = res.confusion_table(fld).reset_index()
        wide.columns = [f"gold \\ coded: {fld}", *map(str, wide.columns[1:])]
        lines += ["", f"## Confusion: {fld}", "", _md_table(wide)]
    lines += ["", "## Per category", "", _md_table(res.per_category), ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    return paths


# ---------------------------------------------------------------- validate
@dataclass
class Validation:
    """Everything ``vsdstats validate`` computed (see :func:`run_validate`)."""

    result: AgreementResult
    header: list[str]
    fields: list[str]
    n_posts: int
    n_unparsed: int = 0
    coded_units: pd.DataFrame | None = None


def run_validate(
    gold_path: str,
    coded: str,
    *,
    fields: list[str] | None = None,
    on: str = "post_id",
    codebook: Codebook | None = None,
    baseline_gate: bool = True,
) -> Validation:
    """Compare CODED with GOLD per post (module docstring); returns the agreement result."""
    from vsdstats.stats import agreement

    cb = codebook or load_codebook()
    gold_raw = read_gold_table(gold_path)
    header = [f"# Agreement: {coded} vs gold {gold_path}", ""]
    n_unparsed = 0
    if is_imhi(gold_raw):
        imhi = read_imhi(gold_raw, cb, gold_path)
        gold, posts, n_unparsed = imhi.gold, imhi.posts, len(imhi.unparsed)
        fields = fields or [imhi.field]
        header += [
            f"- gold: MentaLLaMA IMHI file, question {imhi.question!r} -> field {imhi.field}",
            f"- rows {imhi.n_rows}, parsed {len(gold)}, unparseable {n_unparsed}",
        ]
    else:
        gold, posts = gold_raw, gold_raw
    if on not in gold.columns:
        raise ValidateError(f"{gold_path}: no column {on!r}")
    units = None
    if coded == "baseline":
        if "text" not in posts.columns:
            raise ValidateError(f"{gold_path}: coding with the baseline needs a column 'text'")
        from vsdstats.coding.baseline import BaselineCoder

        coder = BaselineCoder(cb, require_llm=baseline_gate)
        _, units = coder.code_frame(posts.rename(columns={on: "post_id"}))
        units = units.rename(columns={"post_id": on})
        coded_df = units
        gate = "gated (LLM term required)" if baseline_gate else "ungated (conditions only)"
        header.append(f"- coded: {coder.model} on the gold texts, {gate}")
    else:
        coded_df = read_coded(coded)
        if on not in coded_df.columns:
            raise ValidateError(f"{coded}: no column {on!r}")
        header.append(f"- coded: {coded} ({len(coded_df)} rows)")
    if fields is None:
        cand = ["relevant", *CODE_FIELDS]
        fields = [
            f for f in cand if f in gold.columns and (f in coded_df.columns or f == "relevant")
        ]
        if not fields:
            raise ValidateError(f"{gold_path} and {coded}: no field in common; pass --fields")
    ids = _coded_gold_ids(gold, on)
    g = collapse(gold, fields, ids, on, gold_path, gold=True)
    c = collapse(coded_df, fields, ids, on, coded, gold=False)
    extra = set(coded_df[on].astype("string").dropna()) - set(ids)
    header += [
        f"- posts compared: {len(ids)} coded gold posts; coded posts not in gold: {len(extra)}",
        "- rule: nominal fields use each post's first unit (lowest unit_index); FIELD:CODE "
        "is yes when any unit has CODE; relevant = has units unless a relevant column exists;"
        " gold posts without coded units count as 'no units'",
    ]
    res = agreement(g, c, on=on, fields=fields)
    return Validation(res, header, fields, len(ids), n_unparsed, units)


def write_validation(v: Validation, out: str | Path) -> list[Path]:
    """The report of :func:`write_report`, plus REPORT.units.csv when the units were
    coded here (``coded="baseline"``); returns the paths written."""
    out = Path(out)
    paths = write_report(v.result, out, v.header)
    if v.coded_units is not None:
        paths.append(write_table(v.coded_units, f"{out.with_suffix('')}.units.csv"))
    return paths
