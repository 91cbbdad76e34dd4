"""Weighted log-odds (tidylo) and the Monroe et al. (2008) informative-Dirichlet variant.

Both verbs are tidy-in, tidy-out: they take one row per (group, feature) with a count
column and return tidy rows.  All computations are vectorized (``pd.factorize`` +
``np.bincount``); there are no Python loops over rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vsdstats.stats.crosstab import _codes as crosstab_codes

__all__ = ["log_odds_dirichlet", "weighted_log_odds"]


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes (NA is its own level, like dplyr's ``count``) and the number of
    code slots (crosstab's fast factorizer; the last slot is the NA level)."""
    raw, lut, cats = crosstab_codes(values)
    return lut[raw], len(cats) + 1


def _check_columns(df: pd.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")


def _counts(df: pd.DataFrame, n: str) -> tuple[pd.Series, np.ndarray]:
    """The count column as float64, checked: finite, non-negative integers, not all zero.

    Raises ``ValueError`` naming the column and the first offending row (index label).
    """
    raw = df[n]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise ValueError(f"count column {n!r} is boolean; counts must be integers >= 0")
    num = pd.to_numeric(raw, errors="coerce")
    values = num.to_numpy(dtype=np.float64, na_value=np.nan)
    checks = (
        (np.isnan(values) & raw.notna().to_numpy(), "is not a number"),
        (np.isnan(values), "is missing"),
        (np.isinf(values), "is infinite"),
        (values < 0, "is negative"),
        (np.isfinite(values) & (values != np.round(values)), "is not a whole number"),
    )
    with np.errstate(invalid="ignore"):
        for bad, what in checks:
            if bad.any():
                i = int(bad.argmax())
                shown = "" if what == "is missing" else f" ({raw.iloc[i]})"
                raise ValueError(
                    f"count column {n!r}: the count at row {raw.index[i]}{shown} {what}; "
                    "counts must be finite non-negative integers"
                )
    if len(values) == 0 or not values.sum() > 0:
        raise ValueError(f"count column {n!r}: all counts are zero (or there are no rows)")
    return num, values


def weighted_log_odds(
    df: pd.DataFrame,
    group: str,
    feature: str,
    n: str,
    uninformative: bool = False,
    unweighted: bool = False,
) -> pd.DataFrame:
    """Weighted log odds of each feature in each group, exactly as ``tidylo::bind_log_odds``.

    Returns a copy of ``df`` with the column ``log_odds_weighted`` (and, when
    ``unweighted=True``, ``log_odds`` placed before it, as tidylo does).  The numbers
    are identical (up to floating point) to tidylo 0.2.0, whose code path this follows
    step by step, working with per-row *pseudo-counts* (Schnoebelen, Silge & Hayes):

    .. math::

        \\alpha_r &= \\textstyle\\sum_{r' : w(r') = w(r)} n_{r'}
            \\quad (\\text{informative, empirical Bayes}) \\qquad
            \\alpha_r = 1 \\quad (\\text{uninformative}) \\\\
        y_{wi} &= n_{wi} + \\alpha_w \\quad (\\text{one per row}) \\\\
        y_w &= \\textstyle\\sum_i y_{wi}, \\quad n_i = \\sum_w y_{wi}, \\quad
            N = \\sum_{w,i} y_{wi} \\\\
        \\hat\\delta_{wi} &= \\log\\frac{y_{wi}}{n_i - y_{wi}} - \\log\\frac{y_w}{N - y_w} \\\\
        \\sigma^2_{wi} &= \\frac{1}{y_{wi}} + \\frac{1}{y_w} \\\\
        \\texttt{log\\_odds\\_weighted} &= \\hat\\delta_{wi} / \\sqrt{\\sigma^2_{wi}},
        \\qquad \\texttt{log\\_odds} = \\hat\\delta_{wi}

    The sums run over the *rows passed*.  Two consequences worth knowing:

    * The comparison is the group against the **whole corpus including the group
      itself** (``y_w`` and ``N`` include group ``i``), not against the other groups as
      in Monroe et al.'s eq. (16); see :func:`log_odds_dirichlet` for that version.
      With two groups the signs are opposite for a feature present in both, but the
      magnitudes are not negatives of each other unless the group totals match.
    * The prior is added **once per row present**: a row with ``n = 0`` still adds
      ``alpha_w`` to ``y_wi``, ``y_w``, ``n_i`` and ``N``, so adding or dropping
      zero-count rows (e.g. completing the group x feature grid) changes every
      result.  The output depends only on the rows given, not on their order.
      Duplicate (group, feature) rows are treated as separate rows, as in tidylo
      (which requires one row per combination).

    Parameters
    ----------
    df : DataFrame
        Tidy counts, one row per (group, feature).
    group, feature, n : str
        Column names of the set (e.g. condition), the feature (e.g. value code) and
        the count.  Counts must be finite non-negative integers, not all zero
        (``ValueError`` naming the first bad row otherwise).
    uninformative : bool
        Use ``alpha = 1`` instead of the empirical-Bayes feature totals.
    unweighted : bool
        Also return the unstandardized posterior log odds ratio ``log_odds``.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' Words: Lexical
    feature selection and evaluation for identifying the content of political
    conflict. *Political Analysis*, 16(4), 372-403. https://doi.org/10.1093/pan/mpn018

    Schnoebelen, T., Silge, J. & Hayes, A. (2022). tidylo: Weighted tidy log odds ratio,
    R package version 0.2.0. https://CRAN.R-project.org/package=tidylo
    """
    _check_columns(df, group, feature, n)
    _, counts = _counts(df, n)
    gcode, ng = _codes(df[group])
    wcode, nw = _codes(df[feature])

    # per-feature / per-set sums (np.bincount), broadcast back to rows by the codes
    if uninformative:
        y_wi = counts + 1.0
    else:
        y_wi = counts + np.bincount(wcode, weights=counts, minlength=nw)[wcode]
    y_w = np.bincount(wcode, weights=y_wi, minlength=nw)  # per feature
    n_i = np.bincount(gcode, weights=y_wi, minlength=ng)  # per set
    total = y_wi.sum()

    # degenerate tables (one row in a set, one feature) give inf/NaN, as in R
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_all = np.log(y_w / (total - y_w))  # overall odds, one per feature
        delta = np.log(y_wi / (n_i[gcode] - y_wi)) - log_odds_all[wcode]
        zeta = delta / np.sqrt(1.0 / y_wi + 1.0 / y_w[wcode])

    out = df.copy()
    if unweighted:
        out["log_odds"] = delta
    out["log_odds_weighted"] = zeta
    return out


def log_odds_dirichlet(
    df: pd.DataFrame,
    group: str,
    feature: str,
    n: str,
    prior: Mapping[object, float] | pd.Series | None = None,
    alpha0: float = 500.0,
    complete: bool = True,
) -> pd.DataFrame:
    """Informative-Dirichlet log-odds, each group against all other groups (MCQ 2008).

    For group ``i`` and the pooled other groups ``j`` (``y^j_w = sum_{g != i} y^g_w``,
    ``n^j = sum_w y^j_w``), with prior pseudo-counts ``alpha_w = alpha0 * pi_w``
    (``sum_w pi_w = 1``, so ``sum_w alpha_w = alpha0``), Monroe, Colaresi & Quinn (2008)
    eqs. (16)-(22):

    .. math::

        \\hat\\delta^{(i-j)}_w &= \\log\\frac{y^i_w + \\alpha_w}
            {n^i + \\alpha_0 - y^i_w - \\alpha_w}
            - \\log\\frac{y^j_w + \\alpha_w}{n^j + \\alpha_0 - y^j_w - \\alpha_w} \\\\
        \\sigma^2(\\hat\\delta^{(i-j)}_w) &\\approx \\frac{1}{y^i_w + \\alpha_w}
            + \\frac{1}{y^j_w + \\alpha_w} \\\\
        \\hat\\zeta^{(i-j)}_w &= \\hat\\delta^{(i-j)}_w / \\sqrt{\\sigma^2}

    The prior shape ``pi_w`` defaults to the corpus frequencies of the features in
    ``df`` (``pi_w = y_w / n``); pass ``prior`` (feature -> background count or
    proportion, normalized here over the features in ``df``) to use a background corpus.
    The prior *scale* ``alpha0`` is the total number of prior pseudo-tokens; the default
    500 is our choice (a mild prior, independent of corpus size), not a value from the
    paper -- MCQ leave it to the analyst; larger values shrink more.

    A feature whose prior frequency is 0 (with the default prior: a feature whose
    counts are all zero) gets ``alpha_w = 0`` and NaN or infinite results.

    Absent (group, feature) combinations are counts of zero, so unlike
    :func:`weighted_log_odds` the result does not depend on whether zero rows are
    present.  With exactly two groups ``zeta`` for A equals ``-zeta`` for B.

    Parameters
    ----------
    df : DataFrame
        Tidy counts, one row per (group, feature); duplicate rows are summed.
    group, feature, n : str
        Column names.  Counts must be finite non-negative integers, not all zero
        (``ValueError`` naming the first bad row otherwise).
    prior : mapping or Series, optional
        Background frequencies by feature (must cover every feature in ``df``, >= 0).
    alpha0 : float
        Total prior pseudo-count (> 0).
    complete : bool
        If True (default) return every group x feature combination (``n = 0`` where
        absent); if False only the combinations present in ``df``.

    Returns
    -------
    DataFrame with columns ``group, feature, n, delta, variance, zeta`` (named after the
    input columns), sorted by group and feature in order of first appearance.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' Words: Lexical
    feature selection and evaluation for identifying the content of political
    conflict. *Political Analysis*, 16(4), 372-403. https://doi.org/10.1093/pan/mpn018
    """
    _check_columns(df, group, feature, n)
    if not alpha0 > 0:
        raise ValueError("alpha0 must be positive")
    n_in, counts = _counts(df, n)
    gcode, guniq = pd.factorize(df[group], use_na_sentinel=False)
    wcode, wuniq = pd.factorize(df[feature], use_na_sentinel=False)
    ng, nw = len(guniq), len(wuniq)
    if ng < 2:
        raise ValueError("log_odds_dirichlet needs at least two groups")

    # group x feature count matrix (duplicates summed)
    y = np.bincount(gcode * nw + wcode, weights=counts, minlength=ng * nw).reshape(ng, nw)
    present = np.bincount(gcode * nw + wcode, minlength=ng * nw).reshape(ng, nw) > 0

    if prior is None:
        shape = y.sum(axis=0)
    else:
        ps = pd.Series(prior, dtype=np.float64) if not isinstance(prior, pd.Series) else prior
        shape = ps.reindex(pd.Index(wuniq)).to_numpy(dtype=np.float64)
        if np.isnan(shape).any():
            lacking = list(pd.Index(wuniq)[np.isnan(shape)])
            raise ValueError(f"prior lacks features: {lacking[:10]}")
    if (shape < 0).any() or not shape.sum() > 0:
        raise ValueError("prior frequencies must be non-negative with a positive sum")
    alpha = alpha0 * shape / shape.sum()  # shape (nw,)

    y_i = y
    y_j = y.sum(axis=0, keepdims=True) - y
    n_i = y_i.sum(axis=1, keepdims=True)
    n_j = y_j.sum(axis=1, keepdims=True)
    a_w = alpha[None, :]
    a_0 = alpha.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((y_i + a_w) / (n_i + a_0 - y_i - a_w)) - np.log(
            (y_j + a_w) / (n_j + a_0 - y_j - a_w)
        )
        variance = 1.0 / (y_i + a_w) + 1.0 / (y_j + a_w)
        zeta = delta / np.sqrt(variance)

    out = pd.DataFrame(
        {
            group: np.repeat(np.asarray(guniq, dtype=object), nw),
            feature: np.tile(np.asarray(wuniq, dtype=object), ng),
            n: y.ravel(),
            "delta": delta.ravel(),
            "variance": variance.ravel(),
            "zeta": zeta.ravel(),
        }
    )
    # restore the input dtypes of the key columns where possible
    for col, uniq in ((group, guniq), (feature, wuniq)):
        if hasattr(uniq, "dtype") and uniq.dtype != object:
            out[col] = out[col].astype(uniq.dtype)
    if pd.api.types.is_integer_dtype(n_in.dtype):
        out[n] = out[n].astype(np.int64)
    if not complete:
        out = out.loc[present.ravel()].reset_index(drop=True)
    return out
