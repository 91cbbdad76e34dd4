"""Stratified samples of posts as blind human coding sheets (``vsdstats sample``).

The draw (:func:`stratified_sample`) is a stratified random sample with proportional
allocation; each post's inclusion probability ``pi`` = drawn / stratum size is kept
in the design file with its stratum and coders, never on a coder's sheet (a stratum
by ``condition`` would be a machine label, ``(no units)`` the relevance decision).
With ``coders`` K > 1 an overlap set of M posts, a simple random subsample of the
draw, is coded by everyone (for inter-coder reliability); the rest by one coder each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.tables.codebook import Codebook
from vsdstats.tables.models import CODE_FIELDS
from vsdstats.tables.study import StudyDir
from vsdstats.validate.gold import (
    SHEET_CODE_COLUMNS,
    ValidateError,
    first_units,
    read_coded,
    read_gold_table,
)


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` over strata (Hamilton / largest remainder) with
    at least one per non-empty stratum when ``n`` allows, never more than a stratum has.
    Ties go to the larger stratum, then the smaller key.  With fewer ``n`` than strata the
    largest strata get one each."""
    keys = sorted(k for k, s in sizes.items() if s > 0)
    total = sum(sizes[k] for k in keys)
    alloc = dict.fromkeys(sizes, 0)
    if n >= total:
        return {k: sizes[k] for k in sizes}
    if n < len(keys):
        for k in sorted(keys, key=lambda k: (-sizes[k], k))[:n]:
            alloc[k] = 1
        return alloc
    for k in keys:
        alloc[k] = 1
    for _ in range(n - len(keys)):
        open_ = [k for k in keys if alloc[k] < sizes[k]]
        best = max(open_, key=lambda k: (n * sizes[k] / total - alloc[k], sizes[k], _neg(k)))
        alloc[best] += 1
    return alloc


def _neg(key: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in key)


def _strata(posts: pd.DataFrame, by: list[str], units: pd.DataFrame | None, src: str) -> pd.Series:
    cols = []
    for b in by:
        if b in posts.columns:
            cols.append(posts[b].astype("string").fillna("(missing)"))
        elif b in CODE_FIELDS and units is not None:
            first = first_units(units.assign(post_id=units["post_id"].astype("string")), "post_id")
            vals = posts["post_id"].astype("string").map(first[b].astype("string"))
            cols.append(vals.fillna("(no units)"))
        else:
            raise ValidateError(
                f"{src}: no column {b!r} to stratify by"
                + (" (pass --units with coded units)" if b in CODE_FIELDS else "")
            )
    return pd.Series(["|".join(t) for t in zip(*cols, strict=True)], index=posts.index)


def stratified_sample(
    posts: pd.DataFrame,
    n: int,
    by: list[str],
    seed: int,
    units: pd.DataFrame | None = None,
    source: str = "posts",
) -> pd.DataFrame:
    """``n`` posts stratified by ``by`` (see :func:`allocate`), deterministic in ``seed``
    (input row order does not matter: posts are sorted by platform and post_id first).
    The result is shuffled and has a ``stratum`` column and ``pi``, each post's
    inclusion probability (drawn / size of its stratum)."""
    for c in ("post_id", "text"):
        if c not in posts.columns:
            raise ValidateError(f"{source}: no column {c!r}")
    if n < 1:
        raise ValidateError(f"--n must be at least 1, got {n}")
    p = posts.copy()
    if "platform" not in p.columns:
        p["platform"] = pd.NA
    p = p.sort_values(["platform", "post_id"], kind="stable", na_position="last")
    p = p.reset_index(drop=True)
    p["stratum"] = _strata(p, by, units, source)
    sizes = p["stratum"].value_counts().to_dict()
    alloc = allocate({str(k): int(v) for k, v in sizes.items()}, n)
    rng = np.random.default_rng(seed)
    picks = []
    for key in sorted(alloc):
        idx = p.index[p["stratum"] == key].to_numpy()
        if alloc[key]:
            picks.append(rng.choice(idx, size=alloc[key], replace=False))
    chosen = np.concatenate(picks) if picks else np.array([], dtype=int)
    # each post's inclusion probability (its stratum's share drawn): the design weight
    # the gold-corrected estimates need (stats.corrected, column pi)
    p["pi"] = p["stratum"].map({k: alloc[str(k)] / v for k, v in sizes.items()})
    p["stratum_size"] = p["stratum"].map(sizes).astype("int64")
    return p.loc[rng.permutation(chosen)].reset_index(drop=True)


#: What a coder's sheet may show: the post and the empty code columns, nothing else.
SHEET_COLUMNS = ("coder", "post_id", "platform", "text", "unit", *SHEET_CODE_COLUMNS)
#: What the design file keeps and the sheets hide.
DESIGN_COLUMNS = (
    "post_id",
    "platform",
    "stratum",
    "stratum_size",
    "n_drawn",
    "pi",
    "overlap",
    "coders",
)


