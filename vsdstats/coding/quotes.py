"""Quote normalisation and verification.

A coded unit's quote must be copied verbatim from its post.  Models (and people) copy
text with small, meaningless changes, so both the quote and the post are normalised
before the quote is searched for:

1. Unicode NFKC (full-width forms, ligatures, ``…`` -> ``...``, non-breaking spaces);
2. invisible characters removed (zero-width space/joiners, word joiner, BOM, soft hyphen);
3. curly/typographic quotes and apostrophes -> ``'`` and ``"``; dashes (‐ ‑ ‒ – — ―) -> ``-``;
4. every run of whitespace -> one space; leading/trailing whitespace removed.

Matching is **case-sensitive**: verbatim means verbatim, and the capitalisation is part
of the evidence.  :func:`quote_in_text` has ``ignore_case=True`` for callers that want
the looser check (the response validator uses it only to tell a model *why* a quote
failed: "matches only when ignoring case").

``word_count`` counts whitespace-separated tokens that contain at least one letter or
digit, so punctuation such as ``-`` or ``...`` does not make a quote "long enough".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "quote_in_text", "word_count"]

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\S*\w\S*")


def normalize(text: str) -> str:
    """``text`` normalised for quote matching (see the module docstring); case is kept."""
    s = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_TYPOGRAPHIC)
    return _WS.sub(" ", s).strip()


def word_count(quote: str) -> int:
    """Number of words in ``quote``: whitespace-separated tokens with a letter or digit."""
    return len(_WORD.findall(normalize(quote)))


def quote_in_text(quote: str, text: str, *, ignore_case: bool = False) -> bool:
    """Does ``quote`` occur in ``text`` after normalisation?  Empty quotes never do."""
    q, t = normalize(quote), normalize(text)
    if not q:
        return False
    if ignore_case:
        return q.casefold() in t.casefold()
    return q in t
