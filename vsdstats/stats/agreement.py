"""Agreement between human (gold) and LLM coding.

:func:`agreement` compares one coding (``coded``, e.g. an LLM) against a reference coding
(``gold``, e.g. a human coder) for one or more nominal fields and returns
:class:`AgreementResult` with tidy tables:

* ``summary`` -- one row per field: percent agreement, Cohen's kappa with its asymptotic
  standard error and confidence interval, Krippendorff's alpha (nominal), and counts of
  items coded on one side only.
* ``per_category`` -- precision, recall and F1 of ``coded`` against ``gold`` per category,
  plus macro, micro and support-weighted averages.
* ``confusion`` -- long confusion table (every gold x coded category pair, zeros included).

References
----------
Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
Psychological Measurement*, 20(1), 37-46.

Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of kappa
and weighted kappa. *Psychological Bulletin*, 72(5), 323-327.

Krippendorff, K. (2004). *Content Analysis: An Introduction to Its Methodology* (2nd ed.).
Sage. Chapter 11.

Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication Departmental Papers 43, University of Pennsylvania.

(About 490 lines: the coefficients, their standard errors and the tidy assembly are
one test family; aligning the inputs lives in :mod:`vsdstats.stats._align`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

from vsdstats.stats._align import (
    DEFAULT_FIELDS,
    align_frames,
    align_series,
    field_labels,
    sorted_labels,
)

__all__ = [
    "DEFAULT_FIELDS",
    "MISSING_CATEGORY",
    "RELIABILITY_COLUMNS",
    "AgreementResult",
    "agreement",
    "alpha_bootstrap",
    "fleiss_kappa",
    "krippendorff_alpha",
    "reliability",
]

#: Category used for a missing ``coded`` label when ``missing="category"``.
MISSING_CATEGORY = "(missing)"

#: Labels of the average rows in ``per_category``.
AVERAGE_ROWS = ("(macro)", "(micro)", "(weighted)")

SUMMARY_COLUMNS = [
    "field",
    "n",
    "n_categories",
    "percent_agreement",
    "cohen_kappa",
    "kappa_se",
    "kappa_ci_low",
    "kappa_ci_high",
    "krippendorff_alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "n_gold_only",
    "n_coded_only",
    "note",
]
PER_CATEGORY_COLUMNS = [
    "field",
    "category",
    "support",
    "predicted",
    "tp",
    "precision",
    "recall",
    "f1",
]
CONFUSION_COLUMNS = ["field", "gold", "coded", "n"]


@dataclass
class AgreementResult:
    """Result of :func:`agreement`.

    Attributes
    ----------
    summary
        One row per field (see :func:`agreement` for the columns).
    per_category
        Tidy per-category precision / recall / F1 with ``(macro)``, ``(micro)`` and
        ``(weighted)`` average rows per field.
    confusion
        Long confusion table: field, gold, coded, n (all category pairs, zeros included).
    categories
        Category order used for each field.
    unmatched
        DataFrame input only: the keys present in one frame only (columns ``on`` and
        ``side`` = ``"gold_only"`` / ``"coded_only"``); empty otherwise.
    """

    summary: pd.DataFrame
    per_category: pd.DataFrame
    confusion: pd.DataFrame
    categories: dict[str, list[Any]] = field(default_factory=dict)
    unmatched: pd.DataFrame = field(default_factory=pd.DataFrame)
    conf_level: float = 0.95

    def tidy(self) -> pd.DataFrame:
        """Return :attr:`summary` (one row per field)."""
        return self.summary

    def confusion_table(self, field: str | None = None) -> pd.DataFrame:
        """Wide confusion matrix for ``field``: rows = gold (index), columns = coded.

        ``field`` may be omitted when only one field was compared.
        """
        if field is None:
            if len(self.categories) != 1:
                raise ValueError(
                    f"several fields were compared ({list(self.categories)}); name one"
                )
            field = next(iter(self.categories))
        if field not in self.categories:
            raise KeyError(f"field {field!r} was not compared; fields: {list(self.categories)}")
        cats = self.categories[field]
        sub = self.confusion[self.confusion["field"] == field]
        k = len(cats)
        mat = sub["n"].to_numpy().reshape(k, k) if k else np.zeros((0, 0), dtype=np.int64)
        return pd.DataFrame(
            mat,
            index=pd.Index(cats, name="gold", dtype=object),
            columns=pd.Index(cats, name="coded", dtype=object),
        )


# ---------------------------------------------------------------------------------------
# Coefficients (pure numpy; public only through agreement())
# ---------------------------------------------------------------------------------------


def _cohen_kappa(table: np.ndarray, conf_level: float = 0.95) -> dict[str, float]:
    """Cohen's kappa and its Fleiss-Cohen-Everitt (1969) asymptotic SE from a k x k table.

    With cell proportions p_ij (rows = gold, columns = coded), marginals p_i. and p_.j,
    p_o = sum_i p_ii and p_e = sum_i p_i. p_.i (Cohen 1960)::

        kappa = (p_o - p_e) / (1 - p_e)

    Large-sample variance, *not* assuming kappa = 0 (Fleiss, Cohen & Everitt 1969, eq. 13;
    the ASE of SAS PROC FREQ and ``statsmodels.stats.inter_rater.cohens_kappa``)::

        A = sum_i p_ii [1 - (p_i. + p_.i)(1 - kappa)]^2
        B = (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
        C = [kappa - p_e (1 - kappa)]^2
        Var(kappa) = (A + B - C) / (n (1 - p_e)^2)

    The Wald interval is kappa +/- z_{1 - (1 - conf_level)/2} SE (not truncated to [-1, 1]).
    When Var = 0 -- perfect agreement, or one coding using a single category (then
    kappa = 0 whatever the other does) -- SE and interval are NaN: a zero-width
    interval would claim a certainty the data do not give.
    kappa is undefined (NaN) when n = 0 or p_e = 1, i.e. both codings use one and the same
    single category (0/0); sklearn's ``cohen_kappa_score`` also returns NaN then.
    """
    table = np.asarray(table, dtype=np.int64)
    n = int(table.sum())
    out = {"kappa": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if n == 0:
        return out
    rows = table.sum(axis=1)
    cols = table.sum(axis=0)
    # exact integer arithmetic: kappa = (n tr - sum r_i c_i) / (n^2 - sum r_i c_i)
    agree = int(np.trace(table))
    rc = sum(int(a) * int(b) for a, b in zip(rows, cols, strict=True))
    if rc == n * n:  # p_e == 1: only one category used by both sides
        return out
    p = table / n
    pr = rows / n
    pc = cols / n
    pe = rc / (n * n)
    kappa = (n * agree - rc) / (n * n - rc)
    term_a = float((np.diag(p) * (1.0 - (pr + pc) * (1.0 - kappa)) ** 2).sum())
    w = (pc[:, None] + pr[None, :]) ** 2  # (p_.i + p_j.)^2 for cell (i, j)
    np.fill_diagonal(w, 0.0)
    term_b = (1.0 - kappa) ** 2 * float((p * w).sum())
    term_c = (kappa - pe * (1.0 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (n * (1.0 - pe) ** 2)
    out["kappa"] = kappa
    # perfect agreement (A = 1, B = 0, C = 1) and one coding in one category (kappa = 0
    # by construction) give Var = 0 exactly: no interval, not a zero-width one
    one_sided = int((rows > 0).sum()) == 1 or int((cols > 0).sum()) == 1
    if agree == n or one_sided or var <= 1e-14:
        return out
    se = float(np.sqrt(var))
    z = NormalDist().inv_cdf(1.0 - (1.0 - conf_level) / 2.0)
    out.update(se=se, ci_low=kappa - z * se, ci_high=kappa + z * se)
    return out


def _coincidence_matrix(codes: np.ndarray, k: int) -> np.ndarray:
    """Krippendorff's coincidence matrix from integer codes (coders x units, -1 = missing).

    For unit u with m_u >= 2 values and n_uc values of category c (Krippendorff 2011)::

        o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1)

    Units with fewer than two values are not pairable and contribute nothing.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError("codes must be a 2-D array (coders x units)")
    n_units = codes.shape[1]
    if n_units == 0 or k == 0:
        return np.zeros((k, k))
    unit_idx = np.broadcast_to(np.arange(n_units), codes.shape)
    ok = codes >= 0
    counts = np.zeros((n_units, k))
    np.add.at(counts, (unit_idx[ok], codes[ok]), 1.0)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts = counts[pairable]
    inv = 1.0 / (m[pairable] - 1.0)
    weighted = counts * inv[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def _krippendorff_alpha_nominal(codes: np.ndarray, k: int) -> float:
    """Krippendorff's alpha, nominal metric, from integer codes (coders x units, -1 = missing).

    With the coincidence matrix o_ck, n_c = sum_k o_ck and n = sum_c n_c (pairable values
    only; Krippendorff 2011)::

        alpha = 1 - D_o / D_e = 1 - (n - 1) sum_{c != k} o_ck / sum_{c != k} n_c n_k

    Returns NaN when alpha is undefined: fewer than two pairable values, or all pairable
    values in one category (D_o = D_e = 0; "no variation", Krippendorff 2011). The
    ``krippendorff`` package returns NaN (or raises, if the value domain has one value)
    in that case too.
    """
    o = _coincidence_matrix(codes, k)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    if n < 2:
        return np.nan
    disagree = float(o.sum() - np.trace(o))
    expected = float(n * n - (n_c**2).sum())  # sum_{c != k} n_c n_k
    if expected <= 0:
        return np.nan
    return 1.0 - (n - 1.0) * disagree / expected


def _unit_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """units x k counts of each category among a unit's values (codes: coders x units)."""
    codes = np.asarray(codes)
    n_units = codes.shape[1]
    unit_idx = np.broadcast_to(np.arange(n_units), codes.shape)
    ok = codes >= 0
    counts = np.zeros((n_units, k))
    np.add.at(counts, (unit_idx[ok], codes[ok]), 1.0)
    return counts


def _unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """Per pairable unit, its flattened contribution to the coincidence matrix,
    (n_uc n_uk - [c == k] n_uc) / (m_u - 1) (Krippendorff 2011); units x k^2."""
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    inv = 1.0 / (counts.sum(axis=1) - 1.0)
    outer = counts[:, :, None] * counts[:, None, :]
    k = counts.shape[1]
    outer[:, np.arange(k), np.arange(k)] -= counts
    return (outer * inv[:, None, None]).reshape(len(counts), k * k)


def _alpha_from_coincidence(o: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """alpha = 1 - (n - 1) sum o_ck delta_ck / sum n_c n_k delta_ck for one coincidence
    matrix (k x k) or a stack of them (B x k x k); NaN where D_e = 0 or n < 2."""
    o = np.asarray(o, dtype=float)
    single = o.ndim == 2
    o = o[None] if single else o
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    observed = (o * delta).sum(axis=(1, 2))
    expected = np.einsum("bc,bk,ck->b", n_c, n_c, delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 - (n - 1.0) * observed / expected
    a = np.where((n >= 2) & (expected > 1e-12 * np.maximum(n, 1) ** 2), a, np.nan)
    return a[0] if single else a


def _delta(values: Sequence[Any], level: str) -> np.ndarray:
    """Krippendorff's difference function: nominal 1 - [c == k]; interval (v_c - v_k)^2."""
    k = len(values)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "interval":
        v = np.asarray(values, dtype=float)
        return (v[:, None] - v[None, :]) ** 2
    raise ValueError(f"level must be 'nominal' or 'interval', got {level!r}")


def _encode(data: Any) -> tuple[np.ndarray, list[Any]]:
    """coders x units matrix of values (None / NaN = missing) as integer codes."""
    df = pd.DataFrame(np.asarray(data, dtype=object))
    flat = df.to_numpy().ravel()
    ok = ~pd.isna(flat)
    values = sorted_labels(set(flat[ok]))
    index = {v: i for i, v in enumerate(values)}
    codes = np.full(flat.shape, -1, dtype=np.int64)
    codes[ok] = [index[v] for v in flat[ok]]
    return codes.reshape(df.shape), values


def krippendorff_alpha(data: Any, level: Literal["nominal", "interval"] = "nominal") -> float:
    """Krippendorff's alpha of a coders x units matrix with missing values (None/NaN).

    alpha = 1 - D_o / D_e from the coincidence matrix of pairable values (units with at
    least two values); ``level`` "nominal" (delta = 1 for different categories) or
    "interval" (delta = squared difference of the numeric values, e.g. a sentiment
    score +1/0/-1).  NaN when undefined: fewer than two pairable values, or no
    variation (D_e = 0) (Krippendorff 2011)."""
    codes, values = _encode(data)
    if not values:
        return float("nan")
    k = len(values)
    o = _unit_coincidences(_unit_counts(codes, k)).sum(axis=0).reshape(k, k)
    return float(_alpha_from_coincidence(o, _delta(values, level)))


def alpha_bootstrap(
    data: Any,
    level: Literal["nominal", "interval"] = "nominal",
    *,
    n_boot: int = 1000,
    seed: int = 2026,
    conf_level: float = 0.95,
) -> dict[str, float]:
    """alpha with a percentile bootstrap interval over units (resampling the units of a
    coders x units matrix with replacement, ``n_boot`` times from ``seed``).

    Returns alpha, ci_low, ci_high and n_boot_defined (replicates where alpha is
    defined).  The interval is NaN when alpha is undefined, when fewer than half the
    replicates define it, or when every replicate gives the same value (e.g. perfect
    agreement): a zero-width interval would claim certainty the sample does not give."""
    codes, values = _encode(data)
    if not values:
        nan = float("nan")
        return {"alpha": nan, "ci_low": nan, "ci_high": nan, "n_boot_defined": 0}
    return _boot_codes(codes, _delta(values, level), n_boot, seed, conf_level)


def _boot_codes(
    codes: np.ndarray, delta: np.ndarray, n_boot: int, seed: int, conf_level: float
) -> dict[str, float]:
    """:func:`alpha_bootstrap` on integer codes (coders x units, -1 = missing)."""
    k = len(delta)
    out = {"alpha": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    out["n_boot_defined"] = 0
    contrib = _unit_coincidences(_unit_counts(codes, k)) if k else np.zeros((0, 0))
    u = len(contrib)
    if u == 0:
        return out
    out["alpha"] = float(_alpha_from_coincidence(contrib.sum(axis=0).reshape(k, k), delta))
    if np.isnan(out["alpha"]) or n_boot < 1:
        return out
    # units in a canonical order (by their coincidences), so that the replicates do not
    # depend on the order the units came in
    contrib = contrib[np.lexsort(contrib.T[::-1])]
    rng = np.random.default_rng(seed)
    reps = []
    for start in range(0, n_boot, 250):  # chunks bound the memory: 250 x units
        b = min(250, n_boot - start)
        draws = rng.integers(0, u, size=(b, u)) + (np.arange(b) * u)[:, None]
        weights = np.bincount(draws.ravel(), minlength=b * u).reshape(b, u).astype(float)
        reps.append(_alpha_from_coincidence((weights @ contrib).reshape(b, k, k), delta))
    a = np.concatenate(reps)
    a = a[~np.isnan(a)]
    out["n_boot_defined"] = len(a)
    if len(a) < n_boot / 2 or np.ptp(a) < 1e-12:
        return out
    lo, hi = np.quantile(a, [(1 - conf_level) / 2, 1 - (1 - conf_level) / 2])
    out.update(ci_low=float(lo), ci_high=float(hi))
    return out


def fleiss_kappa(data: Any) -> tuple[float, int]:
    """Fleiss' kappa over the units coded by every coder of a coders x units matrix,
    and how many such units there are.

    With N complete units, k coders, n_ij coders putting unit i in category j:
    p_j = sum_i n_ij / (N k), P_i = (sum_j n_ij^2 - k) / (k (k - 1)),
    kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2) (Fleiss 1971).  NaN with fewer
    than two complete units or a single category (sum p_j^2 = 1)."""
    codes, values = _encode(data)
    complete = (codes >= 0).all(axis=0)
    n_c = int(complete.sum())
    k_coders = codes.shape[0]
    if n_c < 2 or k_coders < 2 or not values:
        return float("nan"), n_c
    counts = _unit_counts(codes[:, complete], len(values))
    p = counts.sum(axis=0) / (n_c * k_coders)
    pe = float((p**2).sum())
    if pe >= 1 - 1e-12:
        return float("nan"), n_c
    pi = ((counts**2).sum(axis=1) - k_coders) / (k_coders * (k_coders - 1))
    return float((pi.mean() - pe) / (1 - pe)), n_c


RELIABILITY_COLUMNS = [
    "field",
    "level",
    "n_coders",
    "n_units",
    "n_values",
    "percent_agreement",
    "krippendorff_alpha",
    "alpha_ci_low",
    "alpha_ci_high",
    "cohen_kappa",
    "fleiss_kappa",
    "n_complete",
    "note",
]


def reliability(
    codes: pd.DataFrame,
    fields: Sequence[str],
    *,
    unit: str = "unit_key",
    coder: str = "coder",
    interval: Mapping[str, Any] | None = None,
    n_boot: int = 1000,
    seed: int = 2026,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Inter-coder reliability of k coders: one row per field (columns
    :data:`RELIABILITY_COLUMNS`).

    ``codes`` is long: one row per (``coder``, ``unit``) with the fields as columns
    (NA = not coded).  Per field: Krippendorff's alpha (nominal) with its bootstrap
    interval (:func:`alpha_bootstrap`); percent agreement = the share of agreeing
    pairs of values within units, over pairable units; Cohen's kappa when there are
    exactly two coders (units both coded); Fleiss' kappa when there are three or more
    (units every coder coded).  ``interval`` maps a field to a function turning its
    labels into numbers (e.g. sentiment -> +1/0/-1): an extra row ``FIELD (score)``
    has interval alpha.  Undefined values are NaN with a note, never 0."""
    rows = []
    coders = sorted_labels(set(codes[coder]))
    specs: list[tuple[str, str, str, Any]] = [(f, f, "nominal", None) for f in fields]
    for f, fn in (interval or {}).items():
        if f in fields:
            specs.append((f"{f} (score)", f, "interval", fn))
    for name, f, level, fn in specs:
        sub = codes[[coder, unit, f]].dropna(subset=[f])
        if fn is not None:
            sub = sub.assign(**{f: fn(sub[f]).to_numpy()})
        if sub.duplicated([coder, unit]).any():
            dup = sub[sub.duplicated([coder, unit])].iloc[0]
            raise ValueError(f"{f}: coder {dup[coder]!r} codes unit {dup[unit]!r} twice")
        wide = sub.pivot(index=coder, columns=unit, values=f).reindex(coders)
        mat = wide.to_numpy(dtype=object)
        boot = alpha_bootstrap(mat, level, n_boot=n_boot, seed=seed, conf_level=conf_level)
        ecodes, values = _encode(mat) if mat.size else (np.zeros((0, 0), int), [])
        counts = _unit_counts(ecodes, len(values)) if values else np.zeros((0, 0))
        m = counts.sum(axis=1) if values else np.zeros(0)
        pair = m >= 2
        agree = (counts[pair] * (counts[pair] - 1)).sum(axis=1) / (m[pair] * (m[pair] - 1))
        pct = 100.0 * float(agree.mean()) if pair.any() else np.nan
        ck = np.nan
        if len(coders) == 2 and level == "nominal" and values:
            both = (ecodes >= 0).all(axis=0)
            k = len(values)
            tab = np.bincount(ecodes[0, both] * k + ecodes[1, both], minlength=k * k).reshape(k, k)
            ck = _cohen_kappa(tab, conf_level)["kappa"]
        fk, n_complete = fleiss_kappa(mat) if mat.size else (np.nan, 0)
        if len(coders) < 3 or level != "nominal":
            fk = np.nan
        notes = []
        if not pair.any():
            notes.append("no unit coded by two coders: alpha and kappas undefined (NaN)")
        elif np.isnan(boot["alpha"]):
            notes.append("no variation in the pairable values: alpha undefined (0/0)")
        elif np.isnan(boot["ci_low"]):
            notes.append(
                f"bootstrap interval undefined ({boot['n_boot_defined']} of {n_boot} "
                "replicates define alpha, or all give the same value)"
            )
        rows.append(
            {
                "field": name,
                "level": level,
                "n_coders": len(coders),
                "n_units": int(pair.sum()),
                "n_values": int(m[pair].sum()),
                "percent_agreement": pct,
                "krippendorff_alpha": boot["alpha"],
                "alpha_ci_low": boot["ci_low"],
                "alpha_ci_high": boot["ci_high"],
                "cohen_kappa": ck,
                "fleiss_kappa": fk,
                "n_complete": n_complete if len(coders) >= 3 else int(pair.sum()),
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def _per_category(table: np.ndarray, cats: list[Any], fld: str) -> pd.DataFrame:
    """Per-category precision/recall/F1 of coded (columns) vs gold (rows), plus averages.

    precision_c = tp_c / predicted_c, recall_c = tp_c / support_c,
    F1_c = 2 tp_c / (support_c + predicted_c). A 0/0 ratio is set to 0.0, as sklearn's
    ``precision_recall_fscore_support(..., zero_division=0)``. Averages: ``(macro)`` =
    unweighted mean over all categories (including ones with zero support);
    ``(micro)`` = pooled counts (= accuracy for single-label data); ``(weighted)`` = mean
    weighted by support.  With no compared items (n = 0) every precision, recall and F1
    is undefined and NaN (not 0: nothing was right or wrong).
    """
    table = np.asarray(table, dtype=np.int64)
    support = table.sum(axis=1)
    predicted = table.sum(axis=0)
    tp = np.diag(table).copy()

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        num = np.asarray(num, dtype=float)
        den = np.asarray(den, dtype=float)
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    precision = ratio(tp, predicted)
    recall = ratio(tp, support)
    f1 = ratio(2 * tp, support + predicted)
    n = int(table.sum())
    ttp = int(tp.sum())
    micro = float(ratio(np.array([ttp]), np.array([n]))[0])
    k = len(cats)
    if k:
        macro = (precision.mean(), recall.mean(), f1.mean())
    else:
        macro = (0.0, 0.0, 0.0)
    if n > 0:
        wts = support / n
        weighted = ((precision * wts).sum(), (recall * wts).sum(), (f1 * wts).sum())
    else:
        weighted = (0.0, 0.0, 0.0)
    if n == 0:
        nan = np.full(len(cats), np.nan)
        precision, recall, f1 = nan, nan.copy(), nan.copy()
        micro, macro, weighted = np.nan, (np.nan,) * 3, (np.nan,) * 3
    rows = pd.DataFrame(
        {
            "field": fld,
            "category": pd.Series(list(cats), dtype=object),
            "support": support,
            "predicted": predicted,
            "tp": tp,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )
    avg = pd.DataFrame(
        {
            "field": fld,
            "category": pd.Series(list(AVERAGE_ROWS), dtype=object),
            "support": n,
            "predicted": n,
            "tp": ttp,
            "precision": [macro[0], micro, weighted[0]],
            "recall": [macro[1], micro, weighted[1]],
            "f1": [macro[2], micro, weighted[2]],
        }
    )
    return pd.concat([rows, avg], ignore_index=True)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def agreement(
    gold: Any,
    coded: Any,
    on: str = "post_id",
    fields: Sequence[str] | str | None = None,
    labels: Sequence[Any] | Mapping[str, Sequence[Any]] | None = None,
    missing: Literal["exclude", "category"] = "exclude",
    conf_level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 2026,
) -> AgreementResult:
    """Agreement of ``coded`` labels (e.g. an LLM) with ``gold`` labels (human coders).

    Parameters
    ----------
    gold, coded
        Either two label vectors (pandas Series or array-likes; one label per item, NA =
        missing rating) or two tidy DataFrames with one row per item. Two Series are
        aligned on their index (items in one index only are counted as one-sided); other
        array-likes are aligned by position and must have equal length. The field name is
        the Series' name, else ``"label"``.
    on
        Join column for DataFrame input (an outer join; keys must be unique and non-NA).
    fields
        Fields to compare (DataFrame input). Default: those of ``DEFAULT_FIELDS``
        (sentiment, condition, perspective, value, llm_product, relevant) in both frames.
    labels
        Category set and order (e.g. from the codebook): one sequence for all fields or a
        mapping field -> sequence. A label outside it raises ``ValueError``. Default: the
        sorted union of the gold and coded labels of the compared items (labels that occur
        only on unpaired items are left out, so that, e.g., macro averages equal sklearn's
        on the compared items).
    missing
        ``"exclude"`` (default): only items labelled on both sides are compared.
        ``"category"``: a gold-labelled item without a coded label is compared as the
        coded category ``"(missing)"`` (so it is in ``n`` and counts as a disagreement).
    conf_level
        Confidence level of the kappa and alpha intervals.
    n_boot, seed
        Bootstrap replicates over items for alpha's percentile interval, and their seed.

    Returns
    -------
    AgreementResult
        ``summary`` columns: field; n (items compared); n_categories (size of the category
        set, incl. ``"(missing)"`` when used); percent_agreement (100 p_o);
        cohen_kappa (Cohen 1960); kappa_se, kappa_ci_low, kappa_ci_high (Fleiss, Cohen &
        Everitt 1969 large-sample SE, non-null variance, Wald interval); krippendorff_alpha
        (nominal, two coders, from the coincidence matrix of pairable values -- with two
        coders, items coded on one side only are unpairable, so alpha uses the same items
        as kappa; Krippendorff 2011); alpha_ci_low, alpha_ci_high (percentile bootstrap
        over items, :func:`alpha_bootstrap`); n_gold_only / n_coded_only (items with a label on
        that side only for this field: rows missing from the other frame or NA there; in
        ``missing="category"`` mode the gold-only items are also included in n); note
        (why a coefficient is NaN, else "").

    Notes
    -----
    Undefined coefficients are NaN, never an error: with no compared items everything is
    NaN; when both codings use only one and the same category, p_e = 1 and kappa = 0/0
    (sklearn gives NaN too), and Krippendorff's alpha has D_o = D_e = 0 and is likewise
    reported as NaN (the ``krippendorff`` package returns NaN or raises). Percent agreement
    is still reported (100).
    """
    if missing not in ("exclude", "category"):
        raise ValueError(f"missing must be 'exclude' or 'category', got {missing!r}")
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    g_df = isinstance(gold, pd.DataFrame)
    c_df = isinstance(coded, pd.DataFrame)
    if g_df != c_df:
        raise TypeError("gold and coded must both be DataFrames or both be label vectors")
    if g_df:
        joined, flds, unmatched = align_frames(gold, coded, on, fields)
    else:
        joined, fld, unmatched = align_series(gold, coded)
        flds = [fld]

    summaries: list[dict[str, Any]] = []
    per_cat: list[pd.DataFrame] = []
    confusion: list[pd.DataFrame] = []
    categories: dict[str, list[Any]] = {}
    for fld in flds:
        gv = joined[("gold", fld)]
        cv = joined[("coded", fld)]
        g_ok = ~gv.isna().to_numpy()
        c_ok = ~cv.isna().to_numpy()
        n_gold_only = int((g_ok & ~c_ok).sum())
        n_coded_only = int((c_ok & ~g_ok).sum())

        fixed = field_labels(labels, fld)
        seen_g = set(gv[g_ok])
        seen_c = set(cv[c_ok])
        # default category set: labels of the items that enter the comparison
        cmp_g = g_ok if missing == "category" else g_ok & c_ok
        used = set(gv[cmp_g]) | set(cv[g_ok & c_ok])
        if fixed is not None:
            allowed = set(fixed)
            for side, seen in (("gold", seen_g), ("coded", seen_c)):
                bad = seen - allowed
                if bad:
                    lab = sorted_labels(bad)[0]
                    raise ValueError(
                        f"field {fld!r}: {side} label {lab!r} is not in labels {fixed!r}"
                    )
            cats = list(fixed)
        else:
            cats = sorted_labels(used)
        use_missing_cat = missing == "category" and n_gold_only > 0
        if use_missing_cat and MISSING_CATEGORY not in cats:
            cats.append(MISSING_CATEGORY)
        categories[fld] = cats
        k = len(cats)
        index = {lab: i for i, lab in enumerate(cats)}

        g_codes = np.full(len(gv), -1, dtype=np.int64)
        c_codes = np.full(len(cv), -1, dtype=np.int64)
        # labels only on unpaired items may be outside cats: code them -1 (not compared)
        g_codes[g_ok] = [index.get(v, -1) for v in gv[g_ok]]
        c_codes[c_ok] = [index.get(v, -1) for v in cv[c_ok]]
        if use_missing_cat:
            c_codes[g_ok & ~c_ok] = index[MISSING_CATEGORY]
        both = (g_codes >= 0) & (c_codes >= 0)
        n = int(both.sum())
        table = np.bincount(g_codes[both] * k + c_codes[both], minlength=k * k).reshape(k, k)

        kap = _cohen_kappa(table, conf_level)
        boot = _boot_codes(
            np.vstack([g_codes, c_codes]), _delta(cats, "nominal"), n_boot, seed, conf_level
        )
        alpha = boot["alpha"]
        if n == 0:
            note = (
                "no items labelled on both sides: kappa, alpha, precision, recall and F1 "
                "are undefined (NaN)"
            )
        elif np.isnan(kap["kappa"]):
            note = "only one category used by both codings: kappa and alpha undefined (0/0)"
        elif np.isnan(kap["se"]) and np.trace(table) == n:
            note = "perfect agreement: the large-sample SE is 0, no kappa interval"
        elif np.isnan(kap["se"]):
            note = (
                "one coding uses a single category: kappa is 0 by construction and has no interval"
            )
        else:
            note = ""
        if n and not np.isnan(alpha) and np.isnan(boot["ci_low"]):
            note = "; ".join(
                filter(None, [note, "bootstrap interval of alpha undefined (no variation)"])
            )
        summaries.append(
            {
                "field": fld,
                "n": n,
                "n_categories": k,
                "percent_agreement": 100.0 * np.trace(table) / n if n else np.nan,
                "cohen_kappa": kap["kappa"],
                "kappa_se": kap["se"],
                "kappa_ci_low": kap["ci_low"],
                "kappa_ci_high": kap["ci_high"],
                "krippendorff_alpha": alpha,
                "alpha_ci_low": boot["ci_low"],
                "alpha_ci_high": boot["ci_high"],
                "n_gold_only": n_gold_only,
                "n_coded_only": n_coded_only,
                "note": note,
            }
        )
        per_cat.append(_per_category(table, cats, fld))
        gi, ci = np.divmod(np.arange(k * k), k)
        confusion.append(
            pd.DataFrame(
                {
                    "field": fld,
                    "gold": pd.Series([cats[i] for i in gi], dtype=object),
                    "coded": pd.Series([cats[j] for j in ci], dtype=object),
                    "n": table.ravel().astype(np.int64),
                }
            )
        )

    summary = pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)
    summary = summary.astype({"n": "int64", "n_categories": "int64"})
    per_category = pd.concat(per_cat, ignore_index=True)[PER_CATEGORY_COLUMNS]
    per_category = per_category.astype({"support": "int64", "predicted": "int64", "tp": "int64"})
    conf = pd.concat(confusion, ignore_index=True)[CONFUSION_COLUMNS]
    return AgreementResult(
        summary=summary,
        per_category=per_category,
        confusion=conf,
        categories=categories,
        unmatched=unmatched,
        conf_level=conf_level,
    )
