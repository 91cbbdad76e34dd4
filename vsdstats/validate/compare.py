"""Machine coding against human gold codes: what ``vsdstats validate`` and
``vsdstats stats agreement`` compute (one implementation, so they report the same).

The rule
    - The posts compared are the gold posts that were coded (``relevant`` or some code
      filled in).  Coded posts outside the gold sample are counted in the header, not
      as disagreements: the gold is a sample.
    - Unit fields (``condition``, ``sentiment``, ``llm_product``, ``perspective``,
      ``value``): within each post the gold and coded units are matched one to one
      (:mod:`vsdstats.validate.units`: same condition and product first, then quote
      overlap, then order) and the labels of matched units compared; a unit without
      a partner is labelled on one side only (``n_gold_only`` / ``n_coded_only``).
      Unit-count agreement and quote overlap are in :attr:`Validation.units`.
    - ``FIELD:CODE`` (e.g. ``condition:depressive``) is a binary presence field per
      post: ``yes`` when any unit of the post has that code, else ``no``.
    - ``relevant`` per post: the gold sheet's ``relevant`` column (yes/no, true/false,
      1/0); on the coded side the ``relevant`` column if there is one, else ``yes``
      when the post has at least one unit.  A gold post without coded units counts as
      coded "no units" (binary fields ``no``).
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
    units: pd.DataFrame | None = None  # unit-level summary (validate.units.unit_summary)
    pairs: pd.DataFrame | None = None  # the unit pairs (validate.units.match_units)
    n_coded_not_in_gold: int = 0


def _combine(parts: list[AgreementResult]) -> AgreementResult:
    """One result from the agreement of several field groups."""
    cats: dict = {}
    for r in parts:
        cats.update(r.categories)
    return AgreementResult(
        summary=pd.concat([r.summary for r in parts], ignore_index=True),
        per_category=pd.concat([r.per_category for r in parts], ignore_index=True),
        confusion=pd.concat([r.confusion for r in parts], ignore_index=True),
        categories=cats,
        conf_level=parts[0].conf_level,
    )


def unit_fields(codebook: Codebook | None = None) -> tuple[str, ...]:
    """The fields coded per unit: CODE_FIELDS and any further codebook dimension."""
    extra = [d for d in (codebook.dimensions if codebook else ()) if d not in CODE_FIELDS]
    return (*CODE_FIELDS, *extra)


def compare_codings(
    gold: pd.DataFrame,
    coded_df: pd.DataFrame,
    fields: list[str],
    on: str,
    gold_name: str,
    coded_name: str,
    codebook: Codebook | None = None,
    *,
    seed: int = 2026,
) -> Validation:
    """The comparison of the module docstring on two tables (``on`` = post id)."""
    from vsdstats.stats import agreement
    from vsdstats.validate.units import match_units, paired_frames, unit_summary

    for df, name in ((gold, gold_name), (coded_df, coded_name)):
        if on not in df.columns:
            raise ValidateError(f"{name}: no column {on!r}")
        if df[on].isna().any():
            raise ValidateError(
                f"{name}: column {on!r} is missing a value at row {int(df[on].isna().argmax()) + 1}"
            )
        if "unit_index" in df.columns:
            dup = df.duplicated([on, "unit_index"])
            if dup.any():
                raise ValidateError(
                    f"{name}: {on} + unit_index is duplicated (e.g. {df.loc[dup, on].iloc[0]!r});"
                    " one row per unit expected"
                )
    gold = gold.assign(**{on: gold[on].astype("string").astype(object)})
    coded_df = coded_df.assign(**{on: coded_df[on].astype("string").astype(object)})
    per_unit = set(unit_fields(codebook))
    ufields = [f for f in fields if f in per_unit]
    pfields = [f for f in fields if f not in per_unit]
    ids = _coded_gold_ids(gold, on)
    extra = set(coded_df[on].dropna()) - set(ids)
    parts = []
    pairs = units = None
    if pfields:
        g = collapse(gold, pfields, ids, on, gold_name, gold=True)
        c = collapse(coded_df, pfields, ids, on, coded_name, gold=False)
        parts.append(agreement(g, c, on=on, fields=pfields, seed=seed))
    if ufields:
        for f in ufields:
            for df, name in ((gold, gold_name), (coded_df, coded_name)):
                if f not in df.columns:
                    raise ValidateError(f"{name}: no column {f!r} for field {f!r}")
        gu = gold[gold[on].isin(set(ids)) & gold[ufields].notna().any(axis=1)]
        cu = coded_df[coded_df[on].isin(set(ids))]
        if ufields and len(cu):
            cu = cu[cu[ufields].notna().any(axis=1)]
        gu, cu = gu.reset_index(drop=True), cu.reset_index(drop=True)
        pairs = match_units(gu, cu, on, list(ids))
        gi, ci = paired_frames(gu, cu, pairs, ufields, on)
        if len(gi):
            parts.append(agreement(gi, ci, on="item", fields=ufields, seed=seed))
        else:
            parts.append(
                agreement(
                    pd.Series([], dtype=object, name=ufields[0]),
                    pd.Series([], dtype=object, name=ufields[0]),
                )
            )
        units = unit_summary(pairs, on)
    res = _combine(parts)
    order = {f: i for i, f in enumerate(fields)}
    idx = sorted(range(len(res.summary)), key=lambda i: order.get(res.summary["field"][i], 0))
    res.summary = res.summary.iloc[idx].reset_index(drop=True)
    header = [
        f"- posts compared: {len(ids)} coded gold posts; coded posts not in gold: {len(extra)}",
        "- rule: units matched within posts (same condition and product, then quote "
        "overlap, then order) before unit fields are compared; FIELD:CODE is yes when any "
        "unit has CODE; relevant = has units unless a relevant column exists; gold posts "
        "without coded units count as 'no units'",
    ]
    return Validation(
        res,
        header,
        list(fields),
        len(ids),
        units=units,
        pairs=pairs,
        n_coded_not_in_gold=len(extra),
    )


def default_fields(gold: pd.DataFrame, coded_df: pd.DataFrame, codebook: Codebook | None):
    """relevant and the unit fields that both tables have (relevant: gold's column)."""
    cand = ["relevant", *unit_fields(codebook)]
    return [f for f in cand if f in gold.columns and (f in coded_df.columns or f == "relevant")]


def run_validate(
    gold_path: str,
    coded: str,
    *,
    fields: list[str] | None = None,
    on: str = "post_id",
    codebook: Codebook | None = None,
    baseline_gate: bool = True,
    seed: int = 2026,
) -> Validation:
    """Compare CODED with GOLD (module docstring); returns the agreement result."""
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
        coded_df = read_coded(coded) if on == "post_id" else read_gold_table(coded)
        if on not in coded_df.columns:
            raise ValidateError(f"{coded}: no column {on!r}")
        header.append(f"- coded: {coded} ({len(coded_df)} rows)")
    if fields is None:
        fields = default_fields(gold, coded_df, cb)
        if not fields:
            raise ValidateError(f"{gold_path} and {coded}: no field in common; pass --fields")
    v = compare_codings(gold, coded_df, fields, on, gold_path, coded, cb, seed=seed)
    v.header = header + v.header
    v.n_unparsed, v.coded_units = n_unparsed, units
    return v


def write_validation(v: Validation, out: str | Path) -> list[Path]:
    """The report of :func:`write_report`, plus REPORT.unit_summary.csv and
    REPORT.unit_pairs.csv (unit fields compared) and REPORT.units.csv when the units
    were coded here (``coded="baseline"``); returns the paths written."""
    out = Path(out)
    paths = write_report(v.result, out, v.header)
    stem = out.with_suffix("")
    if v.units is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write("\n## Units\n\n" + _md_table(v.units) + "\n")
        paths.append(write_table(v.units, f"{stem}.unit_summary.csv"))
        paths.append(write_table(v.pairs, f"{stem}.unit_pairs.csv"))
    if v.coded_units is not None:
        paths.append(write_table(v.coded_units, f"{stem}.units.csv"))
    return paths
