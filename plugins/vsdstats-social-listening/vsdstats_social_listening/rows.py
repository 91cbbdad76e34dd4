"""One social-listening export row (Brandwatch-style columns) -> RawPost.

Column names are matched case- and punctuation-insensitively, so CSV headers
(``Full Text``, ``Page Type``) and API field names (``fullText``, ``pageType``) agree.

Time zone: ``Date`` is taken as UTC unless it carries an offset (``Z``, ``+02:00``,
``+0200``); export in UTC.  Accepted: ``2024-05-01 13:45:00.0``, ISO 8601 with ``T``,
date only, and epoch seconds or milliseconds.

Engagement and community, where the export has them (no real export was available to
check the names against, see the shared SOURCES.md): ``community`` from a ``Subreddit``
or ``Community`` column, ``score`` from ``Likes`` (or ``Like Count``), ``replies`` from
``Replies``, ``Reply Count``, ``Comments`` or ``Comment Count``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from vsdstats.connectors import RawPost, count, parse_time

PAGE_TYPES = {
    "twitter": "x",
    "x": "x",
    "reddit": "reddit",
    "youtube": "youtube",
    "tiktok": "tiktok",
    "mastodon": "mastodon",
    "bluesky": "bluesky",
    "bsky": "bluesky",
}
_HOSTS = {
    "twitter.com": "x",
    "x.com": "x",
    "reddit.com": "reddit",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "tiktok.com": "tiktok",
    "bsky.app": "bluesky",
}
_IDENTITY = re.compile(
    r"author|screenname|username|fullname|handle|displayname|userid|accountname|accountid"
)
_NOT_IDENTITY = re.compile(
    r"follower|following|verified|count|gender|location|type|avatar|image|bio|description"
    r"|karma|url|city|country|continent|state|age|interest|occupation|reach|impact"
)
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_TWEET_RE = re.compile(r"(?:twitter|x)\.com/(?:[^/]+/status(?:es)?|i/web/status)/(\d+)")
_REDDIT_RE = re.compile(r"reddit\.com/(?:r/[^/]+/)?comments/([a-z0-9]+)(?:/[^/?#]*/([a-z0-9]+))?")
_YT_COMMENT_RE = re.compile(r"youtube\.com/.*[?&]lc=([\w.-]+)")
_YT_VIDEO_RE = re.compile(
    r"(?:youtube\.com/(?:watch\?(?:[^#]*&)?v=|shorts/|embed/|live/)|youtu\.be/)([\w-]{6,})"
)
_TIKTOK_RE = re.compile(r"tiktok\.com/(?:@[^/?#]*/video|embed(?:/v2)?|v)/(\d+)")
_MASTODON_RE = re.compile(
    r"^https?://[^/?#]+/(?:@[^/?#]+|users/[^/?#]+/statuses|web/statuses)/(\d+)"
)


class BadRow(ValueError):
    """A row that cannot become a post; the message is the Reject reason."""


def norm(column: str) -> str:
    """``Full Text`` / ``fullText`` / ``full_text`` -> ``fulltext``."""
    return re.sub(r"[^a-z0-9]", "", column.lower())


def parse_date(value: Any) -> datetime:
    """UTC datetime from an export's Date (UTC unless an offset is given)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_time(value, field="Date")
    if not isinstance(value, str) or not value.strip():
        raise BadRow("missing Date")
    s = value.strip()
    m = _DATE_RE.match(s)
    if m is None:
        try:
            return parse_time(s, field="Date")  # epoch numbers, other ISO forms
        except ValueError:
            raise BadRow(f"cannot parse Date {s[:40]!r}") from None
    y, mo, d, h, mi, sec, frac, off = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if off and off != "Z":
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            raise BadRow(f"cannot parse Date {s[:40]!r}: bad offset")
        tz = timezone(sign * delta)
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0), micro, tz)
    except ValueError as exc:
        raise BadRow(f"cannot parse Date {s[:40]!r}: {exc}") from None
    return dt.astimezone(timezone.utc)


def _get(row: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = row.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _first_count(row: dict[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` holding a whole count (:func:`vsdstats.connectors.count`)."""
    for k in keys:
        n = count(row.get(k))
        if n is not None:
            return n
    return None


def platform_of(row: dict[str, Any], url: str | None) -> str:
    """The post table's platform slug from Page Type (or, if blank, the Url's host)."""
    page_type = _get(row, "pagetype", "contentsource", "contentsourcename")
    if page_type is not None:
        slug = PAGE_TYPES.get(page_type.lower().removesuffix(".com"))
        if slug is None:
            raise BadRow(f"unsupported Page Type {page_type[:40]!r}")
        return slug
    host = re.sub(r"^https?://(www\.|m\.|old\.)?", "", url or "").split("/")[0].lower()
    if host in _HOSTS:
        return _HOSTS[host]
    raise BadRow("missing Page Type (and the Url does not name a known platform)")


def _url_id(platform: str, url: str) -> str | None:
    """The platform's own post id shown in a post Url (never the name in it)."""
    if platform == "x" and (m := _TWEET_RE.search(url)):
        return m.group(1)
    if platform == "reddit" and (m := _REDDIT_RE.search(url)):
        return f"t1_{m.group(2)}" if m.group(2) else f"t3_{m.group(1)}"
    if platform == "youtube":
        if m := _YT_COMMENT_RE.search(url):
            return m.group(1)
        if m := _YT_VIDEO_RE.search(url):
            return m.group(1)
    if platform == "tiktok" and (m := _TIKTOK_RE.search(url)):
        return m.group(1)
    if platform == "mastodon" and (m := _MASTODON_RE.search(url)):
        return m.group(1)
    return None


def _post_id(platform: str, row: dict[str, Any], url: str | None) -> str:
    """The native connector's id when the Url shows it, else Resource/Mention Id, else the
    Url itself (a URL id is replaced by a keyed hash at ingest, which holds the secret)."""
    if url and (pid := _url_id(platform, url)):
        return pid
    pid = _get(row, "resourceid", "mentionid", "id") or url
    if pid is None:
        raise BadRow("no Resource Id, Mention Id or Url")
    return pid


def row_to_post(row: dict[str, Any], source_file: str, line: int) -> RawPost:
    """A row whose keys are normalized column names (see :func:`norm`)."""
    url = _get(row, "url", "originalurl")
    platform = platform_of(row, url)
    text = _get(row, "fulltext", "snippet", "text")
    if text is None:
        raise BadRow("missing Full Text")
    text = html.unescape(text)
    title = _get(row, "title")
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    created = parse_date(row.get("date"))
    author = _get(row, "author", "authorname", "username")
    identities = {
        v.strip()
        for k, v in row.items()
        if isinstance(v, str) and v.strip() and _IDENTITY.search(k) and not _NOT_IDENTITY.search(k)
    }
    identities |= {i.lstrip("@") for i in identities if i.startswith("@")}
    lang = _get(row, "language", "lang")
    return RawPost(
        platform=platform,
        post_id=_post_id(platform, row, url),
        created_at=created,
        text=text,
        thread_id=_get(row, "threadid"),
        parent_id=_get(row, "parentpostid", "parentid"),
        author_handle=author.lstrip("@") if author else None,
        author_id=_get(row, "authorid", "twitterauthorid", "userid"),
        url=url,
        lang=lang.lower() if lang else None,
        community=_get(row, "subreddit", "community"),
        score=_first_count(row, "likes", "likecount"),
        replies=_first_count(row, "replies", "replycount", "comments", "commentcount"),
        source_file=source_file,
        source_line=line,
        identities=identities,
        kind=(_get(row, "threadentrytype") or "post").lower(),
    )
