"""The methods paragraph on human validation that ``paper --gold`` writes into
paper/README.md: sample design, coders and their reliability (alpha with CI), and the
LLM's agreement with the adjudicated gold (F1 per dimension).

The design and the coders' reliability come from the sidecar ``GOLD.methods.json``
that ``vsdstats validate adjudicate --design`` writes next to the gold table; without
it the paragraph says what it cannot state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.tables.codebook import Codebook


def sidecar_path(gold_path: str | Path) -> Path:
    return Path(gold_path).with_suffix(".methods.json")


def write_sidecar(
    gold_path: str | Path,
    design_csv: str | Path | None,
    codes: pd.DataFrame,
    reliability: pd.DataFrame | None,
) -> Path:
    """``GOLD.methods.json``: design.json next to ``design_csv`` (if any), the coders and
    how many posts each coded, and the reliability rows."""
    design = None
    if design_csv is not None:
        dj = Path(design_csv).with_suffix(".json")
        if dj.is_file():
            design = json.loads(dj.read_text(encoding="utf-8"))
    per = codes.groupby("coder")["post_id"].nunique().to_dict() if len(codes) else {}
    rel = None
    if reliability is not None:
        rel = json.loads(reliability.to_json(orient="records"))
    meta = {
        "design": design,
        "coders": {str(k): int(v) for k, v in per.items()},
        "reliability": rel,
    }
    p = sidecar_path(gold_path)
    p.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return p


def _f(v: Any, digits: int = 2) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if np.isnan(x) else f"{x:.{digits}f}"


def _alpha(row: dict[str, Any]) -> str:
    a = _f(row.get("krippendorff_alpha"))
    lo, hi = _f(row.get("alpha_ci_low")), _f(row.get("alpha_ci_high"))
    return f"{a} [{lo}, {hi}]" if lo != "n/a" else f"{a} (no interval)"


def methods_lines(
    gold_path: str | Path,
    gold: pd.DataFrame,
    coded: pd.DataFrame,
    key: str,
    fields: list[str],
    codebook: Codebook,
) -> list[str]:
    """README lines (a section) for ``paper --gold``: see the module docstring.  The
    LLM's agreement is computed as table11 computes it (units joined on ``key``)."""
    from vsdstats.stats import agreement

    p = Path(gold_path)
    meta: dict[str, Any] = {}
    if sidecar_path(p).is_file():
        try:
            meta = json.loads(sidecar_path(p).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            meta = {}
    n_posts = gold["post_id"].nunique()
    out = ["## Human validation (methods paragraph)", ""]
    design = meta.get("design")
    text = []
    if design:
        if design.get("design") == "stratified random":
            how = (
                f"a stratified random sample (strata: {', '.join(design.get('by', []))}; "
                f"{len(design.get('strata', []))} strata, {design.get('allocation', '')})"
            )
        else:
            how = "a simple random sample"
        text.append(
            f"The human gold standard is {how} of {design.get('n')} of the "
            f"{design.get('population')} posts (seed {design.get('seed')}); each post's "
            "inclusion probability pi is kept in the design file and weights the "
            "corrected estimates."
        )
        k = len(design.get("coders", []))
        text.append(
            f"{k} coder{'s' if k != 1 else ''} coded the posts blind to the machine codes "
            "(their sheets show no machine label, stratum or relevance decision)"
            + (f"; {design.get('overlap')} posts were coded by all of them." if k > 1 else ".")
        )
    else:
        pis = pd.to_numeric(gold.get("pi", pd.Series(dtype=float)), errors="coerce").dropna()
        kind = (
            "with equal inclusion probabilities"
            if len(pis) and np.ptp(pis) < 1e-12
            else ("with unequal inclusion probabilities" if len(pis) else "without a pi column")
        )
        text.append(
            f"The human gold standard has {n_posts} posts ({p.name}, {kind}); no "
            f"{sidecar_path(p).name} (written by `vsdstats validate adjudicate --design`) "
            "accompanies it, so the sample design and the coders are not stated here."
        )
    rel = meta.get("reliability") or []
    if rel:
        parts = [f"{r['field']} {_alpha(r)}" for r in rel if r.get("n_units")]
        text.append(
            "Inter-coder reliability on the posts coded by two or more coders, "
            "Krippendorff's alpha (nominal; interval for scores) with 95% bootstrap "
            "intervals: " + "; ".join(parts) + "."
        )
        text.append("Disagreements were adjudicated into the gold codes.")
    res = agreement(
        gold,
        coded[[key, *fields]],
        on=key,
        fields=fields,
        labels={f: codebook.codes(f) for f in fields},
    )
    pc = res.per_category
    # macro-F1 over the categories that occur (in gold or coding), as sklearn's default
    # labels: a codebook category nobody used would count as F1 = 0
    seen = pc[~pc["category"].isin(["(macro)", "(micro)", "(weighted)"])]
    seen = seen[(seen["support"] + seen["predicted"]) > 0]
    macro = seen.groupby("field")["f1"].mean()
    summ = res.summary.set_index("field")
    llm = [
        f"{f} macro-F1 {_f(macro.get(f))}, alpha {_alpha(summ.loc[f].to_dict())} "
        f"(n = {int(summ.loc[f, 'n'])})"
        for f in fields
    ]
    text.append("Against the gold standard the LLM coding reached: " + "; ".join(llm) + ".")
    out += [" ".join(text), ""]
    return out


def gold_methods(g: Any, codebook: Codebook) -> list[str]:
    """:func:`methods_lines` of a ``paper --gold`` gold sample (vsdstats.paper.run
    GoldSample: path, gold, coded, key, fields)."""
    return methods_lines(g.path, g.gold, g.coded, g.key, g.fields, codebook)
