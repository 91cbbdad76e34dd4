"""The replication corpus: a SYNTHETIC coded corpus calibrated to the study's published
label frequencies, with planted effects written down so tests can check recovery.

The original study's posts and codes are not public; its repository publishes the
frequencies of the extracted labels.  :func:`simulate_corpus` draws a corpus of coded
units whose condition and LLM-family margins match those frequencies and whose
perspective margins follow the published raw perspective labels mapped onto the
codebook (``PERSPECTIVE_MAP``).  By default the corpus has the published number of
condition units, :data:`PUBLISHED_N` = 39,380 (the sum of :data:`CONDITION_COUNTS`),
so its condition counts ARE the published counts; another ``n`` scales them by
largest remainders.  The published LLM-family counts sum to 38,380 (1,000 fewer
units), so they are always scaled to ``n`` by largest remainders.  Everything
else (sentiment, values, platforms, authors, dates) follows the generative model
below, whose parameters :data:`PLANTED` records:

- authors belong to one platform and mostly post about one condition; each author
  has random intercepts on the positive and negative sentiment logits;
- sentiment is multinomial-logit with neutral as reference:
  ``eta_pos = a_pos + cond_pos[c] + llm_pos[l] + plat_pos[p] + u_a`` and
  ``eta_neg = a_neg + cond_neg[c] + plat_neg[p] + e_a``;
- perspective: log weights = log(base count) + condition boost + sentiment boost;
- value: log weights = log(base) + perspective boost (the planted co-occurrences);
  both include the codebook's ``none`` (assumed base counts: the published labels
  give no count for "no perspective" or "no value");
- posts hold 1-3 units of one author and are spread over months 2023-01..2025-12
  with a rising trend;
- llm_version: within the unit's family, drawn with weights :data:`VERSION_COUNTS`
  (the published raw llm_product labels that name a version) among the versions
  already released on the post's date (:func:`version_release_dates`: the later of
  the codebook's ``released`` and a marker of ``analysis/releases.toml`` naming the
  version), else ``unspecified``.  It uses its own random stream, so the other columns
  do not depend on it.

Every code comes from the codebook: the simulator fails (ValueError) rather than emit
a code the codebook lacks, and a code the codebook adds must be given a weight here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.tables.codebook import Codebook, load_codebook

#: Published unit counts per condition (original study's label frequencies).
CONDITION_COUNTS = {
    "general": 10618,
    "adhd": 6569,
    "anxiety": 5730,
    "depressive": 4724,
    "other": 4444,
    "autism": 3165,
    "schizophrenia": 2801,
    "bipolar": 834,
    "eating": 305,
    "conduct": 117,
    "intellectual": 73,
}
#: The published number of condition units: the default size of the corpus.
PUBLISHED_N = sum(CONDITION_COUNTS.values())
#: Published unit counts per LLM family (they sum to 38,380, not PUBLISHED_N).
LLM_COUNTS = {
    "chatgpt": 34681,
    "other": 1508,
    "claude": 1258,
    "gemini": 632,
    "llama": 105,
    "grok": 102,
    "deepseek": 88,
    "qwen": 6,
}
#: The ten most frequent raw perspective labels and their counts, as published.
RAW_PERSPECTIVE_COUNTS = {
    "instrumental support": 13362,
    "emotional support": 6542,
    "informational support": 4632,
    "appraisal support": 2315,
    "misinformation": 1422,
    "addiction": 797,
    "lack of human connection": 677,
    "over-reliance": 615,
    "privacy concern": 399,
    "misdiagnosis": 307,
}
#: How raw labels map onto codebook perspectives.
PERSPECTIVE_MAP = {
    "instrumental support": "instrumental_support",
    "emotional support": "emotional_support",
    "informational support": "informational_support",
    "appraisal support": "appraisal_support",
    "misinformation": "clinical_skepticism",
    "addiction": "dependency",
    "lack of human connection": "interaction_limitations",
    "over-reliance": "dependency",
    "privacy concern": "ethics",
    "misdiagnosis": "clinical_skepticism",
}
#: Assumed base counts for codebook perspectives outside the published top ten.
ASSUMED_PERSPECTIVE_COUNTS = {
    "anthropomorphism": 300,
    "maladaptive_usage": 250,
    "psychological_harm": 280,
    "sociocultural_impact": 220,
    "none": 400,
}
PLATFORM_SHARE = {
    "reddit": 0.45,
    "x": 0.20,
    "youtube": 0.10,
    "tiktok": 0.10,
    "bluesky": 0.10,
    "mastodon": 0.05,
}
VALUE_BASE = {
    "human_welfare": 30,
    "autonomy": 12,
    "trust": 12,
    "calmness": 10,
    "universal_usability": 8,
    "privacy": 5,
    "identity": 5,
    "accountability": 4,
    "informed_consent": 3,
    "freedom_from_bias": 2,
    "ownership_property": 1.5,
    "environmental_sustainability": 0.5,
    "none": 4,
}
#: Units per (family, version) among the published raw llm_product labels (the original
#: study's mappings/llm_product_frequency.json, commit 88d8683), each label matched to a
#: version with codebook 1.1's llm_version terms; labels naming no version are
#: ``unspecified``.  Families absent here get ``unspecified`` only.
VERSION_COUNTS: dict[str, dict[str, int]] = {
    "chatgpt": {
        "unspecified": 33259,
        "gpt_4o": 714,
        "gpt_4": 303,
        "gpt_5": 263,
        "gpt_4_5": 30,
        "o_series": 30,
        "gpt_3_5": 26,
        "gpt_4_1": 5,
    },
    "claude": {
        "unspecified": 1234,
        "claude_4": 27,
        "claude_3_5_sonnet": 25,
        "claude_3": 13,
        "claude_3_7_sonnet": 9,
    },
    "gemini": {"unspecified": 624, "gemini_2_5": 31, "gemini_2_0": 9},
    "grok": {"unspecified": 108, "grok_3": 11, "grok_4": 10},
    "llama": {"unspecified": 66, "llama_3": 25},
    "deepseek": {"unspecified": 80, "deepseek_r1": 5, "deepseek_v3": 3},
    "qwen": {"unspecified": 5, "qwen_3": 1},
}

#: Every planted parameter; written next to the corpus as ``<stem>.planted.json``.
PLANTED: dict = {
    "sentiment_intercepts": {"positive": 0.55, "negative": 0.15},
    "condition_positive": {
        "adhd": 0.6,
        "autism": 0.5,
        "depressive": -0.1,
        "bipolar": -0.4,
        "schizophrenia": -0.5,
    },
    "condition_negative": {"adhd": -0.5, "autism": -0.4, "bipolar": 0.6, "schizophrenia": 0.8},
    "llm_positive": {"claude": 0.3, "grok": -0.4},
    "platform_positive": {"youtube": 0.1, "tiktok": 0.3},
    "platform_negative": {"x": 0.3, "mastodon": 0.4, "bluesky": 0.2},
    "author_sd": {"positive": 0.7, "negative": 0.7},
    "author_primary_condition_share": 0.75,
    "units_per_author": 5,
    "perspective_condition_boost": {
        "adhd": {"instrumental_support": 0.5, "appraisal_support": 0.4},
        "autism": {
            "appraisal_support": 0.6,
            "instrumental_support": 0.3,
            "informational_support": 0.2,
        },
        "schizophrenia": {"psychological_harm": 1.0, "clinical_skepticism": 0.5},
        "bipolar": {"psychological_harm": 0.6, "dependency": 0.3},
        "depressive": {"emotional_support": 0.4},
        "anxiety": {"emotional_support": 0.3, "dependency": 0.3},
    },
    "perspective_sentiment_boost": {
        "negative": {
            "psychological_harm": 1.0,
            "clinical_skepticism": 1.0,
            "dependency": 1.0,
            "interaction_limitations": 1.0,
            "maladaptive_usage": 1.0,
            "ethics": 1.0,
            "emotional_support": -0.7,
            "instrumental_support": -0.7,
            "informational_support": -0.7,
            "appraisal_support": -0.7,
            "none": -0.5,
        },
        "positive": {
            "emotional_support": 0.3,
            "instrumental_support": 0.3,
            "informational_support": 0.3,
            "appraisal_support": 0.3,
            "psychological_harm": -1.0,
            "clinical_skepticism": -1.0,
            "dependency": -1.0,
            "interaction_limitations": -1.0,
            "maladaptive_usage": -1.0,
            "ethics": -1.0,
            "none": -0.5,
        },
    },
    "value_perspective_boost": {
        "none": {"none": 2.0},
        "ethics": {
            "privacy": 2.0,
            "informed_consent": 1.5,
            "ownership_property": 1.5,
            "accountability": 1.0,
        },
        "emotional_support": {"calmness": 0.8, "human_welfare": 0.5},
        "instrumental_support": {"autonomy": 0.8, "universal_usability": 0.6},
        "appraisal_support": {"identity": 1.2, "autonomy": 0.6},
        "informational_support": {"trust": 0.5},
        "clinical_skepticism": {"trust": 1.0, "accountability": 1.0},
        "psychological_harm": {"human_welfare": 0.8, "accountability": 0.8},
        "dependency": {"autonomy": 0.7},
        "anthropomorphism": {"identity": 0.7},
        "sociocultural_impact": {
            "freedom_from_bias": 1.5,
            "universal_usability": 0.5,
            "environmental_sustainability": 1.5,
        },
        "interaction_limitations": {"universal_usability": 0.8, "trust": 0.4},
    },
    "months": ["2023-01", "2025-12"],
    "units_per_post_probs": [0.85, 0.12, 0.03],
}

SIMULATED_COLUMNS = [
    "post_id",
    "unit_index",
    "platform",
    "author",
    "created_at",
    "llm_product",
    "llm_version",
    "sentiment",
    "condition",
    "perspective",
    "value",
    "quote",
    "coder",
    "model",
    "codebook_version",
]


def version_release_dates(codebook: Codebook | None = None) -> dict[str, pd.Timestamp]:
    """First date (UTC) a post may mention each dated llm_version: the later of the
    codebook's ``released`` and the month of a marker in ``analysis/releases.toml``
    whose label is the version's label or one of its terms."""
    from vsdstats.paper.config import load_releases

    cb = load_codebook() if codebook is None else codebook
    markers = {r.label.lower(): r.date for r in load_releases()}
    out = {}
    for c in cb.dimensions["llm_version"].categories:
        if c.released is None:
            continue
        dates = [c.released] + [
            markers[t.lower()] for t in (c.label, *c.terms) if t.lower() in markers
        ]
        out[c.code] = pd.Timestamp(max(dates), tz="UTC")
    return out


