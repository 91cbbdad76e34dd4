"""``vsdstats paper``: regenerate the manuscript's tables and figures."""

from __future__ import annotations

import shlex
import sys

import click

from vsdstats.cli._common import codebook_option, positional_input


def default_out(analysis: str | None) -> str:
    """``paper`` for the default analysis, ``paper/NAME`` for ``--analysis NAME`` (a
    shipped name or a TOML file's stem)."""
    from pathlib import PurePath

    name = None if analysis is None else PurePath(analysis).stem
    return "paper" if name in (None, "study") else f"paper/{name}"


@click.command()
@positional_input("input_path", "STUDY", optional=True)
@click.option(
    "--gold",
    type=click.Path(dir_okay=False),
    default=None,
    help="human gold codes of a random subsample (post_id [+ unit_index], the code "
    "columns, optional pi) -> table11_agreement, and DSL-corrected estimates next to the "
    "naive ones in table5 and table12_corrected",
)
@click.option(
    "--analysis",
    default=None,
    metavar="FILE|NAME",
    help="analysis definitions: your own TOML file (copy the shipped analysis/study.toml "
    "and edit it) or a shipped name  [default: study]",
)
@click.option(
    "--out",
    "-o",
    default=None,
    type=click.Path(file_okay=False),
    help="output folder (tables/, handoff/, figures/, README.md, manuscript.tex)  "
    "[default: paper, or paper/NAME with --analysis NAME|NAME.toml, so another analysis "
    "never overwrites the default one's outputs]",
)
@click.option(
    "--min-cell",
    "min_cell",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="small-cell suppression: published counts 1..K-1 are shown as '<K', with "
    "complementary suppression so they cannot be recovered from totals",
)
@click.option(
    "--seed",
    type=int,
    default=2026,
    show_default=True,
    help="seed of the simulated corpus and of the Monte-Carlo p-values",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=100),
    default=None,
    help="size of the simulated corpus (ignored with STUDY)  [default: 39380, the "
    "published number of condition units]",
)
@click.option(
    "--pdf",
    is_flag=True,
    default=False,
    help="also compile OUT/manuscript.tex to OUT/manuscript.pdf with pdflatex (Debian: "
    "texlive-latex-base texlive-latex-recommended lmodern; bash R/install_r.sh installs them)",
)
@codebook_option
def paper(
    input_path: str | None,
    gold: str | None,
    analysis: str | None,
    out: str | None,
    min_cell: int,
    seed: int,
    n: int | None,
    codebook_path: str | None,
    pdf: bool,
) -> None:
    """Regenerate paper/ from STUDY (a coded table, a .duckdb file's table units, or a
    study folder with coded_units.{parquet,csv} and posts.{parquet,csv}, joined on
    post_id as `vsdstats export` does; default: the SYNTHETIC replication corpus):
    tables (CSV, LaTeX, Markdown), hand-off files, R figures,
    README.md and manuscript.tex (the job `tox -e paper` runs); with --pdf also
    manuscript.pdf (`tox -e paper -- --pdf`).

    Needs R (glmmTMB for the mixed models, R/figures.R for the figures).  Step timings
    go to stderr and OUT/timings.txt; OUT/manifest.json records the provenance (Python,
    R and package versions, SHA-256 of every file read, seeds; no time, so it is
    byte-identical between runs).  Exit codes: 0 ok, 2 bad input or R missing,
    1 the figure step failed (tables and hand-off files are still written).
    """
    from vsdstats.paper.config import PaperError
    from vsdstats.paper.run import DEFAULT_N, FigureError, run_paper
    from vsdstats.r.bridge import RUnavailableError
    from vsdstats.tables.codebook import CodebookError

    if out is None:
        out = default_out(analysis)
    given = [
        ("--gold", gold, None),
        ("--analysis", analysis, None),
        ("--out", out, default_out(analysis)),
        ("--min-cell", min_cell, 10),
        ("--seed", seed, 2026),
        ("--n", n, None),
        ("--codebook", codebook_path, None),
    ]
    flags = ["--pdf"] if pdf else []
    args = ["vsdstats", "paper", *([input_path] if input_path else [])]
    for opt, value, default in given:
        if value != default:
            args += [opt, str(value)]
    args += flags
    command = shlex.join(args)
    try:
        run_paper(
            input=input_path,
            out=out,
            gold=gold,
            min_cell=min_cell,
            seed=seed,
            n=DEFAULT_N if n is None else n,
            codebook=codebook_path,
            analysis=analysis,
            pdf=pdf,
            command=command,
            log=lambda m: click.echo(m, err=True),
        )
    except RUnavailableError as exc:
        click.echo(
            f"vsdstats paper: error: R is needed for the mixed models and figures: {exc}\n"
            "Install it with: bash R/install_r.sh   (as root; then: pip install 'vsdstats[r]')",
            err=True,
        )
        sys.exit(2)
    except FigureError as exc:
        click.echo(f"vsdstats paper: figure step failed: {exc}", err=True)
        sys.exit(1)
    except (PaperError, CodebookError) as exc:
        click.echo(f"vsdstats paper: error: {exc}", err=True)
        sys.exit(2)
    except (ValueError, KeyError) as exc:  # data the analyses cannot handle: say so, no traceback
        click.echo(f"vsdstats paper: error: the analyses failed on this input: {exc}", err=True)
        sys.exit(2)
