"""``vsdstats validate`` (agreement of a coding with human gold codes) and
``vsdstats sample`` (a stratified sample of posts for human coding).

validate -- inputs
    GOLD: a table (CSV, TSV, JSONL, Parquet), typically a coding sheet written by
    ``vsdstats sample`` and filled in by a person, or a MentaLLaMA IMHI test file
    (columns ``query`` + one answer column; see :func:`read_imhi`).  CODED: a coded-units
    table, a study folder (``STUDY/coded_units.parquet`` or ``.csv``), or the word
    ``baseline`` to run :class:`vsdstats.coding.baseline.BaselineCoder` on the gold
    table's ``text``.

validate -- the per-post rule
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

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np
import pandas as pd

from vsdstats.errors import InputError
from vsdstats.stats.agreement import AgreementResult
from vsdstats.tables.codebook import Codebook, CodebookError, load_codebook
from vsdstats.tables.io import TableError, read_table, write_table
from vsdstats.tables.models import CODE_FIELDS

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


def _fail(msg: str) -> None:
    click.echo(f"vsdstats: error: {msg}", err=True)
    sys.exit(2)


# --------------------------------------------------------------------- inputs
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


def _read(path: str | Path) -> pd.DataFrame:
    try:
        return read_table(path)
    except TableError as exc:
        raise ValidateError(str(exc)) from None


def _study_table(folder: Path, stem: str) -> Path | None:
    for ext in (".parquet", ".csv"):
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def read_coded(path: str | Path) -> pd.DataFrame:
    """A coded-units table, or ``STUDY/coded_units.{parquet,csv}`` of a study folder."""
    p = Path(path)
    if p.is_dir():
        found = _study_table(p, "coded_units")
        if found is None:
            raise ValidateError(f"{p}: study folder has no coded_units.parquet or .csv")
        p = found
    df = _read(p)
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


# --------------------------------------------------------------- collapsing
def _first_units(df: pd.DataFrame, on: str) -> pd.DataFrame:
    order = df.assign(_row=np.arange(len(df)))
    keys = ["unit_index", "_row"] if "unit_index" in df.columns else ["_row"]
    order = order.sort_values([on, *keys], kind="stable")
    return order.drop_duplicates(on, keep="first").drop(columns="_row").set_index(on)


def collapse(
    df: pd.DataFrame, fields: list[str], ids: pd.Index, on: str, source: str, *, gold: bool
) -> pd.DataFrame:
    """One row per post in ``ids`` with each field (see the module docstring)."""
    df = df.copy()
    df[on] = df[on].astype("string").astype(object)
    first = _first_units(df, on)
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
    gold_raw = _read(gold_path)
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


@click.command("validate")
@click.option("--gold", "gold_path", required=True, help="human gold codes (table or IMHI file)")
@click.option(
    "--coded",
    required=True,
    help="coded-units table, study folder with coded_units.{parquet,csv}, or 'baseline'",
)
@click.option(
    "--fields",
    default=None,
    help="comma list, e.g. condition,sentiment,relevant or "
    "condition:depressive (binary presence); default: fields in both",
)
@click.option("--on", default="post_id", show_default=True, help="post id column")
@click.option("--out", type=click.Path(dir_okay=False), help="REPORT.md (+ REPORT.*.csv)")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False))
@click.option(
    "--baseline-gate/--no-baseline-gate",
    default=True,
    show_default=True,
    help="with --coded baseline: require an LLM term (off: evaluate the condition detector)",
)
def validate(
    gold_path: str,
    coded: str,
    fields: str | None,
    on: str,
    out: str | None,
    codebook_path: str | None,
    baseline_gate: bool,
) -> None:
    """Agreement of CODED with human GOLD codes, per post: kappa, alpha, per-category F1."""
    flds = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    try:
        cb = load_codebook(codebook_path)
        v = run_validate(
            gold_path, coded, fields=flds, on=on, codebook=cb, baseline_gate=baseline_gate
        )
    except (ValidateError, CodebookError, KeyError, ValueError) as exc:
        _fail(str(exc))
        return
    if out:
        paths = write_report(v.result, Path(out), v.header)
        if v.coded_units is not None:
            paths.append(write_table(v.coded_units, f"{Path(out).with_suffix('')}.units.csv"))
        click.echo("wrote " + ", ".join(map(str, paths)), err=True)
    else:
        click.echo("\n".join(v.header))
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            click.echo(v.result.summary.to_string(index=False))


# ------------------------------------------------------------------ sample
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
            first = _first_units(units.assign(post_id=units["post_id"].astype("string")), "post_id")
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
    The result is shuffled and has a ``stratum`` column."""
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
    return p.loc[rng.permutation(chosen)].reset_index(drop=True)


def coding_sheet(sample: pd.DataFrame) -> pd.DataFrame:
    """The human coding sheet: post_id, platform, text, stratum + empty code columns."""
    sheet = sample[["post_id", "platform", "text", "stratum"]].copy()
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
        "your coding.  Use `coder_notes` for doubts.",
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


@click.command("sample")
@click.argument("posts_path", metavar="POSTS")
@click.option("--n", "n", type=int, required=True, help="number of posts")
@click.option("--by", default="platform", show_default=True, help="strata, e.g. platform,condition")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="coding sheet .csv")
@click.option(
    "--units",
    "units_path",
    default=None,
    help="coded units for --by condition etc. (default: STUDY/coded_units.*)",
)
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False))
def sample(
    posts_path: str,
    n: int,
    by: str,
    seed: int,
    out: str,
    units_path: str | None,
    codebook_path: str | None,
) -> None:
    """A stratified sample of POSTS (table or study folder) as a human coding sheet
    (OUT, with OUT's stem + .README.md listing the allowed codes)."""
    by_cols = [b.strip() for b in by.split(",") if b.strip()]
    try:
        cb = load_codebook(codebook_path)
        p = Path(posts_path)
        units = read_coded(units_path) if units_path else None
        if p.is_dir():
            found = _study_table(p, "posts")
            if found is None:
                raise ValidateError(f"{p}: study folder has no posts.parquet or .csv")
            if units is None and _study_table(p, "coded_units") is not None:
                units = read_coded(p)
            p = found
        s = stratified_sample(_read(p), n, by_cols, seed, units, str(p))
    except (ValidateError, CodebookError) as exc:
        _fail(str(exc))
        return
    sheet = write_table(coding_sheet(s), out)
    readme = Path(out).with_suffix(".README.md")
    readme.write_text(sheet_readme(cb, sheet.name, len(s), by_cols, seed), encoding="utf-8")
    counts = s["stratum"].value_counts().sort_index()
    click.echo(f"wrote {sheet} ({len(s)} posts) and {readme}", err=True)
    click.echo(counts.rename("n").to_string(), err=True)