def coder_names(k: int) -> list[str]:
    """``coder1`` .. ``coderK``."""
    return [f"coder{i}" for i in range(1, k + 1)]


def assign_coders(sample: pd.DataFrame, coders: int, overlap: int, seed: int) -> pd.DataFrame:
    """The design table of ``sample`` (from :func:`stratified_sample`): an overlap set of
    ``overlap`` posts, a simple random subsample coded by all ``coders``, and the other
    posts dealt round-robin (after a seeded shuffle) to one coder each.

    ``stratum_size`` and ``n_drawn`` give ``pi = n_drawn / stratum_size``; ``coders``
    lists the coders of a post separated by ``;``.  Rows are sorted by post_id."""
    n = len(sample)
    if coders < 1:
        raise ValidateError(f"--coders must be at least 1, got {coders}")
    if not 0 <= overlap <= n:
        raise ValidateError(f"--overlap must be between 0 and the sample size {n}, got {overlap}")
    if coders == 1:
        overlap = n  # the one coder codes everything
    names = coder_names(coders)
    rng = np.random.default_rng([seed, 1])  # a stream of its own: the draw is unchanged
    ids = sorted(sample["post_id"].astype(str))
    order = [ids[i] for i in rng.permutation(n)]
    shared = set(order[:overlap])
    rest = order[overlap:]
    who = {pid: names for pid in shared}
    who.update({pid: [names[i % coders]] for i, pid in enumerate(rest)})
    d = sample.assign(post_id=sample["post_id"].astype(str))
    sizes = d.groupby("stratum")["post_id"].transform("size")
    d["n_drawn"] = sizes.astype("int64")
    if "stratum_size" not in d.columns:
        d["stratum_size"] = np.rint(d["n_drawn"] / d["pi"]).astype("int64")
    d["overlap"] = np.where(d["post_id"].isin(shared), "yes", "no")
    d["coders"] = d["post_id"].map(lambda p: ";".join(who[p]))
    if "platform" not in d.columns:
        d["platform"] = pd.NA
    return d[list(DESIGN_COLUMNS)].sort_values("post_id", kind="stable").reset_index(drop=True)


