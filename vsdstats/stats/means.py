"""Group means of sentiment scores with t-based confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["group_means_ci", "monthly", "sentiment_score"]

_SENTIMENT = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}


def sentiment_score(series: pd.Series) -> pd.Series:
    """Map sentiment labels to scores: positive -> +1, neutral -> 0, negative -> -1.

    Case-insensitive and ignoring surrounding white space; missing values stay NaN.
    Any other label raises ``ValueError`` naming the unknown labels.  Returns a float
    Series with the same index.
    """
    s = pd.Series(series)
    key = s.astype("string").str.strip().str.lower()
    mapped = key.map(_SENTIMENT)
    unknown = key[mapped.isna() & key.notna()]
    if len(unknown):
        labels = sorted(set(s[unknown.index].astype(str)))
        raise ValueError(f"unknown sentiment label(s): {labels}; expected {list(_SENTIMENT)}")
    return pd.Series(mapped.to_numpy(dtype=np.float64, na_value=np.nan), index=s.index)


def _as_score(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(np.float64)
    return sentiment_score(values)


def _summarise(g: pd.core.groupby.SeriesGroupBy, conf: float) -> pd.DataFrame:
    """n, mean, sd, se and the t interval from a grouped float Series."""
    if not 0 < conf < 1:
        raise ValueError("conf must be in (0, 1)")
    out = g.agg(["count", "mean", "std"]).rename(columns={"count": "n", "std": "sd"})
    n = out["n"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = out["sd"].to_numpy(dtype=np.float64) / np.sqrt(n)
        df_ = np.where(n > 1, n - 1, np.nan)
        tq = stats.t.ppf(0.5 + conf / 2, df_)
    out["n"] = out["n"].astype(np.int64)
    out["se"] = se
    out["ci_low"] = out["mean"].to_numpy() - tq * se
    out["ci_high"] = out["mean"].to_numpy() + tq * se
    return out


def _cluster_robust(
    frame: pd.DataFrame, keys: list[str], cluster: str, conf: float
) -> pd.DataFrame:
    """n, mean and the cluster-robust (linearization) se and normal interval per group.

    For group ``d`` with mean ``m_d`` over its ``n_d`` units and ``K`` clusters in the
    whole data: ``t_k = sum_{i in k, i in d} (x_i - m_d) / n_d`` and
    ``se_d^2 = K / (K - 1) * sum_k t_k^2`` (domain estimation in a one-stage cluster
    sample with replacement; = R ``survey::svyby(~x, ~d, svydesign(ids = ~cluster),
    svymean)``).  The interval is ``m_d +- z_{(1+conf)/2} se_d``.
    """
    if not 0 < conf < 1:
        raise ValueError("conf must be in (0, 1)")
    frame = frame.dropna(subset=["_score", cluster])
    k = frame[cluster].nunique()
    if k < 2:
        raise ValueError(f"{cluster}: need at least 2 clusters (have {k})")
    g = frame.groupby(keys, sort=True, observed=True, dropna=True)
    out = g["_score"].agg(["count", "mean", "std"]).rename(columns={"count": "n", "std": "sd"})
    dev = (frame["_score"] - g["_score"].transform("mean")) / g["_score"].transform("count")
    t = dev.groupby([frame[c] for c in keys] + [frame[cluster]], observed=True).sum()
    var = (t**2).groupby(level=list(range(len(keys)))).sum() * k / (k - 1)
    se = np.sqrt(var.reindex(out.index).to_numpy(dtype=np.float64))
    zq = stats.norm.ppf(0.5 + conf / 2)
    out["n"] = out["n"].astype(np.int64)
    out["se"] = se
    out["ci_low"] = out["mean"].to_numpy() - zq * se
    out["ci_high"] = out["mean"].to_numpy() + zq * se
    out["n_clusters"] = g[cluster].nunique().reindex(out.index).astype(np.int64)
    return out


def group_means_ci(
    df: pd.DataFrame,
    by: str | list[str],
    score: str,
    conf: float = 0.95,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Mean sentiment score per group with a t-based confidence interval, or with
    ``cluster`` (e.g. ``"author"``) a cluster-robust one.

    For the ``n`` non-missing scores ``x`` of a group (scores +1/0/-1; string labels are
    converted with :func:`sentiment_score`):

    .. math::

        \\bar x \\pm t_{(1+\\mathrm{conf})/2,\\; n-1} \\; s / \\sqrt{n},
        \\qquad s^2 = \\frac{1}{n-1} \\sum (x - \\bar x)^2

    With ``n = 1`` the sd, se and interval are NaN.  This is the one-sample t interval
    of ``t.test(x)$conf.int`` in R (Student 1908); for a +1/0/-1 score it is a
    large-sample approximation whose coverage is good for moderate ``n``.

    Returns one row per group with columns ``by..., n, mean, sd, se, ci_low, ci_high``.

    With ``cluster``, units of one cluster are not taken as independent: ``se`` is the
    cluster-robust linearization standard error (equal to R ``survey::svyby(~score,
    ~by, svydesign(ids = ~cluster), svymean)``, formula in :func:`_cluster_robust`), the
    interval normal, and ``n_clusters`` counts each group's clusters.  Rows without a
    cluster are dropped.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, score] if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    if cluster is not None and cluster not in df.columns:
        raise KeyError(f"column(s) not in the data frame: {[cluster]}")
    x = _as_score(df[score])
    frame = df[keys].assign(_score=x)
    if cluster is not None:
        frame[cluster] = df[cluster].to_numpy()
        return _cluster_robust(frame, keys, cluster, conf).reset_index()
    g = frame.groupby(keys, sort=True, observed=True, dropna=True)["_score"]
    return _summarise(g, conf).reset_index()


def _month_start(values: pd.Series) -> tuple[pd.Series, bool]:
    """Month-start timestamps (naive, in UTC when the input is tz-aware) and tz-awareness."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError):  # mixed UTC offsets
            values = pd.to_datetime(values, format="ISO8601", utc=True)
    aware = isinstance(values.dtype, pd.DatetimeTZDtype)
    if aware:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    month = values.dt.to_period("M").dt.to_timestamp()
    return month, aware


