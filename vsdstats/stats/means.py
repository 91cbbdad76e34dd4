"""Group means of sentiment scores with confidence intervals: the t interval, the
cluster-robust (linearization) interval and the cluster bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vsdstats.errors import InputError
from vsdstats.stats._resample import cluster_weights
from vsdstats.stats.corrected import corrected_means
from vsdstats.stats.scores import _as_score, _constant_interval, sentiment_score

__all__ = ["MEAN_METHODS", "group_means_ci", "monthly", "sentiment_score"]

#: interval methods of :func:`group_means_ci` and :func:`monthly`
MEAN_METHODS = ("t", "robust", "bootstrap")


def _t_interval(out: pd.DataFrame, conf: float) -> None:
    """se and the t interval (n - 1 df) in place, from n and sd."""
    n = out["n"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = out["sd"].to_numpy(dtype=np.float64) / np.sqrt(n)
        tq = stats.t.ppf(0.5 + conf / 2, np.where(n > 1, n - 1, np.nan))
    out["se"] = se
    out["ci_low"] = out["mean"].to_numpy() - tq * se
    out["ci_high"] = out["mean"].to_numpy() + tq * se


def _robust_se(frame: pd.DataFrame, keys: list[str], cluster: str, k: int) -> np.ndarray:
    """Cluster-robust linearization se per group (formula in :func:`group_means_ci`)."""
    g = frame.groupby(keys, sort=True, observed=True)["_score"]
    dev = (frame["_score"] - g.transform("mean")) / g.transform("count")
    t = dev.groupby([frame[c] for c in keys] + [frame[cluster]], observed=True).sum()
    var = (t**2).groupby(level=list(range(len(keys)))).sum() * k / (k - 1)
    index = g.size().index
    return np.sqrt(var.reindex(index).to_numpy(dtype=np.float64))


def _bootstrap(
    frame: pd.DataFrame, keys: list[str], cluster: str | None, conf: float, b: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval and bootstrap se of each group mean, resampling whole
    clusters (or units, without ``cluster``) with replacement, ``b`` replicates."""
    gcode = frame.groupby(keys, sort=True, observed=True).ngroup().to_numpy()
    units = np.arange(len(frame)) if cluster is None else pd.factorize(frame[cluster])[0]
    k, ng = int(units.max()) + 1, int(gcode.max()) + 1
    cell = units * ng + gcode
    x = frame["_score"].to_numpy(dtype=np.float64)
    sums = np.bincount(cell, weights=x, minlength=k * ng).reshape(k, ng)
    counts = np.bincount(cell, minlength=k * ng).reshape(k, ng).astype(np.float64)
    parts = []
    for w in cluster_weights(k, b, seed):
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append((w @ sums) / (w @ counts))
    reps = np.concatenate(parts)
    lo, hi = np.nanquantile(reps, [(1 - conf) / 2, (1 + conf) / 2], axis=0)
    return lo, hi, np.nanstd(reps, axis=0, ddof=1)


def _group_stats(
    frame: pd.DataFrame,
    keys: list[str],
    conf: float,
    cluster: str | None,
    method: str | None,
    bounds: tuple[float, float] | None,
    b: int,
    seed: int,
) -> pd.DataFrame:
    """n, mean, sd, se, ci_low, ci_high, method, flag (and n_clusters) per group."""
    if not 0 < conf < 1:
        raise ValueError("conf must be in (0, 1)")
    method = method or ("t" if cluster is None else "robust")
    if method not in MEAN_METHODS:
        raise InputError(f"method {method!r}: use one of {', '.join(MEAN_METHODS)}")
    if method == "robust" and cluster is None:
        raise InputError("method 'robust' needs a cluster column (e.g. cluster='author')")
    if cluster is not None:
        frame = frame.dropna(subset=[cluster])
    x = frame["_score"]
    if bounds is not None and len(x) and (x.min() < bounds[0] or x.max() > bounds[1]):
        raise InputError(
            f"scores outside the bounds {bounds} (min {x.min():g}, max {x.max():g}); "
            "pass bounds=None for an unbounded score"
        )
    g = frame.groupby(keys, sort=True, observed=True)["_score"]
    out = g.agg(["count", "mean", "std", "min", "max"]).rename(columns={"count": "n", "std": "sd"})
    out["n"] = out["n"].astype(np.int64)
    n_eff = out["n"].to_numpy(dtype=np.float64)
    if cluster is not None:
        k = frame[cluster].nunique()
        if k < 2:
            raise ValueError(f"{cluster}: need at least 2 clusters (have {k})")
        out["n_clusters"] = frame.groupby(keys, sort=True, observed=True)[cluster].nunique()
        n_eff = out["n_clusters"].to_numpy(dtype=np.float64)
    if method == "t":
        _t_interval(out, conf)
    elif method == "robust":
        out["se"] = _robust_se(frame, keys, cluster, k)
        zq = stats.norm.ppf(0.5 + conf / 2)
        out["ci_low"] = out["mean"].to_numpy() - zq * out["se"].to_numpy()
        out["ci_high"] = out["mean"].to_numpy() + zq * out["se"].to_numpy()
    else:
        lo, hi, se = _bootstrap(frame, keys, cluster, conf, b, seed)
        out["se"], out["ci_low"], out["ci_high"] = se, lo, hi
    flag = np.where(out["n"] < 2, "n < 2", "")
    if cluster is not None:  # one cluster cannot show its own variance
        flag = np.where((flag == "") & (out["n_clusters"] < 2).to_numpy(), "1 cluster", flag)
    undefined = flag != ""
    out.loc[undefined, ["se", "ci_low", "ci_high"]] = np.nan
    if bounds is not None:
        constant = (out["min"] == out["max"]).to_numpy() & (out["n"] >= 2).to_numpy()
        if constant.any():
            clo, chi = _constant_interval(
                out["mean"].to_numpy()[constant], n_eff[constant], conf, *bounds
            )
            out.loc[constant, "ci_low"], out.loc[constant, "ci_high"] = clo, chi
            flag = np.where(constant, "constant", flag)
        low, high = out["ci_low"].to_numpy(), out["ci_high"].to_numpy()
        clipped = (low < bounds[0]) | (high > bounds[1])
        out["ci_low"], out["ci_high"] = np.clip(low, *bounds), np.clip(high, *bounds)
        flag = np.where(clipped & (flag == ""), "clipped", flag)
    boot = "cluster bootstrap" if cluster is not None else "bootstrap"
    out["method"] = {"t": "t", "robust": "cluster-robust", "bootstrap": boot}[method]
    out["flag"] = flag
    cols = ["n", "mean", "sd", "se", "ci_low", "ci_high", "method", "flag"]
    return out[[*cols, *(["n_clusters"] if cluster is not None else [])]]


