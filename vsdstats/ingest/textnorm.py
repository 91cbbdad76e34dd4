"""What "the same text" means, for ingest and coding alike.

:func:`normalize_text` -- NFKC, case-folded, links removed, whitespace collapsed -- is
the one definition: ingest flags a post ``dup_text`` when its :func:`text_hash` was seen
before, and ``vsdstats code`` codes each :func:`text_hash` once and maps the result to
every post with it.  So the texts ingest calls duplicates are exactly those coding does
not pay for twice.

Links are removed because they are not what gets coded: the codebook codes what the
post's words report, the coder never follows a link, and reposts of one text differ
mostly in their tracking or shortener URLs.  A text that is empty after normalization
(blank, or only links) is not sent to a coder.  (Quote matching has its own,
case-preserving normalization: :func:`vsdstats.coding.quotes.normalize`.)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["EMPTY_HASH", "normalize_text", "text_hash"]

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WS_RE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, case-folded, URLs removed, whitespace collapsed: the duplicate-text key."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return _WS_RE.sub(" ", _URL_RE.sub(" ", t)).strip()


def text_hash(text: str) -> str:
    """Hex SHA-256 of :func:`normalize_text` (lone surrogates hashed, not an error)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8", "surrogatepass")).hexdigest()


#: The hash of every text with nothing to code (blank, or only links).
EMPTY_HASH = text_hash("")
