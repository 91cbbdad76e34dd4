"""Label Studio: a labelling config generated from the codebook, coder sheets as tasks
(with machine pre-annotations only when asked) and exports read back as codes.

The config (:func:`label_config`) shows the post (``Text name="text"``), asks
``relevant`` (yes/no) once per post, and has one span label ``unit``: the coder marks
the quote of each reported use and codes it with per-region ``Choices`` (one per
codebook dimension, values = codebook codes).  In Label Studio's JSON export a task
is ``{"data": ..., "annotations": [{"completed_by": ..., "result": [...]}]}``; a
marked span is a result ``{"id", "type": "labels", "from_name": "unit", "to_name":
"text", "value": {"start", "end", "text", "labels": ["unit"]}}`` and its per-region
choices are results with the same ``id``, ``"type": "choices"`` and
``value.choices``.  :func:`read_export` turns every annotation into one row per unit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from vsdstats.tables.codebook import Codebook
from vsdstats.tables.models import CODE_FIELDS
from vsdstats.validate.gold import ValidateError

UNIT_LABEL = "unit"
TEXT_NAME = "text"


def label_config(codebook: Codebook) -> str:
    """The labelling config XML of ``codebook`` (see the module docstring)."""
    q = quoteattr
    lines = [
        "<View>",
        f"  <Header value={q(f'Codebook {codebook.name} {codebook.version}')}/>",
        f'  <Text name="{TEXT_NAME}" value="$text"/>',
        f'  <Choices name="relevant" toName="{TEXT_NAME}" choice="single" required="true"'
        ' showInline="true">',
        '    <Choice value="yes"/>',
        '    <Choice value="no"/>',
        "  </Choices>",
        f'  <Labels name="{UNIT_LABEL}" toName="{TEXT_NAME}">',
        f'    <Label value="{UNIT_LABEL}"/>',
        "  </Labels>",
        '  <View visibleWhen="region-selected">',
    ]
    for dim in CODE_FIELDS:
        lines.append(f"    <Header value={q(dim)}/>")
        lines.append(
            f'    <Choices name={q(dim)} toName="{TEXT_NAME}" perRegion="true" choice="single">'
        )
        lines += [f"      <Choice value={q(c)}/>" for c in codebook.codes(dim)]
        lines.append("    </Choices>")
    lines += [
        "  </View>",
        f'  <TextArea name="coder_notes" toName="{TEXT_NAME}" rows="2"/>',
        "</View>",
    ]
    return "\n".join(lines) + "\n"


def _region(rid: str, start: int, end: int, text: str) -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": UNIT_LABEL,
        "to_name": TEXT_NAME,
        "type": "labels",
        "value": {"start": start, "end": end, "text": text, "labels": [UNIT_LABEL]},
    }


def _choice(rid: str, name: str, code: str, span: tuple[int, int, str] | None) -> dict:
    value: dict[str, Any] = {"choices": [code]}
    if span is not None:
        value = {"start": span[0], "end": span[1], "text": span[2], **value}
    return {"id": rid, "from_name": name, "to_name": TEXT_NAME, "type": "choices", "value": value}


def unit_result(units: pd.DataFrame, text: str, prefix: str = "u") -> list[dict[str, Any]]:
    """Label Studio results of a post's ``units`` (a relevant choice, one region per
    unit whose ``quote`` occurs in ``text`` and its per-region choices)."""
    out = [_choice(f"{prefix}rel", "relevant", "yes" if len(units) else "no", None)]
    for i, u in enumerate(units.to_dict("records"), start=1):
        quote = u.get("quote")
        at = text.find(quote) if isinstance(quote, str) and quote else -1
        if at < 0:
            continue  # a quote not in the text cannot be placed as a region
        span = (at, at + len(quote), quote)
        rid = f"{prefix}{i}"
        out.append(_region(rid, *span))
        for dim in CODE_FIELDS:
            v = u.get(dim)
            if isinstance(v, str) and v:
                out.append(_choice(rid, dim, v, span))
    return out


def tasks(sheet: pd.DataFrame, units: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks of a coder's sheet; with ``units`` (machine codes) each task
    gets ``predictions`` (pre-annotations the coder sees)."""
    out = []
    by_post = {}
    if units is not None:
        u = units.assign(post_id=units["post_id"].astype(str))
        if "unit_index" in u.columns:
            u = u.sort_values(["post_id", "unit_index"], kind="stable")
        by_post = {k: g for k, g in u.groupby("post_id", sort=False)}
    for r in sheet.itertuples(index=False):
        data = {"post_id": str(r.post_id), "coder": str(r.coder), "text": str(r.text)}
        task: dict[str, Any] = {"data": data}
        if units is not None:
            g = by_post.get(str(r.post_id), units.iloc[0:0])
            model = str(g["model"].iloc[0]) if "model" in g.columns and len(g) else "vsdstats"
            task["predictions"] = [{"model_version": model, "result": unit_result(g, data["text"])}]
        out.append(task)
    return out


