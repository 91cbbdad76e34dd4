"""TikTok Research API responses: video query and comment list.

``POST /v2/research/video/query/`` gives ``data.videos[]`` (``id`` -- ``video_id`` in
TikTok's documentation examples --, ``create_time`` epoch, ``username``,
``video_description``, ``region_code``, ``hashtag_names``, ...);
``POST /v2/research/video/comment/list/`` gives ``data.comments[]`` (``id, video_id,
text, create_time, parent_comment_id, like_count, reply_count``).  Every response has
an ``error`` object: a ``code`` other than ``"ok"`` becomes a Reject with its message.

Ids exceed 2**53: they are JSON numbers that Python's ``json`` reads as exact ints and
are turned into decimal strings; a float or non-numeric id is rejected, never rounded.
A video's text is its description; a comment's ``thread_id`` is its video and
``parent_id`` its ``parent_comment_id`` unless that is the video id (top-level).

``url``: the canonical ``https://www.tiktok.com/@<username>/video/<id>`` holds the
author's handle, which ingest scrubs (leaving a broken link), so videos get the
handle-free embed address ``https://www.tiktok.com/embed/v2/<id>``; comments have no
address of their own and get none.  Request bodies, user-info responses and other
JSON become Rejects that say what they are.

``community`` is a video's ``region_code`` (the region it was posted from; comments
have none); ``hashtag_names`` are topics, not communities.  ``score`` is ``like_count``;
``replies`` is a video's ``comment_count`` or a comment's ``reply_count``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from vsdstats.connectors import (
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
    text_or_none,
)

PLATFORM = "tiktok"
RESEARCH_API = "tiktok-research-api"
_DIGITS = re.compile(r"^[0-9]+$")
Out = RawPost | str


class TikTokConnector(JsonConnector):
    """Reads TikTok Research API video query and comment list responses."""

    name = PLATFORM
    can_collect = True
    live_module = "vsdstats_tiktok.live"  # the Research API over httpx
    credentials = ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET")
    formats = (
        JsonFormat(
            RESEARCH_API,
            head=(
                b'"video_description"',
                (b'"videos"', b'"create_time"'),
                (b'"comments"', b'"create_time"'),
            ),
        ),
    )

    def parse_value(self, value: Any, file: JsonFile) -> Iterator[Out]:
        return _value(value)


def _value(value: Any) -> Iterator[Out]:
    """Posts and reject reasons for one response (or one video/comment per line)."""
    if not isinstance(value, dict):
        yield f"not a TikTok Research API response: a JSON {type(value).__name__}"
        return
    err = value.get("error")
    if isinstance(err, dict) and err.get("code") not in (None, "ok"):
        yield f"TikTok API error {err.get('code')}: {err.get('message') or 'no message'}"
    data = value.get("data")
    if "query" in value and data is None:
        yield "a Research API request body (query), not a response"
    elif isinstance(data, dict) and isinstance(data.get("videos"), list):
        for v in data["videos"]:
            yield _safe(_video, v)
    elif isinstance(data, dict) and isinstance(data.get("comments"), list):
        for c in data["comments"]:
            yield _safe(_comment, c)
    elif isinstance(data, dict) and "display_name" in data and "bio_description" in data:
        yield "a user info response (a profile), not posts"
    elif "video_description" in value:
        yield _safe(_video, value)
    elif "video_id" in value and "text" in value:
        yield _safe(_comment, value)
    elif not (isinstance(err, dict) and data in (None, {})):
        keys = some_keys(value)
        yield f"not a TikTok Research API response (no data.videos or data.comments; keys: {keys})"


def _safe(fn: Any, obj: Any) -> Out:
    """``fn(obj)``, or the reason it failed (wrong types, missing fields)."""
    if not isinstance(obj, dict):
        return not_an_object("record", obj)
    return convert_or_reason(fn, obj)


def tiktok_id(value: Any, field: str) -> str:
    """An id as an exact decimal string (ints and digit strings only, never floats)."""
    if isinstance(value, bool):
        raise TypeError(f"{field} must be an integer, got a boolean")
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.match(value):
        return value
    if isinstance(value, float):
        raise TypeError(f"{field} is a float: precision lost, rejected")
    raise TypeError(f"{field} must be a non-negative integer, got {type(value).__name__}")


def _video(v: dict[str, Any]) -> RawPost:
    vid = tiktok_id(v["id"] if "id" in v else v["video_id"], "id")
    user = v.get("username")
    user = require_str(user, "username") if user is not None else None
    return RawPost(
        platform=PLATFORM,
        post_id=vid,
        created_at=parse_time(v["create_time"], field="create_time"),
        text=require_str(v["video_description"], "video_description"),
        thread_id=vid,
        author_handle=user,
        url=f"https://www.tiktok.com/embed/v2/{vid}",
        community=text_or_none(v.get("region_code")),
        score=count(v.get("like_count")),
        replies=count(v.get("comment_count")),
        identities={user} if user else set(),
        kind="video",
    )


def _comment(c: dict[str, Any]) -> RawPost:
    cid = tiktok_id(c["id"], "id")
    video = tiktok_id(c["video_id"], "video_id")
    parent = c.get("parent_comment_id")
    parent = tiktok_id(parent, "parent_comment_id") if parent not in (None, "", 0) else None
    if parent == video:
        parent = None
    user = c.get("username")
    user = require_str(user, "username") if user is not None else None
    return RawPost(
        platform=PLATFORM,
        post_id=cid,
        created_at=parse_time(c["create_time"], field="create_time"),
        text=require_str(c["text"], "text"),
        thread_id=video,
        parent_id=parent,
        author_handle=user,
        score=count(c.get("like_count")),
        replies=count(c.get("reply_count")),
        identities={user} if user else set(),
        kind="reply" if parent else "comment",
    )