def simulate_versions(
    llm: np.ndarray, created_at: pd.Series, codebook: Codebook, rng: np.random.Generator
) -> np.ndarray:
    """llm_version per unit: a version of the unit's family released by ``created_at``
    (weights :data:`VERSION_COUNTS`), else ``unspecified``."""
    released = version_release_dates(codebook)
    t = pd.DatetimeIndex(created_at).asi8
    out = np.full(len(llm), "unspecified", dtype=object)
    for fam, weights in VERSION_COUNTS.items():
        idx = np.flatnonzero(llm == fam)
        if not len(idx):
            continue
        codes = list(weights)
        members = set(codebook.members("llm_version", fam))
        unknown = [c for c in codes if c not in members]
        if unknown:
            raise ValueError(f"VERSION_COUNTS[{fam!r}]: {unknown} not versions of {fam!r}")
        w = np.array([weights[c] for c in codes], dtype=float)
        start = np.array(
            [released[c].value if c in released else np.iinfo(np.int64).min for c in codes]
        )
        avail = t[idx][:, None] >= start[None, :]
        logw = np.where(avail, np.log(w)[None, :], -np.inf)
        out[idx] = np.array(codes, dtype=object)[_choice_rows(rng, logw)]
    return out


def scaled_counts(counts: dict[str, int], n: int) -> dict[str, int]:
    """Scale ``counts`` to total ``n`` by largest remainders (keeps zero for tiny shares)."""
    keys = list(counts)
    w = np.array([counts[k] for k in keys], dtype=float)
    exact = w / w.sum() * n
    base = np.floor(exact).astype(int)
    short = n - base.sum()
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return dict(zip(keys, base.tolist(), strict=True))


