"""Chi-square test of independence for units sampled in clusters (posts nested in
authors): the Rao-Scott second-order correction.

With ``p`` the vector of the R x C cell proportions, ``V`` its cluster-robust
(with-replacement, one-stage) covariance, ``V_srs = (diag p - p p') / N`` the
covariance under simple random sampling and ``C`` the (RC) x (R-1)(C-1) interaction
contrasts orthogonal to the main effects, the design-effect matrix is::

    Delta = (C' D^-1 C / N)^-1  (C' D^-1 V D^-1 C),      D = diag(p)

and with Pearson's X2 on the counts,

    F = X2 / tr(Delta),   df1 = tr(Delta)^2 / tr(Delta^2),   df2 = df1 * (K - 1)

for K clusters; ``p_value = P(F(df1, df2) > F)``.  This equals R
``survey::svychisq(~row + col, svydesign(ids = ~cluster, data = units))`` (its default
``statistic = "F"``; Rao & Scott 1984, Thomas & Rao 1987).  ``mean_deff`` =
tr(Delta) / ((R-1)(C-1)), the mean generalized design effect; 1 for independent units.

``V`` is ``K/(K-1) * sum_k z_k z_k'`` with ``z_k = sum_{i in k} (x_i - p) / N``, x_i the
cell indicator of unit i (survey's default for ``ids = ~cluster`` without weights or
finite-population correction).

Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway contingency
tables with cell proportions estimated from survey data. *Annals of Statistics* 12(1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.errors import InputError
from vsdstats.stats.chisq import chisq_independence
from vsdstats.stats.crosstab import crosstab

__all__ = ["chisq_clustered"]


def _contrasts(r: int, c: int) -> np.ndarray:
    """Interaction columns of ``~ row * col`` made orthogonal to ``~ row + col``
    (cells ordered with the row varying fastest, as R's expand.grid / interaction)."""
    rows = np.tile(np.arange(r), c)
    cols = np.repeat(np.arange(c), r)
    main = np.column_stack(
        [np.ones(r * c)]
        + [(rows == i).astype(float) for i in range(1, r)]
        + [(cols == j).astype(float) for j in range(1, c)]
    )
    inter = np.column_stack(
        [((rows == i) & (cols == j)).astype(float) for j in range(1, c) for i in range(1, r)]
    )
    q, _ = np.linalg.qr(main)
    return inter - q @ (q.T @ inter)


def chisq_clustered(
    units: pd.DataFrame, row: str, col: str, cluster: str, method: str = "rao-scott"
) -> pd.DataFrame:
    """Rao-Scott corrected chi-square test of ``row`` x ``col`` with units clustered in
    ``cluster`` (module docstring for the formula), as a one-row tidy DataFrame:
    ``statistic`` (F), ``df1``, ``df2``, ``p_value``, ``log_p_value``, ``mean_deff``,
    ``n``, ``n_clusters``, and the naive Pearson test alongside (``pearson_statistic``,
    ``pearson_dof``, ``pearson_p_value``).  Rows missing ``row``, ``col`` or ``cluster``
    are dropped and counted in ``n_dropped_missing``.
    """
    if method != "rao-scott":
        raise InputError(f"method {method!r} is not available; use 'rao-scott'")
    missing = [c for c in (row, col, cluster) if c not in units.columns]
    if missing:
        raise InputError(f"no column(s) {', '.join(missing)}")
    keep = units[[row, col, cluster]].notna().all(axis=1)
    df = units.loc[keep, [row, col, cluster]]
    n = len(df)
    table = crosstab(df, row, col)
    r, c = table.shape
    k = df[cluster].nunique()
    if r < 2 or c < 2:
        raise InputError(f"{row} x {col}: need at least 2 levels of each (have {r} x {c})")
    if k < 2:
        raise InputError(f"{cluster}: need at least 2 clusters (have {k})")

    ri = pd.Categorical(df[row], categories=table.index).codes
    ci = pd.Categorical(df[col], categories=table.columns).codes
    cell = ri + r * ci  # row varies fastest
    x = np.zeros((n, r * c))
    x[np.arange(n), cell] = 1.0
    p = x.mean(axis=0)
    codes = pd.factorize(df[cluster])[0]
    z = np.zeros((k, r * c))
    np.add.at(z, codes, (x - p) / n)
    v = k / (k - 1) * (z.T @ z)

    cm = _contrasts(r, c)
    inv_p = np.divide(1.0, p, out=np.zeros_like(p), where=p > 0)
    denom = cm.T @ (cm * (inv_p / n)[:, None])
    numer = (cm * inv_p[:, None]).T @ v @ (cm * inv_p[:, None])
    delta = np.linalg.solve(denom, numer)
    tr = float(np.trace(delta))
    df1 = tr**2 / float(np.trace(delta @ delta))
    df2 = df1 * (k - 1)

    naive = chisq_independence(table)
    f = naive.statistic / tr
    return pd.DataFrame(
        {
            "method": ["Rao-Scott second-order (F)"],
            "statistic": [f],
            "df1": [df1],
            "df2": [df2],
            "p_value": [float(stats.f.sf(f, df1, df2))],
            "log_p_value": [float(stats.f.logsf(f, df1, df2))],
            "mean_deff": [tr / ((r - 1) * (c - 1))],
            "n": [n],
            "n_clusters": [k],
            "n_dropped_missing": [int((~keep).sum())],
            "pearson_statistic": [naive.statistic],
            "pearson_dof": [naive.dof],
            "pearson_p_value": [naive.p_value],
        }
    )
