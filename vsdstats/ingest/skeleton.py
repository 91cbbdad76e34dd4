"""Look-alike folding of identities: NFKC, case folding, invisible characters removed and
the Unicode TR39 confusable skeleton, so ``ｑｂｌｏｒｐ``, ``qbӏorp`` (Cyrillic) and
``qb<ZWSP>lorp`` all fold like ``qblorp``.

The confusable data is Unicode's ``confusables.txt`` as shipped (and kept current) by
the ``confusable_homoglyphs`` package.  That package stores each confusable pair in both
directions; TR39's classes are stars (every source maps to one prototype), so the
prototype of a character is the centre of its star: the neighbour that has several
neighbours, a multi-character sequence, or for an isolated pair the lower code point.
Any fixed representative per class gives the same equivalence as TR39's skeleton.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_EXTRA_IGNORABLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")


def is_ignorable(c: str) -> bool:
    """Invisible format characters (zero-width space/joiners, bidi marks, BOM, soft
    hyphen, variation selectors, Hangul fillers): Unicode's default-ignorables."""
    o = ord(c)
    return (
        unicodedata.category(c) == "Cf"
        or 0xFE00 <= o <= 0xFE0F
        or 0x180B <= o <= 0x180F
        or 0xE0100 <= o <= 0xE01EF
        or c in _EXTRA_IGNORABLE
    )


def _strip(s: str) -> str:
    return "".join(c for c in s if not is_ignorable(c))


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    from confusable_homoglyphs.confusables import confusables_data

    graph: dict[str, set[str]] = {}
    for k, alts in confusables_data.items():
        a = _strip(k)
        for alt in alts:
            b = _strip(alt["c"])
            if a and b and a != b:
                graph.setdefault(a, set()).add(b)
                graph.setdefault(b, set()).add(a)
    proto: dict[str, str] = {}
    for c, near in graph.items():
        if len(c) != 1 or len(near) != 1:
            continue  # a centre (prototype) or a sequence
        (t,) = near
        if len(t) > 1 or len(graph.get(t, ())) > 1 or ord(t) < ord(c):
            proto[c] = t
    return proto


@lru_cache(maxsize=65536)
def fold_char(c: str) -> str:
    """The folded form of one character ('' for an invisible one)."""
    if is_ignorable(c):
        return ""
    proto = _prototypes()
    base = unicodedata.normalize("NFKC", c)
    s = unicodedata.normalize("NFD", base.casefold())
    m = "".join(proto.get(ch, ch) for ch in s)
    if m == s and not s.isascii():  # e.g. Greek capital Zeta: only the capital is listed
        m = "".join(proto.get(ch, ch) for ch in unicodedata.normalize("NFD", base))
    return unicodedata.normalize("NFD", m.casefold())


def fold(s: str) -> str:
    """``s`` folded character by character (see the module docstring)."""
    return "".join(map(fold_char, s))


def fold_with_owners(s: str) -> tuple[str, list[int]]:
    """The folded string and, for each of its characters, the index in ``s`` it came from."""
    parts: list[str] = []
    owners: list[int] = []
    for i, c in enumerate(s):
        f = fold_char(c)
        if f:
            parts.append(f)
            owners.extend([i] * len(f))
    return "".join(parts), owners
