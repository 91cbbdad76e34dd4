"""Matching the units of a post between two codings before their labels are compared.

A post yields 0..n units (reported uses), and two codings need not split it alike.
Within each post the units are paired one to one, maximising (Hungarian algorithm,
:func:`scipy.optimize.linear_sum_assignment`)::

    score(g, c) = 2 [same condition and llm_product] + token_F1(quote_g, quote_c)
                  - 1e-6 |position_g - position_c|

so units naming the same condition and product pair first, then units whose quotes
overlap, then units in order (the small last term only breaks ties).  Of a post with
m gold and k coded units, min(m, k) pairs are formed and |m - k| units stay
unmatched (a label on one side only).  Matching on condition and product means that
their agreement on multi-unit posts is an upper bound; unit-count agreement and the
quote overlap are reported beside it (:func:`unit_summary`).

Quote overlap: token F1 = 2 |common tokens| / (|tokens_g| + |tokens_c|) over lowercased
word tokens counted with multiplicity (as in SQuAD's F1), and the exact-span rate =
share of matched pairs whose quotes are equal after lowercasing and collapsing white
space.  Both over matched pairs with a quote on both sides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

MATCH_KEYS = ("condition", "llm_product")
_TOKEN = re.compile(r"\w+", re.UNICODE)


def _text(v: object) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def tokens(s: str) -> list[str]:
    return _TOKEN.findall(s.lower())


def token_f1(a: object, b: object) -> float:
    """Token F1 of two quotes (NaN when either is missing or has no tokens)."""
    a, b = _text(a), _text(b)
    if a is None or b is None:
        return float("nan")
    ta, tb = Counter(tokens(a)), Counter(tokens(b))
    na, nb = sum(ta.values()), sum(tb.values())
    if not na or not nb:
        return float("nan")
    return 2.0 * sum((ta & tb).values()) / (na + nb)


def exact_span(a: object, b: object) -> float:
    """1.0 when the quotes are equal up to case and white space, 0.0 if not, NaN if one
    is missing."""
    a, b = _text(a), _text(b)
    if a is None or b is None:
        return float("nan")
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    return float(norm(a) == norm(b))


def _ordered(df: pd.DataFrame, on: str) -> pd.DataFrame:
    d = df.assign(_row=np.arange(len(df)))
    keys = [on, "unit_index", "_row"] if "unit_index" in d.columns else [on, "_row"]
    d = d.sort_values(keys, kind="stable")
    d["_pos"] = d.groupby(on, sort=False).cumcount()
    return d


def match_units(
    gold: pd.DataFrame, coded: pd.DataFrame, on: str = "post_id", ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pairs of units per post (module docstring): one row per pair or unmatched unit
    with ``on``, ``gold_row`` / ``coded_row`` (positions in the inputs, -1 = none),
    ``match`` ("condition+product", "quote", "order", "gold only", "coded only"),
    ``quote_f1`` and ``exact_span``.  ``ids`` limits the posts (default: all)."""
    keys = [k for k in MATCH_KEYS if k in gold.columns and k in coded.columns]
    g = _ordered(gold, on)
    c = _ordered(coded, on)
    posts = list(dict.fromkeys(ids)) if ids is not None else sorted(set(g[on]) | set(c[on]))
    gg = dict(tuple(g.groupby(on, sort=False)))
    cg = dict(tuple(c.groupby(on, sort=False)))
    empty = g.iloc[0:0]
    out = []
    for pid in posts:
        a = gg.get(pid, empty)
        b = cg.get(pid, c.iloc[0:0])
        m, k = len(a), len(b)
        if m and k:
            same = np.ones((m, k), dtype=bool) if keys else np.zeros((m, k), dtype=bool)
            for key in keys:
                av = a[key].astype(object).to_numpy()[:, None]
                bv = b[key].astype(object).to_numpy()[None, :]
                same &= (av == bv) & ~pd.isna(av) & ~pd.isna(bv)
            qa = a["quote"].tolist() if "quote" in a.columns else [None] * m
            qb = b["quote"].tolist() if "quote" in b.columns else [None] * k
            f1 = np.array([[token_f1(x, y) for y in qb] for x in qa]).reshape(m, k)
            pos = np.abs(a["_pos"].to_numpy()[:, None] - b["_pos"].to_numpy()[None, :])
            score = 2.0 * same + np.nan_to_num(f1) - 1e-6 * pos
            ri, ci = linear_sum_assignment(score, maximize=True)
        else:
            ri = ci = np.array([], dtype=int)
            same = f1 = np.zeros((m, k))
            qa = qb = []
        for i, j in zip(ri, ci, strict=True):
            kind = "condition+product" if same[i, j] else ("quote" if f1[i, j] > 0 else "order")
            out.append(
                (
                    pid,
                    int(a["_row"].iloc[i]),
                    int(b["_row"].iloc[j]),
                    kind,
                    f1[i, j],
                    exact_span(qa[i], qb[j]),
                )
            )
        for i in sorted(set(range(m)) - set(ri)):
            out.append((pid, int(a["_row"].iloc[i]), -1, "gold only", np.nan, np.nan))
        for j in sorted(set(range(k)) - set(ci)):
            out.append((pid, -1, int(b["_row"].iloc[j]), "coded only", np.nan, np.nan))
    cols = [on, "gold_row", "coded_row", "match", "quote_f1", "exact_span"]
    return pd.DataFrame(out, columns=cols)


