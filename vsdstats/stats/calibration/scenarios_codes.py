"""Simulated coded units with value and perspective codes, for the PMI and log-odds
calibration checks (:mod:`vsdstats.stats.calibration.pmi`).

:func:`coded_units` follows :func:`vsdstats.stats.calibration.scenarios.clustered_units`
(authors posting at Gamma(1) rates, a share ``stick`` of an author's units in a "home"
condition, the small conditions of ``CONDITION_P``) and adds codes: each unit has a
perspective (``PERSPECTIVES``) and a value (``VALUES``) drawn from

    log w(perspective)        = base_p + u_p[author]
    log w(value | perspective) = base_v + ASSOCIATION[perspective] + u_v[author]
                                 + u_pv[author, perspective]

with author effects ``u_p, u_v ~ N(0, author_sd^2)`` and ``u_pv ~ N(0, pair_sd^2)``:
authors have their own value x perspective tendencies, the same in every condition, so
condition has no effect on the codes (a clustered null for delta-PMI and log-odds).
``effect`` adds a logit shift to the value ``VALUES[0]`` given ``PERSPECTIVES[0]`` and
to the perspective ``PERSPECTIVES[0]`` in condition ``CONDITIONS[effect_condition]``
(power).  :func:`unclustered_codes` is the textbook null: one unit per author, no
author effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vsdstats.stats.calibration.scenarios import CONDITIONS, authors_and_conditions

__all__ = ["PERSPECTIVES", "VALUES", "coded_units", "unclustered_codes"]

PERSPECTIVES = ("instrumental", "emotional", "informational", "skeptical", "ethics")
VALUES = ("welfare", "autonomy", "trust", "calmness", "privacy", "identity")
_BASE_P = np.log([0.40, 0.25, 0.18, 0.10, 0.07])
_BASE_V = np.log([0.35, 0.20, 0.15, 0.12, 0.10, 0.08])
#: the planted co-occurrences (the same in every condition)
ASSOCIATION = np.array(
    [
        [0.0, 0.8, 0.0, 0.0, 0.0, 0.3],
        [0.5, 0.0, 0.0, 0.8, 0.0, 0.0],
        [0.0, 0.0, 0.6, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.8, 0.0],
    ]
)


def _draw(rng: np.random.Generator, logw: np.ndarray) -> np.ndarray:
    p = np.exp(logw - logw.max(axis=1, keepdims=True))
    cum = p.cumsum(axis=1)
    return (cum < rng.random((len(p), 1)) * cum[:, -1:]).sum(axis=1)


def coded_units(
    rng: np.random.Generator,
    n: int = 4000,
    n_authors: int = 800,
    author_sd: float = 1.0,
    pair_sd: float = 1.0,
    stick: float = 0.75,
    effect: float = 0.0,
    effect_condition: int = 3,
) -> pd.DataFrame:
    """Units with ``unit_id, author, condition, perspective, value``."""
    author, condition = authors_and_conditions(rng, n, n_authors, stick)
    n_p, n_v = len(PERSPECTIVES), len(VALUES)
    u_p = rng.normal(0.0, author_sd, (n_authors, n_p))
    u_v = rng.normal(0.0, author_sd, (n_authors, n_v))
    u_pv = rng.normal(0.0, pair_sd, (n_authors, n_p, n_v))
    hit = condition == effect_condition
    lp = _BASE_P + u_p[author]
    lp[:, 0] += effect * hit
    persp = _draw(rng, lp)
    lv = _BASE_V + ASSOCIATION[persp] + u_v[author] + u_pv[author, persp]
    lv[:, 0] += effect * (hit & (persp == 0))
    value = _draw(rng, lv)
    return pd.DataFrame(
        {
            "unit_id": np.arange(n),
            "author": [f"a{a}" for a in author],
            "condition": np.asarray(CONDITIONS)[condition],
            "perspective": np.asarray(PERSPECTIVES)[persp],
            "value": np.asarray(VALUES)[value],
        }
    )


def unclustered_codes(rng: np.random.Generator, n: int = 4000, **kw) -> pd.DataFrame:
    """Independent units (one per author, no author tendencies): the textbook null."""
    kw = {"author_sd": 0.0, "pair_sd": 0.0, "stick": 0.0, **kw}
    units = coded_units(rng, n=n, n_authors=n, **kw)
    return units.assign(author=[f"u{i}" for i in range(n)])
