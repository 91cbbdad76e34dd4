"""Relevance pre-filter: keep posts that mention an LLM chatbot AND a mental-health term.

Terms come from the codebook (``terms`` of the ``llm_product`` and ``condition``
categories), optionally extended or replaced by a TOML term file::

    replace = false                 # true: use only this file's terms
    case_sensitive = ["ADD", "ASD"] # words matched with exactly this case
    [llm]
    terms = ["ChatGPT", "Claude"]
    [mental_health]
    terms = ["anxiety", "mental health"]

Matching rules (the same for text and raw bytes):

- ASCII letters match case-insensitively, except words listed in ``case_sensitive``
  (default :data:`DEFAULT_CASE_SENSITIVE`: acronyms such as ``ADD`` or ``ED`` whose
  lowercase form is an ordinary word, so "added" or "address" never match).  Other
  letters (é, ß, ...) match exactly; list each case you want.
- A term that starts (ends) with a letter, digit or underscore must not be preceded
  (followed) by an ASCII letter, digit or underscore: "GPT" matches "GPT-4" and
  "ChatGPT's" but not "ChatGPTx"; other characters (also non-ASCII ones) are boundaries.
- Spaces inside a phrase match any run of whitespace ("mental\nhealth").
- A post is relevant when some field matches an LLM term and some field matches a
  mental-health term.

:meth:`RelevanceFilter.match_bytes` checks a raw JSON line before it is parsed.  It is
a pre-filter: it may keep lines the exact text check drops, but it never drops a line
whose decoded strings the text check keeps (JSON escapes such as ``\n`` or ``\u2019``
are allowed wherever they can stand; encoders that escape ASCII letters are not
supported).  :meth:`RelevanceFilter.scan_block` finds candidate lines in a block of
many lines at once: with Hyperscan when it is installed (~2 GB/s), else with
``bytes.find`` on a literal anchor of each term (~20-50 MB/s; Python's ``re`` on the
whole block would be far slower)."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vsdstats.filter.patterns import (
    _bytes_alternation,
    _longest_first,
    _text_alternation,
    term_text_regex,
)
from vsdstats.filter.scanners import _AnchorScanner, _HyperscanScanner, _span
from vsdstats.filter.terms import LISTS, Terms, codebook_terms, load_term_file
from vsdstats.tables.codebook import Codebook

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


@dataclass
class Explanation:
    """Which terms matched (for audits)."""

    llm: list[str]
    mental_health: list[str]

    @property
    def relevant(self) -> bool:
        return bool(self.llm and self.mental_health)


class RelevanceFilter:
    """Compiled matchers for the LLM and mental-health term lists."""

    def __init__(self, terms: Terms) -> None:
        if not terms.llm or not terms.mental_health:
            raise ValueError("relevance filter needs both an LLM and a mental-health term list")
        self.terms = terms
        cs = terms.case_sensitive
        flags_t = re.ASCII | re.IGNORECASE
        self._text: list[re.Pattern[str]] = []
        self._bytes: list[re.Pattern[bytes]] = []
        self._each: list[list[tuple[str, re.Pattern[str]]]] = []
        for name in LISTS:
            ordered = _longest_first(getattr(terms, name))
            self._text.append(_text_alternation(ordered, cs))
            self._bytes.append(_bytes_alternation(ordered, cs))
            self._each.append([(t, re.compile(term_text_regex(t, cs), flags_t)) for t in ordered])
        self._hs: Any = None
        self._hs_tried = False
        self._anchors: _AnchorScanner | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its terms (Dask ships it to workers); matchers are rebuilt there."""
        return (type(self), (self.terms,))

    @classmethod
    def from_codebook(
        cls, codebook: Codebook, extra_terms: str | Path | None = None
    ) -> RelevanceFilter:
        """Terms of ``codebook``, extended or replaced by the term file ``extra_terms``."""
        terms = codebook_terms(codebook)
        if extra_terms is not None:
            terms = load_term_file(extra_terms, terms)
        return cls(terms)

    # ------------------------------------------------------------ exact check
    def match_text(self, text: str) -> bool:
        """Does ``text`` mention an LLM term and a mental-health term?"""
        return self.match_fields((text,))

    def match_fields(self, texts: Sequence[str]) -> bool:
        """Relevance of a post whose text is spread over fields (title, body, ...)."""
        llm, mh = self._text
        return any(llm.search(t) for t in texts) and any(mh.search(t) for t in texts)

    def explain(self, text: str | Sequence[str]) -> Explanation:
        """The terms of each list found in ``text`` (a string or several fields)."""
        texts = (text,) if isinstance(text, str) else tuple(text)
        found = [[t for t, rx in each if any(rx.search(s) for s in texts)] for each in self._each]
        return Explanation(*found)

    # --------------------------------------------------------- byte prefilter
    def match_bytes(self, line: bytes) -> bool:
        """Pre-filter on a raw JSON line: False only if no decoded string can match."""
        llm, mh = self._bytes
        return llm.search(line) is not None and mh.search(line) is not None

    def _hyperscan(self) -> Any:
        if not self._hs_tried:
            self._hs_tried = True
            self._hs = _HyperscanScanner.build(self.terms)
        return self._hs

    @property
    def engine(self) -> str:
        """The block scanner in use: ``hyperscan`` or ``re`` (literal anchors + re)."""
        return "hyperscan" if self._hyperscan() is not None else "re"

    def scan_block(
        self, block: bytes, *, engine: str = "auto", start: int = 0, end: int | None = None
    ) -> list[tuple[int, int]]:
        """``(start, end)`` of every line in ``block[start:end]`` that :meth:`match_bytes`
        may keep (positions in ``block``; ``end`` excludes the line's ``\\n``).

        The region holds whole ``\\n``-separated lines.  Lines are candidates when they
        contain a match of both lists (a superset of ``match_bytes``).  ``engine`` is
        ``"hyperscan"``, ``"re"`` or ``"auto"`` (Hyperscan if installed).
        """
        stop = len(block) if end is None else end
        hs = self._hyperscan() if engine in ("auto", "hyperscan") else None
        if engine == "hyperscan" and hs is None:
            raise RuntimeError("hyperscan is not installed (pip install hyperscan)")
        if hs is not None:
            return hs.candidates(block, start, stop)
        if self._anchors is None:
            self._anchors = _AnchorScanner(self.terms)
        llm_ends, mh_ends = self._anchors.scan(block[start:stop])
        if not llm_ends or not mh_ends:
            return []
        rfind, find = block.rfind, block.find
        llm_lines = {rfind(b"\n", start, start + e) + 1 for e in llm_ends}
        mh_lines = {rfind(b"\n", start, start + e) + 1 for e in mh_ends}
        return [_span(find, s, start, stop) for s in sorted(llm_lines & mh_lines)]
