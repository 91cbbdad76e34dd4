"""Pointwise mutual information of co-occurring codes (tidy in, tidy out)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["delta_pmi", "pmi"]


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


def delta_pmi(
    df: pd.DataFrame,
    a: str,
    b: str,
    by: str,
    counts: str | None = None,
) -> pd.DataFrame:
    """PMI of (a, b) within each level of ``by`` minus PMI within all other levels.

    For each level ``L`` of ``by`` (e.g. condition) and each (a, b) pair observed
    anywhere:

    .. math::

        \\Delta\\mathrm{PMI}_L(a,b) = \\mathrm{PMI}(a,b \\mid by = L)
            - \\mathrm{PMI}(a,b \\mid by \\neq L)

    where each PMI is :func:`pmi` computed on the subset alone (its own ``N``,
    marginals and joint).  ``n_in`` / ``n_out`` are the pair's counts inside / outside
    ``L``.  A pair absent on one side has no finite PMI there: its ``pmi_in`` or
    ``pmi_out`` and its ``delta_pmi`` are NaN (not +-inf), and ``n_in`` or ``n_out`` is 0
    so the reason is visible.  With a single level every ``pmi_out`` is NaN.

    Returns columns ``by, a, b, pmi_in, pmi_out, delta_pmi, n_in, n_out`` sorted by
    ``by``, ``a``, ``b``.

    References
    ----------
    Church, K. W. & Hanks, P. (1990). Word association norms, mutual information, and
    lexicography. *Computational Linguistics*, 16(1), 22-29.
    """
    if by in (a, b):
        raise ValueError("by must differ from a and b")
    missing = [c for c in (a, b, by, counts) if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
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
    if not parts:
        cols = [by, a, b, "pmi_in", "pmi_out", "delta_pmi", "n_in", "n_out"]
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["delta_pmi"] = out["pmi_in"] - out["pmi_out"]  # NaN when a side is absent
    ntype = np.float64 if counts is not None else np.int64
    out["n_in"] = out["n_in"].fillna(0).astype(ntype)
    out["n_out"] = out["n_out"].fillna(0).astype(ntype)
    cols = [by, a, b, "pmi_in", "pmi_out", "delta_pmi", "n_in", "n_out"]
    return out[cols].sort_values([by, a, b], kind="stable").reset_index(drop=True)
