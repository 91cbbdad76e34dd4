"""YouTube comments: Data API v3 pages and youtube-comment-downloader lines.

``youtube-data-api``: ``commentThreads.list`` pages (``items[].snippet.topLevelComment``
plus ``replies.comments[]``), ``comments.list`` pages, or those items one per line.
``textOriginal`` is preferred; without it ``textDisplay`` (HTML) becomes plain text.
``thread_id`` is the video id, ``parent_id`` the top-level comment a reply answers.
``search.list`` results (videos, not comments) and API errors become Rejects.
``community`` is the channel of the video (``snippet.channelId`` of the thread or the
comment: the public publisher), never the commenter's ``authorChannelId``; ``score`` is
``likeCount``; ``replies`` is a thread's ``totalReplyCount`` for its top-level comment.

``youtube-comment-downloader``: JSON lines with ``cid, text, time, time_parsed, author,
channel, votes, replies, photo, heart, reply``.  ``time`` is relative ("2 days ago",
"(edited)") and is ignored: only ``time_parsed`` (epoch seconds) gives ``created_at``.
A reply's ``cid`` is ``<parent>.<child>``.  The lines do not name the video: it is
taken from the file name when that is a video id (``<11 chars>.json``, as the
downloader's README writes it), else ``thread_id`` and ``url`` stay empty.  Its
``channel`` is the commenter's, so ``community`` stays empty; ``score`` is ``votes``
and ``replies`` is ``replies`` when each is a plain number (an abbreviated "1.2K" is a
rounded display value: missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vsdstats.connectors import (
    CONVERT_ERRORS,
    JsonConnector,
    JsonFile,
    JsonFormat,
    RawPost,
    Source,
    convert_or_reason,
    count,
    html_to_text,
    not_an_object,
    parse_time,
    require_str,
    some_keys,
    text_or_none,
)

PLATFORM = "youtube"
DATA_API = "youtube-data-api"
DOWNLOADER = "youtube-comment-downloader"
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
Out = RawPost | str


class YouTubeConnector(JsonConnector):
    """Reads YouTube Data API v3 comment pages and youtube-comment-downloader output."""

    name = PLATFORM
    can_collect = True
    live_module = "vsdstats_youtube.live"  # Data API v3 through google-api-python-client
    credentials = ("YOUTUBE_API_KEY",)
    formats = (
        JsonFormat(DATA_API, head=(b'"youtube#',)),
        JsonFormat(DOWNLOADER, head=((b'"cid"', b'"time_parsed"'), (b'"cid"', b'"votes"'))),
    )

    def parse_value(self, value: Any, file: JsonFile) -> Iterator[Out]:
        """Either format (the one asked for rejects the other's values)."""
        if "video" not in file.state:
            file.state["video"] = _video_from_name(file.source)
        return _value(value, file.state["video"], file.format)


def _video_from_name(source: Source) -> str | None:
    name = source if isinstance(source, (str, Path)) else getattr(source, "name", "")
    stem = Path(str(name)).name.split(".")[0]
    return stem if _VIDEO_ID.match(stem) else None


def _value(value: Any, video: str | None, format: str | None) -> Iterator[Out]:
    """Posts and reject reasons for one JSON value (a page, an item or a line)."""
    if isinstance(value, list):
        for v in value:
            yield from _value(v, video, format)
        return
    if not isinstance(value, dict):
        yield f"not YouTube data: a JSON {type(value).__name__}, expected an object"
        return
    kind = value.get("kind")
    if "cid" in value and "uri" not in value:
        if format == DATA_API:
            yield "a youtube-comment-downloader line, but format youtube-data-api was asked"
            return
        yield _safe(_downloader, value, video)
        return
    if format == DOWNLOADER:
        yield "not a youtube-comment-downloader line (no cid)"
        return
    err = value.get("error")
    if isinstance(err, dict) and type(err.get("code")) is int and "items" not in value:
        yield f"YouTube API error {err['code']}: {err.get('message')}"  # Google's error shape
    elif kind == "youtube#searchListResponse":
        for item in _items(value):
            what = item.get("id", {}).get("kind") if isinstance(item, dict) else None
            yield f"search result ({what}), not a comment: search.list only finds videos"
    elif isinstance(value.get("items"), list) and str(kind).startswith("youtube#"):
        for item in value["items"]:
            yield from _item(item)
    elif kind in ("youtube#commentThread", "youtube#comment"):
        yield from _item(value)
    else:
        yield f"not YouTube data (no youtube# kind or cid; keys: {some_keys(value)})"


def _items(page: dict[str, Any]) -> list[Any]:
    items = page.get("items")
    return items if isinstance(items, list) else []


def _item(item: Any) -> Iterator[Out]:
    if not isinstance(item, dict):
        yield not_an_object("item", item)
    elif item.get("kind") == "youtube#commentThread":
        yield from _thread(item)
    elif item.get("kind") == "youtube#comment":
        yield _safe(_comment, item, None)
    else:
        yield f"item of kind {item.get('kind')!r} is not a comment"


def _thread(thread: dict[str, Any]) -> Iterator[Out]:
    snip = thread.get("snippet")
    if not isinstance(snip, dict) or not isinstance(snip.get("topLevelComment"), dict):
        yield "commentThread without snippet.topLevelComment"
        return
    video = snip.get("videoId") if isinstance(snip.get("videoId"), str) else None
    video_channel = text_or_none(snip.get("channelId"))  # never the commenter's
    top = _safe(_comment, snip["topLevelComment"], video, video_channel)
    if isinstance(top, RawPost):
        top.replies = count(snip.get("totalReplyCount"))
    yield top
    replies = thread.get("replies")
    comments = replies.get("comments") if isinstance(replies, dict) else None
    for reply in comments if isinstance(comments, list) else []:
        yield _safe(_comment, reply, video, video_channel)


def _safe(fn: Any, *args: Any) -> Out:
    """``fn(*args)``, or the reason it failed (wrong types, missing fields)."""
    return convert_or_reason(fn, *args, errors=(*CONVERT_ERRORS, AttributeError))


def _comment(c: dict[str, Any], video: str | None, video_channel: str | None = None) -> RawPost:
    """One ``youtube#comment``; ``video_channel`` is the thread's ``channelId`` (the
    video's channel, for a comment whose own snippet does not name it)."""
    if not isinstance(c, dict) or not isinstance(c.get("snippet"), dict):
        raise TypeError("comment without a snippet object")
    snip = c["snippet"]
    cid = require_str(c["id"], "id")
    if isinstance(snip.get("textOriginal"), str):
        text = snip["textOriginal"]
    else:
        text = html_to_text(require_str(snip.get("textDisplay"), "textDisplay"))
    vid = snip.get("videoId") if isinstance(snip.get("videoId"), str) else video
    parent = snip.get("parentId")
    parent = require_str(parent, "parentId") if parent is not None else None
    author_channel = snip.get("authorChannelId")
    channel_id = author_channel.get("value") if isinstance(author_channel, dict) else None
    name = snip.get("authorDisplayName")
    ids = {v for v in (name, channel_id, snip.get("authorChannelUrl")) if isinstance(v, str)}
    if isinstance(name, str) and name.startswith("@"):
        ids.add(name[1:])
    return RawPost(
        platform=PLATFORM,
        post_id=cid,
        created_at=parse_time(snip.get("publishedAt"), field="publishedAt"),
        text=text,
        thread_id=vid,
        parent_id=parent,
        author_handle=name if isinstance(name, str) else None,
        author_id=channel_id if isinstance(channel_id, str) else None,
        url=_url(vid, cid),
        community=text_or_none(snip.get("channelId")) or video_channel,
        score=count(snip.get("likeCount")),
        identities={i for i in ids if i},
        kind="reply" if parent else "comment",
    )


def _downloader(rec: dict[str, Any], video: str | None) -> RawPost:
    cid = require_str(rec["cid"], "cid")
    if not cid:
        raise ValueError("empty cid")
    if "time_parsed" not in rec:
        raise KeyError("time_parsed")
    parent = cid.split(".", 1)[0] if "." in cid else None
    author, channel = rec.get("author"), rec.get("channel")
    ids = {v for v in (author, channel) if isinstance(v, str) and v}
    if isinstance(author, str) and author.startswith("@") and len(author) > 1:
        ids.add(author[1:])
    return RawPost(
        platform=PLATFORM,
        post_id=cid,
        created_at=parse_time(rec["time_parsed"], field="time_parsed"),
        text=require_str(rec["text"], "text"),
        thread_id=video,
        parent_id=parent,
        author_handle=author if isinstance(author, str) else None,
        author_id=channel if isinstance(channel, str) else None,
        url=_url(video, cid),
        score=count(rec.get("votes")),
        replies=count(rec.get("replies")),
        identities=ids,
        kind="reply" if parent else "comment",
    )


def _url(video: str | None, cid: str) -> str | None:
    return f"https://www.youtube.com/watch?v={video}&lc={cid}" if video else None