def blind_sheets(design: pd.DataFrame, posts: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """One blind sheet per coder: the posts of ``design`` the coder codes, in an order
    drawn from ``seed`` and the coder alone (never from strata), with the columns of
    :data:`SHEET_COLUMNS` and every code column empty.  Nothing of the design (stratum,
    pi, overlap) nor any machine label reaches a sheet: its content is a function of
    the post ids, their text and platform, the coder and ``seed``."""
    text = posts.assign(post_id=posts["post_id"].astype(str)).drop_duplicates("post_id")
    text = text.set_index("post_id")
    out: dict[str, pd.DataFrame] = {}
    names = sorted({c for cs in design["coders"] for c in cs.split(";")}, key=_coder_key)
    for j, name in enumerate(names):
        mine = sorted(
            p
            for p, cs in zip(design["post_id"], design["coders"], strict=True)
            if name in cs.split(";")
        )
        rng = np.random.default_rng([seed, 2, j])
        mine = [mine[i] for i in rng.permutation(len(mine))]
        sheet = pd.DataFrame({"coder": name, "post_id": mine})
        plat = text["platform"] if "platform" in text.columns else pd.Series(dtype=object)
        sheet["platform"] = sheet["post_id"].map(plat).astype(object)
        sheet["text"] = sheet["post_id"].map(text["text"]).astype(object)
        sheet["unit"] = "1"
        for c in SHEET_CODE_COLUMNS:
            sheet[c] = ""
        out[name] = sheet[list(SHEET_COLUMNS)]
    return out


def _coder_key(name: str) -> tuple[int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


def coding_sheet(sample: pd.DataFrame) -> pd.DataFrame:
    """The blind sheet of a one-coder sample (see :func:`blind_sheets`)."""
    design = assign_coders(sample, 1, len(sample), 0)
    return blind_sheets(design, sample, 0)["coder1"]


def sheet_readme(codebook: Codebook, sheet: str, n: int) -> str:
    """Companion README of a coder's sheet: instructions and the allowed codes.  It says
    nothing of how the posts were sampled (the design file does)."""
    lines = [
        f"# Coding sheet {sheet}",
        "",
        f"{n} posts to code with codebook {codebook.name} {codebook.version}.",
        "",
        "Fill in one row per post: `relevant` = yes/no.  If relevant, fill in the codes of "
        "the post's main reported use and a verbatim `quote` of at least 5 words; for "
        "further uses copy the row (same post_id, `unit` 2, 3, ...) and fill in the next "
        "unit.  Leave codes empty when not relevant.  Do not change `coder`, `post_id` or "
        "`text`.  Use `coder_notes` for doubts.  Code without looking at any other "
        "coder's sheet or at machine codes.",
        "",
        "## Relevance",
        "",
        codebook.relevance.definition,
        "",
        *[f"- not relevant: {e}" for e in codebook.relevance.exclusions],
    ]
    for dim in CODE_FIELDS:
        d = codebook.dimensions[dim]
        lines += ["", f"## {dim}", "", d.description, ""]
        lines += [f"- `{c.code}` ({c.label}): {c.definition}" for c in d.categories]
    return "\n".join(lines) + "\n"


@dataclass
class SampleDesign:
    """What ``vsdstats sample`` drew: the design table, the sheets and their parameters."""

    design: pd.DataFrame
    sheets: dict[str, pd.DataFrame]
    params: dict[str, Any] = field(default_factory=dict)


def draw_design(
    posts: pd.DataFrame,
    n: int,
    by: list[str],
    seed: int,
    *,
    units: pd.DataFrame | None = None,
    coders: int = 1,
    overlap: int = 0,
    source: str = "posts",
) -> SampleDesign:
    """The stratified sample (:func:`stratified_sample`), the coders' assignment
    (:func:`assign_coders`) and their blind sheets (:func:`blind_sheets`)."""
    s = stratified_sample(posts, n, by, seed, units, source)
    design = assign_coders(s, coders, overlap, seed)
    sheets = blind_sheets(design, s, seed)
    strata = (
        design.groupby("stratum", sort=True)
        .agg(size=("stratum_size", "first"), drawn=("n_drawn", "first"))
        .reset_index()
    )
    params = {
        "n": len(design),
        "by": list(by),
        "seed": int(seed),
        "coders": coder_names(coders),
        "overlap": int((design["overlap"] == "yes").sum()),
        "design": "simple random" if len(strata) == 1 else "stratified random",
        "allocation": "proportional (largest remainder, at least one per stratum)",
        "strata": [
            {"stratum": str(r.stratum), "size": int(r.size), "drawn": int(r.drawn)}
            for r in strata.itertuples(index=False)
        ],
        "population": int(strata["size"].sum()),
    }
    return SampleDesign(design, sheets, params)


def write_sample(
    d: SampleDesign,
    out: str | Path,
    codebook: Codebook,
    *,
    units: pd.DataFrame | None = None,
    preannotate: bool = False,
) -> list[Path]:
    """Write OUT/design.csv, OUT/design.json, OUT/sheets/CODER.csv (+ .README.md) and
    the Label Studio project OUT/labelstudio/{config.xml, CODER.tasks.json} (machine
    pre-annotations from ``units`` only with ``preannotate``); returns the paths."""
    import json

    from vsdstats.tables.io import write_table
    from vsdstats.validate.labelstudio import label_config, tasks

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidateError(f"{out}: --out must be a folder (it is a file)")
    paths = [write_table(d.design, out / "design.csv")]
    meta = {**d.params, "codebook": {"name": codebook.name, "version": codebook.version}}
    (out / "design.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    paths.append(out / "design.json")
    ls = out / "labelstudio"
    ls.mkdir(parents=True, exist_ok=True)
    (ls / "config.xml").write_text(label_config(codebook), encoding="utf-8")
    paths.append(ls / "config.xml")
    if preannotate and units is None:
        raise ValidateError("--preannotate needs coded units (STUDY/coded_units.* or --units)")
    for name, sheet in d.sheets.items():
        p = write_table(sheet, out / "sheets" / f"{name}.csv")
        readme = p.with_suffix(".README.md")
        readme.write_text(sheet_readme(codebook, p.name, len(sheet)), encoding="utf-8")
        t = tasks(sheet, units if preannotate else None)
        tp = ls / f"{name}.tasks.json"
        tp.write_text(json.dumps(t, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        paths += [p, readme, tp]
    return paths


def sample_source(
    posts_path: str | Path, units_path: str | Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The posts of a table or study folder, the coded units that give strata such as
    condition (``units_path``, else the study's own), and the posts file's name."""
    p = Path(posts_path)
    units = read_coded(units_path) if units_path else None
    if p.is_dir():
        study = StudyDir(p)
        found = study.table("posts")
        if found is None:
            raise ValidateError(f"{p}: study folder has no posts.parquet or .csv")
        if units is None and study.table("coded_units") is not None:
            units = read_coded(p)
        p = found
    return read_gold_table(p), units, str(p)


def sample_posts(
    posts_path: str | Path,
    n: int,
    by: list[str],
    seed: int,
    units_path: str | Path | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The stratified sample of a posts table or study folder (whose coded units, if
    any, give strata such as condition) and the posts file it was drawn from."""
    posts, units, src = sample_source(posts_path, units_path)
    return stratified_sample(posts, n, by, seed, units, src), Path(src)
