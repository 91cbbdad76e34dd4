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

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.errors import InputError
from vsdstats.stats._resample import cluster_weights
from vsdstats.stats.chisq import _P_ADJUST, adjust_p, chisq_independence
from vsdstats.stats.crosstab import crosstab

__all__ = ["cell_tests_clustered", "chisq_clustered"]


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


def _prepare(units: pd.DataFrame, row: str, col: str, cluster: str):
    missing = [c for c in (row, col, cluster) if c not in units.columns]
    if missing:
        raise InputError(f"no column(s) {', '.join(missing)}")
    keep = units[[row, col, cluster]].notna().all(axis=1)
    df = units.loc[keep, [row, col, cluster]]
    table = crosstab(df, row, col)
    r, c = table.shape
    k = df[cluster].nunique()
    if r < 2 or c < 2:
        raise InputError(f"{row} x {col}: need at least 2 levels of each (have {r} x {c})")
    if k < 2:
        raise InputError(f"{cluster}: need at least 2 clusters (have {k})")
    # int64: Categorical codes are int8 for < 128 levels, and r * ci overflows int8 as
    # soon as r * (c - 1) > 127 (an 11 x 13 table)
    ri = pd.Categorical(df[row], categories=table.index).codes.astype(np.int64)
    ci = pd.Categorical(df[col], categories=table.columns).codes.astype(np.int64)
    codes = pd.factorize(df[cluster])[0]
    return df, table, ri, ci, codes, k, int((~keep).sum())


