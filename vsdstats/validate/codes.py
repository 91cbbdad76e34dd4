"""Human codes: completed sheets and Label Studio exports read into one codes table,
inter-coder reliability of k coders, and adjudication into the gold table.

The codes table has one row per (coder, post, unit): ``coder``, ``post_id``,
``unit_index`` (NA for a post without units), ``relevant``, the codebook's unit
fields, ``quote``, ``coder_notes``, ``source`` and ``row`` (where it came from), and
with a design file ``pi`` and ``overlap``.  Every label is checked against the
codebook; a problem is a one-line :class:`ValidateError` naming file, row and field.
Rows left empty (a post not coded) are not codes; they are counted and named in
:attr:`ImportResult.uncoded`, never dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.tables.codebook import Codebook
from vsdstats.validate.gold import _FALSE, _TRUE, NO, YES, ValidateError

CODES_META = ["coder", "post_id", "unit_index", "relevant"]


def code_fields(codebook: Codebook) -> list[str]:
    from vsdstats.validate.compare import unit_fields

    return [f for f in unit_fields(codebook) if f in codebook.dimensions]


@dataclass
class ImportResult:
    """The codes table and what was not a code (``uncoded``: source, row, coder, post)."""

    codes: pd.DataFrame
    uncoded: list[tuple[str, str, str, str]] = field(default_factory=list)
    skipped: int = 0  # cancelled Label Studio annotations


def _yes_no(v: str, where: str) -> str | None:
    t = v.strip().lower()
    if t == "":
        return None
    if t in _TRUE:
        return YES
    if t in _FALSE:
        return NO
    raise ValidateError(f"{where}: column 'relevant': {v!r} is not yes/no (or true/false, 1/0)")


def read_sheet(path: str | Path, codebook: Codebook) -> ImportResult:
    """A completed CSV/TSV coding sheet of ``vsdstats sample`` (module docstring)."""
    p = Path(path)
    sep = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValidateError(f"{p}: cannot read the sheet: {' '.join(str(exc).split())}") from None
    if "post_id" not in df.columns:
        raise ValidateError(f"{p}: no column post_id")
    dims = [d for d in code_fields(codebook) if d in df.columns]
    allowed = {d: set(codebook.codes(d)) for d in dims}
    rows, uncoded, problems = [], [], []
    for i, r in enumerate(df.to_dict("records"), start=2):  # line 1 is the header
        where = f"{p} row {i}"
        coder = (r.get("coder") or "").strip() or p.stem
        pid = (r.get("post_id") or "").strip()
        if not pid:
            raise ValidateError(f"{where}: column 'post_id' is empty")
        rel = _yes_no(r.get("relevant", ""), where)
        codes = {d: r[d].strip() or None for d in dims}
        quote = (r.get("quote") or "").strip() or None
        for d, v in codes.items():
            if v is not None and v not in allowed[d]:
                problems.append(
                    f"{where}: column {d!r}: {v!r} is not a code of codebook "
                    f"{codebook.name} {codebook.version} (allowed: {', '.join(codebook.codes(d))})"
                )
        filled = any(v is not None for v in codes.values()) or quote is not None
        if rel is None and not filled:
            uncoded.append((p.name, str(i), coder, pid))
            continue
        if rel is None:
            raise ValidateError(f"{where}: codes are filled in but 'relevant' is empty")
        if rel == NO and filled:
            raise ValidateError(f"{where}: 'relevant' is no but codes are filled in")
        unit = (r.get("unit") or r.get("unit_index") or "").strip()
        if rel == YES and filled:
            try:
                ui = int(float(unit)) if unit else None
            except ValueError:
                raise ValidateError(f"{where}: column 'unit': {unit!r} is not a number") from None
        else:
            ui = None
        rows.append(
            {
                "coder": coder,
                "post_id": pid,
                "unit_index": ui,
                "relevant": rel,
                **codes,
                "quote": quote,
                "coder_notes": (r.get("coder_notes") or "").strip() or None,
                "source": p.name,
                "row": f"row {i}",
            }
        )
    if problems:
        more = f"; {len(problems) - 1} more unknown label(s)" if len(problems) > 1 else ""
        raise ValidateError(problems[0] + more)
    out = pd.DataFrame(rows, columns=[*CODES_META, *dims, "quote", "coder_notes", "source", "row"])
    return ImportResult(_number_units(out), uncoded)


def _number_units(df: pd.DataFrame) -> pd.DataFrame:
    """unit_index within (coder, post) where the sheet left it empty (next free number,
    in row order); a unit twice is an error naming both rows."""
    df = df.copy()
    df["unit_index"] = pd.array(df["unit_index"].tolist(), dtype="Int64")
    if df.empty:
        return df
    unit_cols = [c for c in df.columns if c not in (*CODES_META, "source", "row", "coder_notes")]
    has = df["relevant"].eq(YES) & df[unit_cols].notna().any(axis=1)
    for _, idx in df[has].groupby(["coder", "post_id"], sort=False).groups.items():
        used = set(df.loc[idx, "unit_index"].dropna().astype(int))
        nxt = 1
        for ix in idx:
            if pd.isna(df.at[ix, "unit_index"]):
                while nxt in used:
                    nxt += 1
                df.at[ix, "unit_index"] = nxt
                used.add(nxt)
    units = df[has]
    dup = units.duplicated(["coder", "post_id", "unit_index"], keep=False)
    if dup.any():
        d = units[dup]
        raise ValidateError(
            f"{d['source'].iloc[0]}: coder {d['coder'].iloc[0]!r} codes post "
            f"{d['post_id'].iloc[0]!r} unit {d['unit_index'].iloc[0]} twice "
            f"({d['row'].iloc[0]}, {d['row'].iloc[1]}); number further units 2, 3, ..."
        )
    return df


def import_codes(
    paths: list[str | Path], codebook: Codebook, design: str | Path | None = None
) -> ImportResult:
    """Read CSV/TSV sheets and Label Studio JSON exports into one codes table; with the
    ``design`` file of ``vsdstats sample`` every post must be in it, and ``pi`` and
    ``overlap`` are joined on."""
    from vsdstats.validate.labelstudio import read_export

    parts, uncoded, skipped = [], [], 0
    for path in paths:
        p = Path(path)
        if p.suffix.lower() == ".json":
            df = read_export(p, codebook)
            skipped += int(df.attrs.get("skipped", 0))
            parts.append(_number_units(df))
        else:
            r = read_sheet(p, codebook)
            parts.append(r.codes)
            uncoded += r.uncoded
    parts = [x for x in parts if len(x)]
    codes = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CODES_META)
    dup = codes.dropna(subset=["unit_index"]).duplicated(["coder", "post_id", "unit_index"])
    if dup.any():
        d = codes.dropna(subset=["unit_index"])[dup].iloc[0]
        raise ValidateError(
            f"{d['source']} {d['row']}: coder {d['coder']!r} codes post {d['post_id']!r} "
            "in more than one file"
        )
    if design is not None:
        des = _read_design(design)
        unknown = ~codes["post_id"].isin(set(des["post_id"]))
        if unknown.any():
            d = codes[unknown].iloc[0]
            raise ValidateError(
                f"{d['source']} {d['row']}: post_id {d['post_id']!r} is not in the design "
                f"{design} ({int(unknown.sum())} such row(s))"
            )
        codes = codes.merge(des[["post_id", "pi", "overlap"]], on="post_id", how="left")
    return ImportResult(codes, uncoded, skipped)


def _read_design(path: str | Path) -> pd.DataFrame:
    try:
        des = pd.read_csv(path, dtype={"post_id": str}, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValidateError(f"{path}: cannot read the design: {exc}") from None
    missing = {"post_id", "pi", "overlap"} - set(des.columns)
    if missing:
        raise ValidateError(
            f"{path}: not a design file (no column(s) {', '.join(sorted(missing))})"
        )
    des["pi"] = pd.to_numeric(des["pi"], errors="coerce")
    return des


# ----------------------------------------------------------------- k coders
def cluster_units(codes: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """``codes`` with ``unit_key``: the same key for the units of different coders that
    describe one reported use.  Per post, the first coder's units seed the clusters;
    each further coder's units are matched to the clusters' first members
    (:func:`vsdstats.validate.units.match_units`), a unit without a match opens a
    new cluster.  Coders in sorted order."""
    from vsdstats.validate.units import match_units

    u = codes[codes["unit_index"].notna()].copy()
    u["unit_key"] = None
    keys = np.empty(len(u), dtype=object)
    pos = {ix: i for i, ix in enumerate(u.index)}
    for pid, g in u.groupby("post_id", sort=True):
        reps: list = []  # index labels of the clusters' first members
        for _, gc in sorted(g.groupby("coder"), key=lambda t: str(t[0])):
            if not reps:
                for ix in gc.sort_values("unit_index").index:
                    keys[pos[ix]] = f"{pid}#{len(reps)}"
                    reps.append(ix)
                continue
            rep = u.loc[reps].reset_index(drop=True)
            mine = gc.sort_values("unit_index")
            pairs = match_units(rep.assign(post_id=pid), mine.reset_index(drop=True), "post_id")
            for r in pairs.itertuples(index=False):
                if r.coded_row < 0:
                    continue
                ix = mine.index[r.coded_row]
                if r.gold_row >= 0:
                    keys[pos[ix]] = f"{pid}#{r.gold_row}"
                else:
                    keys[pos[ix]] = f"{pid}#{len(reps)}"
                    reps.append(ix)
    u["unit_key"] = keys
    return u


def coder_reliability(
    codes: pd.DataFrame, codebook: Codebook, *, n_boot: int = 1000, seed: int = 2026
) -> pd.DataFrame:
    """Reliability of the coders on the posts at least two of them coded: relevance per
    post, the number of units per post (interval), and each unit field on the units
    clustered across coders (:func:`cluster_units`), sentiment also as a score
    (interval).  Columns of :data:`vsdstats.stats.agreement.RELIABILITY_COLUMNS`."""
    from vsdstats.stats.agreement import reliability
    from vsdstats.stats.scores import sentiment_score

    fields = [f for f in code_fields(codebook) if f in codes.columns]
    posts = codes.drop_duplicates(["coder", "post_id"])
    shared = posts.groupby("post_id")["coder"].nunique()
    shared = set(shared[shared >= 2].index)
    c = codes[codes["post_id"].isin(shared)]
    per_post = (
        c.groupby(["coder", "post_id"], sort=True)
        .agg(relevant=("relevant", "first"), n_units=("unit_index", "count"))
        .reset_index()
    )
    per_post["unit_key"] = per_post["post_id"]
    parts = [
        reliability(per_post, ["relevant"], n_boot=n_boot, seed=seed),
        reliability(
            per_post.assign(**{"units per post": per_post["n_units"].astype(float)}),
            ["units per post"],
            interval={"units per post": lambda s: s},
            n_boot=n_boot,
            seed=seed,
        ).iloc[[1]],
    ]
    if fields:
        units = cluster_units(c, fields)
        interval = {"sentiment": sentiment_score} if "sentiment" in fields else None
        parts.append(reliability(units, fields, interval=interval, n_boot=n_boot, seed=seed))
    out = pd.concat(parts, ignore_index=True)
    out.attrs["n_shared_posts"] = len(shared)
    return out


# ------------------------------------------------------------- adjudication
ADJUDICATION_COLUMNS = ["post_id", "unit_key", "field", "values", "llm", "decision", "note"]


def disagreements(
    codes: pd.DataFrame, codebook: Codebook, llm: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The adjudication sheet: one row per (post or unit, field) where the coders
    disagree, or where a single coder's (or the unanimous) code differs from the LLM's
    (``llm``: coded units; matched like the coders' units).  ``values`` lists
    ``coder=code``; ``decision`` is for the adjudicator (a code, or ``none`` for
    "no such unit")."""
    fields = [f for f in code_fields(codebook) if f in codes.columns]
    units = cluster_units(codes, fields)
    rows = []
    rel = codes.drop_duplicates(["coder", "post_id"])
    llm_rel = set(llm["post_id"].astype(str)) if llm is not None else None
    for pid, g in rel.groupby("post_id", sort=True):
        vals = dict(zip(g["coder"], g["relevant"], strict=True))
        lv = (YES if pid in llm_rel else NO) if llm_rel is not None else None
        if len(set(vals.values())) > 1 or (lv is not None and {lv} != set(vals.values())):
            rows.append((pid, "", "relevant", _fmt(vals), lv, "", ""))
    llm_of: dict[str, dict] = {}
    if llm is not None and len(units):
        from vsdstats.validate.units import match_units

        lu = llm.assign(post_id=llm["post_id"].astype(str)).reset_index(drop=True)
        reps = units.drop_duplicates("unit_key").reset_index(drop=True)
        pairs = match_units(
            reps, lu[lu["post_id"].isin(set(reps["post_id"]))].reset_index(drop=True), "post_id"
        )
        lsub = lu[lu["post_id"].isin(set(reps["post_id"]))].reset_index(drop=True)
        for r in pairs.itertuples(index=False):
            if r.gold_row >= 0 and r.coded_row >= 0:
                llm_of[reps["unit_key"].iloc[r.gold_row]] = lsub.iloc[r.coded_row].to_dict()
    n_coders = rel.groupby("post_id")["coder"].apply(set).to_dict()
    for key, g in units.groupby("unit_key", sort=True):
        pid = g["post_id"].iloc[0]
        missing = n_coders[pid] - set(g["coder"])
        for f in fields:
            vals = {c: v for c, v in zip(g["coder"], g[f], strict=True) if isinstance(v, str)}
            for c in missing:
                vals[c] = "(no unit)"
            lv = llm_of.get(key, {}).get(f) if llm is not None else None
            lv = lv if isinstance(lv, str) else (None if llm is None else "(no unit)")
            differ = len(set(vals.values())) > 1
            if differ or (lv is not None and set(vals.values()) != {lv}):
                rows.append((pid, key, f, _fmt(vals), lv, "", ""))
    return pd.DataFrame(rows, columns=ADJUDICATION_COLUMNS)


