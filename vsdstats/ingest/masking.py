"""Mention, profile-link, e-mail and phone masking and identity scrubbing of post text
and URLs.

Rules (applied in one left-to-right pass, so nothing is masked twice):

- ``@handle``, ``@handle.bsky.social`` (Bluesky), ``@user@instance`` (Mastodon),
  Reddit ``u/name`` / ``/u/name``, ``/user/name`` and profile subreddits ``r/u_name``
  become ``@`` + the keyed pseudonym of the mentioned handle
  (:func:`vsdstats.ingest.pseudonymize.pseudonymize`, same secret and platform as the authors), so
  reply structure stays analyzable.  A mention preceded by
  a word character (``x@y``) is not a mention; ``/@name`` in links is.
- Profile links of other people (``twitter.com/name``, ``x.com/name/status/ID``,
  ``x.com/intent/user?screen_name=name``, ``instagram.com/name``, ``facebook.com/name``,
  ``profile.php?id=N``, ``bsky.app/profile/name``, ``youtube.com/channel/ID``,
  ``/users/name``, ``?ab_channel=name``) keep the site and get ``@`` + the pseudonym
  in place of the name; site pages (``x.com/home``, ``instagram.com/p/...``) are kept.
  Invisible characters inside a mentioned handle are dropped before pseudonymizing.
- E-mail addresses (``local@domain.tld``, ``local@localhost``, ``local@[127.0.0.1]``,
  ``local(at)domain(dot)tld`` and ``[at]``/``{at}`` forms) become ``[email]``: the local
  part is personal data too.
- Phone numbers that the ``phonenumbers`` library finds valid (international ``+CC``
  anywhere, national ones for :data:`PHONE_REGIONS`) become ``[phone]``; years, dates,
  doses, prices and long ids are not valid numbers and stay (a bare 10-digit run can be
  a phone number written without spaces, and is masked when valid).
- Times written ``@3am``, ``@10:30pm`` or ``@5`` (1-2 digits, optional ``:mm`` and
  am/pm) are kept as they are: they are far more often times than handles.  A known
  identity of the post (below) is scrubbed even when it looks like a time.
- Every known identity of the post (author handle and id, display names, user ids,
  DIDs from ``RawPost.identities``) is replaced where it stands as a whole token
  (case-insensitive, not inside a longer word): the author's handle and id by the
  author's pseudonym, any other identity by its own keyed pseudonym.  Identities of
  fewer than 2 characters are not scrubbed from text (they would erase ordinary words);
  mentions of them are still masked.  Look-alikes of an identity (fullwidth forms,
  Cyrillic or Greek homoglyphs, zero-width characters inside it) are matched after NFKC,
  case folding, invisible-character removal and the TR39 skeleton
  (:mod:`vsdstats.ingest.skeleton`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

from vsdstats.ingest.pseudonymize import pseudonymize
from vsdstats.ingest.skeleton import fold, fold_with_owners

EMAIL_TOKEN = "[email]"
_LENIENCY = phonenumbers.Leniency.STRICT_GROUPING  # valid, grouped as written

_ZW = "\u00ad\u200b-\u200d\u2060\ufeff"  # invisible characters seen inside handles
_HANDLE = rf"\w(?:[\w.{_ZW}-]*\w)?"
_USER = r"\w(?:[\w.]*\w)?"
# first path segments of these sites that are pages, not people
_NOT_PROFILE = (
    r"i|intent|home|search|hashtag|explore|settings|share|sharer(?:\.php)?|login|signup"
    r"|messages|notifications|compose|p|reels?|tv|accounts|groups|pages|events|watch"
    r"|marketplace|gaming|help|privacy|policies|about|legal|tos|web|dialog|plugins"
    r"|\w+\.php|media|tr|status(?:es)?|direct|developers?|business|ads|stories"
)
_PROFILE_HOST = (
    r"(?<![\w.-])(?:https?://)?(?:(?:www|mobile|m|web|mbasic|touch)\.)?"
    r"(?:twitter|x|instagram|facebook|fb|threads)\.(?:com|net)/"
)
_MENTION_RE = re.compile(
    r"(?P<email>(?<![\w.+%-])[\w.+%-]+[@＠](?:[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])"
    r"|localhost(?![\w.-])|\d{1,3}(?:\.\d{1,3}){3}(?![\w.])|\[(?:IPv6:)?[0-9A-Fa-f.:]+\]))"
    r"|(?P<email2>(?<![\w.+%-])[\w.+%-]+\s?[(\[{<]\s?(?i:at)\s?[)\]}>]\s?[\w-]+"
    r"(?:\s?(?:[(\[{<]\s?(?i:dot)\s?[)\]}>]|\.)\s?[\w-]+)+)"
    rf"|{_PROFILE_HOST}(?:\#!/)?(?:(?i:stories)/)?(?!(?i:{_NOT_PROFILE})(?:[/?#]|$|\s))"
    rf"(?P<profile>{_USER})"
    r"|(?<![\w.-])(?:https?://)?(?:www\.)?bsky\.app/profile/(?P<bsky>[\w:.-]*\w)"
    r"|youtube\.com/(?:channel|c)/(?P<ytc>[\w-]+)"
    r"|(?<=[?&])(?:screen_name|user_id|username|user|ab_channel)=(?P<qname>[^&#\s]+)"
    r"|(?<=profile\.php\?)id=(?P<fbid>\d+)"
    r"|(?<=/)users/(?P<ap>\w(?:[\w.-]*\w)?)"
    r"|(?<![\w@])@(?P<m_user>\w+(?:[.-]\w+)*)@(?P<m_host>[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\w@])@(?P<time>\d{1,2}(?::\d{2})?(?:[aApP][mM])?)(?![\w@]|[.-]\w)"
    rf"|(?<![\w@])@(?P<handle>{_HANDLE})"
    r"|(?<!\w)/?[uU]/(?P<reddit>[\w-]{3,})"
    r"|(?<=/)user/(?P<reddit2>[\w-]{3,})"
    r"|(?<!\w)/?r/u_(?P<rprofile>[\w-]{3,})"
)
_MAYBE_MASK = re.compile(r"[@＠/]|[(\[{<]\s?at\s?[)\]}>]", re.IGNORECASE)
_KEEP_PREFIX = frozenset({"profile", "bsky", "ytc", "qname", "fbid", "ap"})
_ZW_RE = re.compile(f"[{_ZW}]")

PHONE_TOKEN = "[phone]"
# national numbers are recognized for these regions; international (+CC) ones everywhere
PHONE_REGIONS = ("US", "GB", "DE", "FR", "AU")
_PHONE_HINT = re.compile(r"(?<![\w.])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,}")
_MIN_IDENTITY = 2


@lru_cache(maxsize=8192)
def _identity_re(identity: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(identity)}(?!\w)", re.IGNORECASE)


def _norm_identity(s: str) -> str:
    return s.strip().lstrip("@").strip()


class Masker:
    """Masks mentions, e-mails and known identities with keyed pseudonyms."""

    def __init__(
        self, secret: bytes, platform: str, phone_regions: tuple[str, ...] = PHONE_REGIONS
    ) -> None:
        self._secret = secret
        self.platform = platform
        self.phone_regions = phone_regions
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
            p = self._cache[key] = pseudonymize(key, self._secret, self.platform)
        return p

    def _sub(self, m: re.Match[str]) -> str:
        kind = m.lastgroup or "handle"
        if kind in ("email", "email2"):
            return EMAIL_TOKEN
        if kind == "time":
            return m.group(0)
        if kind == "m_host":
            return "@" + self.pseudonym(f"{m.group('m_user')}@{m.group('m_host')}")
        name = self.pseudonym(_ZW_RE.sub("", m.group(kind)))
        if kind in _KEEP_PREFIX:  # a profile link: keep the site, mask the name
            return m.group(0)[: m.start(kind) - m.start(0)] + "@" + name
        return "@" + name

    def mask_mentions(self, text: str) -> str:
        """Text with @mentions, u/names, profile links and e-mail addresses masked."""
        if not _MAYBE_MASK.search(text):
            return text
        return _MENTION_RE.sub(self._sub, text)

    def mask_phones(self, text: str) -> str:
        """Phone numbers (``phonenumbers``: valid and grouped as numbers are) -> ``[phone]``."""
        if not _PHONE_HINT.search(text):
            return text
        spans: set[tuple[int, int]] = set()
        for region in self.phone_regions:
            for pm in phonenumbers.PhoneNumberMatcher(text, region, leniency=_LENIENCY):
                spans.add((pm.start, pm.end))
        out, pos = [], 0
        for start, end in sorted(spans):
            if start >= pos:
                out += [text[pos:start], PHONE_TOKEN]
                pos = end
            else:
                pos = max(pos, end)
        return "".join(out) + text[pos:] if spans else text

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
        if text.isascii() and idents.ascii:
            return text
        return self._scrub_lookalikes(text, idents)

    def _scrub_lookalikes(self, text: str, idents: Identities) -> str:
        """Identities written with homoglyphs, compatibility forms or invisible characters:
        matched on the folded text (:mod:`vsdstats.ingest.skeleton`), replaced in the original."""
        folded = fold(text)
        todo = [(k, src) for k, src in idents.folded if k in folded]
        if not todo:
            return text
        folded, owners = fold_with_owners(text)
        taken = [False] * len(text)
        spans: list[tuple[int, int, str]] = []
        for key, src in todo:
            for m in _identity_re(key).finditer(folded):
                a, b = owners[m.start()], owners[m.end() - 1] + 1
                if not any(taken[a:b]):
                    taken[a:b] = [True] * (b - a)
                    spans.append((a, b, self.pseudonym(src)))
        for a, b, pseudonym in sorted(spans, reverse=True):
            text = text[:a] + pseudonym + text[b:]
        return text

    def mask_text(
        self,
        text: str,
        identities: Iterable[str] | Identities = (),
        author_keys: Iterable[str] = (),
    ) -> str:
        """Mentions, profile links, e-mails and phone numbers masked, then known
        identities (and their look-alikes) scrubbed."""
        text = self.mask_phones(self.mask_mentions(text))
        return self.scrub_identities(text, identities, author_keys)

    def scrub_url(
        self,
        url: str | None,
        identities: Iterable[str] | Identities = (),
        author_keys: Iterable[str] = (),
    ) -> str | None:
        """``url`` unchanged if it names nobody; a working identity-free rewrite where one is
        known (X/Twitter status links become ``https://x.com/i/web/status/<id>``, Reddit
        permalinks ``https://www.reddit.com/comments/<post>/_/<comment>/``, TikTok video
        links ``https://www.tiktok.com/embed/v2/<id>``); else None.  Name-only query
        parameters (YouTube's ``ab_channel=``) are removed first.
        """
        if not url:
            return None
        url = _ID_PARAM_RE.sub("", url).replace("?&", "?").rstrip("?&")
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
    first; ``folded`` the same as ``(look-alike fold, handle)``; pseudonyms are computed
    only for identities actually found.
    """

    __slots__ = ("ascii", "folded", "items")

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
        self.ascii = all(ident.isascii() for _, ident, _ in self.items)
        folded = {}
        for _, ident, src in self.items:
            k = fold(ident)
            if len(k) >= _MIN_IDENTITY:
                folded.setdefault(k, src)
        self.folded = sorted(folded.items(), key=lambda t: len(t[0]), reverse=True)

    @classmethod
    def of(
        cls, identities: Iterable[str] | Identities, author_keys: Iterable[str] = ()
    ) -> Identities:
        return identities if isinstance(identities, Identities) else cls(identities, author_keys)


_X_STATUS = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/?#]+/status/(\d+)")
_REDDIT = re.compile(
    r"^https?://(?:www\.|old\.|new\.)?reddit\.com/r/[^/?#]+/comments/(\w+)(?:/[^/?#]*/(\w+))?"
)


_TIKTOK = re.compile(r"^https?://(?:www\.|m\.|vm\.)?tiktok\.com/@[^/?#]*/video/(\d+)")
# query parameters that only carry a name (YouTube adds the channel name to watch links)
_ID_PARAM_RE = re.compile(r"(?<=[?&])ab_channel=[^&#]*&?", re.IGNORECASE)


def rewrite_url(url: str) -> str | None:
    """An equivalent permalink without the author's name, where one is known."""
    m = _X_STATUS.match(url)
    if m:
        return f"https://x.com/i/web/status/{m.group(1)}"
    m = _TIKTOK.match(url)
    if m:
        return f"https://www.tiktok.com/embed/v2/{m.group(1)}"
    m = _REDDIT.match(url)
    if m:
        post, comment = m.groups()
        tail = f"_/{comment}/" if comment else ""
        return f"https://www.reddit.com/comments/{post}/{tail}"
    return None
