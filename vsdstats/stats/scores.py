"""Sentiment labels as scores, and the interval for a group whose scores are all
equal (shared by the means and the gold-corrected estimates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["sentiment_score"]

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


def _constant_interval(
    value: np.ndarray, n_eff: np.ndarray, conf: float, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval for a group whose scores are all ``value``: with ``n_eff`` independent
    draws none of which had another score, the share ``q`` of other scores is at most
    ``1 - ((1 - conf) / 2) ** (1 / n_eff)`` (exact Clopper-Pearson bound for 0
    events), so the mean lies in ``[value - q (value - lo), value + q (hi - value)]``."""
    q = 1.0 - ((1.0 - conf) / 2.0) ** (1.0 / n_eff)
    return value - q * (value - lo), value + q * (hi - value)
