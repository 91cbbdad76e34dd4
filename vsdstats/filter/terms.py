"""The relevance terms: from the codebook (``terms`` of the ``llm_product`` and
``condition`` categories), optionally extended or replaced by a TOML term file::

    replace = false                 # true: use only this file's terms
    case_sensitive = ["ADD", "ASD"] # words matched with exactly this case
    [llm]
    terms = ["ChatGPT", "Claude"]
    [mental_health]
    terms = ["anxiety", "mental health"]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsdstats.errors import InputError
from vsdstats.tables.codebook import Codebook

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


#: Words matched case-sensitively unless a term file says otherwise.
DEFAULT_CASE_SENSITIVE = ("ADD", "ASD", "ED", "GAD")


LISTS = ("llm", "mental_health")


class TermFileError(InputError):
    """A term file is unreadable or invalid (the message names the file and key)."""


@dataclass(frozen=True)
class Terms:
    """The two term lists and the case-sensitive words."""

    llm: tuple[str, ...]
    mental_health: tuple[str, ...]
    case_sensitive: frozenset[str] = field(
        default_factory=lambda: frozenset(DEFAULT_CASE_SENSITIVE)
    )


def codebook_terms(codebook: Codebook) -> Terms:
    """Terms of the codebook's ``llm_product`` and ``condition`` categories."""

    def collect(dim: str) -> tuple[str, ...]:
        cats = codebook.dimensions[dim].categories if dim in codebook.dimensions else []
        return tuple(dict.fromkeys(t for c in cats for t in c.terms))

    return Terms(collect("llm_product"), collect("condition"))


def _str_list(data: dict[str, Any], key: str, where: str, source: str) -> list[str] | None:
    if key not in data:
        return None
    val = data[key]
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        raise TermFileError(f"{source}: key `{where}` must be a list of strings")
    for i, v in enumerate(val):
        if not v.strip():
            raise TermFileError(f"{source}: key `{where}[{i}]` is blank")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in v):
            raise TermFileError(f"{source}: key `{where}[{i}]` contains a control character")
    return [v.strip() for v in val]


def load_term_file(path: str | Path, base: Terms) -> Terms:
    """``base`` extended (or replaced, with ``replace = true``) by the terms in ``path``."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_bytes().decode("utf-8-sig"))  # BOM skipped
    except OSError as exc:
        raise TermFileError(f"{p}: cannot read term file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TermFileError(f"{p}: term file is not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TermFileError(f"{p}: TOML syntax error: {exc}") from None
    unknown = sorted(set(data) - {"replace", "case_sensitive", *LISTS})
    if unknown:
        raise TermFileError(
            f"{p}: unknown key `{unknown[0]}` (allowed: replace, case_sensitive, llm, "
            "mental_health)"
        )
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise TermFileError(f"{p}: key `replace` must be true or false")
    lists: dict[str, tuple[str, ...]] = {}
    for name in LISTS:
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise TermFileError(f"{p}: key `{name}` must be a table with `terms = [...]`")
        extra = set(table) - {"terms"}
        if extra:
            raise TermFileError(f"{p}: unknown key `{name}.{sorted(extra)[0]}` (allowed: terms)")
        got = _str_list(table, "terms", f"{name}.terms", str(p)) or []
        old = () if replace else getattr(base, name)
        merged = tuple(dict.fromkeys([*old, *got]))
        if not merged:
            raise TermFileError(f"{p}: key `{name}.terms` is missing or empty (replace = true)")
        lists[name] = merged
    cs = _str_list(data, "case_sensitive", "case_sensitive", str(p))
    if cs is None:
        case = base.case_sensitive
    else:
        case = frozenset(cs) if replace else base.case_sensitive | frozenset(cs)
    return Terms(lists["llm"], lists["mental_health"], case)


def _toml_list(items: Iterable[str]) -> str:
    import json

    body = "".join(f"  {json.dumps(t, ensure_ascii=False)},\n" for t in items)
    return f"[\n{body}]"


def terms_toml(terms: Terms) -> str:
    """A term file (``replace = true``) holding ``terms``, for editing."""
    return (
        "# vsdstats relevance terms.  Edit, then: vsdstats filter --terms THIS_FILE ...\n"
        "# replace = true: use only these lists; false: add them to the codebook's terms.\n"
        "# Terms match case-insensitively on word boundaries; words in case_sensitive\n"
        "# match with exactly that case.  Spaces in a phrase match any whitespace.\n"
        "replace = true\n"
        f"case_sensitive = {_toml_list(sorted(terms.case_sensitive))}\n\n"
        f"[llm]\nterms = {_toml_list(terms.llm)}\n\n"
        f"[mental_health]\nterms = {_toml_list(terms.mental_health)}\n"
    )