def cell_tests_clustered(
    units: pd.DataFrame,
    row: str,
    col: str,
    cluster: str,
    method: str = "holm",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per-cell tests of ``row`` x ``col`` that allow for units nested in ``cluster``.

    For cell (i, j) the departure from independence ``theta = p_ij - p_i. p_.j`` (``N
    theta = O - E``) is linearized: unit u contributes
    ``h_u = (x_uij - p_ij) - p_.j (x_ui. - p_i.) - p_i. (x_u.j - p_.j)``, and
    ``se^2 = K/(K-1) sum_k (sum_{u in k} h_u / N)^2`` over the K clusters.  ``z = theta /
    se`` is the cluster-robust adjusted residual (for independent units it tends to the
    usual adjusted residual ``(O - E) / sqrt(E (1 - p_i.)(1 - p_.j))``, kept alongside as
    ``adjusted_residual``); ``deff`` = (adjusted_residual / z)^2.  Two-sided normal
    p-values, adjusted across the cells by ``method`` (holm, fdr_bh, bonferroni, none).
    """
    if method not in _P_ADJUST:
        raise InputError(f"method {method!r}: use one of {', '.join(_P_ADJUST)}")
    df, table, ri, ci, codes, k, _ = _prepare(units, row, col, cluster)
    n = len(df)
    r, c = table.shape
    pr = np.bincount(ri, minlength=r) / n
    pc = np.bincount(ci, minlength=c) / n
    with warnings.catch_warnings():  # the naive test is a by-product here
        warnings.simplefilter("ignore")
        naive = chisq_independence(table, simulate=False)
    xr = np.eye(r)[ri] - pr  # n x r, centred row indicators
    xc = np.eye(c)[ci] - pc  # n x c
    ii, jj = np.repeat(np.arange(r), c), np.tile(np.arange(c), r)  # cells, row-major
    xij = ((ri[:, None] == ii) & (ci[:, None] == jj)).astype(float)
    pij = xij.mean(axis=0)
    h = (xij - pij) - xr[:, ii] * pc[jj] - xc[:, jj] * pr[ii]
    t = np.zeros((k, r * c))
    np.add.at(t, codes, h / n)
    se = np.sqrt(k / (k - 1) * np.sum(t**2, axis=0))
    rows = list(zip(ii, jj, pij - pr[ii] * pc[jj], se, strict=True))
    out = pd.DataFrame(rows, columns=["i", "j", "theta", "se"])
    out["row"] = [table.index[i] for i in out["i"]]
    out["col"] = [table.columns[j] for j in out["j"]]
    out["observed"] = [int(table.iat[i, j]) for i, j in zip(out["i"], out["j"], strict=True)]
    out["expected"] = n * pr[out["i"]] * pc[out["j"]]
    adj = naive.adjusted_residuals.to_numpy()
    out["adjusted_residual"] = [adj[i, j] for i, j in zip(out["i"], out["j"], strict=True)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = out["theta"] / out["se"]
        out["deff"] = (out["adjusted_residual"] / out["z"]) ** 2
    p = 2.0 * stats.norm.sf(np.abs(out["z"].to_numpy()))
    p_adj = adjust_p(p, method)
    out["p_value"] = p
    out["p_value_adj"] = np.minimum(p_adj, 1.0)
    out["significant"] = out["p_value_adj"] < alpha
    cols = ["row", "col", "observed", "expected", "adjusted_residual", "z", "deff"]
    return out[[*cols, "p_value", "p_value_adj", "significant"]]


def _cell_counts(ri, ci, codes, k: int, r: int, c: int) -> np.ndarray:
    """K x (R C) counts of each cluster's units per cell (row varying fastest)."""
    cell = codes * (r * c) + ri + r * ci
    return np.bincount(cell, minlength=k * r * c).reshape(k, r * c).astype(np.float64)


def _bootstrap_p(
    counts: np.ndarray, r: int, c: int, x2: float, b: int, seed: int
) -> tuple[float, int]:
    """Cluster-bootstrap p-value of Pearson's X2 (see :func:`chisq_clustered`)."""
    k = counts.shape[0]
    n = counts.sum()
    p = counts.sum(axis=0) / n
    pm = p.reshape(c, r).T  # r x c
    pr, pc = pm.sum(axis=1), pm.sum(axis=0)
    d_hat = pm - np.outer(pr, pc)
    e = np.outer(pr, pc)
    exceed = 0
    for w in cluster_weights(k, b, seed):
        m = len(w)
        cb = w @ counts
        pb = (cb / cb.sum(axis=1, keepdims=True)).reshape(m, c, r).transpose(0, 2, 1)
        db = pb - pb.sum(axis=2)[:, :, None] * pb.sum(axis=1)[:, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = n * np.nansum((db - d_hat) ** 2 / e, axis=(1, 2))
        exceed += int(np.sum(t >= x2))
    return (1 + exceed) / (b + 1), exceed


def chisq_clustered(
    units: pd.DataFrame,
    row: str,
    col: str,
    cluster: str,
    method: str = "rao-scott",
    B: int = 2000,
    seed: int = 2026,
) -> pd.DataFrame:
    """Chi-square test of ``row`` x ``col`` with units clustered in ``cluster``, as a
    one-row tidy DataFrame.

    ``method="rao-scott"`` (default): the Rao-Scott second-order F test (module
    docstring), ``statistic`` = F on ``df1``, ``df2``.  ``method="bootstrap"``: a check
    by the cluster bootstrap: with ``d = p_ij - p_i. p_.j`` the departure from
    independence (Pearson's ``X2 = N sum d^2 / (p_i. p_.j)``), whole clusters are
    resampled ``B`` times (seeded by ``seed``) and the null distribution of X2 is that of
    ``N sum (d* - d)^2 / (p_i. p_.j)``, the bootstrap departures centred on the
    observed one (so the null is imposed; Hall & Wilson 1991); ``p_value = (1 + #{X2*
    >= X2}) / (B + 1)`` and ``statistic`` = X2 (``df1`` its df, ``df2`` NaN).

    Columns: ``method``, ``statistic``, ``df1``, ``df2``, ``p_value``, ``log_p_value``
    (finite where ``p_value`` underflows), ``mean_deff`` (Rao-Scott, both methods),
    ``n``, ``n_clusters``, ``n_dropped_missing`` (rows missing ``row``, ``col`` or
    ``cluster``), ``B`` and ``seed`` (bootstrap; NaN otherwise), and the naive Pearson
    test alongside (``pearson_statistic``, ``pearson_dof``, ``pearson_p_value``);
    ``note`` says when empty cells made the design-effect matrix singular (R's svychisq
    then stops; here the generalized inverse is used) and is "" otherwise.

    Hall, P. & Wilson, S. R. (1991). Two guidelines for bootstrap hypothesis testing.
    *Biometrics* 47(2), 757-762.
    """
    if method not in ("rao-scott", "bootstrap"):
        raise InputError(f"method {method!r}: use 'rao-scott' or 'bootstrap'")
    df, table, ri, ci, codes, k, dropped = _prepare(units, row, col, cluster)
    n = len(df)
    r, c = table.shape
    counts = _cell_counts(ri, ci, codes, k, r, c)
    p = counts.sum(axis=0) / n
    z = counts / n - np.outer(counts.sum(axis=1), p) / n  # per cluster: sum_i (x_i - p) / N
    v = k / (k - 1) * (z.T @ z)

    cm = _contrasts(r, c)
    inv_p = np.divide(1.0, p, out=np.zeros_like(p), where=p > 0)
    denom = cm.T @ (cm * (inv_p / n)[:, None])
    numer = (cm * inv_p[:, None]).T @ v @ (cm * inv_p[:, None])
    note = ""
    try:
        delta = np.linalg.solve(denom, numer)
    except np.linalg.LinAlgError:
        # a cell with no units (p_ij = 0 drops out of D^-1, as in R's svychisq, which
        # stops here with "system is exactly singular"): the design effects are those
        # of the contrasts the observed cells identify (Moore-Penrose inverse)
        delta = np.linalg.pinv(denom) @ numer
        note = "empty cells: design effects from a generalized inverse (R svychisq stops)"
    tr = float(np.trace(delta))

    with warnings.catch_warnings():  # the naive test is a by-product here
        warnings.simplefilter("ignore")
        naive = chisq_independence(table, simulate=False)
    if method == "rao-scott":
        df1 = tr**2 / float(np.trace(delta @ delta))
        df2 = df1 * (k - 1)
        f = naive.statistic / tr
        head = {
            "method": "Rao-Scott second-order (F)",
            "statistic": f,
            "df1": df1,
            "df2": df2,
            "p_value": float(stats.f.sf(f, df1, df2)),
            "log_p_value": float(stats.f.logsf(f, df1, df2)),
            "B": np.nan,
            "seed": np.nan,
        }
    else:
        pv, _ = _bootstrap_p(counts, r, c, naive.statistic, B, seed)
        head = {
            "method": "cluster bootstrap of Pearson's X2",
            "statistic": naive.statistic,
            "df1": float(naive.dof),
            "df2": np.nan,
            "p_value": pv,
            "log_p_value": float(np.log(pv)),
            "B": B,
            "seed": seed,
        }
    cols = {
        **head,
        "mean_deff": tr / ((r - 1) * (c - 1)),
        "n": n,
        "n_clusters": k,
        "n_dropped_missing": dropped,
        "pearson_statistic": naive.statistic,
        "pearson_dof": naive.dof,
        "pearson_p_value": naive.p_value,
        "note": note,
    }
    order = ["method", "statistic", "df1", "df2", "p_value", "log_p_value", "mean_deff"]
    order += ["n", "n_clusters", "n_dropped_missing", "B", "seed"]
    order += ["pearson_statistic", "pearson_dof", "pearson_p_value", "note"]
    return pd.DataFrame({key: [cols[key]] for key in order})
