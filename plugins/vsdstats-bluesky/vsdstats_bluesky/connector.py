"""Bluesky: app.bsky XRPC responses and AT Protocol post records.

Accepted JSON values: ``searchPosts`` and ``getPosts`` (``{posts[]}``),
``getAuthorFeed``/``getTimeline`` (``{feed[{post, reply?, reason?}]}``: an item whose
``reason`` is ``#reasonRepost`` is a repost, not a new post, and becomes a Reject),
``getPostThread`` (``{thread}``, walked through ``parent`` and ``replies``;
``#notFoundPost`` and ``#blockedPost`` entries become Rejects), ``getRecord`` results
(``{uri, cid, value}``) and bare ``app.bsky.feed.post`` records.  Unknown fields are
ignored.  ``createdAt`` without a time zone is taken as UTC.

Ids: the at:// URI holds the author's DID, so the URI is not used as an id.  ``post_id``
is the record's CID (a hash of its content: unique, stable, no identity in it);
``thread_id`` and ``parent_id`` are the CIDs in the record's ``reply.root`` and
``reply.parent`` strong references (a post that replies to nothing is its own thread).
A bare record without a CID gets ``sha256:<32 hex>`` of its canonical JSON.
``text`` is ``record.text``, ``lang`` the first of ``langs``.  ``identities``: the
author's DID, handle and display name, the DIDs in the URI and reply references, and
mentioned DIDs with the mention text (``@handle``) of the facets.  ``url`` is left
empty: ``https://bsky.app/profile/<handle>/post/<rkey>`` names the author.
``score`` is a post view's ``likeCount`` and ``replies`` its ``replyCount`` (bare
records carry no counts); Bluesky has no community a post is published in (a feed is
where it was read), so ``community`` stays empty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from vsdstats.connectors import (
    CONVERT_ERRORS,
    JsonConnector,
    JsonFile,
    JsonFormat,
    RawPost,
    convert_or_reason,
    count,
    not_an_object,
    parse_time,
    require_str,
    some_keys,
)

PLATFORM = "bluesky"
XRPC = "bluesky-xrpc"
RECORD = "atproto-record"
POST_TYPE = "app.bsky.feed.post"
REPOST = "repost (not a new post)"
Out = RawPost | str
_ERRORS = (*CONVERT_ERRORS, AttributeError, IndexError)


class BlueskyConnector(JsonConnector):
    """Reads Bluesky XRPC responses (search, feeds, threads, posts) and post records."""

    name = PLATFORM
    formats = (
        JsonFormat(XRPC, head=(b"at://did:", b'"app.bsky.')),
        JsonFormat(RECORD, head=((b'"$type"', POST_TYPE.encode(), b'"value"'),)),
    )
    sniff_order = (RECORD, XRPC)  # a getRecord result holds an at:// URI too
    can_collect = True
    live_module = "vsdstats_bluesky.atproto_live"  # searchPosts through the atproto client
    credentials = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")

    def parse_value(self, value: Any, file: JsonFile) -> Iterator[Out]:
        return _value(value)


def _value(value: Any) -> Iterator[Out]:
    """Posts and reject reasons for one response body or record."""
    if not isinstance(value, dict):
        yield f"not Bluesky data: a JSON {type(value).__name__}, expected an object"
    elif isinstance(value.get("feed"), list):
        for item in value["feed"]:
            yield from _feed_item(item)
    elif isinstance(value.get("posts"), list):
        for p in value["posts"]:
            yield _safe(_post_view, p)
    elif isinstance(value.get("thread"), dict):
        yield from _thread(value["thread"], 0)
    elif isinstance(value.get("value"), dict):
        yield _safe(_record, value["value"], value.get("uri"), value.get("cid"))
    elif value.get("$type") == POST_TYPE:
        yield _safe(_record, value, None, None)
    elif isinstance(value.get("error"), str):
        yield f"XRPC error {value['error']}: {value.get('message') or 'no message'}"
    else:
        yield f"not Bluesky data (no posts, feed, thread or post record; keys: {some_keys(value)})"


def _feed_item(item: Any) -> Iterator[Out]:
    if not isinstance(item, dict):
        yield not_an_object("feed item", item)
        return
    reason = item.get("reason")
    if isinstance(reason, dict) and str(reason.get("$type", "")).endswith("#reasonRepost"):
        yield REPOST
    else:
        yield _safe(_post_view, item.get("post"))


def _thread(node: Any, depth: int) -> Iterator[Out]:
    """A thread view: its parents (root first), the post, then its replies."""
    if not isinstance(node, dict):
        yield not_an_object("thread entry", node)
        return
    kind = str(node.get("$type", ""))
    if kind.endswith("#notFoundPost") or node.get("notFound") is True:
        yield "thread entry not found (deleted or missing post)"
        return
    if kind.endswith("#blockedPost") or node.get("blocked") is True:
        yield "thread entry blocked (post hidden by a block)"
        return
    if abs(depth) > 500:
        yield "thread nested too deep (over 500 levels)"
        return
    if isinstance(node.get("parent"), dict) and depth <= 0:
        yield from _thread(node["parent"], depth - 1)  # parents only walk upwards
    yield _safe(_post_view, node.get("post"))
    replies = node.get("replies")
    if depth >= 0:
        for r in replies if isinstance(replies, list) else []:
            yield from _thread(r, depth + 1)


def _safe(fn: Any, *args: Any) -> Out:
    """``fn(*args)``, or the reason it failed (wrong types, missing fields)."""
    if not isinstance(args[0], dict):
        return not_an_object("post", args[0])
    return convert_or_reason(fn, *args, what="post", errors=_ERRORS)


def did_of(uri: Any) -> str | None:
    """The DID in an ``at://did:.../collection/rkey`` URI."""
    if isinstance(uri, str) and uri.startswith("at://did:"):
        return uri[5:].split("/", 1)[0]
    return None


