"""Mention masking and identity scrubbing of post text and URLs.

Rules (applied in one left-to-right pass, so nothing is masked twice):

- ``@handle``, ``@handle.bsky.social`` (Bluesky), ``@user@instance`` (Mastodon),
  Reddit ``u/name`` / ``/u/name``, ``/user/name`` and profile subreddits ``r/u_name``
  become ``@`` + the keyed pseudonym of the mentioned handle
  (:func:`vsdstats.privacy.pseudonymize`, same secret and platform as the authors), so
  reply structure stays analyzable.  A mention preceded by
  a word character (``x@y``) is not a mention; ``/@name`` in links is.
- E-mail addresses (``local@domain.tld``) become ``[email]``: the local part is
  personal data too.
- Times written ``@3am``, ``@10:30pm`` or ``@5`` (1-2 digits, optional ``:mm`` and
  am/pm) are kept as they are: they are far more often times than handles.  A known
  identity of the post (below) is scrubbed even when it looks like a time.
- Every known identity of the post (author handle and id, display names, user ids,
  DIDs from ``RawPost.identities``) is replaced where it stands as a whole token
  (case-insensitive, not inside a longer word): the author's handle and id by the
  author's pseudonym, any other identity by its own keyed pseudonym.  Identities of
  fewer than 2 characters are not scrubbed from text (they would erase ordinary words);
  mentions of them are still masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from vsdstats.privacy import pseudonymize

EMAIL_TOKEN = "[email]"

_HANDLE = r"\w(?:[\w.-]*\w)?"
_MENTION_RE = re.compile(
    r"(?P<email>(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-]))"
    r"|(?<![\w@])@(?P<m_user>\w+(?:[.-]\w+)*)@(?P<m_host>[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\w@])@(?P<time>\d{1,2}(?::\d{2})?(?:[aApP][mM])?)(?![\w@]|[.-]\w)"
    rf"|(?<![\w@])@(?P<handle>{_HANDLE})"
    r"|(?<!\w)/?[uU]/(?P<reddit>[\w-]{3,})"
    r"|(?<=/)user/(?P<reddit2>[\w-]{3,})"
    r"|(?<!\w)/?r/u_(?P<rprofile>[\w-]{3,})"
)
_MIN_IDENTITY = 2


@lru_cache(maxsize=8192)
def _identity_re(identity: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(identity)}(?!\w)", re.IGNORECASE)


def _norm_identity(s: str) -> str:
    return s.strip().lstrip("@").strip()


class Masker:
    """Masks mentions, e-mails and known identities with keyed pseudonyms."""

    def __init__(self, secret: bytes, platform: str) -> None:
        self._secret = secret
        self.platform = platform
        self._cache: dict[str, str] = {}

    def __repr__(self) -> str:  # never show the secret
        return f"Masker(platform={self.platform!r})"

    def pseudonym(self, handle: str) -> str:
        """Keyed pseudonym of ``handle`` on this platform (memoized, bounded)."""
        key = handle.strip().lstrip("@").lower()  # as pseudonymize normalizes
        p = self._cache.get(key)
        if p is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            p = self._cache[key] = pseudonymize(handle, self._secret, self.platform)
        return p

    def _sub(self, m: re.Match[str]) -> str:
        kind = m.lastgroup
        if kind == "email":
            return EMAIL_TOKEN
        if kind == "time":
            return m.group(0)
        if kind == "m_host":
            return "@" + self.pseudonym(f"{m.group('m_user')}@{m.group('m_host')}")
        return "@" + self.pseudonym(m.group(kind or "handle"))

    def mask_mentions(self, text: str) -> str:
        """Text with @mentions, u/names and e-mail addresses masked."""
        if "@" not in text and "/" not in text:
            return text
        return _MENTION_RE.sub(self._sub, text)

    def scrub_identities(
        self, text: str, identities: Iterable[str] | Identities, author_keys: Iterable[str] = ()
    ) -> str:
        """Replace whole-token occurrences of each identity (case-insensitive).

        ``author_keys`` (author handle, author id) become the author's pseudonym, i.e. the
        pseudonym of the first key; other identities become their own pseudonym.
        """
        idents = Identities.of(identities, author_keys)
        if not idents.items:
            return text
        folded = text.casefold()
        for key, ident, src in idents.items:
            if key in folded:
                text = _identity_re(ident).sub(self.pseudonym(src), text)
                folded = text.casefold()
        return text

    def mask_text(
        self,
        text: str,
        identities: Iterable[str] | Identities = (),
        author_keys: Iterable[str] = (),
    ) -> str:
        """Mentions and e-mails masked, then known identities scrubbed."""
        return self.scrub_identities(self.mask_mentions(text), identities, author_keys)

    def scrub_url(
        self,
        url: str | None,
        identities: Iterable[str] | Identities = (),
        author_keys: Iterable[str] = (),
    ) -> str | None:
        """``url`` unchanged if it names nobody; a working identity-free rewrite where one is
        known (X/Twitter status links become ``https://x.com/i/web/status/<id>``, Reddit
        permalinks ``https://www.reddit.com/comments/<post>/_/<comment>/``); else None.
        """
        if not url:
            return None
        idents = Identities.of(identities, author_keys)

        def clean(u: str) -> bool:
            return self.mask_text(u, idents) == u

        if clean(url):
            return url
        alt = rewrite_url(url)
        if alt is not None and clean(alt):
            return alt
        return None


class Identities:
    """The known identities of one post, prepared once to scrub several strings.

    ``items`` are ``(casefolded, as given, handle whose pseudonym replaces it)``, longest
    first; pseudonyms are computed only for identities actually found.
    """

    __slots__ = ("items",)

    def __init__(self, identities: Iterable[str] = (), author_keys: Iterable[str] = ()) -> None:
        keys = [k for k in (_norm_identity(a) for a in author_keys if isinstance(a, str)) if k]
        found: dict[str, tuple[str, str]] = {}
        for k in keys:
            found.setdefault(k.casefold(), (k, keys[0]))
        for ident in identities:
            k = _norm_identity(ident) if isinstance(ident, str) else ""
            if k:
                found.setdefault(k.casefold(), (k, k))
        self.items = sorted(
            (
                (key, ident, src)
                for key, (ident, src) in found.items()
                if len(ident) >= _MIN_IDENTITY
            ),
            key=lambda t: len(t[0]),
            reverse=True,
        )

    @classmethod
    def of(
        cls, identities: Iterable[str] | Identities, author_keys: Iterable[str] = ()
    ) -> Identities:
        return identities if isinstance(identities, Identities) else cls(identities, author_keys)


_X_STATUS = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/?#]+/status/(\d+)")
_REDDIT = re.compile(
    r"^https?://(?:www\.|old\.|new\.)?reddit\.com/r/[^/?#]+/comments/(\w+)(?:/[^/?#]*/(\w+))?"
)


def rewrite_url(url: str) -> str | None:
    """An equivalent permalink without the author's name, where one is known."""
    m = _X_STATUS.match(url)
    if m:
        return f"https://x.com/i/web/status/{m.group(1)}"
    m = _REDDIT.match(url)
    if m:
        post, comment = m.groups()
        tail = f"_/{comment}/" if comment else ""
        return f"https://www.reddit.com/comments/{post}/{tail}"
    return None
