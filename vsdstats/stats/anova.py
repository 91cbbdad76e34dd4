"""Welch's one-way ANOVA and Games-Howell pairwise tests, as tidy DataFrames.

The original study compared mean sentiment across LLM families this way (with
pingouin, which the tests use as the reference; it is not a runtime dependency).
Both treat units as independent.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats


def _groups(df: pd.DataFrame, dv: str, between: str) -> list[tuple[str, np.ndarray]]:
    d = df[[between, dv]].dropna()
    order = list(dict.fromkeys(d[between].astype(str)))
    y = d[dv].to_numpy(dtype=float)
    g = d[between].astype(str).to_numpy()
    return [(name, y[g == name]) for name in order]


def welch_anova(df: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Welch's heteroscedastic one-way ANOVA of ``dv`` across the groups of ``between``.

    With group sizes n_j, means m_j, variances s_j^2 and weights w_j = n_j / s_j^2,
    m' = sum w_j m_j / sum w_j and L = sum (1 - w_j / sum w)^2 / (n_j - 1) (Welch 1951):
    F = [sum w_j (m_j - m')^2 / (k - 1)] / [1 + 2 (k - 2) L / (k^2 - 1)] on
    df1 = k - 1 and df2 = (k^2 - 1) / (3 L).  ``np2`` is eta squared, SS_between /
    SS_total (pingouin's ``np2``).  One row: ``k, n, F, df1, df2, p_value, np2``.

    Welch, B. L. (1951). On the comparison of several mean values: an alternative
    approach. *Biometrika* 38, 330-336.
    """
    from statsmodels.stats.oneway import anova_oneway

    groups = _groups(df, dv, between)
    if len(groups) < 2 or any(len(y) < 2 for _, y in groups):
        raise ValueError(f"{between}: Welch's ANOVA needs two or more groups of 2+ units")
    ys = [y for _, y in groups]
    res = anova_oneway(ys, use_var="unequal", welch_correction=True)
    allv = np.concatenate(ys)
    ss_bet = sum(len(y) * (y.mean() - allv.mean()) ** 2 for y in ys)
    ss_tot = float(((allv - allv.mean()) ** 2).sum())
    return pd.DataFrame(
        {
            "k": [len(ys)],
            "n": [len(allv)],
            "F": [float(res.statistic)],
            "df1": [float(res.df[0])],
            "df2": [float(res.df[1])],
            "p_value": [float(res.pvalue)],
            "np2": [ss_bet / ss_tot if ss_tot > 0 else math.nan],
        }
    )


def games_howell(df: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Games-Howell pairwise comparisons of ``dv`` between the groups of ``between``
    (in order of first appearance), one row per pair A, B.

    t = (m_A - m_B) / se with se = sqrt(s_A^2 / n_A + s_B^2 / n_B), Welch-Satterthwaite
    df = se^4 / [(s_A^2/n_A)^2 / (n_A - 1) + (s_B^2/n_B)^2 / (n_B - 1)], and p from
    the studentized range of k means, P(Q_{k,df} > sqrt(2) |t|) (Games & Howell 1976),
    which controls the familywise error over all pairs.  ``hedges``: Hedges' g with the
    pooled SD, d (1 - 3 / (4 (n_A + n_B) - 9)).  Columns: ``A, B, mean_A, mean_B, diff,
    se, t, df, p_value, hedges``.

    Games, P. A. & Howell, J. F. (1976). Pairwise multiple comparison procedures with
    unequal n's and/or variances. *Journal of Educational Statistics* 1(2), 113-125.
    """
    groups = _groups(df, dv, between)
    k = len(groups)
    rows = []
    for (a, ya), (b, yb) in itertools.combinations(groups, 2):
        va, vb = ya.var(ddof=1) / len(ya), yb.var(ddof=1) / len(yb)
        se = math.sqrt(va + vb)
        diff = float(ya.mean() - yb.mean())
        t = diff / se if se > 0 else math.nan
        dof = (va + vb) ** 2 / (va**2 / (len(ya) - 1) + vb**2 / (len(yb) - 1))
        p = float(stats.studentized_range.sf(math.sqrt(2) * abs(t), k, dof))
        na, nb = len(ya), len(yb)
        pooled = math.sqrt(((na - 1) * ya.var(ddof=1) + (nb - 1) * yb.var(ddof=1)) / (na + nb - 2))
        g = diff / pooled * (1 - 3 / (4 * (na + nb) - 9)) if pooled > 0 else math.nan
        rows.append((a, b, float(ya.mean()), float(yb.mean()), diff, se, t, dof, p, g))
    cols = ["A", "B", "mean_A", "mean_B", "diff", "se", "t", "df", "p_value", "hedges"]
    return pd.DataFrame(rows, columns=cols)
