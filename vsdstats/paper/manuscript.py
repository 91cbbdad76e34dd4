"""paper/README.md (deterministic) and the paper/manuscript.tex skeleton."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from vsdstats.paper.analyses import Analyses
from vsdstats.paper.choices import choices_table
from vsdstats.paper.compare import chisq_vs_glmm
from vsdstats.paper.figures import COLUMN_FIGURES, FIGURES
from vsdstats.paper.render import PublishedTable, format_p, latex_escape
from vsdstats.paper.tables import perm_p_column

TABLE_SOURCES = {
    "table1_corpus": "unit and post counts per platform, condition, LLM family (crosstab)",
    "table2_chisq": "analysis/study.toml [chisq]: chisq_clustered (Rao-Scott, by author) on "
    "condition x sentiment/perspective/value, with chisq_independence (naive) alongside",
    "table5_means": "[means]: group_means_ci of the sentiment score by llm_product, condition "
    "(cluster-robust by author; the naive t interval alongside)",
    "table9_logodds": "[logodds]: weighted_log_odds (tidylo; the ranking, not a z-score) of "
    "perspective and value by condition, log_odds_dirichlet (MCQ zeta) and "
    "log_odds_permutation (by author, maxT)",
    "table10_glmm": "[glmm]: mixed_logit (glmmTMB), {negative,positive} ~ condition + "
    "(1|platform) + (1|author)",
    "table11_agreement": "agreement of the coded units with --gold on post_id",
    "table13_welch": "[anova]: welch_anova and games_howell (vsdstats.stats.anova) of the "
    "sentiment score across LLM families",
    "table12_corrected": "--gold: corrected_proportions (DSL) of sentiment by condition, "
    "the naive shares alongside; table5's corrected columns: group_means_ci(gold=)",
}
#: figure name (or its figN prefix) -> the hand-off file(s) and statistics it is drawn from
FIGURE_SOURCES = {
    "fig3": "residuals.csv (cell_tests_clustered: cluster-robust z, Holm)",
    "fig4_npmi": "pmi.csv (pmi: NPMI)",
    "fig4_delta_pmi": "delta_pmi.csv (delta_pmi, permutation null by author, maxT)",
    "fig5": "means.csv (group_means_ci, cluster-robust)",
    "fig6": "monthly.csv (monthly, cluster-robust) + releases.csv (analysis/releases.toml)",
    "fig6_monthly_conditions": "monthly_conditions.csv (monthly by condition, [monthly] "
    "top_conditions) + releases.csv",
    "fig7": "fingerprint.csv (crosstab + adjusted residuals)",
    "fig8": "alluvial.csv (lumped flows)",
    "fig9": "logodds.csv (weighted_log_odds; log_odds_dirichlet zeta, log_odds_permutation)",
    "fig10": "glmm.csv (mixed_logit)",
}


def _num(v: float, floats: int) -> str:
    """Fixed decimals, or 3 significant digits for tiny values (never printed as 0)."""
    if v != 0 and abs(v) < 10**-floats:
        return f"{v:.2e}"
    return f"{v:.{floats}f}"


def _md(df: pd.DataFrame, floats: int = 3) -> str:
    if df.empty:
        return "(none)\n"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in df.itertuples(index=False):
        cells = [_num(v, floats) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _inference_section(res: Analyses) -> list[str]:
    """README lines: which inference the tables use, and the naive numbers next to it."""
    if not res.clustered:
        return [
            "## Inference",
            "",
            'This run treats units as independent (`[chisq] cluster = ""`): the '
            "original study's Pearson tests and t intervals.",
            "",
        ]
    out = [
        "## Inference: posts nested in authors (the default)",
        "",
        f"Units are nested in authors (`{res.cluster}`), and authors have their own "
        "tendencies, so tests that treat units as independent reject true null hypotheses "
        "far too often (see `docs/calibration.md`).  By default (`analysis/study.toml`: "
        f'`cluster = "{res.cluster}"`) the paper uses:',
        "",
        "- `table2_chisq`: the Rao-Scott second-order F test (`chisq_clustered`, equal to R "
        "`survey::svychisq`); the naive Pearson test of the original study stays in the "
        "columns marked *naive*.",
        "- `fig3_residuals_*`: cluster-robust adjusted residuals (`cell_tests_clustered`), "
        "Holm; the naive adjusted residuals are in `handoff/residuals.csv` "
        "(`adjusted_residual`, `p_value_adj_naive`).",
        "- `table5_means`, `fig5`, `fig6`: cluster-robust 95% intervals (= R "
        "`survey::svyby` svymean), kept inside [-1, 1]; the naive t interval is the column "
        "*95% CI (naive t)* and `ci_*_naive` in the hand-off files.",
        "",
        "| test | Rao-Scott F | p | mean deff | naive chi-square p | cells significant "
        "(robust) | cells significant (naive) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, c in res.clustered.items():
        c, naive = c.iloc[0], res.chisq[name]
        cells = res.cells[name]
        out.append(
            f"| {name} | {c['statistic']:.2f} | "
            f"{format_p(float(c['p_value']), float(c['log_p_value']))} | "
            f"{c['mean_deff']:.2f} | {format_p(naive.p_value, naive.log_p_value)} | "
            f"{int(cells['significant'].sum())} | "
            f"{int((cells['p_value_adj_naive'] < 0.05).sum())} |"
        )
    out.append("")
    return out


def _range(x: pd.Series, digits: int = 2) -> str:
    """'median m (a to b)' of the finite values, or 'n/a'."""
    x = pd.to_numeric(x, errors="coerce").dropna()
    x = x[x.abs() < float("inf")]
    if x.empty:
        return "n/a"
    med, lo, hi = (round(float(v), digits) + 0.0 for v in (x.median(), x.min(), x.max()))
    return f"median {med:.{digits}f} ({lo:.{digits}f} to {hi:.{digits}f})"  # no '-0.00'


def _perm_words(cluster: str | None) -> str:
    if cluster:
        return (
            f"condition labels shuffled across {cluster}s (a restricted permutation: each "
            f"{cluster}'s units stay together, {cluster}s with the same number of units "
            "exchange their label vectors)"
        )
    return "condition labels shuffled across units"


def _pmi_logodds_section(res: Analyses) -> list[str]:
    """README lines: delta-PMI, its permutation null and maxT; why weighted log-odds
    are not z-scores and what table9 / fig9 use instead (numbers from this run)."""
    d, lo = res.delta_pmi, res.logodds
    pp, lp = res.pmi_permutation, res.logodds_permutation
    by = d.columns[0]
    sup = d["supported"].astype(bool)
    out = [
        "## Co-occurrence (delta-PMI) and distinctive features (log-odds)",
        "",
        "**delta-PMI** (`fig4_delta_pmi`, `handoff/delta_pmi.csv`).  For a condition `c` "
        "and a value x perspective pair `(a, b)`, in bits:",
        "",
        "    delta-PMI(a,b|c) = PMI_c(a,b) - PMI_rest(a,b),   "
        "PMI_S(a,b) = log2( n_ab(S) N(S) / (n_a(S) n_b(S)) )",
        "",
        "where each PMI is computed on its own subset `S` (the units of condition `c`; the "
        "units of all other conditions) with that subset's counts and total.  A pair absent "
        "on one side has no delta-PMI (NA).  It is not NPMI: `fig4_npmi` shows NPMI "
        "(PMI / -log2 p(a,b), in [-1, 1]) over all units.",
        "",
    ]
    if pp is None:
        return out
    out.append(
        f"- Minimum support: a cell is tested (`supported`) only when the pair occurs in at "
        f"least {pp.min_support} units inside the condition and {pp.min_support} outside it "
        f"(`[pmi] min_support`); below that delta-PMI is biased upward, skewed and "
        f"heavy-tailed under the null, and such cells would dominate the maxT maximum.  "
        f"{int(sup.sum())} of {len(d)} cells are supported in this run; the others keep "
        f"their delta-PMI but get no p-value and are grey in `fig4_delta_pmi`."
    )
    if pp.permutations > 0:
        bias = d.groupby(by, sort=False)["null_mean"].mean()
        worst = bias.idxmax() if bias.notna().any() else None
        sig = sup & (d["p_value_adj"] < 0.05)
        out += [
            f"- Permutation null: {_perm_words(pp.cluster)}; {pp.permutations} permutations, "
            f"seed {pp.seed} (`[pmi] permutations`, `seed`, `cluster`).  `null_mean` is the "
            "mean delta-PMI under the null, i.e. the bias of small conditions"
            + (
                f" (in this run up to {bias.max():.2f} bits on average over the pairs of "
                f"`{worst}`; {_range(d.loc[sup, 'null_mean'])} bits over the supported cells)"
                if worst is not None
                else ""
            )
            + "; `delta_pmi_centered = delta_pmi - null_mean`; `p_value` is two-sided about "
            "the null mean, with the observed arrangement counted as one draw (never 0, at "
            f"least 1/{pp.permutations + 1}).",
            "- maxT adjustment: `p_value_adj` is Westfall & Young's single-step maxT over "
            "the supported cells of all conditions (per permutation, the maximum of "
            "|delta-PMI - null_mean| / null_sd over the cells), so it controls the "
            "familywise error over every condition x pair tested; dots in `fig4_delta_pmi` "
            f"mark p_value_adj < 0.05: {int(sig.sum())} of {int(sup.sum())} supported cells "
            "in this run.",
        ]
    else:
        out.append("- No permutation null in this run (`[pmi] permutations = 0`): NA p-values.")
    out += [
        "",
        "**Weighted log-odds** (`table9_logodds`, `fig9_logodds`, `handoff/logodds.csv`).  "
        "tidylo's weighted log-odds (`log_odds_weighted`, its informative empirical-Bayes "
        "prior) rank the features of a condition against the whole corpus, but they are "
        "NOT z-scores: the prior is as large as the data, so their null SD is far below 1 "
        "and |log-odds| > 1.96 is not a test.",
    ]
    if lp is not None and lp.permutations > 0:
        n_sig = int((lo["p_value_adj"] < 0.05).sum())
        out[-1] += (
            "  Under this run's permutation null their SD is "
            f"{_range(lo['null_sd_tidylo'])} over the condition x feature cells.  The "
            "calibrated alternative is MCQ's zeta (Monroe, Colaresi & Quinn 2008, "
            f"`log_odds_dirichlet`, prior = corpus frequencies x {lp.alpha0:g}; table9 "
            "column *MCQ zeta*) with its permutation null: zeta is on a z scale (its null "
            f"SD here is {_range(lo['null_sd_zeta'])}: close to 1 in large conditions, "
            "shrunk in small ones, wider when authors cluster), so distinctiveness is "
            "claimed from its permutation p, not from |zeta| > 1.96: "
            f"{_perm_words(lp.cluster)}, {lp.permutations} permutations, seed {lp.seed}, "
            "Westfall-Young maxT over the cells of each dimension (table9 column "
            f"*{perm_p_column(lp.cluster)}*, `*` in fig9): {n_sig} of {len(lo)} cells "
            "have p_value_adj < 0.05."
        )
    else:
        out[-1] += (
            "  The calibrated alternative is MCQ's zeta (table9 column *MCQ zeta*); no "
            "permutation p in this run (`[logodds] permutations = 0`)."
        )
    out.append("")
    return out


def choices_section(res: Analyses, study: dict[str, Any] | None, analysis: str) -> list[str]:
    """paper/README.md's section comparing the original analysis with ours, and what
    this run's denominator rules left out (``res``: the run's Analyses)."""
    out = [
        "## Original analysis and ours",
        "",
        f"This run used `{analysis}`.  `vsdstats paper --analysis replication` (`tox -e "
        "paper -- --analysis replication`) runs the original study's analysis into "
        "`paper/replication/`; the "
        "default, `analysis/study.toml`, is the recommended one: it allows for units "
        "nested in authors, where the original treated every unit as independent.  Each "
        "row below is read from the two analysis files.",
        "",
        _md(choices_table(study).map(lambda v: str(v).replace("|", "\\|"))),
    ]
    if res.dropped:
        out.append(
            "Groups this run's denominator rules left out of the comparisons: "
            + ", ".join(f"{d.dimension} `{d.code}` ({d.n} units, {d.reason})" for d in res.dropped)
            + "."
        )
        out.append("")
    if res.dropped_month:
        out += [
            f"The last month, {res.dropped_month}, was not fully observed (the data stop "
            "before its last day) and is left out of the time series (fig6).",
            "",
        ]
    return out


def readme_text(
    res: Analyses,
    tables: list[PublishedTable],
    command: str,
    source: str,
    synthetic: bool,
    k: int,
    notes: list[str],
    figures_ok: bool,
    analysis: str = "analysis/study.toml",
    study: dict | None = None,
    methods: list[str] | None = None,
) -> str:
    """The README: what makes each table/figure, the GLMM-vs-chi-square differences, notes
    (``methods``: the human-validation paragraph of ``paper --gold``, vsdstats.validate.methods)."""
    data = (
        f"the SYNTHETIC replication corpus `{source}` (vsdstats.paper.simulate: calibrated to the "
        "original study's published label frequencies; not real posts)"
        if synthetic
        else f"`{source}`"
    )
    out = [
        "# paper/",
        "",
        "Regenerated by `tox -e paper` (runs `vsdstats paper`); do not edit by hand.",
        "",
        f"- Command: `{command}`",
        f"- Data: {data}; {res.n_units} coded units in {res.n_posts} posts, "
        f"{res.month_range[0]} to {res.month_range[1]}.",
        f"- Analyses: `{analysis}` (which test on which columns), model releases "
        "`analysis/releases.toml`.",
        "- Step timings of the run: `paper/timings.txt` (kept out of this file so that it is "
        "identical between runs).",
        "",
        "## Tables (`tables/NAME.{csv,tex,md}`)",
        "",
        "| table | made from |",
        "| --- | --- |",
    ]
    out += [f"| `{t.name}` | {TABLE_SOURCES.get(t.name, '')} |" for t in tables]
    out += [
        "",
        f"Small-cell suppression (`--min-cell {k}`): in published count tables, counts from 1 "
        f"to {k - 1} are shown as `<{k}`; 0 stays 0.  When a list of counts (e.g. the "
        "conditions of table1) has exactly one such count and its total is published, the "
        "next-smallest count of that list is shown as `suppressed` too (complementary "
        "suppression), so the hidden value cannot be recovered by subtraction; the same "
        "decisions are reused wherever those counts reappear (table5).  Figures follow the "
        f"same decisions: an LLM family, condition, platform, month or stratum with fewer "
        f"than {k} units is drawn in no figure, a count the tables hide is printed as "
        "`n suppressed` (fig4_delta_pmi, fig5) or drawn as a grey `suppressed` square "
        "without size or colour (fig7, whose cell counts are suppressed over rows and "
        "columns so that none can be recovered from table1's totals), and heatmap cells "
        f"and log-odds bars resting on fewer than {k} units are grey or left out.  Author "
        "pseudonyms never appear in tables.",
        "",
        "## Figures (`figures/NAME.{pdf,png}`, drawn by `R/figures.R`)",
        "",
        "| figure | shows | hand-off input |",
        "| --- | --- | --- |",
    ]
    for name, what in FIGURES.items():
        src = FIGURE_SOURCES.get(name) or FIGURE_SOURCES[name.split("_")[0]]
        out.append(f"| `{name}` | {what} | {src} |")
    out += [
        "",
        "Figures are drawn at the size they are printed: journal column width (8.5 cm) "
        + ", ".join(f"`{n}`" for n in FIGURES if n in COLUMN_FIGURES)
        + "; the others full width (17.5 cm); 8 pt text, 6 pt and up for axis and cell "
        "labels; PNG at 300 dpi.",
    ]
    if synthetic:
        out += [
            "",
            "Drawn from the synthetic corpus, every figure says so on itself, in a red "
            "subtitle: *SYNTHETIC DATA (simulated corpus): not real posts* (hand-off "
            "`run.csv` `synthetic`).",
        ]
    if not figures_ok:
        out += ["", "**The figures of this run were NOT drawn** (see the notes below)."]
    out += [
        "",
        "`handoff/` holds the inputs of the figures as typed CSV files (`schema.json` gives "
        "the R type of every column).  They are published with the tables, so they hide what "
        "the tables hide: the suppression decisions reach R as columns (`groups.csv` "
        "`suppressed` and `n_shown`, `suppressed` / `n_hidden` in the other files; see "
        "analysis/README.md), and the counts of those rows, with every statistic a count "
        "could be recovered from, are blank (`NA`); the figures never draw those rows, so "
        "they are the same as from the full values (a test draws both).  The one exception "
        "is `alluvial.csv`, whose rows are combinations of the four codes: flows under "
        f"{k} units are kept (the figure draws them as flows, never as numbers, inside "
        f"strata of {k} or more units).  "
        "Rebuild the "
        "figures alone with `Rscript R/figures.R paper/handoff paper/figures`.",
        "",
        *choices_section(res, study, analysis),
        *_inference_section(res),
        *_pmi_logodds_section(res),
        *(methods or []),
        "## Beyond the original analysis: mixed-effects models",
        "",
        "The original analysis treated every post as independent (chi-square tests and "
        "their residuals).  Posts are nested in authors and platforms, so `table10_glmm` "
        "fits binomial GLMMs with random intercepts for platform and author "
        f"(reference condition: `{res.glmm_reference or 'n/a'}`).  The table below compares, "
        "per condition, the sentiment cell's residual test (cluster-robust when the run is "
        "clustered; Holm-adjusted p over the cells) with the GLMM condition term (Holm-"
        "adjusted p over the condition terms): adjusted p on both sides, at alpha 0.05; "
        "a term whose ML fit shows quasi-complete separation gets the verdict `GLMM "
        "separated` and is not compared.  `verdict` is computed from the numbers of this "
        "run.  They "
        "answer different questions (a condition vs independence over all units; a "
        "condition vs the reference condition within authors and platforms), so "
        "disagreements mark conclusions that depend on the independence assumption.",
        "",
    ]
    cmp = chisq_vs_glmm(res)
    differ = cmp[cmp["verdict"] != "agree"] if not cmp.empty else cmp
    out.append(f"Conditions where the conclusions differ ({len(differ)} of {len(cmp)}):")
    out.append("")
    out.append(_md(differ))
    sig_ci1 = differ[differ["verdict"] == "chi-square only"] if not differ.empty else differ
    listed = ", ".join(f"{r.condition} ({r.outcome})" for r in sig_ci1.itertuples()) or "none"
    out += [
        f"Significant residual but GLMM Holm-adjusted p >= 0.05: {listed}.",
        "",
        "All comparisons:",
        "",
        _md(cmp),
        "## R warnings and other notes of this run",
        "",
    ]
    counts: dict[str, int] = {}
    for n in notes:
        counts[n] = counts.get(n, 0) + 1
    out += [f"- {n}" + (f" (x{k})" if k > 1 else "") for n, k in counts.items()] or ["- none"]
    return "\n".join(out).rstrip() + "\n"


def _caption(text: str) -> str:
    """A figure's FIGURES description as a caption: capitalized, ' x ' as a times sign,
    '->' as an arrow, a full stop at the end."""
    text = text[:1].upper() + text[1:]
    text = text if text.endswith(".") else text + "."
    # '-{}-': a literal --min-cell, not the en dash ligature of T1 fonts
    parts = [latex_escape(p).replace("--", "-{}-") for p in text.split("->")]
    return r"$\to$".join(parts).replace(" x ", r" $\times$ ")


def figure_caption_text(name: str) -> str:
    """The caption of figure ``name`` as pdftotext reads it back from the PDF."""
    from vsdstats.paper.figures import FIGURES

    text = FIGURES[name]
    text = text[:1].upper() + text[1:]
    text = text if text.endswith(".") else text + "."
    return text.replace("->", "\u2192").replace(" x ", " \u00d7 ")


def _tex_width(name: str) -> str:
    """The printed width of figure ``name`` (R/figures.R draws it at that size)."""
    from vsdstats.paper.figures import figure_width

    return f"{figure_width(name):g}in"


def manuscript_tex(tables: list[PublishedTable]) -> str:
    """The manuscript: every table (input) and figure (included at its printed width,
    17.5 cm = the text width, or 8.5 cm), each with its caption; compiles with pdflatex
    from Debian's texlive-latex-base, texlive-latex-recommended and lmodern
    (``vsdstats paper --pdf``)."""
    lines = [
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{lmodern}",
        r"\usepackage{textcomp}",
        r"\usepackage{booktabs}",
        r"\usepackage{array}",
        r"\usepackage{longtable}",
        r"\usepackage{rotating}",
        r"\usepackage{graphicx}",
        # text width = journal full width (6.9 in = 17.5 cm): figures print at their size
        r"\usepackage[textwidth=6.9in,top=2.5cm,bottom=2.5cm]{geometry}",
        r"\title{LLM Use for Mental Health: a replication with mixed-effects models}",
        r"\author{}",
        r"\date{}",
        # no /PTEX.InfoDict of the figures (R's creation dates): a reproducible PDF
        r"\ifdefined\pdfsuppressptexinfo\pdfsuppressptexinfo=-1\fi",
        r"\begin{document}",
        r"\maketitle",
        "% Generated by `vsdstats paper`; tables and figures are regenerated each run.",
        r"\section{Results}",
    ]
    # each table flushed before the next, so they print in order (a longtable is inline)
    for t in tables:
        lines += [f"\\input{{tables/{t.name}.tex}}", r"\clearpage"]
    for name in FIGURES:
        lines += [
            r"\begin{figure}[htbp]",
            r"\centering",
            # drawn at print size: 6.9 in (the text width) or 3.35 in (a column)
            f"\\includegraphics[width={_tex_width(name)}]{{figures/{name}.pdf}}",
            f"\\caption{{{_caption(FIGURES[name])}}}",
            f"\\label{{fig:{name}}}",
            r"\end{figure}",
        ]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def write_docs(out: Path, readme: str, tex: str) -> None:
    (out / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    (out / "manuscript.tex").write_text(tex, encoding="utf-8", newline="\n")
