"""The original study's analytic choices next to ours, read from the analysis files.

paper/README.md's section "Original analysis and ours" is made here: each row describes
one choice as ``analysis/replication.toml`` (the original study's analysis) and
``analysis/study.toml`` (the recommended one) set it, and as this run's analysis file
set it, so the documentation cannot drift from what the files make ``vsdstats paper`` do.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vsdstats.paper.config import load_study

DIM = {"llm_product": "LLM families", "condition": "conditions", "value": "values"}


def _cluster(cfg: dict[str, Any], default: str = "author") -> str:
    return str(cfg.get("cluster", default) or "")


def _tests(study: dict[str, Any]) -> str:
    c = study["chisq"]
    names = ", ".join(f"{t['row']} × {t['col']}" for t in c["tests"])
    if _cluster(c):
        return f"Rao-Scott F by {_cluster(c)} (Pearson alongside, labelled naive): {names}"
    return f"Pearson chi-square, units independent: {names}"


def _residuals(study: dict[str, Any]) -> str:
    c = study["chisq"]
    lim = c.get("residual_limit")
    scale = (
        f"fixed ±{lim:g} colour scale" if lim else "one shared colour scale (largest |residual|)"
    )
    if c.get("residual", "adjusted") == "pearson":
        return f"Pearson residuals (O − E)/√E, {scale}"
    what = "cluster-robust adjusted residuals" if _cluster(c) else "adjusted residuals"
    return f"{what}, Holm-adjusted cell tests marked, {scale}"


def _denominators(study: dict[str, Any]) -> str:
    d = study.get("denominators", {})
    parts = [f"{DIM.get(k, k)} with ≥ {v} units" for k, v in d.get("min_units", {}).items()]
    out = [f"only {', '.join(parts)}"] if parts else ["every group enters"]
    ex = [f"{k} {', '.join(map(repr, v))}" for k, v in d.get("exclude", {}).items() if v]
    if ex:
        out.append(f"left out: {'; '.join(ex)}")
    return "; ".join(out) + " (groups under --min-cell are suppressed in outputs either way)"


def _means(study: dict[str, Any]) -> str:
    m = study["means"]
    how = f"cluster-robust by {_cluster(m)} (t alongside)" if _cluster(m) else "t intervals"
    return f"mean score by {', '.join(m['by'])}; {how}"


def _monthly(study: dict[str, Any]) -> str:
    m = study.get("monthly", {})
    top = m.get("top_conditions", 5)
    drop = m.get("drop_incomplete_last_month", True)
    return f"overall and the {top} largest conditions; incomplete last month " + (
        "dropped" if drop else "kept"
    )


def _families(study: dict[str, Any]) -> str:
    a = study.get("anova")
    tests = [
        t for t in study["chisq"]["tests"] if {t["row"], t["col"]} == {"llm_product", "sentiment"}
    ]
    out = []
    if tests:
        out.append(
            "chi-square LLM family × sentiment"
            + (" (Rao-Scott)" if _cluster(study["chisq"]) else "")
        )
    if a is not None:
        out.append(
            f"Welch's ANOVA + Games-Howell across {a.get('between', 'llm_product')}"
        )
    else:
        out.append("cluster-robust means by family (table 5)")
    return "; ".join(out)


def _logodds(study: dict[str, Any]) -> str:
    lo = study["logodds"]
    if int(lo.get("permutations", 1000)) > 0:
        by = _cluster(lo) or "unit"
        return f"tidylo weighted log-odds (ranking) + MCQ zeta, maxT permutation by {by}"
    return "tidylo weighted log-odds (ranking only, no test)"


def _pmi(study: dict[str, Any]) -> str:
    p = study["pmi"]
    if int(p.get("permutations", 1000)) > 0:
        by = _cluster(p) or "unit"
        return f"NPMI; delta-PMI per condition with a maxT permutation null by {by}"
    return "NPMI; delta-PMI per condition, no test"


#: item -> how an analysis file sets it
ITEMS = {
    "Tests of independence (table2)": _tests,
    "Residual heatmaps (fig3)": _residuals,
    "Denominators": _denominators,
    "Mean sentiment (table5, fig5)": _means,
    "Time series (fig6)": _monthly,
    "LLM families (table2, table13, fig7)": _families,
    "Distinctive features (table9, fig9)": _logodds,
    "Co-occurrence (fig4)": _pmi,
    "Mixed-effects models (table10, fig10)": lambda s: (
        f"{s['glmm']['formula']} ({s['glmm'].get('engine', 'glmmTMB')}); not in the original"
    ),
}


def describe(study: dict[str, Any]) -> dict[str, str]:
    """How ``study`` (a loaded analysis file) sets each item of :data:`ITEMS`."""
    return {item: f(study) for item, f in ITEMS.items()}


def choices_table(study: dict[str, Any] | None = None) -> pd.DataFrame:
    """Item, the original study's choice (replication.toml), ours (study.toml) and, when
    ``study`` is neither shipped file, this run's."""
    orig, ours = describe(load_study("replication")), describe(load_study("study"))
    frame = pd.DataFrame(
        {
            "item": list(ITEMS),
            "original study (analysis/replication.toml)": list(orig.values()),
            "ours (analysis/study.toml)": list(ours.values()),
        }
    )
    if study is not None:
        this = describe(study)
        if this not in (orig, ours):
            frame["this run"] = list(this.values())
    return frame

