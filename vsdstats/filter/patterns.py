"""Regular expressions of the relevance terms, for decoded text and for raw JSON bytes
(the matching rules are in :mod:`vsdstats.filter.relevance`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


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