def _post_view(p: dict[str, Any]) -> RawPost:
    record = p["record"]
    if not isinstance(record, dict):
        raise TypeError("record must be an object")
    post = _record(record, p.get("uri"), p.get("cid"))
    author = p.get("author") if isinstance(p.get("author"), dict) else {}
    did, handle = author.get("did"), author.get("handle")
    post.author_id = did if isinstance(did, str) else post.author_id
    post.author_handle = handle if isinstance(handle, str) else None
    post.score, post.replies = count(p.get("likeCount")), count(p.get("replyCount"))
    post.identities |= {
        v for v in (did, handle, author.get("displayName")) if isinstance(v, str) and v.strip()
    }
    return post


def _ref_cid(ref: Any, field: str) -> tuple[str, str | None]:
    if not isinstance(ref, dict) or not isinstance(ref.get("cid"), str) or not ref["cid"]:
        raise TypeError(f"reply.{field} must be a strong reference with a cid")
    return ref["cid"], did_of(ref.get("uri"))


def _record(rec: dict[str, Any], uri: Any, cid: Any) -> RawPost:
    kind = rec.get("$type", POST_TYPE)
    if kind != POST_TYPE:
        raise ValueError(f"record of type {kind!r}, not a post")
    text = require_str(rec["text"], "text")
    if cid is None:
        canon = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        cid = "sha256:" + hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    elif not isinstance(cid, str) or not cid:
        raise TypeError(f"cid must be a non-empty string, got {type(cid).__name__}")
    ids = {d for d in (did_of(uri),) if d}
    thread, parent = cid, None
    reply = rec.get("reply")
    if reply is not None:
        if not isinstance(reply, dict):
            raise TypeError("reply must be an object")
        thread, root_did = _ref_cid(reply.get("root"), "root")
        parent, parent_did = _ref_cid(reply.get("parent"), "parent")
        ids |= {d for d in (root_did, parent_did) if d}
    ids |= _mentions(rec.get("facets"), text)
    langs = rec.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    return RawPost(
        platform=PLATFORM,
        post_id=cid,
        created_at=parse_time(rec.get("createdAt"), field="createdAt"),
        text=text,
        thread_id=thread,
        parent_id=parent,
        author_id=did_of(uri),
        lang=lang,
        identities=ids,
        kind="reply" if parent else "post",
    )


def _mentions(facets: Any, text: str) -> set[str]:
    """Mentioned DIDs and the ``@handle`` text they cover (facet byte ranges)."""
    out: set[str] = set()
    raw = text.encode("utf-8", "surrogatepass")
    for f in facets if isinstance(facets, list) else []:
        feats = f.get("features") if isinstance(f, dict) else None
        for feat in feats if isinstance(feats, list) else []:
            if not isinstance(feat, dict) or not str(feat.get("$type", "")).endswith("#mention"):
                continue
            if isinstance(feat.get("did"), str):
                out.add(feat["did"])
            idx = f.get("index")
            if isinstance(idx, dict) and all(
                isinstance(idx.get(k), int) for k in ("byteStart", "byteEnd")
            ):
                span = raw[idx["byteStart"] : idx["byteEnd"]].decode("utf-8", "ignore").strip()
                if span:
                    out |= {span, span.lstrip("@")} - {""}
    return out
