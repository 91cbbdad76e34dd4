"""Stratified samples of posts as blind human coding sheets (``vsdstats sample``)."""

from __future__ import annotations

from pathlib import Path

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
    return p.loc[rng.permutation(chosen)].reset_index(drop=True)


def coding_sheet(sample: pd.DataFrame) -> pd.DataFrame:
    """The human coding sheet: post_id, platform, text, stratum, pi + empty code
    columns."""
    sheet = sample[["post_id", "platform", "text", "stratum", "pi"]].copy()
    for c in SHEET_CODE_COLUMNS:
        sheet[c] = ""
    return sheet


def sheet_readme(codebook: Codebook, sheet: str, n: int, by: list[str], seed: int) -> str:
    """Companion README of a coding sheet: instructions and the allowed codes."""
    lines = [
        f"# Coding sheet {sheet}",
        "",
        f"{n} posts sampled with `vsdstats sample --by {','.join(by)} --seed {seed}` "
        f"(codebook {codebook.name} {codebook.version}).",
        "",
        "Fill in one row per post: `relevant` = yes/no.  If relevant, fill in the codes of "
        "the post's main reported use and a verbatim `quote` of at least 5 words; for "
        "further uses copy the row (same post_id) and fill in the next unit.  Leave codes "
        "empty when not relevant.  `stratum` is for bookkeeping only; do not let it guide "
        "your coding; `pi` (the post's inclusion probability, used to correct the LLM's "
        "estimates with your codes) must stay as it is, also in copied rows.  Use "
        "`coder_notes` for doubts.",
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


def write_sheet(
    sample: pd.DataFrame, out: str | Path, codebook: Codebook, by: list[str], seed: int
) -> tuple[Path, Path]:
    """Write the coding sheet of ``sample`` to ``out`` and its README (OUT's stem +
    ``.README.md``); returns both paths."""
    from vsdstats.tables.io import write_table

    sheet = write_table(coding_sheet(sample), out)
    readme = Path(out).with_suffix(".README.md")
    readme.write_text(sheet_readme(codebook, sheet.name, len(sample), by, seed), encoding="utf-8")
    return sheet, readme


def sample_posts(
    posts_path: str | Path,
    n: int,
    by: list[str],
    seed: int,
    units_path: str | Path | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The stratified sample of a posts table or study folder (whose coded units, if
    any, give strata such as condition) and the posts file it was drawn from."""
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
    return stratified_sample(read_gold_table(p), n, by, seed, units, str(p)), p