def _fmt(vals: dict) -> str:
    return "; ".join(f"{c}={v}" for c, v in sorted(vals.items()))


def adjudicate(
    codes: pd.DataFrame,
    decisions: pd.DataFrame,
    codebook: Codebook,
    source: str = "decisions",
) -> pd.DataFrame:
    """The gold table: one row per post and unit (``post_id``, ``unit_index``,
    ``relevant``, the unit fields, ``quote``, and ``pi`` when the codes have it).
    Where the coders agree their code is taken; every disagreement (a row of
    :func:`disagreements` without an LLM-only difference) needs a ``decision``, else a
    one-line error naming the row.  A decision ``none`` on a unit drops the unit."""
    fields = [f for f in code_fields(codebook) if f in codes.columns]
    units = cluster_units(codes, fields)
    dec: dict[tuple[str, str, str], str] = {}
    plain = decisions.astype(object).where(decisions.notna(), "").astype(str)
    for i, r in enumerate(plain.to_dict("records"), start=2):
        d = r.get("decision", "").strip()
        if not d:
            continue
        f = r["field"]
        if f == "relevant":
            if d not in (YES, NO):
                raise ValidateError(f"{source} row {i}: relevant decision {d!r} is not yes/no")
        elif f in fields:
            if d != "none" and d not in set(codebook.codes(f)):
                raise ValidateError(
                    f"{source} row {i}: {f} decision {d!r} is not a code of the codebook (or none)"
                )
        else:
            raise ValidateError(f"{source} row {i}: field {f!r} is not adjudicable")
        dec[(r["post_id"], r.get("unit_key", ""), f)] = d
    rel = codes.drop_duplicates(["coder", "post_id"])
    out_rows = []
    pi = codes.groupby("post_id")["pi"].first().to_dict() if "pi" in codes.columns else {}
    n_coders = rel.groupby("post_id")["coder"].apply(set).to_dict()
    relevant: dict[str, str] = {}
    for pid, g in rel.groupby("post_id", sort=True):
        vals = set(g["relevant"])
        if len(vals) == 1:
            relevant[pid] = vals.pop()
        elif (pid, "", "relevant") in dec:
            relevant[pid] = dec[(pid, "", "relevant")]
        else:
            raise ValidateError(f"{source}: post {pid!r}: coders disagree on relevant; no decision")
    for key, g in units.groupby("unit_key", sort=True):
        pid = g["post_id"].iloc[0]
        if relevant[pid] != YES:
            continue
        row = {"post_id": pid, "unit_key": key}
        drop = False
        for f in fields:
            vals = {c: v for c, v in zip(g["coder"], g[f], strict=True) if isinstance(v, str)}
            for c in n_coders[pid] - set(g["coder"]):
                vals[c] = "(no unit)"
            distinct = set(vals.values())
            if (pid, key, f) in dec:
                v = dec[(pid, key, f)]
            elif len(distinct) == 1:
                v = distinct.pop()
            else:
                raise ValidateError(
                    f"{source}: post {pid!r} unit {key!r} field {f}: coders disagree "
                    f"({_fmt(vals)}); no decision"
                )
            if v in ("none", "(no unit)"):
                drop = True
            row[f] = v
        if drop:
            continue
        row["quote"] = next((q for q in g["quote"] if isinstance(q, str)), None)
        out_rows.append(row)
    gold = pd.DataFrame(out_rows, columns=["post_id", "unit_key", *fields, "quote"])
    gold["unit_index"] = gold.groupby("post_id").cumcount().astype("Int64")
    gold["relevant"] = YES
    empty = [p for p, v in relevant.items() if v == NO or p not in set(gold["post_id"])]
    none = pd.DataFrame({"post_id": empty, "relevant": [relevant[p] for p in empty]})
    gold = pd.concat([gold, none], ignore_index=True).sort_values(
        ["post_id", "unit_index"], kind="stable", na_position="first"
    )
    if pi:
        gold["pi"] = gold["post_id"].map(pi)
    cols = ["post_id", "unit_index", "relevant", *fields, "quote"] + (["pi"] if pi else [])
    return gold[cols].reset_index(drop=True)


def write_json(obj: object, path: Path) -> Path:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    return path