def group_means_ci(
    df: pd.DataFrame,
    by: str | list[str],
    score: str,
    conf: float = 0.95,
    cluster: str | None = None,
    method: str | None = None,
    bounds: tuple[float, float] | None = (-1.0, 1.0),
    B: int = 2000,
    seed: int = 2026,
    gold: pd.DataFrame | None = None,
    on: str | list[str] = "post_id",
    pi: str = "pi",
) -> pd.DataFrame:
    """Mean score per group with a confidence interval: the t interval, or with
    ``cluster`` (e.g. ``"author"``) a cluster-robust one; with ``gold`` the mean
    corrected for the coder's errors by a human-coded random subsample.

    Scores are +1/0/-1 (string labels are converted with :func:`sentiment_score`).
    ``method``:

    - ``"t"`` (the default without ``cluster``; the original study's interval): for the
      ``n`` scores ``x`` of a group, ``mean +- t_{(1+conf)/2, n-1} s / sqrt(n)`` with
      ``s^2 = sum (x - mean)^2 / (n - 1)``, R ``t.test(x)$conf.int`` (Student 1908).
      Units are taken as independent.
    - ``"robust"`` (the default with ``cluster``): for group ``d`` with mean ``m_d`` over
      its ``n_d`` units and ``K`` clusters in the whole data, ``t_k = sum_{i in k, i in
      d} (x_i - m_d) / n_d`` and ``se_d^2 = K / (K - 1) sum_k t_k^2`` (domain estimation
      in a one-stage cluster sample with replacement; equal to R ``survey::svyby(~x,
      ~d, svydesign(ids = ~cluster), svymean)``); the interval is ``m_d +- z se_d``.
    - ``"bootstrap"``: the percentile interval of the group mean over ``B`` resamples of
      whole clusters (of units without ``cluster``) with replacement (seeded by
      ``seed``; Davison & Hinkley 1997, sec. 3.8); ``se`` is the replicates' sd.  The
      interval stays inside the range of the scores.

    With ``bounds`` (default ``(-1, 1)``, the score's range; ``None`` for an
    unbounded score) no interval leaves the range: a Wald interval that would is
    clipped (``flag = "clipped"``; clipping cannot lose coverage, the truth lies in the
    range), and a group whose scores are all equal (where every method above collapses
    to zero width) gets the exact bound of :func:`_constant_interval` on the share of
    other scores, with ``n_eff`` = the group's clusters (``n`` without ``cluster``),
    ``flag = "constant"``.  A group with ``n = 1`` has NaN sd, se and t interval
    (``flag = "n < 2"``).

    Returns one row per group: ``by..., n, mean, sd, se, ci_low, ci_high, method, flag``
    (and ``n_clusters`` with ``cluster``; rows without a cluster are dropped).

    With ``gold`` (human codes of a random subsample of the units, joined on ``on``;
    column ``pi`` its inclusion probabilities, default a simple random sample) the
    mean is the design-based supervised learning estimate of
    :func:`vsdstats.stats.corrected.corrected_means` (Egami et al. 2023; with a simple
    random gold sample, prediction-powered inference, Angelopoulos et al. 2023):
    ``mean`` and its Wald interval (cluster-robust with ``cluster``; clipped to
    ``bounds``) are corrected, the LLM's labels taken as truth are kept as
    ``naive_mean, naive_ci_low, naive_ci_high``, and ``n_gold`` counts the group's gold
    units (``method`` is ``"DSL"``; ``method`` and ``B`` do not apply).  When the gold
    file also codes ``by``, group membership is corrected too.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1-25.
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*.
    Lumley, T. (2004). Analysis of complex survey samples. *J. Stat. Softw.* 9(8).
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, score] if c not in df.columns]
    if cluster is not None and cluster not in df.columns:
        missing.append(cluster)
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    if gold is not None:
        return _gold_means(df, gold, keys, score, on, cluster, conf, pi, bounds)
    frame = df[keys].assign(_score=_as_score(df[score]))
    if cluster is not None:
        frame[cluster] = df[cluster].to_numpy()
    frame = frame.dropna(subset=[*keys, "_score"])
    return _group_stats(frame, keys, conf, cluster, method, bounds, B, seed).reset_index()


def _gold_means(
    df: pd.DataFrame,
    gold: pd.DataFrame,
    keys: list[str],
    score: str,
    on: str | list[str],
    cluster: str | None,
    conf: float,
    pi: str,
    bounds: tuple[float, float] | None,
) -> pd.DataFrame:
    """:func:`group_means_ci` with a gold sample: DSL means per group of ``keys``
    (several keys are joined into one group label and split again; the groups keep
    the values, and dtypes, of ``df``)."""
    sep = "\x1f"
    key = sep.join(keys)

    def label(frame: pd.DataFrame) -> pd.Series:
        return frame[keys].astype(str).agg(sep.join, axis=1)

    df = df.assign(**{key: label(df)}) if len(keys) > 1 else df
    if len(keys) > 1 and all(k in gold.columns for k in keys):
        gold = gold.assign(**{key: label(gold)})
    res = corrected_means(
        df,
        gold,
        key,
        score,
        on=on,
        cluster=cluster,
        conf=conf,
        pi=pi,
        bounds=bounds if bounds is not None else (-np.inf, np.inf),
    ).rename(columns={"estimate": "mean", "naive": "naive_mean"})
    parts = res[key].str.split(sep, expand=True, regex=False)
    res = res.drop(columns=[key])
    for i, k in enumerate(keys):
        original = dict(zip(df[k].astype(str), df[k], strict=False))
        res.insert(i, k, parts[i].map(original).fillna(parts[i]))
    cols = ["n", "n_gold", "mean", "se", "ci_low", "ci_high", "method", "flag"]
    cols += ["naive_mean", "naive_se", "naive_ci_low", "naive_ci_high"]
    return res[[*keys, *cols]]


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
    cluster: str | None = None,
    method: str | None = None,
    bounds: tuple[float, float] | None = (-1.0, 1.0),
    B: int = 2000,
    seed: int = 2026,
) -> pd.DataFrame:
    """Monthly series of the mean score with a confidence interval.

    Each post is assigned to the calendar month of ``date``.  Tz-aware timestamps are
    converted to UTC first, so the months are UTC months; ISO 8601 strings are parsed,
    and strings with mixed UTC offsets are converted to UTC.  Per month (and per ``by``
    group) the columns ``n, mean, sd, se, ci_low, ci_high, method, flag`` (and
    ``n_clusters``) are those of :func:`group_means_ci` with the month as one more
    grouping key, for the same ``cluster``, ``method`` (t by default, cluster-robust
    with ``cluster``: an author who posts in several months is one cluster across
    them), ``bounds``, ``B`` and ``seed``.

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
    if cluster is not None and cluster not in df.columns:
        missing.append(cluster)
    if missing:
        raise KeyError(f"column(s) not in the data frame: {missing}")
    month, aware = _month_start(df[date])
    frame = df[keys].assign(month=month.to_numpy(), _score=_as_score(df[score]).to_numpy())
    if cluster is not None:
        frame[cluster] = df[cluster].to_numpy()
    frame = frame.dropna(subset=["month", "_score", *keys])
    cols = [*keys, "month", "n", "mean", "sd", "se", "ci_low", "ci_high", "method", "flag"]
    cols += ["n_clusters"] if cluster is not None else []
    if frame.empty:
        return pd.DataFrame(columns=cols)
    stats_ = _group_stats(frame, [*keys, "month"], conf, cluster, method, bounds, B, seed)

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
    stats_["method"] = stats_["method"].ffill().bfill()
    stats_["flag"] = stats_["flag"].where(stats_["n"] > 0, "no posts")
    if cluster is not None:
        stats_["n_clusters"] = stats_["n_clusters"].fillna(0).astype(np.int64)
    out = stats_.reset_index()
    if aware:
        out["month"] = out["month"].dt.tz_localize("UTC")
    return out[cols]
