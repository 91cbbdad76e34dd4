"""One Reddit "thing" (submission or comment) as a dict -> RawPost or a reason to reject.

Pushshift/Arctic Shift dump lines and the ``data`` of Reddit API ``t1``/``t3`` children
share field names, so both formats go through :func:`thing_to_post`.

Id convention (Reddit "fullnames"): ``post_id`` is ``t3_<id>`` for submissions and
``t1_<id>`` for comments; ``thread_id`` is the submission's fullname (the submission's
own id, a comment's ``link_id``); ``parent_id`` is a comment's ``parent_id`` (``t1_``
or ``t3_``) and None for submissions.

``community`` is the subreddit; a profile subreddit (``u_<name>``, a user's own page)
names its owner, so ``u_<name>`` and ``<name>`` go into ``identities`` and ingest
replaces the community by a keyed hash.  ``score`` is the thing's ``score`` (upvotes
minus downvotes, possibly negative); ``replies`` is a submission's ``num_comments``
(comments carry no count: missing).
"""

from __future__ import annotations

import html
from typing import Any

from vsdstats.connectors import RawPost, count, parse_time, text_or_none

PLATFORM = "reddit"
BASE_URL = "https://www.reddit.com"
GONE = frozenset({"[deleted]", "[removed]"})
# Fields naming the author (raw; ingest scrubs them from text and url).
IDENTITY_FIELDS = ("author", "author_fullname", "author_id")


class BadThing(ValueError):
    """A record that cannot become a post; the message is the Reject reason."""


def fullname(prefix: str, value: Any, field: str) -> str:
    """``t3_abc`` from ``abc`` (with ``prefix="t3_"``) or ``t3_abc``; BadThing otherwise."""
    if not isinstance(value, str):
        raise BadThing(f"{field}: expected a string, got {type(value).__name__}")
    prefixed = value[:3] in ("t1_", "t3_")
    base = value[3:] if prefixed else value
    if not base or not (base.isascii() and base.isalnum()):
        raise BadThing(f"{field}: not a Reddit id")  # never quote it: it may be a name
    if prefixed:
        return value
    if not prefix:
        raise BadThing(f"{field}: expected a t1_/t3_ fullname")
    return prefix + base


def _opt_str(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise BadThing(f"{key}: expected a string, got {type(v).__name__}")
    return v


def _url(d: dict[str, Any], post_id: str, thread_id: str) -> str | None:
    link = _opt_str(d, "permalink")
    if link:
        return link if link.startswith("http") else BASE_URL + link
    sub = _opt_str(d, "subreddit")
    if not sub:
        return None
    if post_id == thread_id:
        return f"{BASE_URL}/r/{sub}/comments/{thread_id[3:]}/"
    return f"{BASE_URL}/r/{sub}/comments/{thread_id[3:]}/_/{post_id[3:]}/"


def kind_of(d: dict[str, Any]) -> str | None:
    """``submission``, ``comment`` or None (neither a title nor a body)."""
    name = d.get("name")
    if isinstance(name, str) and name[:3] in ("t1_", "t3_"):
        return "submission" if name.startswith("t3_") else "comment"
    if "title" in d:
        return "submission"
    if "body" in d:
        return "comment"
    return None


def thing_to_post(d: Any, source_file: str, line: int, kind: str | None = None) -> RawPost:
    """The RawPost for a submission/comment dict; BadThing says why not."""
    if not isinstance(d, dict):
        raise BadThing(f"not a Reddit record: a JSON {type(d).__name__}, expected an object")
    kind = kind or kind_of(d)
    if kind is None:
        raise BadThing("not a Reddit submission or comment (no 'title' or 'body' field)")
    if "id" not in d:
        raise BadThing("missing required field 'id'")
    if "created_utc" not in d:
        raise BadThing("missing required field 'created_utc'")
    try:
        created = parse_time(d["created_utc"], field="created_utc")
    except ValueError as exc:
        raise BadThing(str(exc)) from None
    if kind == "submission":
        post_id = fullname("t3_", d["id"], "id")
        thread_id, parent_id = post_id, None
        title = d.get("title")
        if not isinstance(title, str):
            raise BadThing(f"title: expected a string, got {type(title).__name__}")
        body = _opt_str(d, "selftext") or ""
        text = title if not body.strip() or body in GONE else f"{title}\n\n{body}"
    else:
        post_id = fullname("t1_", d["id"], "id")
        body = d.get("body")
        if not isinstance(body, str):
            raise BadThing(f"body: expected a string, got {type(body).__name__}")
        text = body
        link = d.get("link_id")
        thread_id = fullname("t3_", link, "link_id") if link is not None else None
        parent = d.get("parent_id")
        parent_id = fullname("", parent, "parent_id") if parent is not None else None
        if thread_id is None and parent_id and parent_id.startswith("t3_"):
            thread_id = parent_id
    author = _opt_str(d, "author")
    author = None if author in GONE or not author else author
    author_id = _opt_str(d, "author_fullname")
    identities = {
        v for k in IDENTITY_FIELDS if isinstance(v := d.get(k), str) and v and v not in GONE
    }
    community = text_or_none(d.get("subreddit"))
    if community and community[:2].lower() == "u_" and len(community) > 2:
        identities |= {community, community[2:]}  # a profile subreddit: its owner
    return RawPost(
        platform=PLATFORM,
        post_id=post_id,
        created_at=created,
        text=html.unescape(text).strip(),
        thread_id=thread_id,
        parent_id=parent_id,
        author_handle=author,
        author_id=author_id if author else None,
        url=_url(d, post_id, thread_id) if thread_id else None,
        lang=None,
        community=community,
        score=count(d.get("score"), signed=True),
        replies=count(d.get("num_comments")) if kind == "submission" else None,
        source_file=source_file,
        source_line=line,
        identities=identities,
        kind=kind,
    )
