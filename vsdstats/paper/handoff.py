"""The hand-off files for the R figure scripts (paper/handoff/, see analysis/README.md).

Every file is UTF-8 CSV with a header, ``NA`` for missing values, floats as ``%.17g``,
logicals as TRUE/FALSE, dates as YYYY-MM-DD, "\\n" line endings and deterministic row
order; ``schema.json`` maps each file to its ordered {column: R type}.  These files are
published with the tables (paper/handoff/), so the values of the rows they hide are blank
(:func:`blank_hidden`, :data:`HIDDEN_VALUES`); alluvial.csv's flows (combinations of four
codes) are the exception: flows under K are kept, inside strata of K or more.  What a figure may show
is decided here, by the tables' small-cell rule (:class:`vsdstats.paper.tables.CountMasks`,
:mod:`vsdstats.paper.suppress`, ``--min-cell`` K), and handed to R as columns:

- ``groups.csv``: every LLM family, condition, platform, sentiment, perspective and value
  with its units, ``n_shown`` (table 1's text: digits, ``<K`` or ``suppressed``) and
  ``suppressed`` (1 <= units < K): such a group is drawn in no figure;
- ``suppressed`` (logical) in means.csv, monthly.csv, alluvial.csv and glmm.csv: the row
  is not drawn (a group or stratum under K); ``n_hidden`` in monthly.csv, pmi.csv,
  delta_pmi.csv, fingerprint.csv and logodds.csv: the row's count is hidden (primary or
  complementary suppression), so the figure draws it as "suppressed" (grey, no number)
  or leaves it out; ``n_shown`` in means.csv: the N that table 5 prints;
- ``run.csv``: ``synthetic`` (the corpus is simulated: every figure says so) and
  ``min_cell``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.paper.analyses import LUMPED, Analyses, order_key
from vsdstats.paper.config import Release
from vsdstats.paper.suppress import shown, small, suppress_grid, suppress_mask
from vsdstats.paper.tables import CountMasks, means_shown
from vsdstats.tables.codebook import Codebook

#: file -> ordered {column: R type}; the contract shared with R/figures.R.
SCHEMA: dict[str, dict[str, str]] = {
    "labels.csv": {
        "dimension": "character",
        "code": "character",
        "label": "character",
        "order": "integer",
    },
    "residuals.csv": {
        "test": "character",
        "row_var": "character",
        "col_var": "character",
        "row": "character",
        "col": "character",
        "observed": "integer",
        "expected": "double",
        "pearson_residual": "double",
        "adjusted_residual": "double",
        "p_value_adj": "double",
        "significant": "logical",
        "z": "double",
        "deff": "double",
        "p_value_adj_naive": "double",
        "residual_method": "character",
        "n_hidden": "logical",
    },
    "pmi.csv": {
        "value": "character",
        "perspective": "character",
        "n": "integer",
        "pmi": "double",
        "npmi": "double",
        "n_hidden": "logical",
    },
    "delta_pmi.csv": {
        "condition": "character",
        "value": "character",
        "perspective": "character",
        "n_in": "integer",
        "n_out": "integer",
        "delta_pmi": "double",
        "supported": "logical",
        "null_mean": "double",
        "delta_pmi_centered": "double",
        "p_value": "double",
        "p_value_adj": "double",
        "n_hidden": "logical",
    },
    "means.csv": {
        "by": "character",
        "group": "character",
        "n": "integer",
        "mean": "double",
        "ci_low": "double",
        "ci_high": "double",
        "method": "character",
        "flag": "character",
        "ci_low_naive": "double",
        "ci_high_naive": "double",
        "n_shown": "character",
        "suppressed": "logical",
    },
    "monthly.csv": {
        "month": "Date",
        "n": "integer",
        "mean": "double",
        "ci_low": "double",
        "ci_high": "double",
        "method": "character",
        "flag": "character",
        "ci_low_naive": "double",
        "ci_high_naive": "double",
        "suppressed": "logical",
        "n_hidden": "logical",
    },
    "monthly_conditions.csv": {
        "condition": "character",
        "rank": "integer",
        "month": "Date",
        "n": "integer",
        "mean": "double",
        "ci_low": "double",
        "ci_high": "double",
        "method": "character",
        "flag": "character",
        "ci_low_naive": "double",
        "ci_high_naive": "double",
        "suppressed": "logical",
    },
    "releases.csv": {"date": "Date", "label": "character"},
    "fingerprint.csv": {
        "llm_product": "character",
        "condition": "character",
        "n": "integer",
        "share": "double",
        "adjusted_residual": "double",
        "n_hidden": "logical",
    },
    "alluvial.csv": {
        "condition": "character",
        "sentiment": "character",
        "perspective": "character",
        "value": "character",
        "n": "integer",
        "suppressed": "logical",
    },
    "logodds.csv": {
        "condition": "character",
        "dimension": "character",
        "feature": "character",
        "n": "integer",
        "log_odds_weighted": "double",
        "rank": "integer",
        "zeta": "double",
        "p_value": "double",
        "p_value_adj": "double",
        "n_hidden": "logical",
    },
    "glmm.csv": {
        "outcome": "character",
        "term": "character",
        "estimate": "double",
        "std_error": "double",
        "odds_ratio": "double",
        "or_ci_low": "double",
        "or_ci_high": "double",
        "p_value": "double",
        "engine": "character",
        "p_value_adj": "double",
        "separation": "logical",
        "reference": "character",
        "suppressed": "logical",
    },
    "groups.csv": {
        "dimension": "character",
        "code": "character",
        "n": "integer",
        "n_shown": "character",
        "suppressed": "logical",
    },
    "run.csv": {
        "synthetic": "logical",
        "min_cell": "integer",
        "analysis": "character",
        "residual": "character",
        "residual_limit": "double",
        "dropped_month": "character",
    },
}
#: --min-cell default (the tables' K) when no masks are given
DEFAULT_MIN_CELL = 10
LABEL_DIMENSIONS = ("sentiment", "condition", "perspective", "value", "llm_product", "platform")


def write_csv(df: pd.DataFrame, path: Path, schema: dict[str, str]) -> Path:
    """Write ``df`` with exactly the schema's columns, typed and formatted by the contract."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: hand-off frame lacks column(s) {missing}")
    out = pd.DataFrame(index=df.index)
    for col, rtype in schema.items():
        s = df[col]
        if rtype == "integer":
            out[col] = pd.array(s, dtype="Int64")
        elif rtype == "double":
            out[col] = pd.to_numeric(s).astype(np.float64)
        elif rtype == "logical":
            out[col] = s.map(lambda v: "NA" if pd.isna(v) else ("TRUE" if v else "FALSE"))
        elif rtype == "Date":
            out[col] = pd.to_datetime(s).dt.strftime("%Y-%m-%d")
        else:
            out[col] = (
                s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v))
            )
    with path.open("w", encoding="utf-8", newline="") as fh:
        out.to_csv(fh, index=False, na_rep="NA", float_format="%.17g", lineterminator="\n")
    return path


