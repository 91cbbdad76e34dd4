"""Calibration by simulation: type-I error, power and coverage of vsdstats' tests and
intervals on data shaped like the study's (posts nested in authors and platforms,
labels from an LLM coder that errs).

Each check module exposes ``run(reps: int, seed: int) -> pandas.DataFrame`` with one row
per (check, scenario, method): the columns of :data:`COLUMNS`.  ``target`` is a
human-readable condition, ``low``/``high`` its numeric bounds (NaN = unbounded) and
``meets`` whether ``value`` lies within them (NaN targets are informational, e.g. the
naive method shown for comparison).  :func:`run_all` runs every registered module;
``python -m vsdstats.stats.calibration`` (``tox -e calibration``) writes the table to
``docs/calibration.md``.  The test suite runs each module with few replicates.
"""

from __future__ import annotations

import importlib
import math

import pandas as pd

__all__ = ["COLUMNS", "MODULES", "row", "run_all", "to_markdown"]

#: check modules, in the order of the table (each ``vsdstats.stats.calibration.<name>``)
MODULES = ("chisq", "means", "glmm", "pmi", "corrected")

COLUMNS = [
    "check",
    "scenario",
    "method",
    "metric",
    "value",
    "mc_se",
    "target",
    "low",
    "high",
    "meets",
    "reps",
]


def row(
    check: str,
    scenario: str,
    method: str,
    metric: str,
    hits: float,
    total: int,
    low: float = math.nan,
    high: float = math.nan,
    reps: int | None = None,
) -> dict:
    """One table row for a rate ``hits / total`` (rejection rate or coverage), with its
    binomial Monte-Carlo standard error ``sqrt(v (1 - v) / total)``.  ``reps``
    (simulated data sets) defaults to ``total``; coverage over several groups per data
    set has ``total > reps``."""
    value = hits / total if total else math.nan
    mc_se = math.sqrt(value * (1 - value) / total) if total else math.nan
    bounded = not (math.isnan(low) and math.isnan(high))
    if not bounded:
        target = ""
    elif math.isnan(high):
        target = f">= {low:g}"
    elif math.isnan(low):
        target = f"<= {high:g}"
    else:
        target = f"{low:g} to {high:g}"
    meets = (
        (math.isnan(low) or value >= low) and (math.isnan(high) or value <= high)
        if bounded
        else math.nan
    )
    return {
        "check": check,
        "scenario": scenario,
        "method": method,
        "metric": metric,
        "value": value,
        "mc_se": mc_se,
        "target": target,
        "low": low,
        "high": high,
        "meets": meets,
        "reps": total if reps is None else reps,
    }


def run_all(reps: int = 500, seed: int = 2026, only: list[str] | None = None) -> pd.DataFrame:
    """Run the registered check modules (or those in ``only``) and stack their rows."""
    frames = []
    for name in MODULES:
        if only and name not in only:
            continue
        mod = importlib.import_module(f"vsdstats.stats.calibration.{name}")
        frames.append(mod.run(reps=reps, seed=seed))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def to_markdown(table: pd.DataFrame, header: str = "") -> str:
    """The calibration table as GitHub markdown (one section per check)."""
    lines = [header.rstrip(), ""] if header else []
    for check, part in table.groupby("check", sort=False):
        lines += [f"## {check}", ""]
        lines.append("| scenario | method | metric | value (MC se) | target | meets | reps |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in part.itertuples():
            meets = "" if not r.target else ("yes" if r.meets else "**NO**")
            lines.append(
                f"| {r.scenario} | {r.method} | {r.metric} | {r.value:.3f} ({r.mc_se:.3f}) "
                f"| {r.target} | {meets} | {r.reps} |"
            )
        lines.append("")
    return "\n".join(lines)
