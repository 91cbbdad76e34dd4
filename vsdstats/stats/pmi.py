"""Pointwise mutual information of co-occurring codes (tidy in, tidy out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vsdstats.errors import InputError

__all__ = ["delta_pmi", "delta_pmi_from_counts", "permuted_labels", "pmi"]

#: permutations drawn per vectorized block (bounds memory: block x units label codes)
_BLOCK = 50


def _pair_counts(df: pd.DataFrame, a: str, b: str, counts: str | None) -> pd.DataFrame:
    """Counted (a, b) pairs: one row per observed pair with column ``n`` (weights summed)."""
    if a == b:
        raise ValueError("a and b must be different columns")
    missing = [c for c in (a, b, counts) if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    w = (
        pd.to_numeric(df[counts]).astype(np.float64)
        if counts is not None
        else pd.Series(1.0, index=df.index)
    )
    if (w < 0).any():
        raise ValueError("counts must be non-negative")
    tab = (
        pd.DataFrame({a: df[a], b: df[b], "n": w})
        .groupby([a, b], sort=True, observed=True, dropna=True)["n"]
        .sum()
        .reset_index()
    )
    tab = tab.loc[tab["n"] > 0].reset_index(drop=True)
    if counts is None:
        tab["n"] = tab["n"].astype(np.int64)
    return tab


def _pmi_from_counts(tab: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    total = tab["n"].sum()
    n_a = tab.groupby(a, observed=True)["n"].transform("sum")
    n_b = tab.groupby(b, observed=True)["n"].transform("sum")
    out = tab.copy()
    out["p_ab"] = out["n"] / total
    out["p_a"] = n_a / total
    out["p_b"] = n_b / total
    # computed from counts: log2(n_ab * N / (n_a * n_b)) == log2(p_ab / (p_a p_b))
    out["pmi"] = np.log2(out["n"] * total / (n_a * n_b))
    return out


def _npmi(pmi_: pd.Series, p_ab: pd.Series) -> np.ndarray:
    h = -np.log2(p_ab.to_numpy(dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = pmi_.to_numpy(dtype=np.float64) / h
    return np.where(p_ab.to_numpy() >= 1.0, 1.0, v)


def pmi(
    df: pd.DataFrame,
    a: str,
    b: str,
    normalize: bool = True,
    counts: str | None = None,
) -> pd.DataFrame:
    """Pointwise mutual information of every observed (a, b) pair.

    From tidy rows (one row per coded unit, e.g. columns ``value`` and ``perspective``),
    or from an already counted table when ``counts`` names a weight column:

    .. math::

        p(a,b) = n_{ab}/N, \\quad p(a) = n_{a\\cdot}/N, \\quad p(b) = n_{\\cdot b}/N \\\\
        \\mathrm{PMI}(a,b) = \\log_2 \\frac{p(a,b)}{p(a)\\,p(b)}, \\qquad
        \\mathrm{nPMI}(a,b) = \\frac{\\mathrm{PMI}(a,b)}{-\\log_2 p(a,b)} \\in [-1, 1]

    ``nPMI`` is defined as 1 when ``p(a,b) = 1`` (a single pair; 0/0 otherwise).
    Only observed pairs (``n_ab > 0``) are returned, so PMI is always finite; rows with
    a missing ``a`` or ``b`` are dropped.  PMI is in bits.

    Returns columns ``a, b, n, p_ab, p_a, p_b, pmi`` and ``npmi`` (if ``normalize``),
    sorted by ``a`` then ``b``.

    References
    ----------
    Church, K. W. & Hanks, P. (1990). Word association norms, mutual information, and
    lexicography. *Computational Linguistics*, 16(1), 22-29.

    Bouma, G. (2009). Normalized (pointwise) mutual information in collocation
    extraction. *Proceedings of GSCL*, 31-40.
    """
    out = _pmi_from_counts(_pair_counts(df, a, b, counts), a, b)
    if normalize:
        out["npmi"] = _npmi(out["pmi"], out["p_ab"])
    return out


def _log2(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log2(x)


def delta_pmi_from_counts(inside: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Delta-PMI (bits) from count arrays: ``inside[..., L, A, B]`` holds the (a, b)
    counts of the units labelled ``L`` and ``total[A, B]`` the counts over all units, so
    the outside counts are ``total - inside``.  Cells where the pair is absent on
    either side are NaN.  Vectorized over any leading axes (e.g. permutations)."""
    inside = np.asarray(inside, dtype=np.float64)
    outside = np.asarray(total, dtype=np.float64) - inside

    def pmi_(c: np.ndarray) -> np.ndarray:
        n = c.sum(axis=(-2, -1), keepdims=True)
        na = c.sum(axis=-1, keepdims=True)
        nb = c.sum(axis=-2, keepdims=True)
        v = _log2(c) + _log2(n) - _log2(na) - _log2(nb)
        return np.where(c > 0, v, np.nan)

    with np.errstate(invalid="ignore"):
        return pmi_(inside) - pmi_(outside)


