"""The draft codebook: a codebook TOML written from a :class:`Codebook` and read back.

:func:`codebook_toml` serializes a codebook (meta, relevance, every dimension and its
categories, ``family`` and ``released`` included) in the layout of the shipped
``vsdstats/data/codebook.toml``; :func:`write_draft` writes it and loads it again with
:func:`vsdstats.tables.codebook.load_codebook`, so a draft that would not validate is an
error here and never a file a researcher edits in vain.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from vsdstats.tables.codebook import Category, Codebook, Dimension, load_codebook


def _s(v: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's: \\" \\\\ \\n \\uXXXX)."""
    return json.dumps(v, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return _s(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def codebook_toml(cb: Codebook, header: list[str] | None = None) -> str:
    """``cb`` as codebook TOML text (comment lines ``header`` first)."""
    out = [f"# {h}".rstrip() for h in header or []]
    if out:
        out.append("")
    out += ["[codebook]"]
    out += [f"{k} = {_s(v)}" for k, v in cb.codebook.model_dump().items()]
    out += ["", "[relevance]", f"definition = {_s(cb.relevance.definition)}"]
    out.append(f"exclusions = {_value(list(cb.relevance.exclusions))}")
    for name, dim in cb.dimensions.items():
        out += ["", f"[dimensions.{name}]", f"description = {_s(dim.description)}"]
        if dim.within is not None:
            out.append(f"within = {_s(dim.within)}")
        for c in dim.categories:
            out += ["", f"[[dimensions.{name}.categories]]"]
            for k, v in c.model_dump(exclude_none=True).items():
                if k == "terms" and not v:
                    continue
                out.append(f"{k} = {_value(v)}")
    return "\n".join(out) + "\n"


def with_dimension(cb: Codebook, name: str, dim: Dimension, version: str) -> Codebook:
    """``cb`` with dimension ``name`` replaced by (or, if new, added as) ``dim``, and
    ``version``; the other dimensions keep their place."""
    dims = dict(cb.dimensions)
    dims[name] = dim
    meta = cb.codebook.model_copy(update={"version": version})
    return cb.model_copy(update={"dimensions": dims, "codebook": meta})


def write_draft(cb: Codebook, path: Path, header: list[str] | None = None) -> Codebook:
    """Write ``cb`` to ``path`` as TOML and return it loaded back (validated)."""
    path.write_text(codebook_toml(cb, header), encoding="utf-8", newline="\n")
    return load_codebook(path)


__all__ = ["Category", "Dimension", "codebook_toml", "with_dimension", "write_draft"]