def paired_frames(
    gold: pd.DataFrame, coded: pd.DataFrame, pairs: pd.DataFrame, fields: list[str], on: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gold and coded labels of each pair (``item`` = post#pair number), NA on the side
    of an unmatched unit: what :func:`vsdstats.stats.agreement.agreement` compares."""
    item = pairs[on].astype(str) + "#" + pairs.groupby(on, sort=False).cumcount().astype(str)

    def side(df: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
        vals = df[fields].reset_index(drop=True).astype(object)
        r = rows.to_numpy()
        cols = {f: [vals.at[i, f] if i >= 0 else None for i in r] for f in fields}
        return pd.DataFrame({"item": item.to_numpy(), **cols})

    return side(gold, pairs["gold_row"]), side(coded, pairs["coded_row"])


UNIT_SUMMARY_COLUMNS = ["measure", "value", "n", "note"]


def unit_summary(pairs: pd.DataFrame, on: str = "post_id") -> pd.DataFrame:
    """Unit-level agreement: units per side, matched and unmatched units, how pairs were
    matched, posts with the same number of units, Krippendorff's alpha (interval) of
    the unit counts, mean quote token F1 and exact-span rate."""
    from vsdstats.stats.agreement import krippendorff_alpha

    n_g = pairs.groupby(on)["gold_row"].apply(lambda s: int((s >= 0).sum()))
    n_c = pairs.groupby(on)["coded_row"].apply(lambda s: int((s >= 0).sum()))
    matched = pairs[(pairs["gold_row"] >= 0) & (pairs["coded_row"] >= 0)]
    f1 = matched["quote_f1"].dropna()
    ex = matched["exact_span"].dropna()
    counts_alpha = krippendorff_alpha(np.vstack([n_g.to_numpy(), n_c.to_numpy()]), "interval")
    rows = [
        ("gold units", int(n_g.sum()), len(n_g), ""),
        ("coded units", int(n_c.sum()), len(n_c), ""),
        ("matched pairs", len(matched), len(matched), ""),
        ("gold units unmatched", int((pairs["match"] == "gold only").sum()), len(n_g), ""),
        ("coded units unmatched", int((pairs["match"] == "coded only").sum()), len(n_c), ""),
    ]
    for kind in ("condition+product", "quote", "order"):
        rows.append(
            (f"pairs matched by {kind}", int((matched["match"] == kind).sum()), len(matched), "")
        )
    same = float((n_g == n_c).mean()) if len(n_g) else np.nan
    rows += [
        (
            "posts with the same number of units (share)",
            same,
            len(n_g),
            "" if len(n_g) else "no posts",
        ),
        (
            "unit-count alpha (interval)",
            counts_alpha,
            len(n_g),
            "no variation in unit counts: undefined" if np.isnan(counts_alpha) and len(n_g) else "",
        ),
        (
            "quote token F1 (mean over matched pairs)",
            float(f1.mean()) if len(f1) else np.nan,
            len(f1),
            "" if len(f1) else "no matched pair has a quote on both sides",
        ),
        (
            "quote exact-span rate",
            float(ex.mean()) if len(ex) else np.nan,
            len(ex),
            "" if len(ex) else "no matched pair has a quote on both sides",
        ),
    ]
    return pd.DataFrame(rows, columns=UNIT_SUMMARY_COLUMNS)
