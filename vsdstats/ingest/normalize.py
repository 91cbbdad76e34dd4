"""One platform record to one row of the posts table: the privacy-relevant step.

:class:`Normalizer` turns a connector's :class:`~vsdstats.connectors.records.RawPost`
into a validated :class:`~vsdstats.tables.models.Post` row: the author becomes a keyed
pseudonym (of the handle, or of the id when there is none; Reddit's ``[deleted]`` and
``[removed]`` give no author), the text is masked (:mod:`vsdstats.ingest.masking`), a
URL naming a user is rewritten or dropped, ids that are URLs or hold a mention become
keyed hashes, a ``community`` naming someone (holding an identity of the post or a
mention, e.g. a Reddit profile subreddit ``u_name`` or a commenter's own channel) becomes
a keyed hash too (see :mod:`vsdstats.tables.models`), engagement counts that are not
whole numbers become missing, and lone UTF-16 surrogates become U+FFFD.  A record that cannot be a
post gives a reject reason instead of a row.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from vsdstats.connectors.records import RawPost
from vsdstats.ingest.masking import Identities, Masker
from vsdstats.ingest.pseudonymize import keyed_id
from vsdstats.ingest.report import FileCounts
from vsdstats.ingest.textnorm import text_hash
from vsdstats.tables.models import Post

PLACEHOLDER_AUTHORS = frozenset({"[deleted]", "[removed]"})
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def clean(s: object) -> str | None:
    """``s`` as a string with lone surrogates replaced by U+FFFD (None stays None)."""
    if s is None:
        return None
    s = str(s)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", s)
    return s


def _text(value: object) -> str | None:
    """A string field (lone surrogates replaced); anything else (a connector's dict or
    number where a name belongs) is missing, never its repr."""
    return clean(value) if isinstance(value, str) else None


def _count(value: object, signed: bool) -> int | None:
    """An engagement count (an int, not a bool; >= 0 unless ``signed``), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if (signed or value >= 0) and abs(value) < 2**63 else None


def _reason(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()]
    return "invalid post: " + "; ".join(parts)


_URL_ID_RE = re.compile(r"^\s*(?:https?:/|www\.)", re.IGNORECASE)


class Normalizer:
    """RawPost -> row dict; pseudonyms are keyed by each post's own platform (a
    multi-platform connector such as social-listening yields several)."""

    def __init__(self, secret: bytes, platform: str) -> None:
        self._secret = secret
        self.masker = Masker(secret, platform)
        self._maskers = {platform: self.masker}

    def _masker(self, platform: str) -> Masker:
        m = self._maskers.get(platform)
        if m is None:
            m = self._maskers[platform] = Masker(self._secret, platform)
        return m

    def _safe_id(self, m: Masker, value: str, idents: Identities) -> str:
        """A URL used as an id, or an id with a mention in it, becomes a keyed hash (the
        same for the same id, so threads still link); other ids have identities scrubbed."""
        if _URL_ID_RE.match(value) or m.mask_mentions(value) != value:
            return keyed_id(value, self._secret, m.platform)
        return m.scrub_identities(value, idents)

    def _safe_community(self, m: Masker, value: str | None, idents: Identities) -> str | None:
        """A community as given, or its keyed hash when it names someone: it holds one of
        the post's identities or a mention (a profile subreddit, the author's own channel,
        an instance named after its one user)."""
        value = value.strip() if value else None
        if not value:
            return None
        if m.mask_mentions(value) != value or m.scrub_identities(value, idents) != value:
            return keyed_id(value, self._secret, m.platform)
        return value

    def __call__(self, raw: RawPost, name: str, counts: FileCounts) -> dict[str, Any] | str:
        """A row dict, or a reject reason."""
        handle = clean(raw.author_handle)
        uid = clean(raw.author_id)
        keys = [k for k in (handle, uid) if k and k.strip()]
        keys = [k for k in keys if k.strip() not in PLACEHOLDER_AUTHORS]
        ids = [clean(i) or "" for i in (raw.identities or ()) if isinstance(i, str)]
        m = self._masker(raw.platform if isinstance(raw.platform, str) else "")
        author = m.pseudonym(keys[0]) if keys else None
        text = raw.text if isinstance(raw.text, str) else None
        if text is None:
            return "invalid post: text: not a string"
        idents = Identities(ids, keys)
        text = m.mask_text(clean(text) or "", idents)
        url = clean(raw.url)
        safe_url = m.scrub_url(url, idents) if url else None
        try:
            post = Post(
                platform=clean(raw.platform) or "",
                post_id=clean(raw.post_id) or "",
                thread_id=clean(raw.thread_id),
                parent_id=clean(raw.parent_id),
                author=author,
                created_at=raw.created_at,
                text=text,
                url=safe_url,
                lang=clean(raw.lang),
                community=self._safe_community(m, _text(raw.community), idents),
                score=_count(raw.score, signed=True),
                replies=_count(raw.replies, signed=False),
                source_file=name,
                source_line=raw.source_line if raw.source_line else None,
            )
        except ValidationError as exc:
            return _reason(exc)
        except (TypeError, ValueError) as exc:
            return f"invalid post: {type(exc).__name__}"
        if url and safe_url is None:
            counts.urls_dropped += 1
        row = post.model_dump()
        for k in ("post_id", "thread_id", "parent_id"):  # ids may embed user names or ids
            if row[k]:
                row[k] = self._safe_id(m, row[k], idents)
        row["kind"] = clean(raw.kind)
        row["text_hash"] = text_hash(text)
        return row
