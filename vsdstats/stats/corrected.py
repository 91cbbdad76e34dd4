"""Estimates corrected for the LLM coder's errors with a human-coded gold sample:
design-based supervised learning (DSL; Egami, Hinck, Stewart & Wei 2023).

Every unit ``i`` of the study has the LLM's label ``Yhat_i``; a random subsample
(``R_i = 1``, inclusion probability ``pi_i``) also has a human label ``Y_i``.  For any
quantity defined by a moment ``E[m(Y; theta)] = 0`` DSL replaces ``m(Y_i)`` by the
pseudo-moment

    m~_i = m(Yhat_i) + (R_i / pi_i) (m(Y_i) - m(Yhat_i)),

whose expectation equals ``E[m(Y)]`` whatever the LLM's error (the gold sample is a
known-probability sample, so the second term corrects the bias of the first on
average).  With simple random gold samples (``pi = n / N``) and every unit's
prediction used, the point estimates are those of prediction-powered inference with
``lam = 1`` (Angelopoulos et al. 2023; ``ppi_py.ppi_mean_pointestimate``).

- shares and means by group (:func:`corrected_proportions`, :func:`corrected_means`):
  the ratio ``theta_d = sum_i Z~_i / sum_i D~_i`` with ``Z = 1{G = d} y`` (``y`` the
  category indicator or the score) and ``D = 1{G = d}``; when the gold file also codes
  the grouping column, group membership is corrected too, otherwise the LLM's groups are
  used as they are.  Variance by linearization, ``u_i = (Z~_i - theta D~_i) / sum D~``,
  ``se^2 = K / (K - 1) sum_k (sum_{i in k} u_i)^2`` over clusters ``k`` (each unit its own
  cluster without ``cluster``).  Intervals are Wald intervals on the logit scale of the
  estimand's range (:func:`_interval`; R ``svyciprop(method = "logit")``) with the
  quantile of ``t_{G - 1}``, ``G`` the distinct clusters (units without ``cluster``)
  among the group's gold units: the correction's variance is estimated from those few,
  and the normal quantile undercovers when they are few (a condition with 16 gold units in the
  scenario of ``calibration/corrected.py``: coverage 0.913 with ``z``, 0.947 with
  ``t_{G-1}``, over 150 simulated data sets).
- logistic regression of an outcome category on a factor (:func:`corrected_logit`): the
  root of ``sum_i m~_i(beta) = 0`` with ``m = x (y - expit(x' beta))``, by Newton's
  method, and the sandwich ``J^-1 B J^-T`` (``B`` summed over clusters); Wald intervals
  and p-values with ``t_{G - 1}``, ``G`` the gold clusters of the smaller of the two
  levels a term compares (the reference level for the intercept).

The naive estimate (the LLM's labels taken as truth) is returned alongside.

Egami, N., Hinck, M., Stewart, B. M., Wei, H. (2023). Using imperfect surrogates for
downstream inference: design-based supervised learning for social science applications
of large language models. *NeurIPS 36*.
Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I., Zrnic, T. (2023).
Prediction-powered inference. *Science* 382(6671), 669-674.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from vsdstats.errors import InputError
from vsdstats.stats.scores import _as_score, _constant_interval

__all__ = ["MIN_GOLD", "corrected_logit", "corrected_means", "corrected_proportions"]

#: a group with fewer gold units than this is flagged ``"few gold"`` (its se rests on a
#: handful of human labels); with none, ``"no gold"`` and NaN se and interval
MIN_GOLD = 10


@dataclass
class _Joined:
    """Units with their gold labels: R (in the gold sample), pi, and per column the
    LLM's values and the human ones (the LLM's where the unit is not in the gold)."""

    units: pd.DataFrame
    r: np.ndarray
    pi: np.ndarray
    clusters: np.ndarray
    n_gold: int
    clustered: str | None = None

    def human(self, col: str) -> pd.Series:
        h = f"{col}__gold"
        if h not in self.units.columns:
            return self.units[col]
        return self.units[h].where(self.r.astype(bool), self.units[col])

    def has_gold(self, col: str) -> bool:
        return f"{col}__gold" in self.units.columns


def _join(
    units: pd.DataFrame,
    gold: pd.DataFrame,
    on: str | Sequence[str],
    needed: list[str],
    cluster: str | None,
    pi: str,
) -> _Joined:
    """Join the gold labels onto the units (errors name the column and an example)."""
    keys = [on] if isinstance(on, str) else list(on)
    for name, frame, cols in (("units", units, [*keys, *needed]), ("gold", gold, keys)):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InputError(f"{name}: no column(s) {', '.join(missing)}")
    if cluster is not None and cluster not in units.columns:
        raise InputError(f"units: no column {cluster}")
    label = needed[-1]
    if label not in gold.columns:
        raise InputError(f"gold: no column {label} (the human label to correct with)")
    if units.duplicated(keys).any():
        raise InputError(
            f"units: {'+'.join(keys)} is not unique; join on more columns (e.g. "
            "on=['post_id', 'unit_index'])"
        )
    g = gold.dropna(subset=[label])
    if g.duplicated(keys).any():
        raise InputError(f"gold: {'+'.join(keys)} is not unique")
    u = units.dropna(subset=needed).copy()
    for k in keys:
        u[k] = u[k].astype(str)
    g = g.assign(**{k: g[k].astype(str) for k in keys})
    known = set(map(tuple, u[keys].to_numpy()))
    absent = [t for t in map(tuple, g[keys].to_numpy()) if t not in known]
    if absent:
        raise InputError(
            f"gold: {len(absent)} row(s) match no unit with {', '.join(needed)} "
            f"(first: {'/'.join(absent[0])}); the gold sample must be drawn from the units"
        )
    gcols = [c for c in needed if c in g.columns]
    if pi in g.columns:
        gcols.append(pi)
    g = g[keys + gcols].rename(columns={c: f"{c}__gold" for c in gcols})
    u = u.merge(g, on=keys, how="left", validate="one_to_one")
    r = u[f"{label}__gold"].notna().to_numpy(dtype=np.float64)
    n_gold = int(r.sum())
    if n_gold < 2:
        raise InputError(f"gold: {n_gold} labelled unit(s) match the units; need at least 2")
    pcol = f"{pi}__gold"
    if pcol in u.columns:
        p = pd.to_numeric(u[pcol], errors="coerce").to_numpy(dtype=np.float64)
        bad = (r == 1) & ~((p > 0) & (p <= 1))
        if bad.any():
            raise InputError(f"gold: column {pi}: inclusion probabilities must be in (0, 1]")
        p = np.where(r == 1, p, 1.0)
    else:
        p = np.full(len(u), n_gold / len(u))
    codes = (
        pd.factorize(u[cluster])[0] if cluster is not None else np.arange(len(u), dtype=np.int64)
    )
    if cluster is not None and (codes < 0).any():
        u, r, p = u[codes >= 0], r[codes >= 0], p[codes >= 0]
        codes = codes[codes >= 0]
    if codes.max(initial=-1) < 1:
        what = f"{cluster}: clusters" if cluster is not None else "units"
        raise InputError(f"{what}: need at least 2 (have {codes.max(initial=-1) + 1})")
    return _Joined(u.reset_index(drop=True), r, p, codes, n_gold, cluster)


def _pseudo(hat: np.ndarray, true: np.ndarray, r: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """DSL pseudo-values ``hat + R / pi (true - hat)`` (columns: one per quantity)."""
    w = (r / pi)[:, None]
    return hat + w * (np.nan_to_num(true) - hat)


def _ratio(z: np.ndarray, d: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio estimates sum z / sum d per column and their cluster-robust se."""
    k = int(clusters.max()) + 1
    sd = d.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = z.sum(axis=0) / sd
        u = (z - theta * d) / sd
    t = np.zeros((k, z.shape[1]))
    np.add.at(t, clusters, np.nan_to_num(u))
    return theta, np.sqrt(k / (k - 1) * np.sum(t**2, axis=0))


