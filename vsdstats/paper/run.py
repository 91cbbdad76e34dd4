"""`vsdstats paper`: the study's tables, hand-off files and figures, deterministically.

``run_paper()`` runs the whole job; ``build_handoff()`` writes only the hand-off files
the R figure scripts read (contract in analysis/README.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vsdstats.tables.codebook import Codebook, load_codebook
from vsdstats.paper.analyses import Analyses, compute
from vsdstats.paper.config import PaperError, Release, load_releases, load_study
from vsdstats.paper.handoff import write_handoff
from vsdstats.paper.inputs import load_units, validate_units
from vsdstats.paper.render import PublishedTable, write_table
from vsdstats.paper.simulate import PUBLISHED_N

__all__ = ["PaperError", "PaperRun", "build_handoff", "run_paper"]

#: size of the simulated corpus: the published total of condition units (39,380), so
#: `tox -e paper` reproduces the published condition counts (``--n`` overrides it)
DEFAULT_N = PUBLISHED_N
DEFAULT_SEED = 2026


class FigureError(PaperError):
    """Tables and hand-off files were written but the R figure step failed."""


@dataclass
class PaperRun:
    """What a run wrote, its step timings (seconds) and its notes (warnings)."""

    out: Path
    tables: list[Path] = field(default_factory=list)
    handoff: Path | None = None
    figures: list[Path] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figure_error: str | None = None
    pdf: Path | None = None


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_handoff(
    df: pd.DataFrame,
    out_dir: str | Path,
    codebook: Codebook | None = None,
    releases: list[Release] | None = None,
    seed: int | None = DEFAULT_SEED,
    glmm: bool = True,
    min_cell: int = 10,
) -> Path:
    """Validate coded units, compute the study's analyses and write the hand-off folder
    (small cells decided as the tables would with ``--min-cell`` = ``min_cell``)."""
    from vsdstats.paper.tables import CountMasks

    cb = codebook or load_codebook()
    units = validate_units(df, cb, "data frame")
    res = compute(units, cb, load_study(), seed=seed, glmm=glmm)
    rel = load_releases() if releases is None else releases
    masks = CountMasks(units, cb, min_cell)
    return write_handoff(res, units, out_dir, cb, rel, masks=masks, synthetic=is_synthetic(units))


def is_synthetic(units: pd.DataFrame) -> bool:
    """The units come from the simulator (every ``coder`` is "simulated")."""
    coder = units.get("coder", pd.Series(dtype=str))
    return bool(len(coder)) and bool((coder == "simulated").all())


def _read_gold(units: pd.DataFrame, gold_path: str | Path, cb: Codebook) -> GoldSample:
    """The human gold codes of ``--gold``, checked against the codebook and keyed like
    the units (post_id, or post_id#unit_index when posts have several units)."""
    from vsdstats.tables.io import TableError, read_table
    from vsdstats.tables.models import CODE_FIELDS

    try:
        gold = read_table(gold_path)
    except TableError as exc:
        raise PaperError(str(exc)) from None
    if "post_id" not in gold.columns:
        raise PaperError(f"{gold_path}: missing required column(s) post_id")
    fields = [f for f in CODE_FIELDS if f in gold.columns]
    if not fields:
        raise PaperError(f"{gold_path}: no code column ({', '.join(CODE_FIELDS)}) to compare")
    for f in fields:
        vals = gold[f].dropna().astype(str)
        bad = ~vals.isin(set(cb.codes(f)))
        if bad.any():
            raise PaperError(
                f"{gold_path}: column {f!r}: value {vals[bad].iloc[0]!r} is not a "
                f"category of codebook {cb.name} {cb.version}"
            )
    gold = gold.assign(post_id=gold["post_id"].astype(str))
    coded = units.assign(post_id=units["post_id"].astype(str))
    key = "post_id"
    notes: list[str] = []
    if coded["post_id"].duplicated().any() or gold["post_id"].duplicated().any():
        if "unit_index" not in gold.columns or "unit_index" not in coded.columns:
            raise PaperError(
                f"{gold_path}: post_id is not unique (posts with several units); "
                "add a unit_index column to both tables"
            )
        key = "post_id#unit_index"
        if "quote" in gold.columns and "quote" in coded.columns:
            gold, note = _align_gold_units(gold, coded)
            notes.append(f"{Path(gold_path).name}: {note}")
        for d in (gold, coded):
            d[key] = d["post_id"] + "#" + d["unit_index"].astype("Int64").astype(str)
    return GoldSample(gold, coded, key, fields, Path(gold_path).name, str(gold_path), notes)


def _align_gold_units(gold: pd.DataFrame, coded: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Give each gold unit of a multi-unit post the ``unit_index`` of the coded unit it
    is (``vsdstats.validate.units.match_units`` on the quotes and the order of units
    only: matching on the labels would pair units because they agree and bias the
    correction).  A gold unit without a coded counterpart gets no unit_index (it joins
    no unit); the note counts them."""
    from vsdstats.validate.units import match_units

    g = gold.reset_index(drop=True)
    rows = g["unit_index"].notna() if "unit_index" in g.columns else pd.Series(True, g.index)
    units = g[rows].reset_index()
    c = coded[coded["post_id"].isin(set(units["post_id"]))].reset_index(drop=True)
    pairs = match_units(
        units[["post_id", "quote", "unit_index"]], c[["post_id", "quote", "unit_index"]]
    )
    new = pd.Series(pd.NA, index=g.index, dtype="Int64")
    paired = pairs[(pairs["gold_row"] >= 0) & (pairs["coded_row"] >= 0)]
    for r in paired.itertuples(index=False):
        new.iloc[int(units["index"].iloc[r.gold_row])] = int(c["unit_index"].iloc[r.coded_row])
    moved = int((new[rows] != g.loc[rows, "unit_index"].astype("Int64")).fillna(True).sum())
    unmatched = int((pairs["coded_row"] < 0).sum())
    g.loc[rows, "unit_index"] = new[rows]
    return g, (
        f"gold units matched to the coded units of their post by quote overlap and order "
        f"(not by labels): {len(paired)} matched, {moved} re-indexed, {unmatched} without "
        "a coded unit (left out of agreement and corrections)"
    )


@dataclass
class GoldSample:
    """``--gold`` read and keyed: the gold rows, the units with the same key column."""

    gold: pd.DataFrame
    coded: pd.DataFrame
    key: str
    fields: list[str]
    source: str
    path: str
    notes: list[str] = field(default_factory=list)


def _agreement_table(g: GoldSample, cb: Codebook) -> PublishedTable:
    from vsdstats.paper.tables import table11_agreement
    from vsdstats.stats import agreement

    try:
        res = agreement(
            g.gold,
            g.coded[[g.key, *g.fields]],
            on=g.key,
            fields=g.fields,
            labels={f: cb.codes(f) for f in g.fields},
        )
    except (KeyError, ValueError) as exc:
        raise PaperError(f"{g.path}: {exc}") from None
    return table11_agreement(res.summary, g.key, g.source)


def _corrected(g: GoldSample, cb: Codebook, study: dict, res: Analyses) -> None:
    """DSL-corrected means (table5) and sentiment shares (table12) from the gold sample,
    into ``res.means_gold`` / ``res.shares_gold``; a note when the gold has no sentiment."""
    from vsdstats.errors import InputError
    from vsdstats.paper.analyses import run_corrected

    if "sentiment" not in g.fields:
        res.notes.append(f"{g.source} codes no sentiment: no corrected estimates")
        return
    try:
        res.means_gold, res.shares_gold = run_corrected(g.coded, g.gold, g.key, cb, study)
    except InputError as exc:  # stats.corrected says "gold: ..." / "units: ..."
        msg = str(exc)
        for word, where in (("gold: ", g.path), ("units: ", "coded units")):
            if msg.startswith(word):
                msg = f"{where}: {msg[len(word) :]}"
        raise PaperError(msg if msg.startswith(g.path) else f"{g.path}: {msg}") from None


def _analysis_label(source: str) -> str:
    """How paper/README.md names the analysis file: ``analysis/NAME.toml`` when shipped,
    else the user's file name with the start of its SHA-256 (never its full path)."""
    import hashlib

    from vsdstats.paper.config import find_project_file

    p = Path(source)
    try:
        if p.resolve() == find_project_file(f"analysis/{p.name}").resolve():
            return f"analysis/{p.name}"
    except PaperError:
        pass
    return f"{p.name} (sha256 {hashlib.sha256(p.read_bytes()).hexdigest()[:12]})"


def _clear(folder: Path, patterns: tuple[str, ...]) -> None:
    if folder.is_dir():
        for pat in patterns:
            for p in sorted(folder.glob(pat)):
                p.unlink()


def run_paper(
    input: str | Path | None = None,
    out: str | Path = "paper",
    gold: str | Path | None = None,
    min_cell: int = 10,
    seed: int = DEFAULT_SEED,
    n: int = DEFAULT_N,
    codebook: str | Path | None = None,
    analysis: str | Path | None = None,
    figures: bool = True,
    pdf: bool = False,
    command: str = "vsdstats paper",
    log: Callable[[str], None] = _stderr,
) -> PaperRun:
    """Run the whole job into ``out``; raises PaperError / RUnavailableError on failure.

    Without ``input`` the SYNTHETIC replication corpus ``simulate_corpus(n, seed)`` is used.
    ``analysis``: the analysis definitions, a TOML file or a shipped name (default
    ``study``, the shipped ``analysis/study.toml``).  ``pdf``: also compile
    manuscript.tex to manuscript.pdf with pdflatex (:mod:`vsdstats.paper.latex`).
    """
    from vsdstats.r import bridge as rbridge
    from vsdstats.paper import tables as T
    from vsdstats.paper.figures import run_figures
    from vsdstats.paper.manuscript import manuscript_tex, readme_text, write_docs

    if min_cell < 1:
        raise PaperError(f"--min-cell must be >= 1, got {min_cell}")
    out = Path(out)
    run = PaperRun(out=out)
    t_start = time.perf_counter()

    @contextmanager
    def step(name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        dt = time.perf_counter() - t0
        run.timings.append((name, dt))
        log(f"vsdstats paper: {name}: {dt:.2f} s")

    with step("check R"):
        rbridge.check_r()
    if pdf:
        from vsdstats.paper.latex import require_pdflatex, tex_version

        require_pdflatex()  # before the long steps, not after them
    with step("load data"):
        cb = load_codebook(codebook)
        study = load_study(analysis)
        releases = load_releases()
        if input is None:
            from vsdstats.paper.simulate import simulate_corpus

            units = validate_units(simulate_corpus(n=n, seed=seed), cb, "simulated corpus")
            source, synthetic = f"simulate_corpus(n={n}, seed={seed})", True
        else:
            units, source = load_units(input, cb)
            synthetic = is_synthetic(units)
    with step("statistics"):
        res: Analyses = compute(units, cb, study, seed=seed, glmm=False)
        gold_sample = _read_gold(units, gold, cb) if gold is not None else None
        if gold_sample is not None:
            res.notes += gold_sample.notes
            _corrected(gold_sample, cb, study, res)
    with step("GLMMs (R glmmTMB)"):
        from vsdstats.paper.analyses import run_glmm

        res.glmm, res.glmm_reference = run_glmm(units, cb, study, res.notes)
    with step("tables"):
        tdir = out / "tables"
        _clear(tdir, ("table*.csv", "table*.tex", "table*.md"))
        masks = T.CountMasks(units, cb, min_cell)
        published = [
            T.table1_corpus(units, res, cb, masks, synthetic),
            T.table2_chisq(res, synthetic, cb),
            T.table5_means(res, cb, masks, synthetic),
            T.table9_logodds(res, cb, int(study["logodds"].get("top", 3)), min_cell, synthetic),
            T.table10_glmm(res, cb, synthetic),
        ]
        welch = T.table13_welch(res, cb, masks, synthetic)
        if welch is not None:
            published.append(welch)
        if gold_sample is not None:
            published.append(_agreement_table(gold_sample, cb))
            if res.shares_gold is not None:
                published.append(T.table12_corrected(res, cb, masks, gold_sample.source))
        for t in published:
            run.tables += write_table(t, tdir)
    with step("hand-off files"):
        _clear(out / "handoff", ("*.csv", "schema.json"))
        run.handoff = write_handoff(
            res,
            units,
            out / "handoff",
            cb,
            releases,
            masks=masks,
            synthetic=synthetic,
            analysis=_analysis_label(study["_source"]),
        )
    if figures:
        with step("figures (R/figures.R)"):
            try:
                run.figures, r_notes = run_figures(run.handoff, out / "figures")
                res.notes += [f"R/figures.R: {m}" for m in r_notes]
            except PaperError as exc:
                run.figure_error = str(exc)
                res.notes.append(f"figure step FAILED: {exc}")
    else:
        res.notes.append("figures skipped (figures=False)")
    with step("README and manuscript"):
        from vsdstats.validate.methods import gold_methods

        readme = readme_text(
            res,
            published,
            command,
            source,
            synthetic,
            min_cell,
            res.notes,
            figures_ok=figures and run.figure_error is None,
            analysis=_analysis_label(study["_source"]),
            study=study,
            methods=None if gold_sample is None else gold_methods(gold_sample, cb),
        )
        write_docs(out, readme, manuscript_tex(published))
    if pdf:
        if run.figure_error:
            raise FigureError(f"{run.figure_error} (so manuscript.pdf was not compiled)")
        with step("PDF (pdflatex)"):
            from vsdstats.paper.latex import compile_manuscript

            run.pdf = compile_manuscript(out)
    with step("manifest"):
        from vsdstats.paper.figures import figures_script
        from vsdstats.paper.manifest import paper_manifest, write_paper_manifest

        settings = {"min_cell": min_cell, "seed": seed, "figures": figures}
        if pdf:
            settings["pdf"] = True
        manifest = paper_manifest(
            input=input,
            gold=gold,
            analysis=study["_source"],
            codebook=cb,
            figures_r=figures_script() if figures else None,
            outputs=[
                *run.tables,
                *run.handoff.iterdir(),
                out / "README.md",
                out / "manuscript.tex",
                *([run.pdf] if run.pdf else []),
            ],
            out=out,
            command=command,
            settings={**settings, "n": n} if input is None else settings,
            source=source,
            tex=tex_version() if pdf else None,
        )
        write_paper_manifest(out, manifest)
    run.notes = res.notes
    for note in res.notes:
        log(f"vsdstats paper: note: {note}")
    total = time.perf_counter() - t_start
    lines = [f"{name}\t{dt:.2f} s" for name, dt in run.timings] + [f"total\t{total:.2f} s"]
    (out / "timings.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    log(f"vsdstats paper: total: {total:.2f} s; wrote {out}/")
    if run.figure_error:
        raise FigureError(run.figure_error)
    return run
