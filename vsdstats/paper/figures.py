"""Running R/figures.R (written by the R side of the hand-off contract) through rpy2.

R/figures.R is the driver: it sources, from its own folder, handoff.R (the reader of the
hand-off tables), theme.R and one file per figure (fig3_residuals.R ... fig10_forest.R).
All of them are package data in ``vsdstats/r/scripts`` (pyproject's ``r/scripts/*.R``),
so an installed wheel finds them.
"""

from __future__ import annotations

from pathlib import Path

from vsdstats.paper.config import PaperError, find_project_file

#: Figures R/figures.R writes, each as NAME.pdf and NAME.png.
FIGURES = {
    "fig3_residuals_condition_sentiment": "adjusted residuals, condition x sentiment",
    "fig3_residuals_condition_perspective": "adjusted residuals, condition x perspective",
    "fig3_residuals_condition_value": "adjusted residuals, condition x value",
    "fig4_npmi": "NPMI of value x perspective co-occurrence, all units",
    "fig4_delta_pmi": "delta-PMI (bits) of value x perspective, condition vs. rest, largest "
    "conditions (grey: not supported; dot: maxT p < 0.05, permutation by author)",
    "fig5_mean_sentiment": "mean sentiment with 95% CI by LLM family and condition",
    "fig6_monthly": "monthly mean sentiment with model releases",
    "fig6_monthly_conditions": "monthly volume and mean sentiment with 95% CI of the largest "
    "conditions, model releases dashed",
    "fig7_fingerprint": "LLM family x condition fingerprint (bubble area and label: units; "
    "colour: adjusted residual; grey: suppressed)",
    "fig8_alluvial": "condition -> sentiment -> perspective -> value flows",
    "fig9_logodds": "weighted log-odds (tidylo; not a z-score) of the perspectives and values "
    "distinctive for each condition (positive, at least --min-cell units; *: MCQ zeta, maxT "
    "p < 0.05)",
    "fig10_forest": "GLMM odds ratios against the reference condition (forest plot; filled: "
    "Holm-adjusted p < 0.05)",
}


#: Journal widths the figures are drawn at (R/figures.R's vsd_figure_specs()), inches:
#: full width 17.5 cm and column width 8.5 cm; their text is 8 pt at that size.
FULL_WIDTH_IN, COLUMN_WIDTH_IN = 6.9, 3.35
#: The figures drawn at column width (the others are full width).
COLUMN_FIGURES = frozenset({"fig3_residuals_condition_sentiment", "fig5_mean_sentiment"})


def figure_width(name: str) -> float:
    """The printed width of figure ``name`` in inches."""
    return COLUMN_WIDTH_IN if name in COLUMN_FIGURES else FULL_WIDTH_IN


def figures_script() -> Path:
    """R/figures.R of the checkout, or PaperError saying 'R/figures.R missing'."""
    return find_project_file("R/figures.R")


def run_figures(handoff: Path, out_dir: Path) -> tuple[list[Path], list[str]]:
    """source(R/figures.R); vsd_figures(handoff, out); returns (paths, R warnings/messages)."""
    from vsdstats.r.bridge import RError, r_eval

    script = figures_script()
    out_dir.mkdir(parents=True, exist_ok=True)
    code = (
        "source(script, local = TRUE, encoding = 'UTF-8')\n"
        "if (!exists('vsd_figures', inherits = FALSE)) stop('R/figures.R defines no vsd_figures')\n"
        "as.character(unlist(vsd_figures(handoff, out)))"
    )
    try:
        res = r_eval(
            code,
            emit=False,
            script=str(script),
            handoff=str(handoff.resolve()),
            out=str(out_dir.resolve()),
        )
    except RError as exc:
        raise PaperError(f"{script}: {exc}") from None
    paths = [Path(str(p)) for p in res.value] if res.value is not None else []
    missing = [
        f"{n}.{ext}"
        for n in FIGURES
        for ext in ("pdf", "png")
        if not (out_dir / f"{n}.{ext}").is_file()
    ]
    if missing:
        raise PaperError(f"{script} ran but did not write {', '.join(missing)} in {out_dir}")
    return paths, res.conditions