def labels_frame(df: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    rows = []
    for dim in LABEL_DIMENSIONS:
        if dim == "platform":
            cats = [(p, p, i + 1) for i, p in enumerate(sorted(df["platform"].unique()))]
        else:
            cats = [
                (c.code, c.label, i + 1) for i, c in enumerate(codebook.dimensions[dim].categories)
            ]
            if dim in ("condition", "perspective", "value"):
                cats.append((LUMPED, "Other (lumped)", len(cats) + 1))
        rows += [(dim, code, label, order) for code, label, order in cats]
    return pd.DataFrame(rows, columns=["dimension", "code", "label", "order"])


def residuals_frame(res: Analyses, codebook: Codebook, k: int = 10) -> pd.DataFrame:
    """residuals.csv: every cell of every test; ``n_hidden``: 1 <= observed < K (the
    cell is drawn grey, without a number)."""
    parts = []
    for name, cells in res.cells.items():
        row_var, col_var = res.chisq_vars[name]
        c = cells.copy()
        c["row"], c["col"] = c["row"].astype(str), c["col"].astype(str)
        c = c.sort_values(
            ["row", "col"],
            kind="stable",
            key=lambda s: order_key(codebook, row_var if s.name == "row" else col_var)(s),
        )
        # (O - E) / sqrt(E): the original study's heatmap residual
        c["pearson_residual"] = (c["observed"] - c["expected"]) / np.sqrt(c["expected"])
        c["n_hidden"] = small(c["observed"].astype(np.int64), k)
        c.insert(0, "test", name)
        c.insert(1, "row_var", row_var)
        c.insert(2, "col_var", col_var)
        parts.append(c)
    return pd.concat(parts, ignore_index=True)


def glmm_frame(res: Analyses, masks: CountMasks) -> pd.DataFrame:
    """GLMM fixed effects; ``reference`` is the reference condition of the condition
    terms, ``suppressed`` marks the terms of conditions under K (not drawn)."""
    parts = []
    for outcome, fit in res.glmm.items():
        f = fit.fixed.copy()
        f.insert(0, "outcome", outcome)
        f["engine"] = fit.engine
        parts.append(f)
    if not parts:
        return pd.DataFrame(columns=list(SCHEMA["glmm.csv"]))
    out = pd.concat(parts, ignore_index=True)
    out["reference"] = res.glmm_reference
    cond = out["term"].astype(str).str.startswith("condition")
    out["suppressed"] = [
        bool(c) and masks.small("condition", t[len("condition") :])
        for c, t in zip(cond, out["term"].astype(str), strict=True)
    ]
    return out


def groups_frame(df: pd.DataFrame, codebook: Codebook, masks: CountMasks) -> pd.DataFrame:
    """Units of every group the figures show, as table 1 publishes them: ``n_shown``
    (digits, '<K' or 'suppressed') and ``suppressed`` (1 <= n < K: drawn nowhere).
    Platform, condition and LLM family take table 1's decisions (CountMasks); the
    other dimensions, which no table counts, the same rule on their own list."""
    k = masks.k
    rows = []
    for dim in LABEL_DIMENSIONS:
        if dim in masks.units:
            n, hidden = masks.units[dim], masks.hidden_units[dim]
        else:
            n = df[dim].value_counts().reindex(codebook.codes(dim), fill_value=0)
            n = n.astype(np.int64)
            hidden = pd.Series(suppress_mask(n.to_numpy(), k)[0], index=n.index)
        for code in n.index:
            c = int(n[code])
            rows.append(
                (dim, str(code), c, shown(c, bool(hidden[code]), k), bool(small([c], k)[0]))
            )
    return pd.DataFrame(rows, columns=list(SCHEMA["groups.csv"]))


def means_frame(res: Analyses, masks: CountMasks) -> pd.DataFrame:
    """means.csv: table 5's N text (``n_shown``) and its 'no mean' rule (``suppressed``)."""
    return pd.concat([res.means, means_shown(res.means, masks)], axis=1)


def monthly_frame(res: Analyses, k: int) -> pd.DataFrame:
    """monthly.csv: months under K are ``suppressed`` (no bar, no mean); ``n_hidden`` adds
    the complementary month whose bar would let a small month be recovered from the
    published total."""
    m = res.monthly.copy()
    n = m["n"].astype(np.int64).to_numpy()
    m["suppressed"] = small(n, k)
    m["n_hidden"] = suppress_mask(n, k)[0]
    return m


def monthly_conditions_frame(res: Analyses, k: int) -> pd.DataFrame:
    """monthly_conditions.csv: a condition-month under K units is ``suppressed`` (no
    bar, no mean), as a whole condition under K is in every figure."""
    m = res.monthly_conditions.copy()
    m["suppressed"] = small(m["n"].astype(np.int64).to_numpy(), k)
    return m


def fingerprint_frame(res: Analyses, masks: CountMasks) -> pd.DataFrame:
    """fingerprint.csv: ``n_hidden`` by :func:`suppress_grid`, with the row (LLM family)
    and column (condition) totals that table 1 publishes."""
    f = res.fingerprint.copy()
    if not len(f):
        f["n_hidden"] = pd.Series(dtype=bool)
        return f
    rows = list(dict.fromkeys(f["llm_product"]))
    cols = list(dict.fromkeys(f["condition"]))
    grid = f.pivot(index="llm_product", columns="condition", values="n").loc[rows, cols]
    mask = suppress_grid(
        grid.fillna(0).to_numpy(dtype=np.int64),
        masks.k,
        row_total_shown=[not masks.hidden_units["llm_product"].get(r, False) for r in rows],
        col_total_shown=[not masks.hidden_units["condition"].get(c, False) for c in cols],
    )
    hidden = pd.DataFrame(mask, index=rows, columns=cols)
    f["n_hidden"] = [
        hidden.loc[r, c] for r, c in zip(f["llm_product"], f["condition"], strict=True)
    ]
    return f


ALLUVIAL_AXES = ("condition", "sentiment", "perspective", "value")


def alluvial_frame(res: Analyses, codebook: Codebook, k: int) -> pd.DataFrame:
    """alluvial.csv: on each axis, strata under K units join the lumped stratum; a row
    whose stratum is still under K (a small lumped stratum) is ``suppressed``."""
    d = res.alluvial.copy()
    if not len(d):
        d["suppressed"] = pd.Series(dtype=bool)
        return d
    for ax in ALLUVIAL_AXES:
        tot = d.groupby(ax)["n"].transform("sum")
        d[ax] = d[ax].where(~small(tot, k), LUMPED)
    d = d.groupby(list(ALLUVIAL_AXES), sort=False)["n"].sum().reset_index()
    d = d.sort_values(
        list(ALLUVIAL_AXES), key=lambda s: order_key(codebook, s.name)(s), kind="stable"
    )
    sup = np.zeros(len(d), bool)
    for ax in ALLUVIAL_AXES:
        sup |= small(d.groupby(ax)["n"].transform("sum"), k)
    d["suppressed"] = sup
    d["n"] = d["n"].astype(np.int64)
    return d.reset_index(drop=True)


#: file -> (flag column, the columns blanked where it is TRUE): what a hidden row's
#: numbers would reveal (its count, or a statistic from which the count follows given
#: the published margins); see :func:`blank_hidden`
HIDDEN_VALUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "residuals.csv": (
        "n_hidden",
        (
            "observed",
            "pearson_residual",
            "adjusted_residual",
            "p_value_adj",
            "significant",
            "z",
            "p_value_adj_naive",
        ),
    ),
    "pmi.csv": ("n_hidden", ("n", "pmi", "npmi")),
    "delta_pmi.csv": (
        "n_hidden",
        ("n_in", "n_out", "delta_pmi", "null_mean", "delta_pmi_centered", "p_value", "p_value_adj"),
    ),
    "means.csv": ("suppressed", ("n", "mean", "ci_low", "ci_high", "ci_low_naive", "ci_high_naive")),
    "monthly.csv": ("n_hidden", ("n",)),
    "monthly_conditions.csv": (
        "suppressed",
        ("n", "mean", "ci_low", "ci_high", "ci_low_naive", "ci_high_naive"),
    ),
    "fingerprint.csv": ("n_hidden", ("n", "share", "adjusted_residual")),
    "alluvial.csv": ("suppressed", ("n",)),
    "logodds.csv": ("n_hidden", ("n", "log_odds_weighted", "zeta", "p_value", "p_value_adj")),
    "groups.csv": ("suppressed", ("n",)),
}
#: monthly.csv: the mean of a month under K is blanked too (not only its hidden bar)
MONTHLY_MEAN = ("mean", "ci_low", "ci_high", "ci_low_naive", "ci_high_naive")


