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
- Spaces inside a phrase match any run of whitespace ("mental\\nhealth").
- A post is relevant when some field matches an LLM term and some field matches a
  mental-health term.

:meth:`RelevanceFilter.match_bytes` checks a raw JSON line before it is parsed.  It is
a pre-filter: it may keep lines the exact text check drops, but it never drops a line
whose decoded strings the text check keeps (JSON escapes such as ``\\n`` or ``\\u2019``
are allowed wherever they can stand; encoders that escape ASCII letters are not
supported).  :meth:`RelevanceFilter.scan_block` finds candidate lines in a block of
many lines at once: with Hyperscan when it is installed (~2 GB/s), else with
``bytes.find`` on a literal anchor of each term (~20-50 MB/s; Python's ``re`` on the
whole block would be far slower).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsdstats.codebook import Codebook

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Words matched case-sensitively unless a term file says otherwise.
DEFAULT_CASE_SENSITIVE = ("ADD", "ASD", "ED", "GAD")
LISTS = ("llm", "mental_health")

_WORD = "A-Za-z0-9_"
# Every character str.isspace() accepts (what \s matches in str patterns).
_WS_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_TEXT_WS = f"[{_WS_CHARS}]+"
# In a raw JSON line whitespace may be a byte, a short or \\u escape, or (loosely) any
# non-ASCII byte (UTF-8 of NBSP, U+2028, ...).
_JSON_ESC = rb"\\[nrtbf]|\\u[0-9A-Fa-f]{4}"
_BYTES_WS = rb"(?:[\t\n\x0b\x0c\r\x1c-\x1f ]|" + _JSON_ESC + rb"|[\x80-\xff])+"
_SHORT_ESC = {'"': rb'\\"', "\\": rb"\\\\", "/": rb"\\/"}


class TermFileError(ValueError):
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


# ------------------------------------------------------------------ patterns
def _is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _hex_class(cp: int) -> bytes:
    out = b"\\\\u"
    for d in f"{cp:04x}":
        out += f"[{d}{d.upper()}]".encode() if d.isalpha() else d.encode()
    return out


def _bytes_char(ch: str) -> bytes:
    """Byte regex for one non-word, non-space character as it may appear in JSON."""
    alts = [re.escape(ch.encode("utf-8"))]
    if ch in _SHORT_ESC:
        alts.append(_SHORT_ESC[ch])
    cp = ord(ch)
    if cp < 0x10000:
        alts.append(_hex_class(cp))
    else:  # a surrogate pair
        v = cp - 0x10000
        alts.append(_hex_class(0xD800 + (v >> 10)) + _hex_class(0xDC00 + (v & 0x3FF)))
    return b"(?:" + b"|".join(alts) + b")"


def _split_words(term: str) -> list[str]:
    return term.split()


def _word_text(word: str, case_sensitive: frozenset[str]) -> str:
    """Text regex for one whitespace-free word of a term."""
    pat = re.escape(word)
    return f"(?-i:{pat})" if word in case_sensitive else pat


def _word_bytes(word: str, case_sensitive: frozenset[str]) -> bytes:
    parts = []
    for ch in word:
        parts.append(ch.encode() if _is_word(ch) else _bytes_char(ch))
    pat = b"".join(parts)
    return b"(?-i:" + pat + b")" if word in case_sensitive else pat


def term_text_regex(term: str, case_sensitive: frozenset[str], *, left: bool = True) -> str:
    """Regex (for ``re.ASCII | re.IGNORECASE``) matching ``term`` in decoded text."""
    core = _TEXT_WS.join(_word_text(w, case_sensitive) for w in _split_words(term))
    left = f"(?<![{_WORD}])" if left and _is_word(term[0]) else ""
    right = f"(?![{_WORD}])" if _is_word(term[-1]) else ""
    return left + core + right