def monthly(
    df: pd.DataFrame,
    date: str,
    score: str,
    by: str | list[str] | None = None,
    conf: float = 0.95,
) -> pd.DataFrame:
    """Monthly series of the mean score with a t confidence interval.

    Each post is assigned to the calendar month of ``date``.  Tz-aware timestamps are
    converted to UTC first, so the months are UTC months; ISO 8601 strings are parsed,
    and strings with mixed UTC offsets are converted to UTC.  Per month (and per ``by``
    group) the columns ``n, mean, sd, se, ci_low, ci_high`` are as in
    :func:`group_means_ci`:
    ``mean +- t_{(1+conf)/2, n-1} sd / sqrt(n)``.

    The series is filled over the **full range** from the first to the last month of
    the whole data set (the same range for every group): months without posts appear
    with ``n = 0`` and NaN statistics, so gaps are explicit.  ``month`` holds
    month-start timestamps, UTC-aware when the input was tz-aware and naive otherwise.
    Rows with a missing date or score are dropped.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
    """
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in [date, score, *keys] if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    month, aware = _month_start(df[date])
    frame = df[keys].assign(month=month.to_numpy(), _score=_as_score(df[score]).to_numpy())
    frame = frame.dropna(subset=["month", "_score", *keys])
    cols = [*keys, "month", "n", "mean", "sd", "se", "ci_low", "ci_high"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    stats_ = _summarise(frame.groupby([*keys, "month"], sort=True)["_score"], conf)

    months = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
    months.name = "month"
    if keys:
        groups = frame[keys].drop_duplicates().sort_values(keys)
        full = groups.merge(months.to_frame(index=False), how="cross")
        idx = pd.MultiIndex.from_frame(full)
    else:
        idx = months
    stats_ = stats_.reindex(idx)
    stats_["n"] = stats_["n"].fillna(0).astype(np.int64)
    out = stats_.reset_index()
    if aware:
        out["month"] = out["month"].dt.tz_localize("UTC")
    return out[cols]
