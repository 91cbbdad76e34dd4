"""Calibration of the gold-corrected estimates (:mod:`vsdstats.stats.corrected`):
coverage of the truth by the DSL intervals, and by the naive ones, when the LLM coder
errs more in some conditions than in others.

Each data set is the clustered scenario of :func:`scenarios.clustered_units` (4,000
units from 800 authors, author SD 0.7, 75% of an author's units in one condition,
platform SD 0; no condition effect), coded by :func:`scenarios.llm_coder` (a negative
unit is coded neutral and a neutral one positive with probability 0.05 in "general"
rising to 0.45 in the smallest condition), with a simple random gold sample of
``n_gold`` units (default 10%) coded without error.  Intervals are cluster-robust by
author, for the naive estimates too, so the gap between them is the coder's bias.

Estimands (the same in every condition): the mean score ``p_pos - p_neg``, the share
of negative units ``p_neg`` (:func:`scenarios.true_probs`), and the coefficients of the
logistic regression of ``sentiment == "negative"`` on condition: intercept
``logit(p_neg)``, condition terms 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from vsdstats.stats.calibration import row
from vsdstats.stats.calibration.scenarios import (
    clustered_units,
    gold_sample,
    llm_coder,
    true_probs,
)
from vsdstats.stats.corrected import corrected_logit, corrected_means, corrected_proportions

CHECK = "gold-corrected estimates (DSL): 95% CI coverage"
AUTHOR_SD = 0.7


def _covered(res: pd.DataFrame, truth, lo: str, hi: str) -> int:
    return int(((res[lo] <= truth) & (res[hi] >= truth)).sum())


def run(reps: int = 500, seed: int = 2026, n_gold: int = 400) -> pd.DataFrame:
    """Coverage over ``reps`` data sets x conditions (x terms for the regression)."""
    p = true_probs(AUTHOR_SD)
    truths = {"mean": p[2] - p[0], "share": p[0]}
    hits = {(q, m): 0 for q in ("mean", "share", "logit") for m in ("naive", "DSL")}
    totals = dict.fromkeys(("mean", "share", "logit"), 0)
    for i in range(reps):
        rng = np.random.default_rng([seed, 10, i])
        units = llm_coder(clustered_units(rng, platform_sd=0.0), rng)
        gold = gold_sample(units, n_gold, rng)[["post_id", "sentiment", "pi"]]
        coded = units.drop(columns=["sentiment", "score"]).rename(
            columns={"llm_sentiment": "sentiment"}
        )
        m = corrected_means(coded, gold, "condition", "sentiment", cluster="author")
        m = m.dropna(subset=["ci_low"])
        hits["mean", "DSL"] += _covered(m, truths["mean"], "ci_low", "ci_high")
        hits["mean", "naive"] += _covered(m, truths["mean"], "naive_ci_low", "naive_ci_high")
        totals["mean"] += len(m)
        s = corrected_proportions(coded, gold, "condition", "sentiment", cluster="author")
        s = s[s["sentiment"] == "negative"].dropna(subset=["ci_low"])
        hits["share", "DSL"] += _covered(s, truths["share"], "ci_low", "ci_high")
        hits["share", "naive"] += _covered(s, truths["share"], "naive_ci_low", "naive_ci_high")
        totals["share"] += len(s)
        fit = corrected_logit(
            coded, gold, "sentiment", "negative", "condition", cluster="author", ref="general"
        )
        truth = np.where(fit["term"] == "(Intercept)", special.logit(p[0]), 0.0)
        hits["logit", "DSL"] += int(((fit["ci_low"] <= truth) & (fit["ci_high"] >= truth)).sum())
        z = 1.959963984540054 * fit["naive_std_error"]
        naive_in = (fit["naive_estimate"] - z <= truth) & (fit["naive_estimate"] + z >= truth)
        hits["logit", "naive"] += int(naive_in.sum())
        totals["logit"] += len(fit)
    names = {
        "mean": "mean sentiment by condition",
        "share": "share negative by condition",
        "logit": "logit(negative) ~ condition, all terms",
    }
    methods = {
        "naive": "naive (LLM labels as truth, cluster-robust)",
        "DSL": "DSL-corrected, cluster-robust (default with --gold)",
    }
    rows = []
    for (q, m), h in hits.items():
        low = 0.93 if m == "DSL" else np.nan
        scenario = f"{names[q]}; gold {n_gold} of 4000 (SRS)"
        rows.append(row(CHECK, scenario, methods[m], "coverage", h, totals[q], low, reps=reps))
    return pd.DataFrame(rows)