def _interval(theta, se, conf, lo, hi, df=None):
    """Interval for ``theta`` (se ``se``) inside [lo, hi]; ``q`` the normal quantile,
    or Student's t with ``df`` degrees of freedom (the gold clusters behind the
    correction, minus 1).  With finite bounds and ``theta`` strictly inside, the Wald
    interval of ``logit((theta - lo) / (hi - lo))`` (se by the delta method,
    ``se / ((theta - lo)(hi - theta) / (hi - lo))``) mapped back, as R
    ``survey::svyciprop(method = "logit")``; otherwise ``theta +- q se`` clipped."""
    if df is None:
        q = stats.norm.ppf(0.5 + conf / 2)
    else:
        with np.errstate(invalid="ignore"):
            q = stats.t.ppf(0.5 + conf / 2, np.where(df >= 1, df, np.nan))
    low, high = np.clip(theta - q * se, lo, hi), np.clip(theta + q * se, lo, hi)
    if np.isfinite(lo) and np.isfinite(hi):
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (theta > lo) & (theta < hi)
            x = (theta - lo) / (hi - lo)
            half = q * se / (hi - lo) / (x * (1 - x))
            eta = special.logit(x)
            tl = lo + (hi - lo) * special.expit(eta - half)
            th = lo + (hi - lo) * special.expit(eta + half)
        low, high = np.where(inside, tl, low), np.where(inside, th, high)
    return low, high