def perspective_base_counts() -> dict[str, float]:
    """Codebook perspectives' base counts: published raw labels mapped, plus assumptions."""
    out: dict[str, float] = dict(ASSUMED_PERSPECTIVE_COUNTS)
    for raw, k in RAW_PERSPECTIVE_COUNTS.items():
        code = PERSPECTIVE_MAP[raw]
        out[code] = out.get(code, 0) + k
    return out


def _exact_sample(rng: np.random.Generator, counts: dict[str, int], n: int) -> np.ndarray:
    scaled = scaled_counts(counts, n)
    arr = np.repeat(np.array(list(scaled), dtype=object), list(scaled.values()))
    rng.shuffle(arr)
    return arr


def _choice_rows(rng: np.random.Generator, logw: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (rows x categories) log-weight matrix."""
    p = np.exp(logw - logw.max(axis=1, keepdims=True))
    cum = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1)


def _boost_matrix(
    rows: list[str], cols: list[str], boosts: dict[str, dict[str, float]]
) -> np.ndarray:
    m = np.zeros((len(rows), len(cols)))
    for r, d in boosts.items():
        for c, v in d.items():
            m[rows.index(r), cols.index(c)] = v
    return m


def simulate_corpus(n: int | None = None, seed: int = 2026) -> pd.DataFrame:
    """Draw ``n`` synthetic coded units (columns :data:`SIMULATED_COLUMNS`); ``n=None``
    (default) is :data:`PUBLISHED_N`, the published total, whose condition counts equal
    :data:`CONDITION_COUNTS`."""
    n = PUBLISHED_N if n is None else n
    if n < 100:
        raise ValueError("n must be at least 100")
    rng = np.random.default_rng(seed)
    cb = load_codebook()
    P = PLANTED
    version_rng = np.random.default_rng([seed, 1])  # its own stream (module docstring)

    # conditions and LLM families: exact calibrated margins
    condition = _exact_sample(rng, CONDITION_COUNTS, n)
    llm = _exact_sample(rng, LLM_COUNTS, n)

    # authors: a pool per condition; each author has a home platform
    n_auth = max(n // P["units_per_author"], 20)
    share = P["author_primary_condition_share"]
    conds = list(CONDITION_COUNTS)
    c_idx = np.array([conds.index(c) for c in condition])
    auth_cond = rng.choice(len(conds), size=n_auth, p=np.bincount(c_idx, minlength=len(conds)) / n)
    activity = rng.lognormal(0.0, 1.0, n_auth)
    author = np.full(n, -1, dtype=np.int64)
    use_primary = rng.random(n) < share
    for k in range(len(conds)):
        pool = np.flatnonzero(auth_cond == k)
        sel = (c_idx == k) & use_primary
        if len(pool):
            author[sel] = rng.choice(pool, size=sel.sum(), p=activity[pool] / activity[pool].sum())
    rest = author < 0
    author[rest] = rng.choice(n_auth, size=rest.sum(), p=activity / activity.sum())
    plats = list(PLATFORM_SHARE)
    auth_plat = rng.choice(len(plats), size=n_auth, p=np.array(list(PLATFORM_SHARE.values())))
    plat_idx = auth_plat[author]

    # sentiment: multinomial logit with author random intercepts
    u_pos = rng.normal(0.0, P["author_sd"]["positive"], n_auth)
    u_neg = rng.normal(0.0, P["author_sd"]["negative"], n_auth)

    def lookup(d: dict[str, float], keys: np.ndarray) -> np.ndarray:
        return np.array([d.get(k, 0.0) for k in keys])

    plat_names = np.array(plats, dtype=object)[plat_idx]
    eta_pos = (
        P["sentiment_intercepts"]["positive"]
        + lookup(P["condition_positive"], condition)
        + lookup(P["llm_positive"], llm)
        + lookup(P["platform_positive"], plat_names)
        + u_pos[author]
    )
    eta_neg = (
        P["sentiment_intercepts"]["negative"]
        + lookup(P["condition_negative"], condition)
        + lookup(P["platform_negative"], plat_names)
        + u_neg[author]
    )
    sent_levels = ["positive", "neutral", "negative"]
    s_idx = _choice_rows(rng, np.column_stack([eta_pos, np.zeros(n), eta_neg]))
    sentiment = np.array(sent_levels, dtype=object)[s_idx]

    # perspective
    persp = cb.codes("perspective")
    base = perspective_base_counts()
    logw = np.log(np.array([base[p] for p in persp]))
    cboost = _boost_matrix(conds, persp, P["perspective_condition_boost"])[c_idx]
    sboost = _boost_matrix(sent_levels, persp, P["perspective_sentiment_boost"])[s_idx]
    p_idx = _choice_rows(rng, logw[None, :] + cboost + sboost)
    perspective = np.array(persp, dtype=object)[p_idx]

    # value
    vals = cb.codes("value")
    vlogw = np.log(np.array([VALUE_BASE[v] for v in vals]))
    vboost = _boost_matrix(persp, vals, P["value_perspective_boost"])[p_idx]
    value = np.array(vals, dtype=object)[_choice_rows(rng, vlogw[None, :] + vboost)]

    # posts: consecutive units of one author grouped 1-3 at a time
    order = np.argsort(author, kind="stable")
    sizes = rng.choice([1, 2, 3], size=n, p=P["units_per_post_probs"])
    post_of = np.empty(n, dtype=np.int64)
    unit_index = np.empty(n, dtype=np.int64)
    post = pos = 0
    auth_sorted = author[order]
    while pos < n:
        end = min(pos + sizes[post], n)
        same = np.flatnonzero(auth_sorted[pos:end] != auth_sorted[pos])
        if len(same):
            end = pos + same[0]
        post_of[order[pos:end]] = post
        unit_index[order[pos:end]] = np.arange(end - pos)
        post += 1
        pos = end
    n_posts = post

    months = pd.period_range(*P["months"], freq="M")
    mw = np.linspace(1.0, 3.0, len(months))
    m_idx = rng.choice(len(months), size=n_posts, p=mw / mw.sum())
    starts = months.to_timestamp().tz_localize("UTC").as_unit("ns").asi8[m_idx]
    secs = (rng.random(n_posts) * months.days_in_month[m_idx] * 86400).astype(np.int64)
    post_time = pd.to_datetime(starts + secs * 1_000_000_000, utc=True)

    created_at = post_time[post_of]
    llm_version = simulate_versions(llm, created_at, cb, version_rng)

    labels = {c.code: c.label for c in cb.dimensions["condition"].categories}
    prods = {c.code: c.label for c in cb.dimensions["llm_product"].categories}
    quote = [
        f"synthetic unit {i}: using {prods[l_]} for {labels[c_].lower()} felt {s_}"
        for i, (l_, c_, s_) in enumerate(zip(llm, condition, sentiment, strict=True))
    ]
    df = pd.DataFrame(
        {
            "post_id": [f"sim{p:06d}" for p in post_of],
            "unit_index": unit_index,
            "platform": plat_names,
            "author": [f"a_{a:024x}" for a in author],
            "created_at": created_at,
            "llm_product": llm,
            "llm_version": llm_version,
            "sentiment": sentiment,
            "condition": condition,
            "perspective": perspective,
            "value": value,
            "quote": quote,
            "coder": "simulated",
            "model": f"simulate(seed={seed})",
            "codebook_version": cb.version,
        }
    )
    df = df.sort_values(["post_id", "unit_index"], kind="stable").reset_index(drop=True)
    for dim in cb.unit_fields:
        bad = sorted(set(df[dim]) - set(cb.codes(dim)))
        if bad:  # a weight table above names a code the codebook lacks
            raise ValueError(f"simulated {dim} codes {bad} are not in codebook {cb.version}")
    return df[SIMULATED_COLUMNS]


def planted_effects(n: int, seed: int) -> dict:
    """The planted parameters and calibration targets, as written beside a corpus."""
    return {
        "synthetic": True,
        "note": "Synthetic replication corpus calibrated to the published label "
        "frequencies; not real posts.",
        "n": n,
        "published_n": PUBLISHED_N,
        "seed": seed,
        "condition_counts": scaled_counts(CONDITION_COUNTS, n),
        "llm_counts": scaled_counts(LLM_COUNTS, n),
        "perspective_base_counts": perspective_base_counts(),
        "perspective_map": PERSPECTIVE_MAP,
        "value_base": VALUE_BASE,
        "version_counts": VERSION_COUNTS,
        "platform_share": PLATFORM_SHARE,
        **PLANTED,
    }


def write_corpus(out: str | Path, n: int | None = None, seed: int = 2026) -> tuple[Path, Path]:
    """Simulate and write the corpus plus ``<stem>.planted.json``; returns both paths.
    ``n=None`` is :data:`PUBLISHED_N`."""
    from vsdstats.tables.io import write_table

    n = PUBLISHED_N if n is None else n
    out = Path(out)
    df = simulate_corpus(n, seed)
    write_table(df.assign(created_at=df["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")), out)
    truth = out.with_name(out.stem + ".planted.json")
    truth.write_text(json.dumps(planted_effects(n, seed), indent=2, sort_keys=True) + "\n")
    return out, truth