def blank_hidden(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the values of its hidden rows set to NA (:data:`HIDDEN_VALUES`), so
    the hand-off folder, which is published with the tables, holds no count the tables
    suppress; the figures never draw those rows, so they are the same either way."""
    if name not in HIDDEN_VALUES or not len(frame):
        return frame
    flag, cols = HIDDEN_VALUES[name]
    out = frame.copy()
    hidden = out[flag].fillna(False).astype(bool).to_numpy()
    for col in cols:
        out[col] = out[col].astype(object if out[col].dtype == bool else out[col].dtype)
        out.loc[hidden, col] = pd.NA if out[col].dtype == object else np.nan
    if name == "monthly.csv":
        sup = out["suppressed"].fillna(False).astype(bool).to_numpy()
        for col in MONTHLY_MEAN:
            out.loc[sup, col] = np.nan
    return out


def releases_frame(releases: list[Release]) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": [r.date.isoformat() for r in releases], "label": [r.label for r in releases]}
    )


def write_handoff(
    res: Analyses,
    df: pd.DataFrame,
    out_dir: str | Path,
    codebook: Codebook,
    releases: list[Release],
    masks: CountMasks | None = None,
    synthetic: bool = False,
    analysis: str = "analysis/study.toml",
) -> Path:
    """Write every hand-off file and schema.json into ``out_dir``; returns the folder.

    ``masks``: the tables' suppression decisions (default: K = 10); ``synthetic``: the
    corpus is simulated (run.csv; every figure then says so); ``analysis``: how the
    analysis file is named on the figures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    masks = masks if masks is not None else CountMasks(df, codebook, DEFAULT_MIN_CELL)
    k = masks.k
    frames = {
        "labels.csv": labels_frame(df, codebook),
        "residuals.csv": residuals_frame(res, codebook, k),
        "pmi.csv": res.pmi.assign(n_hidden=small(res.pmi["n"], k)),
        # n_out too: a pair seen in fewer than K units of the other conditions
        "delta_pmi.csv": res.delta_pmi.assign(
            n_hidden=small(res.delta_pmi["n_in"], k) | small(res.delta_pmi["n_out"], k)
        ),
        "means.csv": means_frame(res, masks),
        "monthly.csv": monthly_frame(res, k),
        "monthly_conditions.csv": monthly_conditions_frame(res, k),
        "releases.csv": releases_frame(releases),
        "fingerprint.csv": fingerprint_frame(res, masks),
        "alluvial.csv": alluvial_frame(res, codebook, k),
        "logodds.csv": res.logodds.assign(n_hidden=small(res.logodds["n"], k)),
        "glmm.csv": glmm_frame(res, masks),
        "groups.csv": groups_frame(df, codebook, masks),
        "run.csv": pd.DataFrame(
            {
                "synthetic": [bool(synthetic)],
                "min_cell": [k],
                "analysis": [analysis],
                "residual": [res.residual],
                "residual_limit": [np.nan if res.residual_limit is None else res.residual_limit],
                "dropped_month": [res.dropped_month],
            }
        ),
    }
    for name, frame in frames.items():
        write_csv(blank_hidden(name, frame).reset_index(drop=True), out / name, SCHEMA[name])
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")
    return out