def _gold_clusters(j: _Joined, member: np.ndarray) -> np.ndarray:
    """Distinct clusters among the gold units of each column of the 0/1 ``member``."""
    k = int(j.clusters.max()) + 1
    t = np.zeros((k, member.shape[1]))
    np.add.at(t, j.clusters, member * j.r[:, None])
    return (t > 0).sum(axis=0)


def _group_estimates(
    j: _Joined,
    by: str,
    groups: np.ndarray,
    values: dict[str, tuple[np.ndarray, np.ndarray]],
    conf: float,
    bounds: tuple[float, float],
    what: str,
) -> pd.DataFrame:
    """One row per (group, quantity): corrected and naive ratio estimates."""
    g_hat = j.units[by].astype(str).to_numpy()
    g_true = j.human(by).astype(str).to_numpy()
    rows = []
    method = "DSL" if j.clustered is None else f"DSL, cluster-robust ({j.clustered})"
    for name, (y_hat, y_true) in values.items():
        dh = (g_hat[:, None] == groups).astype(np.float64)
        dt = (g_true[:, None] == groups).astype(np.float64)
        zt = _pseudo(dh * y_hat[:, None], dt * y_true[:, None], j.r, j.pi)
        dd = _pseudo(dh, dt, j.r, j.pi)
        est, se = _ratio(zt, dd, j.clusters)
        naive, naive_se = _ratio(dh * y_hat[:, None], dh, j.clusters)
        lo, hi = _interval(est, se, conf, *bounds, df=_gold_clusters(j, dt) - 1)
        nlo, nhi = _interval(naive, naive_se, conf, *bounds)
        n = dh.sum(axis=0).astype(np.int64)
        n_gold = (dt * j.r[:, None]).sum(axis=0).astype(np.int64)
        no_gold = n_gold == 0
        # every label of the group equal, in the LLM's codes and the gold: the Wald
        # interval has zero width; use the exact bound on the share of other values
        # with the group's gold units as the draws (as scores._constant_interval)
        constant = (se == 0) & ~no_gold & np.isfinite(est)
        if constant.any():
            clo, chi = _constant_interval(est[constant], n_gold[constant], conf, *bounds)
            lo, hi = lo.copy(), hi.copy()
            lo[constant], hi[constant] = clo, chi
        se, lo, hi = (np.where(no_gold, np.nan, a) for a in (se, lo, hi))
        flags = np.where(n_gold < MIN_GOLD, "few gold", "")
        flags = np.where(constant, "constant", np.where(no_gold, "no gold", flags))
        for i, grp in enumerate(groups):
            rows.append(
                {
                    by: grp,
                    what: name,
                    "n": n[i],
                    "n_gold": n_gold[i],
                    "estimate": est[i],
                    "se": se[i],
                    "ci_low": lo[i],
                    "ci_high": hi[i],
                    "naive": naive[i],
                    "naive_se": naive_se[i],
                    "naive_ci_low": nlo[i],
                    "naive_ci_high": nhi[i],
                    "method": method,
                    "flag": flags[i],
                }
            )
    out = pd.DataFrame(rows)
    if what == "_mean":
        out = out.drop(columns=[what])
    return out