def _codes_of(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniq = pd.factorize(values, sort=False)
    return codes.astype(np.int64), pd.Index(uniq)


def permuted_labels(
    labels: np.ndarray,
    m: int,
    rng: np.random.Generator,
    cluster: np.ndarray | None = None,
) -> np.ndarray:
    """``m`` permutations of the integer ``labels`` (one row each, shape ``(m, n)``).

    Without ``cluster``: each row is a uniform random permutation of the labels across
    units.  With ``cluster`` (integer cluster codes, one per unit): a restricted
    permutation that keeps clusters whole (Winkler et al. 2015, "whole-block"
    exchangeability): each cluster receives the whole label vector of a cluster of the
    same size (a uniform permutation of the clusters within each size stratum), and
    the received labels are shuffled among the cluster's own units (within-block
    exchangeability).  Every condition keeps exactly its number of units, every
    cluster keeps its label composition's size, and a cluster that is alone in its
    size stratum keeps its own labels (shuffled among its units).
    """
    labels = np.asarray(labels)
    n = len(labels)
    if cluster is None:
        return rng.permuted(np.broadcast_to(labels, (m, n)), axis=1)
    cl = np.asarray(cluster, dtype=np.int64)
    order = np.argsort(cl, kind="stable")  # units grouped by cluster
    cl_s, lab_s = cl[order], labels[order]
    size = np.bincount(cl_s)
    n_cl = len(size)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(n) - start[cl_s]
    # clusters sorted by (size, code); dense size rank as the integer part of a sort key
    by_size = np.lexsort((np.arange(n_cl), size))
    _, srank = np.unique(size[by_size], return_inverse=True)
    src = np.empty((m, n_cl), dtype=np.int64)
    within = np.argsort(srank[None, :] + rng.random((m, n_cl)), axis=1)
    src[:, by_size] = by_size[within]
    # shuffle labels within each cluster, then hand cluster c the labels of src[c]
    shuffled = lab_s[np.argsort(cl_s[None, :] + rng.random((m, n)), axis=1)]
    idx = start[src[:, cl_s]] + pos[None, :]
    new_s = np.take_along_axis(shuffled, idx, axis=1)
    out = np.empty_like(new_s)
    out[:, order] = new_s
    return out


def delta_pmi(
    df: pd.DataFrame,
    a: str,
    b: str,
    by: str,
    counts: str | None = None,
    permutations: int = 0,
    seed: int | None = None,
    cluster: str | None = None,
    min_support: int = 30,
    adjust: str = "maxt",
) -> pd.DataFrame:
    """PMI of (a, b) within each level of ``by`` minus PMI within all other levels, with
    an optional permutation null.

    For each level ``L`` of ``by`` (e.g. condition) and each (a, b) pair observed
    anywhere, in bits:

    .. math::

        \\Delta\\mathrm{PMI}_L(a,b) = \\mathrm{PMI}(a,b \\mid by = L)
            - \\mathrm{PMI}(a,b \\mid by \\neq L), \\qquad
        \\mathrm{PMI}(a,b \\mid S) =
            \\log_2 \\frac{n^S_{ab}\\, N^S}{n^S_{a\\cdot}\\, n^S_{\\cdot b}}

    where each PMI is :func:`pmi` computed on the subset ``S`` alone (its own ``N``,
    marginals and joint).  ``n_in`` / ``n_out`` are the pair's counts inside / outside
    ``L``.  A pair absent on one side has no finite PMI there: its ``pmi_in`` or
    ``pmi_out`` and its ``delta_pmi`` are NaN (not +-inf), and ``n_in`` or ``n_out`` is 0
    so the reason is visible.  With a single level every ``pmi_out`` is NaN.

    **Minimum support.**  ``supported`` is ``n_in >= min_support and n_out >=
    min_support`` (default 30).  Unsupported cells keep their ``delta_pmi`` (the
    formula's value) but get no p-value and are left out of the adjustment family;
    figures should grey them out.  Below about 30 co-occurrences the null distribution
    of delta-PMI is biased, skewed and heavy-tailed: such cells' permutation p-values
    would be valid, but they would dominate the maxT maximum and take the power from
    every other cell (in the calibration's power scenario, support 10 gave the planted
    cell no power where 30 found it in about half of the data sets).

    **Permutation null** (``permutations = B > 0``).  Delta-PMI is biased under the
    null of no condition effect: PMI estimated on a small subset, given that the pair
    occurs there, is biased upward, so small conditions show positive delta-PMI by
    chance.  In the replication corpus (39,380 units, permutation by author) the mean
    null delta-PMI over the observed pairs of a condition is about 0 for the large
    conditions but 0.27 bits for bipolar (834 units), 0.48 for eating (305), 0.69 for
    intellectual (73) and 0.88 for conduct (117); over the supported cells it stays
    within +-0.16 bits.
    The null distribution is computed by permuting the ``by`` labels: across units
    (``cluster=None``), or, with ``cluster`` (e.g. ``"author"``), by a restricted
    permutation that keeps clusters whole (see :func:`permuted_labels`: clusters of
    equal size exchange their whole label vectors; labels are shuffled among a
    cluster's own units).  The null hypothesis is that the (a, b) content of units is
    exchangeable with respect to ``by`` -- across units, or across same-size clusters
    when posts are nested in authors with their own tendencies (the unit permutation
    is then anticonservative; use ``cluster``).  For each cell, over the observed
    arrangement and the permutations in which delta-PMI is finite (pair present on
    both sides), ``B_f`` permutations:

    .. math::

        m = \\frac{\\Delta + \\sum_b \\Delta^*_b}{1 + B_f}, \\qquad
        p = \\frac{1 + \\#\\{b : |\\Delta^*_b - m| \\ge |\\Delta - m|\\}}{1 + B_f}

    (two-sided about the null mean; the observed arrangement counts as one of the
    ``1 + B_f`` draws, in ``m`` too, which keeps the test exact and ``p > 0``:
    Phipson & Smyth 2010).
    ``null_mean`` is ``m`` (the bias), ``null_sd`` the SD of the draws and
    ``delta_pmi_centered = delta_pmi - null_mean``.

    ``p_value_adj`` controls the familywise error over the supported cells.  The
    default ``adjust="maxt"`` is the Westfall & Young (1993) single-step maxT
    adjustment computed from the same permutations: with ``t_j = |Delta_j - m_j| /
    sd_j``, ``p_adj_j = (1 + #{b : max_k t*_bk >= t_j}) / (1 + B)``, the max running
    over the supported cells.  It accounts for the dependence between cells and, unlike
    Holm, can reject with a moderate ``B`` (Holm over ``K`` cells needs ``p < 0.05 / K``,
    i.e. ``B`` of many thousands for the study's hundreds of cells, since
    ``p >= 1 / (B + 1)``).  ``holm``, ``fdr_bh``, ``bonferroni`` and ``none`` apply
    :func:`vsdstats.stats.chisq.adjust_p` to the cell p-values instead.  ``B``, ``seed``
    and ``cluster`` are recorded in ``result.attrs``.  The permutations are drawn in
    blocks and counted with one ``np.bincount`` per block (B = 1000 on 40,000 units
    takes a few seconds).  With ``counts``, a permutation test needs whole-number counts
    (each counted row is expanded to its units).

    Calibration (``python -m vsdstats.stats.calibration --only pmi``, 6 conditions of
    35-4% of 4,000 units, 5 x 6 codes, docs/calibration.md): on a clustered null
    (authors with their own value x perspective tendencies, 75% of their units in a
    home condition) the maxT any-cell rejection rate is held by ``cluster="author"``
    and exceeded by the unit permutation; see that table for the numbers.

    Returns columns ``by, a, b, pmi_in, pmi_out, delta_pmi, n_in, n_out, supported``
    and, with permutations, ``null_mean, null_sd, delta_pmi_centered, p_value,
    p_value_adj``, sorted by ``by``, ``a``, ``b``.

    References
    ----------
    Church, K. W. & Hanks, P. (1990). Word association norms, mutual information, and
    lexicography. *Computational Linguistics*, 16(1), 22-29.

    Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero.
    *Statistical Applications in Genetics and Molecular Biology*, 9(1), 39.

    Winkler, A. M., Webster, M. A., Vidaurre, D., Nichols, T. E. & Smith, S. M. (2015).
    Multi-level block permutation. *NeuroImage*, 123, 253-268.

    Westfall, P. H. & Young, S. S. (1993). *Resampling-Based Multiple Testing*.
    Wiley, New York (single-step maxT, ch. 2).

    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6(2), 65-70.
    """
    if by in (a, b):
        raise ValueError("by must differ from a and b")
    missing = [c for c in (a, b, by, counts, cluster) if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    if not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise InputError(f"permutations must be a whole number >= 0, not {permutations!r}")
    if not isinstance(min_support, (int, np.integer)) or min_support < 0:
        raise InputError(f"min_support must be a whole number >= 0, not {min_support!r}")
    if adjust not in ("maxt", "holm", "fdr_bh", "bonferroni", "none"):
        raise InputError(f"adjust must be maxt, holm, fdr_bh, bonferroni or none, not {adjust!r}")
    if cluster is not None and cluster in (a, b, by):
        raise InputError(f"cluster column {cluster!r} must differ from a, b and by")
    df = df.loc[df[by].notna()]
    all_pairs = _pair_counts(df, a, b, counts)[[a, b]]
    levels = np.sort(df[by].unique())
    parts = []
    for level in levels:  # a loop over the (few) levels, not over rows
        inside = df[by] == level
        tab_in = _pmi_from_counts(_pair_counts(df.loc[inside], a, b, counts), a, b)
        tab_out = _pmi_from_counts(_pair_counts(df.loc[~inside], a, b, counts), a, b)
        part = all_pairs.merge(
            tab_in[[a, b, "n", "pmi"]].rename(columns={"n": "n_in", "pmi": "pmi_in"}),
            on=[a, b],
            how="left",
        ).merge(
            tab_out[[a, b, "n", "pmi"]].rename(columns={"n": "n_out", "pmi": "pmi_out"}),
            on=[a, b],
            how="left",
        )
        part.insert(0, by, level)
        parts.append(part)
    cols = [by, a, b, "pmi_in", "pmi_out", "delta_pmi", "n_in", "n_out", "supported"]
    null_cols = ["null_mean", "null_sd", "delta_pmi_centered", "p_value", "p_value_adj"]
    if not parts:
        return pd.DataFrame(columns=cols + (null_cols if permutations else []))
    out = pd.concat(parts, ignore_index=True)
    out["delta_pmi"] = out["pmi_in"] - out["pmi_out"]  # NaN when a side is absent
    ntype = np.float64 if counts is not None else np.int64
    out["n_in"] = out["n_in"].fillna(0).astype(ntype)
    out["n_out"] = out["n_out"].fillna(0).astype(ntype)
    out["supported"] = (out["n_in"] >= min_support) & (out["n_out"] >= min_support)
    out = out[cols].sort_values([by, a, b], kind="stable").reset_index(drop=True)
    if permutations:
        out = _permutation_null(df, out, a, b, by, counts, permutations, seed, cluster, adjust)
        out.attrs.update({"permutations": int(permutations), "seed": seed, "cluster": cluster})
    return out


def _null_summary(
    draws: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per cell, from ``draws`` whose row 0 is the observed statistic and rows 1..B the
    permutations (the observed arrangement is one of the B + 1 equally likely ones, so
    the test is exact): the mean ``m`` and SD of the finite values, the two-sided p
    ``#{b : |d_b - m| >= |d_0 - m|} / n_f`` (row 0 counts itself: Phipson & Smyth's
    ``(1 + #) / (1 + B)``) and ``n_f`` (finite values; NaN p where row 0 is not finite)."""
    fin = np.isfinite(draws)
    nf = fin.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(fin, draws, 0.0).sum(axis=0) / nf
        dev = np.where(fin, draws - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / (nf - 1))
        far = (np.abs(dev) >= np.abs(dev[0]) - 1e-12) & fin
        p = np.where(fin[0], far.sum(axis=0) / nf, np.nan)
    return mean, np.where(nf > 1, sd, np.nan), p, nf


def _maxt(draws: np.ndarray, mean: np.ndarray, sd: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Westfall-Young single-step maxT adjusted p-values of the cells ``cells`` (flat
    indices), from ``draws`` with the observed statistic in row 0:
    ``#{b = 0..B : max_k t_bk >= t_0j} / (B + 1)`` with ``t = |d - m| / sd``."""
    flat = draws.reshape(len(draws), -1)[:, cells]
    m, s = mean.ravel()[cells], sd.ravel()[cells]
    s = np.where(s > 0, s, np.inf)  # a constant null: no cell can be far from it
    with np.errstate(invalid="ignore"):
        t = np.abs(flat - m) / s
    t_max = np.max(np.where(np.isfinite(t), t, -np.inf), axis=1)
    t_obs = np.where(np.isfinite(t[0]), t[0], np.inf) * (1 - 1e-12)
    return (t_max[None, :] >= t_obs[:, None]).sum(axis=1) / len(draws)


def _permutation_null(
    df: pd.DataFrame,
    out: pd.DataFrame,
    a: str,
    b: str,
    by: str,
    counts: str | None,
    B: int,
    seed: int | None,
    cluster: str | None,
    adjust: str,
) -> pd.DataFrame:
    from vsdstats.stats.chisq import adjust_p

    units = df.loc[df[a].notna() & df[b].notna()]
    if counts is not None:
        w = pd.to_numeric(units[counts]).to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(w) & (w == np.round(w))):
            raise InputError(
                f"counts column {counts!r}: a permutation test needs whole-number counts"
            )
        units = units.loc[units.index.repeat(w.astype(np.int64))]
    if cluster is not None and units[cluster].isna().any():
        raise InputError(f"cluster column {cluster!r} has missing values")
    ca, ua = _codes_of(units[a])
    cb, ub = _codes_of(units[b])
    cl, ul = _codes_of(units[by])
    ka, kb, nl = len(ua), len(ub), len(ul)
    npair = ka * kb
    pair = ca * kb + cb
    total = np.bincount(pair, minlength=npair).reshape(ka, kb)
    obs_in = np.bincount(cl * npair + pair, minlength=nl * npair).reshape(nl, ka, kb)
    obs = delta_pmi_from_counts(obs_in, total).reshape(nl, npair)
    ccodes = None if cluster is None else _codes_of(units[cluster])[0]
    rng = np.random.default_rng(seed)
    # the draws are kept ((B + 1) x cells floats, the observed in row 0)
    draws = np.empty((B + 1, nl, npair))
    draws[0] = obs
    for lo in range(0, B, _BLOCK):
        m = min(_BLOCK, B - lo)
        lab = permuted_labels(cl, m, rng, ccodes)
        idx = (np.arange(m)[:, None] * nl + lab) * npair + pair[None, :]
        c_in = np.bincount(idx.ravel(), minlength=m * nl * npair).reshape(m, nl, ka, kb)
        draws[1 + lo : 1 + lo + m] = delta_pmi_from_counts(c_in, total).reshape(m, nl, npair)
    mean, sd, p, _ = _null_summary(draws)
    # map each output row to its (level, pair) cell
    ia = ua.get_indexer(out[a])
    ib = ub.get_indexer(out[b])
    il = ul.get_indexer(out[by])
    ok = (ia >= 0) & (ib >= 0) & (il >= 0)
    cell = np.where(ok, il * npair + ia * kb + ib, 0)

    def pick(x: np.ndarray) -> np.ndarray:
        return np.where(ok, x.ravel()[cell], np.nan)

    out["null_mean"] = pick(mean)
    out["null_sd"] = pick(sd)
    out["delta_pmi_centered"] = out["delta_pmi"] - out["null_mean"]
    pv = pick(p)
    testable = out["supported"].to_numpy() & np.isfinite(out["delta_pmi"].to_numpy())
    pv = np.where(testable & np.isfinite(pv), pv, np.nan)
    out["p_value"] = pv
    has = np.isfinite(pv)
    adj = np.full(len(out), np.nan)
    if adjust == "maxt" and has.any():
        adj[has] = _maxt(draws, mean, sd, cell[has])
    else:
        adj[has] = adjust_p(pv[has], adjust)
    out["p_value_adj"] = adj
    return out
