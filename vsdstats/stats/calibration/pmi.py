"""Calibration of the co-occurrence and distinctiveness tests: delta-PMI of value x
perspective by condition, and log-odds of perspective by condition.

Scenarios (:mod:`vsdstats.stats.calibration.scenarios_codes`): 4,000 units, 6
conditions (35% down to 4%), 5 perspectives x 6 values with planted co-occurrences
that are the same in every condition.

- clustered null: 800 authors posting at Gamma(1) rates, 75% of an author's units in a
  home condition, author effects on the perspective and value logits (SD 1.0) and on
  the value x perspective interaction (SD 1.0); no condition effect;
- unclustered null: one unit per author, no author effects;
- clustered, effect 1.0: the clustered scenario with a logit shift of 1.0 on the
  perspective ``instrumental`` and on the value ``welfare`` given ``instrumental`` in
  the condition ``stress`` (12% of units): power.

Methods: the permutation tests of :func:`vsdstats.stats.delta_pmi` and
:func:`vsdstats.stats.logodds.log_odds_permutation` with the unit permutation and with
the cluster (author) permutation, maxT-adjusted over cells (a rejection = some cell has
``p_value_adj < 0.05``), their per-cell unadjusted rate, and the naive rules (no null:
"some supported cell has |delta-PMI| > 0.5 bits", "some cell has |tidylo weighted
log-odds| > 1.96", "some cell has |MCQ zeta| > 1.96", MCQ zeta normal p Holm) as
informational rows.  Targets: the cluster-aware default holds 0.07 on the clustered
null and both permutations hold it on the unclustered null.

:func:`tidylo_null_sd` simulates the null SD of tidylo's weighted log-odds and MCQ's
zeta per condition under the study's published condition sizes (the numbers in the
docstrings of :func:`vsdstats.stats.weighted_log_odds` and ``log_odds_dirichlet``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.stats.calibration import row
from vsdstats.stats.calibration.scenarios_codes import coded_units, unclustered_codes
from vsdstats.stats.chisq import adjust_p
from vsdstats.stats.logodds import (
    log_odds_permutation,
    tidylo_from_counts,
    zeta_from_counts,
)
from vsdstats.stats.pmi import delta_pmi

ALPHA = 0.05
CHECK_PMI = "delta-PMI (value x perspective by condition)"
CHECK_LO = "log-odds distinctiveness (perspective by condition)"
_SCENARIOS = {
    "clustered null": (coded_units, {}),
    "unclustered null": (unclustered_codes, {}),
    "clustered, effect 1.0": (coded_units, {"effect": 1.0}),
    "unclustered, effect 1.0": (unclustered_codes, {"effect": 1.0}),
}
_DEFAULT_PMI = "permutation by author, maxT (default)"
_DEFAULT_LO = "MCQ zeta, permutation by author, maxT (default)"


#: the planted cells of the effect scenarios
_PMI_CELL = ("stress", "welfare", "instrumental")
_LO_CELL = ("stress", "instrumental")


def _one(
    units: pd.DataFrame, seed: int, B: int, effect: bool
) -> dict[tuple[str, str], tuple[int, int]]:
    """(check, method) -> (hits, trials) on one data set.  Null scenarios: familywise
    rejections (some cell, 1 trial) and per-cell rejections (a trial per tested cell);
    effect scenarios: the planted cell is rejected (1 trial)."""
    res: dict[tuple[str, str], tuple[int, int]] = {}
    for cl, name in (("author", _DEFAULT_PMI), (None, "unit permutation, maxT")):
        d = delta_pmi(
            units, "value", "perspective", "condition", permutations=B, seed=seed, cluster=cl
        )
        cell = name.split(",")[0] + ", per cell (unadjusted p)"
        if effect:
            hit = d.set_index(["condition", "value", "perspective"]).loc[_PMI_CELL]
            res[CHECK_PMI, name] = (int(hit["p_value_adj"] < ALPHA), 1)
            res[CHECK_PMI, cell] = (int(hit["p_value"] < ALPHA), 1)
            continue
        res[CHECK_PMI, name] = (int((d["p_value_adj"] < ALPHA).any()), 1)
        p = d["p_value"].dropna()
        res[CHECK_PMI, cell] = (int((p < ALPHA).sum()), len(p))
    dd = d.set_index(["condition", "value", "perspective"])
    sup = dd.loc[dd["supported"], "delta_pmi"]
    naive = "naive: |delta-PMI| > 0.5 bits (supported cells)"
    if effect:
        res[CHECK_PMI, naive] = (int(sup.get(_PMI_CELL, 0.0) > 0.5), 1)
    else:
        res[CHECK_PMI, naive] = (int((sup.abs() > 0.5).any()), 1)

    for cl, name in (("author", _DEFAULT_LO), (None, "MCQ zeta, unit permutation, maxT")):
        lo = log_odds_permutation(
            units, "condition", "perspective", cluster=cl, permutations=B, seed=seed
        )
        pa = lo.set_index(["condition", "perspective"])["p_value_adj"]
        res[CHECK_LO, name] = (int(pa[_LO_CELL] < ALPHA) if effect else int((pa < ALPHA).any()), 1)
    lo = lo.set_index(["condition", "perspective"])
    z = lo["zeta"]
    p_norm = pd.Series(adjust_p(2 * stats.norm.sf(np.abs(z.to_numpy())), "holm"), z.index)
    wide = lo["n"].unstack()
    wlo = pd.Series(tidylo_from_counts(wide.to_numpy()).ravel(), wide.stack().index)
    rules = {
        "naive: |MCQ zeta| > 1.96": z.abs() > 1.96,
        "MCQ zeta, normal p, Holm": p_norm < ALPHA,
        "naive: |tidylo weighted log-odds| > 1.96": wlo.abs() > 1.96,
    }
    for name, flags in rules.items():
        res[CHECK_LO, name] = (int(flags[_LO_CELL]) if effect else int(flags.any()), 1)
    return res


def _target(check: str, scenario: str, method: str, per_cell: bool) -> tuple[float, float]:
    """Targets: the permutation tests hold 0.07 on the unclustered null, the cluster
    (author) permutation also on the clustered null; power rows are informational."""
    if method.startswith("naive") or "normal p" in method or "null" not in scenario:
        return np.nan, np.nan
    if scenario == "clustered null" and "by author" not in method:
        return np.nan, np.nan
    return np.nan, 0.07


def run(reps: int = 500, seed: int = 2026, B: int = 199) -> pd.DataFrame:
    """Rejection rates over ``reps`` simulated data sets per scenario (``B``
    permutations per test)."""
    rows = []
    for k, (name, (make, kw)) in enumerate(_SCENARIOS.items()):
        effect = "effect" in name
        acc: dict[tuple[str, str], list[int]] = {}
        for i in range(reps):
            units = make(np.random.default_rng([seed, 7, k, i]), **kw)
            for key, (h, t) in _one(units, seed + i, B, effect).items():
                a = acc.setdefault(key, [0, 0])
                a[0] += h
                a[1] += t
        for (check, method), (h, t) in acc.items():
            per_cell = "per cell" in method
            if effect:
                metric = "power (planted cell" + (", unadjusted)" if per_cell else ")")
            elif per_cell:
                metric = "type-I error per cell"
            else:
                metric = "type-I error (any cell, familywise)"
            lo, hi = _target(check, name, method, per_cell)
            rows.append(row(check, name, method, metric, h, t, lo, hi, reps=reps))
    return pd.DataFrame(rows)


def tidylo_null_sd(reps: int = 400, seed: int = 1) -> pd.DataFrame:
    """Null SD of tidylo's ``log_odds_weighted`` and of MCQ's ``zeta`` (``alpha0 = 500``)
    per condition: multinomial draws with the published condition sizes and the
    corpus's perspective frequencies (no condition effect, independent units)."""
    from vsdstats.paper.simulate import CONDITION_COUNTS, perspective_base_counts

    rng = np.random.default_rng(seed)
    sizes = np.array(list(CONDITION_COUNTS.values()))
    pw = np.array(list(perspective_base_counts().values()), dtype=float)
    pw /= pw.sum()
    y = np.stack([np.stack([rng.multinomial(s, pw) for s in sizes]) for _ in range(reps)])
    tot = y.sum(axis=1).astype(float)
    alpha = 500.0 * tot / tot.sum(axis=1, keepdims=True)
    z = np.stack([zeta_from_counts(y[i], alpha[i]) for i in range(reps)])
    t = tidylo_from_counts(y)
    return pd.DataFrame(
        {
            "condition": list(CONDITION_COUNTS),
            "n": sizes,
            "tidylo_null_sd": np.nanstd(t, axis=0).mean(axis=1),
            "zeta_null_sd": np.nanstd(z, axis=0).mean(axis=1),
        }
    )