def term_bytes_regex(
    term: str, case_sensitive: frozenset[str], *, hyperscan: bool = False, left: bool = True
) -> bytes:
    """Byte regex matching ``term`` inside a raw JSON line (a superset of the text match).

    With ``hyperscan=True`` the dialect avoids look-behind: a preceding JSON escape is
    consumed instead, and ``\\b`` stands for the word boundaries.
    """
    core = _BYTES_WS.join(_word_bytes(w, case_sensitive) for w in _split_words(term))
    right = b""
    start = b""
    if left and _is_word(term[0]):
        start = rb"(?:\b|" + _JSON_ESC + rb")" if hyperscan else _LEFT
    if _is_word(term[-1]):
        right = rb"\b" if hyperscan else rb"(?![A-Za-z0-9_])"
    return start + core + right


_LEFT = rb"(?:(?<![A-Za-z0-9_])|(?<=\\[nrtbf])|(?<=\\u[0-9A-Fa-f]{4}))"


def _bytes_alternation(ordered: list[str], cs: frozenset[str]) -> re.Pattern[bytes]:
    """One byte regex for a list; the left boundary is tested once, before the
    alternation of the terms that start with a word character (much faster in ``re``)."""
    word = [t for t in ordered if _is_word(t[0])]
    other = [t for t in ordered if not _is_word(t[0])]

    def alts(ts: list[str]) -> bytes:
        return b"|".join(b"(?:" + term_bytes_regex(t, cs, left=False) + b")" for t in ts)

    parts = [_LEFT + b"(?:" + alts(word) + b")"] if word else []
    if other:
        parts.append(alts(other))
    return re.compile(b"|".join(parts), re.IGNORECASE)


def _text_alternation(ordered: list[str], cs: frozenset[str]) -> re.Pattern[str]:
    """One text regex for a list, the left boundary tested once (see _bytes_alternation)."""
    word = [t for t in ordered if _is_word(t[0])]
    other = [t for t in ordered if not _is_word(t[0])]

    def alts(ts: list[str]) -> str:
        return "|".join(f"(?:{term_text_regex(t, cs, left=False)})" for t in ts)

    parts = [f"(?<![{_WORD}])(?:{alts(word)})"] if word else []
    if other:
        parts.append(alts(other))
    return re.compile("|".join(parts), re.ASCII | re.IGNORECASE)


def _longest_first(terms: Iterable[str]) -> list[str]:
    return sorted(dict.fromkeys(terms), key=lambda t: (-len(t), t))


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


