"""Simulated study data for the calibration checks.

:func:`clustered_units` is the issue-10 scenario: ``n`` posts from ``n_authors``
authors on ``n_platforms`` platforms.  Authors post at Gamma(1)-distributed rates (a
few write many posts), write a share ``stick`` of their posts about one "home"
condition (the rest at random), and carry their own sentiment tendency: per-category
logit effects ~ N(0, ``author_sd``^2), plus platform effects ~ N(0, ``platform_sd``^2).
Sentiment does not depend on condition unless ``effect`` is given (a logit shift of
"negative" in the first condition, for power).  With ``author_sd = platform_sd = stick
= 0`` and one post per author it is an unclustered null.

:func:`llm_coder` relabels the true sentiment with an error rate that depends on the
condition (so naive estimates of group means and proportions are biased), and
:func:`gold_sample` draws the simple random subsample a human team would code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CONDITIONS",
    "SENTIMENTS",
    "clustered_units",
    "gold_sample",
    "llm_coder",
    "true_probs",
]

CONDITIONS = ("general", "depression", "anxiety", "stress", "loneliness", "adhd")
#: condition shares (small conditions on purpose: they are where naive tests go wrong)
CONDITION_P = (0.35, 0.25, 0.18, 0.12, 0.06, 0.04)
SENTIMENTS = ("negative", "neutral", "positive")
_BASE_LOGITS = np.array([0.2, 0.0, -0.1])
_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def authors_and_conditions(
    rng: np.random.Generator, n: int, n_authors: int, stick: float
) -> tuple[np.ndarray, np.ndarray]:
    """Author and condition codes of ``n`` units: authors post at Gamma(1)-distributed
    rates and write a share ``stick`` of their units about a "home" condition (drawn
    with :data:`CONDITION_P`), the rest at random."""
    k = len(CONDITIONS)
    rate = rng.gamma(1.0, 1.0, n_authors)
    author = rng.choice(n_authors, n, p=rate / rate.sum())
    home = rng.choice(k, n_authors, p=CONDITION_P)
    own = rng.random(n) < stick
    condition = np.where(own, home[author], rng.choice(k, n, p=CONDITION_P))
    return author, condition


def clustered_units(
    rng: np.random.Generator,
    n: int = 4000,
    n_authors: int = 800,
    n_platforms: int = 6,
    author_sd: float = 0.7,
    platform_sd: float = 0.3,
    stick: float = 0.75,
    effect: float = 0.0,
    months: int = 24,
) -> pd.DataFrame:
    """Posts with ``post_id, author, platform, condition, sentiment, score, date``."""
    author, condition = authors_and_conditions(rng, n, n_authors, stick)
    platform_of = rng.integers(0, n_platforms, n_authors)
    u_author = rng.normal(0.0, author_sd, (n_authors, 3))
    u_platform = rng.normal(0.0, platform_sd, (n_platforms, 3))
    eta = _BASE_LOGITS + u_author[author] + u_platform[platform_of[author]]
    eta[:, 0] += effect * (condition == 0)
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    s = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    sentiment = np.asarray(SENTIMENTS)[s]
    start = np.datetime64("2023-01-01")
    date = start + rng.integers(0, months * 30, n).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n)],
            "author": [f"a{a}" for a in author],
            "platform": [f"pl{platform_of[a]}" for a in author],
            "condition": np.asarray(CONDITIONS)[condition],
            "sentiment": sentiment,
            "score": [_SCORE[x] for x in sentiment],
            "date": pd.to_datetime(date),
        }
    )


def true_probs(author_sd: float, draws: int = 2_000_000, seed: int = 1) -> np.ndarray:
    """Population shares of (negative, neutral, positive) in :func:`clustered_units`
    without a condition effect and with platform SD 0: ``E_u[softmax(base + u)]``,
    ``u ~ N(0, author_sd^2 I_3)``, by Monte Carlo (error below 0.001 at 2 million
    draws)."""
    rng = np.random.default_rng(seed)
    eta = _BASE_LOGITS + rng.normal(0.0, author_sd, (draws, 3))
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p.mean(axis=0)


def unclustered_units(rng: np.random.Generator, n: int = 4000, **kw) -> pd.DataFrame:
    """The same scenario with independent posts (one per author, no author, platform or
    condition tendency): the textbook null."""
    kw = {"author_sd": 0.0, "platform_sd": 0.0, "stick": 0.0, **kw}
    units = clustered_units(rng, n=n, n_authors=n, **kw)
    return units.assign(author=[f"u{i}" for i in range(n)])


def llm_coder(
    units: pd.DataFrame,
    rng: np.random.Generator,
    column: str = "sentiment",
    error: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Add ``llm_<column>`` (and ``llm_score`` for sentiment): the true label, except
    that with probability ``error[condition]`` a negative post is coded neutral and a
    neutral one positive (an LLM that softens distress more in some conditions).
    Default error: 0.05 in "general" rising to 0.45 in the smallest condition."""
    if error is None:
        error = dict(zip(CONDITIONS, np.linspace(0.05, 0.45, len(CONDITIONS)), strict=True))
    e = units["condition"].map(error).to_numpy(dtype=float)
    flip = rng.random(len(units)) < e
    true = units[column].to_numpy()
    shifted = np.where(true == "negative", "neutral", np.where(true == "neutral", "positive", true))
    llm = np.where(flip, shifted, true)
    out = units.assign(**{f"llm_{column}": llm})
    if column == "sentiment":
        out["llm_score"] = [_SCORE[x] for x in llm]
    return out


def gold_sample(units: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A simple random sample of ``n`` posts (inclusion probability ``n / N``, in
    ``pi``) to be coded by humans: ``post_id``, the true labels and ``pi``."""
    idx = rng.choice(len(units), size=n, replace=False)
    gold = units.iloc[np.sort(idx)].copy()
    gold["pi"] = n / len(units)
    return gold