def _annotator(ann: dict[str, Any]) -> str:
    who = ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("id")
    return f"annotator{who}" if who is not None else "annotator?"


def read_export(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Codes of a Label Studio JSON export: one row per (annotator, post, unit) with
    columns coder, post_id, unit_index, relevant, the code fields, quote, coder_notes,
    source and row (``task T annotation A``).  Cancelled annotations are skipped and
    counted in ``df.attrs["skipped"]``; anything unknown (a label not in the codebook,
    a control not in the config, a choice outside a marked quote) is a one-line
    :class:`ValidateError` naming the file, task and annotation."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidateError(f"{p}: not a Label Studio JSON export: {exc}") from None
    if not isinstance(data, list):
        raise ValidateError(f"{p}: a Label Studio JSON export is a list of tasks")
    rows: list[dict[str, Any]] = []
    skipped = 0
    allowed = {d: set(codebook.codes(d)) for d in CODE_FIELDS}
    for t, task in enumerate(data, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise ValidateError(f"{p}: task {t}: no 'data' object")
        pid = task["data"].get("post_id")
        if pid is None or str(pid) == "":
            raise ValidateError(f"{p}: task {t}: data has no post_id")
        for a, ann in enumerate(task.get("annotations") or [], start=1):
            where = f"{p}: task {t} (post_id {pid}) annotation {a}"
            if ann.get("was_cancelled"):
                skipped += 1
                continue
            rows += _annotation_rows(ann, str(pid), where, allowed, p, f"task {t} annotation {a}")
    cols = ["coder", "post_id", "unit_index", "relevant", *CODE_FIELDS, "quote", "coder_notes"]
    df = pd.DataFrame(rows, columns=[*cols, "source", "row"])
    df.attrs["skipped"] = skipped
    return df


def _annotation_rows(
    ann: dict[str, Any],
    pid: str,
    where: str,
    allowed: dict[str, set[str]],
    path: Path,
    row: str,
) -> list[dict[str, Any]]:
    results = ann.get("result") or []
    regions: dict[str, dict[str, Any]] = {}
    relevant, notes = None, None
    choices: list[tuple[str, str, str]] = []
    for k, r in enumerate(results, start=1):
        name, kind, value = r.get("from_name"), r.get("type"), r.get("value") or {}
        if kind == "labels" and name == UNIT_LABEL:
            regions[str(r.get("id"))] = {
                "start": value.get("start"),
                "quote": value.get("text"),
                "codes": {},
            }
        elif kind == "choices" and name == "relevant":
            vals = value.get("choices") or []
            if len(vals) != 1 or vals[0] not in ("yes", "no"):
                raise ValidateError(f"{where} result {k}: relevant {vals!r} is not yes or no")
            relevant = vals[0]
        elif kind == "choices" and name in allowed:
            vals = value.get("choices") or []
            if len(vals) != 1:
                raise ValidateError(f"{where} result {k}: {name} needs one choice, got {vals!r}")
            if vals[0] not in allowed[name]:
                raise ValidateError(
                    f"{where} result {k}: {name} {vals[0]!r} is not a code of the codebook"
                    f" (allowed: {', '.join(sorted(allowed[name]))})"
                )
            choices.append((str(r.get("id")), name, vals[0]))
        elif kind == "textarea" and name == "coder_notes":
            notes = " ".join(value.get("text") or [])
        else:
            raise ValidateError(
                f"{where} result {k}: {kind} {name!r} is not a control of the vsdstats config"
            )
    for rid, name, code in choices:
        if rid not in regions:
            raise ValidateError(f"{where}: a {name} choice belongs to no marked quote (unit)")
        regions[rid]["codes"][name] = code
    if regions and relevant == "no":
        raise ValidateError(f"{where}: relevant is 'no' but {len(regions)} unit(s) are marked")
    if relevant is None:
        relevant = "yes" if regions else None
    coder = _annotator(ann)
    base = {"coder": coder, "post_id": pid, "relevant": relevant, "coder_notes": notes}
    base.update(source=path.name, row=row)
    if not regions:
        return [{**base, "unit_index": pd.NA}]
    ordered = sorted(regions.values(), key=lambda g: (g["start"] is None, g["start"] or 0))
    return [
        {**base, "unit_index": i, "quote": g["quote"], **g["codes"]}
        for i, g in enumerate(ordered, start=1)
    ]