def corrected_proportions(
    units: pd.DataFrame,
    gold: pd.DataFrame,
    by: str,
    label: str,
    on: str | Sequence[str] = "post_id",
    cluster: str | None = None,
    conf: float = 0.95,
    pi: str = "pi",
) -> pd.DataFrame:
    """Share of each category of ``label`` within each group of ``by``, corrected with
    the human labels of ``gold`` by DSL (module docstring for the formulas).

    ``units``: one row per unit with the LLM's ``label`` and ``by``; ``gold``: the human
    ``label`` (and, if coded, ``by``) of a random subsample, joined on ``on``; a column
    ``pi`` gives each gold unit's inclusion probability (default: a simple random
    sample, ``n_gold / N``).  ``cluster`` (e.g. ``"author"``): cluster-robust se.

    Returns one row per (group, category): ``by, label, n, n_gold, estimate, se,
    ci_low, ci_high`` (corrected; intervals inside [0, 1]), ``naive, naive_se,
    naive_ci_low, naive_ci_high`` (the LLM's labels as truth), ``method`` and ``flag``
    (``"few gold"`` below :data:`MIN_GOLD` gold units in the group; ``"no gold"``: NaN
    se and interval, nothing in the gold sample speaks for the group).
    """
    j = _join(units, gold, on, [by, label], cluster, pi)
    cats = sorted(set(j.units[label].astype(str)) | set(j.human(label).astype(str)))
    yh, yt = j.units[label].astype(str).to_numpy(), j.human(label).astype(str).to_numpy()
    values = {c: ((yh == c).astype(float), (yt == c).astype(float)) for c in cats}
    groups = np.array(sorted(set(j.units[by].astype(str)) | set(j.human(by).astype(str))))
    out = _group_estimates(j, by, groups, values, conf, (0.0, 1.0), label)
    return out.sort_values([by, label], kind="stable").reset_index(drop=True)


def corrected_means(
    units: pd.DataFrame,
    gold: pd.DataFrame,
    by: str | Sequence[str],
    score: str,
    on: str | Sequence[str] = "post_id",
    cluster: str | None = None,
    conf: float = 0.95,
    pi: str = "pi",
    bounds: tuple[float, float] = (-1.0, 1.0),
) -> pd.DataFrame:
    """Mean score (sentiment labels become +1/0/-1) per group of ``by``, corrected with
    the human scores of ``gold`` by DSL; the columns of :func:`corrected_proportions`
    without the category column, intervals inside ``bounds``."""
    if not isinstance(by, str):
        if len(by) != 1:
            raise InputError("corrected means: one grouping column")
        by = by[0]
    units = units.assign(**{score: _as_score(units[score])}) if score in units else units
    gold = gold.assign(**{score: _as_score(gold[score])}) if score in gold else gold
    j = _join(units, gold, on, [by, score], cluster, pi)
    yh = j.units[score].to_numpy(dtype=np.float64)
    yt = j.human(score).to_numpy(dtype=np.float64)
    groups = np.array(sorted(set(j.units[by].astype(str)) | set(j.human(by).astype(str))))
    return _group_estimates(j, by, groups, {"mean": (yh, yt)}, conf, bounds, "_mean")


def _design(levels: Sequence[str], values: np.ndarray) -> np.ndarray:
    x = np.zeros((len(values), len(levels)))
    x[:, 0] = 1.0
    for i, lev in enumerate(levels[1:], start=1):
        x[:, i] = values == lev
    return x


