"""The hand-off files for the R figure scripts (paper/handoff/, see analysis/README.md).

Every file is UTF-8 CSV with a header, ``NA`` for missing values, floats as ``%.17g``,
logicals as TRUE/FALSE, dates as YYYY-MM-DD, "\\n" line endings and deterministic row
order; ``schema.json`` maps each file to its ordered {column: R type}.  These files hold
FULL counts (no small-cell suppression): they are inputs to figures, not published tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vsdstats.paper.analyses import LUMPED, Analyses, order_key
from vsdstats.paper.config import Release
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
        "adjusted_residual": "double",
        "p_value_adj": "double",
        "significant": "logical",
        "z": "double",
        "deff": "double",
        "p_value_adj_naive": "double",
        "residual_method": "character",
    },
    "pmi.csv": {
        "value": "character",
        "perspective": "character",
        "n": "integer",
        "pmi": "double",
        "npmi": "double",
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
    },
    "releases.csv": {"date": "Date", "label": "character"},
    "fingerprint.csv": {
        "llm_product": "character",
        "condition": "character",
        "n": "integer",
        "share": "double",
        "adjusted_residual": "double",
    },
    "alluvial.csv": {
        "condition": "character",
        "sentiment": "character",
        "perspective": "character",
        "value": "character",
        "n": "integer",
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
    },
}
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


def residuals_frame(res: Analyses, codebook: Codebook) -> pd.DataFrame:
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
        c.insert(0, "test", name)
        c.insert(1, "row_var", row_var)
        c.insert(2, "col_var", col_var)
        parts.append(c)
    return pd.concat(parts, ignore_index=True)


def glmm_frame(res: Analyses) -> pd.DataFrame:
    parts = []
    for outcome, fit in res.glmm.items():
        f = fit.fixed.copy()
        f.insert(0, "outcome", outcome)
        f["engine"] = fit.engine
        parts.append(f)
    if not parts:
        return pd.DataFrame(columns=list(SCHEMA["glmm.csv"]))
    return pd.concat(parts, ignore_index=True)


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
) -> Path:
    """Write every hand-off file and schema.json into ``out_dir``; returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = {
        "labels.csv": labels_frame(df, codebook),
        "residuals.csv": residuals_frame(res, codebook),
        "pmi.csv": res.pmi,
        "delta_pmi.csv": res.delta_pmi,
        "means.csv": res.means,
        "monthly.csv": res.monthly,
        "releases.csv": releases_frame(releases),
        "fingerprint.csv": res.fingerprint,
        "alluvial.csv": res.alluvial,
        "logodds.csv": res.logodds,
        "glmm.csv": glmm_frame(res),
    }
    for name, frame in frames.items():
        write_csv(frame.reset_index(drop=True), out / name, SCHEMA[name])
    (out / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")
    return out
