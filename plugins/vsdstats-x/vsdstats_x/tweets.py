"""One tweet -> RawPost, for X API v2 (paged or twarc-flattened) and snscrape objects.

Conventions: ids are decimal strings; ``thread_id`` is the conversation id (missing
when the export did not request ``conversation_id``); ``parent_id`` is the tweet
replied to; ``url`` is ``https://x.com/i/web/status/<id>`` (no handle); ``kind`` is
``tweet``, ``reply``, ``quote`` or ``retweet``.  ``identities`` hold the author's
username, display name and id, and those of mentioned, replied-to, quoted and
retweeted users, so that ingest can scrub them from text.  ``score`` is the like count
and ``replies`` the reply count (API v2 ``public_metrics``, snscrape ``likeCount`` /
``replyCount``); X has no communities in these records, so ``community`` is missing.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from vsdstats.connectors import RawPost, count, parse_time

PLATFORM = "x"


class BadTweet(ValueError):
    """A record that cannot become a post; the message is the Reject reason."""


def status_url(tweet_id: str) -> str:
    return f"https://x.com/i/web/status/{tweet_id}"


def tweet_id(value: Any, field: str = "id") -> str:
    """A tweet/user id as a decimal string (JSON numbers accepted)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadTweet(f"{field}: expected a string id, got {type(value).__name__}")
    s = str(value).strip()
    if not s.isascii() or not s.isdigit():
        raise BadTweet(f"{field}: not a numeric id")  # never quote an id: it may be a handle
    return s


def _opt_id(value: Any, field: str) -> str | None:
    return None if value is None else tweet_id(value, field)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadTweet(f"{field}: expected a string, got {type(value).__name__}")
    return html.unescape(value)


def _time(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        return parse_time(value, field=field)
    except ValueError as exc:
        raise BadTweet(str(exc)) from None


def _idents(*users: Any, keys: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for u in users:
        if isinstance(u, dict):
            for k in keys:
                v = u.get(k)
                if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
                    out.add(str(v).strip())
    return out


def _str(d: dict[str, Any] | None, key: str) -> str | None:
    v = d.get(key) if d else None
    return v if isinstance(v, str) and v else None


_V2_KEYS = ("username", "name", "id")


def v2_tweet_to_post(
    t: Any,
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    source_file: str,
    line: int,
) -> RawPost:
    """An API v2 tweet object; ``users``/``tweets`` are the page's includes by id.

    A twarc-flattened tweet carries ``author`` (and expanded references) inline and is
    read with empty ``users``/``tweets``.
    """
    if not isinstance(t, dict):
        raise BadTweet(f"not a tweet: a JSON {type(t).__name__}, expected an object")
    if "id" not in t or "text" not in t:
        raise BadTweet("not an X/Twitter tweet (no 'id' and 'text' fields)")
    pid = tweet_id(t["id"])
    if "created_at" not in t:
        raise BadTweet(f"tweet {pid}: missing created_at (request tweet.fields=created_at)")
    created = _time(t["created_at"], "created_at")
    text = _text(t["text"], "text")
    author_id = _opt_id(t.get("author_id"), "author_id")
    author = t.get("author") if isinstance(t.get("author"), dict) else None
    if author is None and author_id is not None:
        author = users.get(author_id)
    refs = t.get("referenced_tweets") or []
    if not isinstance(refs, list):
        raise BadTweet("referenced_tweets: expected a list")
    kind, parent_id, related = "tweet", None, []
    for ref in refs:
        if not isinstance(ref, dict):
            raise BadTweet("referenced_tweets: expected objects")
        rid = tweet_id(ref.get("id"), "referenced_tweets.id")
        rtype = ref.get("type")
        ref_tweet = tweets.get(rid, ref)
        ref_author = ref_tweet.get("author")
        if not isinstance(ref_author, dict):
            ref_author = users.get(str(ref_tweet.get("author_id")))
        related.append(ref_author)
        if rtype == "replied_to":
            parent_id, kind = rid, "reply" if kind == "tweet" else kind
        elif rtype == "quoted" and kind != "retweet":
            kind = "quote"
        elif rtype == "retweeted":
            kind = "retweet"
    ents = t.get("entities") if isinstance(t.get("entities"), dict) else {}
    mentions = ents.get("mentions") if isinstance(ents.get("mentions"), list) else []
    reply_to = _opt_id(t.get("in_reply_to_user_id"), "in_reply_to_user_id")
    reply_user = t.get("in_reply_to_user") or (users.get(reply_to) if reply_to else None)
    identities = _idents(author, reply_user, *mentions, *related, keys=_V2_KEYS)
    identities |= {i for i in (author_id, reply_to) if i}
    lang = t.get("lang") if isinstance(t.get("lang"), str) else None
    metrics = t.get("public_metrics") if isinstance(t.get("public_metrics"), dict) else {}
    return RawPost(
        platform=PLATFORM,
        post_id=pid,
        created_at=created,
        text=text,
        thread_id=_opt_id(t.get("conversation_id"), "conversation_id"),
        parent_id=parent_id,
        author_handle=_str(author, "username"),
        author_id=author_id or (_opt_id(author.get("id"), "author.id") if author else None),
        url=status_url(pid),
        lang=lang,
        score=count(metrics.get("like_count")),
        replies=count(metrics.get("reply_count")),
        source_file=source_file,
        source_line=line,
        identities=identities,
        kind=kind,
    )


_SNS_KEYS = ("username", "displayname", "id")


def snscrape_to_post(d: Any, source_file: str | None, line: int) -> RawPost:
    """A snscrape Tweet as a dict (``--jsonl`` line, or a live item's fields).

    Old snscrape (before 0.4) wrote ``content``; newer versions ``rawContent``.
    """
    if not isinstance(d, dict):
        raise BadTweet(f"not a tweet: a JSON {type(d).__name__}, expected an object")
    key = "rawContent" if "rawContent" in d else "content"
    if key not in d or "id" not in d:
        raise BadTweet("not a snscrape tweet (no 'id' and 'rawContent'/'content' fields)")
    pid = tweet_id(d["id"])
    if "date" not in d:
        raise BadTweet(f"tweet {pid}: missing date")
    created = _time(d["date"], "date")
    text = _text(d[key], key)
    user = d.get("user") if isinstance(d.get("user"), dict) else None
    mentioned = d.get("mentionedUsers") if isinstance(d.get("mentionedUsers"), list) else []
    related = [d.get("inReplyToUser"), *mentioned]
    for k in ("quotedTweet", "retweetedTweet"):
        if isinstance(d.get(k), dict):
            related.append(d[k].get("user"))
    parent_id = _opt_id(d.get("inReplyToTweetId"), "inReplyToTweetId")
    kind = (
        "retweet"
        if d.get("retweetedTweet")
        else "quote"
        if d.get("quotedTweet")
        else "reply"
        if parent_id
        else "tweet"
    )
    lang = d.get("lang") if isinstance(d.get("lang"), str) else None
    return RawPost(
        platform=PLATFORM,
        post_id=pid,
        created_at=created,
        text=text,
        thread_id=_opt_id(d.get("conversationId"), "conversationId"),
        parent_id=parent_id,
        author_handle=_str(user, "username"),
        author_id=_opt_id(user.get("id"), "user.id") if user else None,
        url=status_url(pid),
        lang=lang,
        score=count(d.get("likeCount")),
        replies=count(d.get("replyCount")),
        source_file=source_file,
        source_line=line,
        identities=_idents(user, *related, keys=_SNS_KEYS),
        kind=kind,
    )