def _solve_logit(xh, yh, xt, yt, r, pi, clusters, iters: int = 50):
    """Root of the DSL logistic estimating equations and its sandwich covariance."""
    w = r / pi
    beta = np.zeros(xh.shape[1])
    for _ in range(iters):
        ph, pt = special.expit(xh @ beta), special.expit(xt @ beta)
        score = xh.T @ (yh - ph) + (xt * w[:, None]).T @ (yt - pt) - (xh * w[:, None]).T @ (yh - ph)
        jac = (xh * (ph * (1 - ph))[:, None]).T @ xh
        jac += (xt * (w * pt * (1 - pt))[:, None]).T @ xt
        jac -= (xh * (w * ph * (1 - ph))[:, None]).T @ xh
        step = np.linalg.solve(jac, score)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    ph, pt = special.expit(xh @ beta), special.expit(xt @ beta)
    m = xh * (yh - ph)[:, None] + w[:, None] * (xt * (yt - pt)[:, None] - xh * (yh - ph)[:, None])
    k = int(clusters.max()) + 1
    s = np.zeros((k, xh.shape[1]))
    np.add.at(s, clusters, m)
    b = k / (k - 1) * (s.T @ s)
    jinv = np.linalg.inv(jac)
    return beta, jinv @ b @ jinv.T


def corrected_logit(
    units: pd.DataFrame,
    gold: pd.DataFrame,
    outcome: str,
    level: str,
    predictor: str,
    on: str | Sequence[str] = "post_id",
    cluster: str | None = None,
    ref: str | None = None,
    conf: float = 0.95,
    pi: str = "pi",
) -> pd.DataFrame:
    """Logistic regression of ``outcome == level`` on the factor ``predictor`` (reference
    level ``ref``, default the first in sorted order), corrected by DSL with the human
    labels of ``gold`` (the predictor too where the gold file codes it).

    Returns one row per coefficient: ``term`` (``(Intercept)``, ``predictor<level>``),
    ``estimate, std_error, z, p_value, ci_low, ci_high, odds_ratio`` (corrected, Wald
    with the sandwich se; cluster-robust with ``cluster``) and ``naive_estimate,
    naive_std_error, naive_p_value`` (the same model on the LLM's labels).
    """
    j = _join(units, gold, on, [predictor, outcome], cluster, pi)
    xv_h = j.units[predictor].astype(str).to_numpy()
    xv_t = j.human(predictor).astype(str).to_numpy()
    levels = sorted(set(xv_h) | set(xv_t))
    if ref is not None:
        if ref not in levels:
            raise InputError(f"{predictor}: reference level {ref!r} is not among {levels}")
        levels = [ref] + [lev for lev in levels if lev != ref]
    if len(levels) < 2:
        raise InputError(f"{predictor}: need at least 2 levels")
    xh, xt = _design(levels, xv_h), _design(levels, xv_t)
    yh = (j.units[outcome].astype(str).to_numpy() == level).astype(float)
    yt = (j.human(outcome).astype(str).to_numpy() == level).astype(float)
    beta, cov = _solve_logit(xh, yh, xt, yt, j.r, j.pi, j.clusters)
    zero = np.zeros_like(j.r)
    nbeta, ncov = _solve_logit(xh, yh, xh, yh, zero, np.ones_like(j.pi), j.clusters)
    se, nse = np.sqrt(np.diag(cov)), np.sqrt(np.diag(ncov))
    # t quantiles with the gold clusters of the levels a term compares, minus 1
    gc = _gold_clusters(j, xt[:, 1:]) if len(levels) > 1 else np.array([], dtype=int)
    g_ref = _gold_clusters(j, (xt[:, 1:].sum(axis=1) == 0)[:, None].astype(float))[0]
    df = np.concatenate([[g_ref], np.minimum(gc, g_ref)]) - 1
    with np.errstate(invalid="ignore"):
        zq = stats.t.ppf(0.5 + conf / 2, np.where(df >= 1, df, np.nan))
    terms = ["(Intercept)"] + [f"{predictor}{lev}" for lev in levels[1:]]
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": beta,
            "std_error": se,
            "z": beta / se,
            "p_value": 2 * stats.t.sf(np.abs(beta / se), np.where(df >= 1, df, np.nan)),
            "df": df,
            "ci_low": beta - zq * se,
            "ci_high": beta + zq * se,
            "odds_ratio": np.exp(beta),
            "naive_estimate": nbeta,
            "naive_std_error": nse,
            "naive_p_value": 2 * stats.norm.sf(np.abs(nbeta / nse)),
            "n": len(j.units),
            "n_gold": j.n_gold,
            "method": "DSL",
        }
    )