class _HyperscanScanner:
    """Hyperscan block-mode databases: both lists together, and each list alone.

    Most blocks are scanned for the rarer list only (fewest matches so far; re-measured
    with both lists every ``RECALIBRATE_BYTES``), then the lines it hit are joined and
    scanned for the other list: far fewer Python callbacks than reporting every match.
    """

    RECALIBRATE_BYTES = 1 << 28  # scan for both lists again after this many bytes
    SMALL = 1 << 16  # blocks smaller than this are always scanned for both lists

    def __init__(self, both: Any, each: list[Any], n_llm: int) -> None:
        self.both = both
        self.each = each
        self.n_llm = n_llm
        self.hits = [0, 0]  # matches per list seen while calibrating (decayed)
        self.since = 0

    @classmethod
    def build(cls, terms: Terms) -> _HyperscanScanner | None:
        try:
            import hyperscan
        except ImportError:
            return None

        def compile_db(exprs: list[bytes]) -> Any:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(
                expressions=exprs,
                ids=list(range(len(exprs))),
                elements=len(exprs),
                flags=[hyperscan.HS_FLAG_CASELESS] * len(exprs),
            )
            return db

        cs = terms.case_sensitive
        lists = [
            [term_bytes_regex(t, cs, hyperscan=True) for t in getattr(terms, n)] for n in LISTS
        ]
        return cls(compile_db(lists[0] + lists[1]), [compile_db(x) for x in lists], len(lists[0]))

    def scan(self, data: Any) -> tuple[list[int], list[int]]:
        """End offsets of the matches of each list in ``data`` (a buffer)."""
        llm: list[int] = []
        mh: list[int] = []
        n = self.n_llm

        def on_match(id_: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            (llm if id_ < n else mh).append(to)

        self.both.scan(data, match_event_handler=on_match)
        return llm, mh

    def _ends(self, k: int, data: Any) -> list[int]:
        ends: list[int] = []

        def on_match(_id: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            ends.append(to)

        self.each[k].scan(data, match_event_handler=on_match)
        return ends

    def candidates(self, block: bytes, start: int, stop: int) -> list[tuple[int, int]]:
        """Spans of the lines in ``block[start:stop]`` with matches of both lists."""
        rfind, find = block.rfind, block.find
        region = memoryview(block)[start:stop]
        calibrate = self.since >= self.RECALIBRATE_BYTES or min(self.hits) < 100
        if calibrate or stop - start < self.SMALL:
            llm_ends, mh_ends = self.scan(region)
            if calibrate:
                self.hits = [len(llm_ends) + self.hits[0] // 2, len(mh_ends) + self.hits[1] // 2]
                self.since = 0
            if not llm_ends or not mh_ends:
                return []
            llm_lines = {rfind(b"\n", start, start + e) + 1 for e in llm_ends}
            mh_lines = {rfind(b"\n", start, start + e) + 1 for e in mh_ends}
            return [_span(find, s, start, stop) for s in sorted(llm_lines & mh_lines)]
        self.since += stop - start
        k = 0 if self.hits[0] <= self.hits[1] else 1
        ends = self._ends(k, region)
        if not ends:
            return []
        spans = [
            _span(find, s, start, stop)
            for s in sorted({rfind(b"\n", start, start + e) + 1 for e in ends})
        ]
        joined = b"\n".join(block[s:e] for s, e in spans)
        offsets = []
        pos = 0
        for s, e in spans:
            offsets.append(pos)
            pos += e - s + 1
        hit = {bisect_right(offsets, e - 1) - 1 for e in self._ends(1 - k, joined)}
        return [spans[i] for i in sorted(hit)]


def _span(find: Any, s: int, start: int, stop: int) -> tuple[int, int]:
    s = max(s, start)
    e = find(b"\n", s, stop)
    return s, stop if e < 0 else e


class _AnchorScanner:
    """Fallback block scanner without Hyperscan: ``bytes.find`` of each term's longest
    run of word characters (lowercased unless case-sensitive); terms without one are
    searched with their byte regex.  Finds a superset of the lines the terms match."""

    def __init__(self, terms: Terms) -> None:
        self.lists: list[tuple[list[bytes], list[bytes], re.Pattern[bytes] | None]] = []
        cs = terms.case_sensitive
        for name in LISTS:
            ci: set[bytes] = set()
            exact: set[bytes] = set()
            rest: list[str] = []
            for term in getattr(terms, name):
                runs = [
                    (run, word in cs)
                    for word in _split_words(term)
                    for run in re.findall(r"[A-Za-z0-9_]+", word)
                ]
                if not runs:
                    rest.append(term)
                    continue
                run, sensitive = max(runs, key=lambda r: len(r[0]))
                (exact if sensitive else ci).add(
                    run.encode() if sensitive else run.lower().encode()
                )
            rx = _bytes_alternation(rest, cs) if rest else None
            self.lists.append((_minimal(ci), _minimal(exact), rx))

    def scan(self, block: bytes) -> tuple[list[int], list[int]]:
        lowered = block.lower()
        out: list[list[int]] = []
        for ci, exact, rx in self.lists:
            hits: list[int] = []
            for hay, needles in ((lowered, ci), (block, exact)):
                for a in needles:
                    _find_all(hay, a, hits)
            if rx is not None:
                hits += [m.start() for m in rx.finditer(block)]
            out.append(hits)
        return out[0], out[1]


def _minimal(anchors: set[bytes]) -> list[bytes]:
    """Drop anchors that contain a shorter anchor (the shorter one finds their lines)."""
    keep = sorted(anchors, key=len)
    out: list[bytes] = []
    for a in keep:
        if not any(b in a for b in out):
            out.append(a)
    return out


def _find_all(hay: bytes, needle: bytes, hits: list[int]) -> None:
    """Append the first position of ``needle`` in every line of ``hay`` containing it."""
    find = hay.find
    i = find(needle)
    while i >= 0:
        hits.append(i)
        j = find(b"\n", i)
        if j < 0:
            return
        i = find(needle, j)
