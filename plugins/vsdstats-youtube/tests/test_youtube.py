"""The youtube connector (plugins/vsdstats-youtube) on the real Data API samples in
../shared and on synthetic records (the shared folder has no licensed
youtube-comment-downloader output, so that format is tested on records written here)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from vsdstats_youtube import YouTubeConnector

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import Reject

CONNECTOR = YT = YouTubeConnector()
SAMPLES = "fixtures/platforms/youtube"


def test_entry_point_lists_youtube_and_formats():
    reg = connectors()["youtube"]
    assert reg.plugin == "vsdstats-youtube"
    assert reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("youtube-data-api", "youtube-comment-downloader")


def raw(shared_dir, name):
    """A sample as plain JSON: expected values come from it at run time (the samples
    hold real names and posts that are not copied into this repository)."""
    return json.loads((shared_dir / SAMPLES / name).read_text("utf-8"))


def test_comment_thread_single(shared_dir, sample):
    name = "comment_thread_single.json"
    posts, rejects = sample(shared_dir, name)
    assert rejects == []
    (p,) = posts
    thread = raw(shared_dir, name)["items"][0]["snippet"]
    top = thread["topLevelComment"]
    snip = top["snippet"]
    assert p.post_id == top["id"] and len(p.post_id) == 26
    assert p.thread_id == thread["videoId"] and p.parent_id is None and p.kind == "comment"
    assert p.created_at == datetime(2019, 4, 20, 1, 3, 39, tzinfo=timezone.utc)
    assert p.text == snip["textOriginal"]  # preferred over the HTML textDisplay
    assert "<br" in snip["textDisplay"] and "<br" not in p.text and p.text.count("\n") == 3
    assert p.url == f"https://www.youtube.com/watch?v={thread['videoId']}&lc={top['id']}"
    assert p.source_line == 1 and p.source_file.endswith(name)
    # identities for the ingest's scrubbing: display name, channel id and channel URL
    channel = snip["authorChannelId"]["value"]
    assert {snip["authorDisplayName"], channel, snip["authorChannelUrl"]} <= p.identities
    assert (p.author_id, p.author_handle) == (channel, snip["authorDisplayName"])


def test_comment_thread_pages(shared_dir, split):
    base = shared_dir / "fixtures/platforms/youtube"
    for page in ("comment_threads_by_video_paged_1.json", "comment_threads_by_video_paged_2.json"):
        posts, rejects = split(list(YT.read(base / page)))
        assert (len(posts), len(rejects)) == (5, 0)
        items = raw(shared_dir, page)["items"]
        assert [p.post_id for p in posts] == [it["id"] for it in items]
        assert {p.thread_id for p in posts} == {items[0]["snippet"]["videoId"]}
        assert [p.source_line for p in posts] == [1, 2, 3, 4, 5]
        first = items[0]["snippet"]["topLevelComment"]["snippet"]
        assert first["textDisplay"].startswith("<a href=")
        assert posts[0].text == first["textOriginal"] and "<" not in posts[0].text
        assert posts[0].created_at == datetime(2019, 11, 26, 15, 51, 44, tzinfo=timezone.utc)


def test_comments_by_parent(shared_dir, sample):
    name = "comments_by_parent_paged_1.json"
    posts, rejects = sample(shared_dir, name)
    assert rejects == []
    items = raw(shared_dir, name)["items"]
    assert [p.post_id for p in posts] == [it["id"] for it in items]
    parent = items[0]["snippet"]["parentId"]
    assert posts[0].post_id.startswith(parent + ".")
    assert {p.parent_id for p in posts} == {parent}
    assert {p.kind for p in posts} == {"reply"}
    assert [p.thread_id for p in posts] == [None, None]  # replies here do not name the video
    assert [p.text for p in posts] == [it["snippet"]["textOriginal"] for it in items]
    assert posts[0].created_at == datetime(2019, 12, 1, 4, 46, 31, tzinfo=timezone.utc)
    assert items[0]["snippet"]["authorDisplayName"] in posts[0].identities


def test_search_results_are_rejected_as_not_comments(shared_dir, split):
    path = shared_dir / "fixtures/platforms/youtube/search_by_keywords_p1.json"
    posts, rejects = split(list(YT.read(path)))
    assert posts == [] and len(rejects) == 25
    assert {r.reason for r in rejects} == {
        "search result (youtube#video), not a comment: search.list only finds videos"
    }
    assert [r.line for r in rejects] == list(range(1, 26))


def _api_comment(cid, text_html, text=None, parent=None, video="vid00000001", when="2024-01-02"):
    snip = {
        "authorDisplayName": "@Some Person",
        "authorChannelUrl": "http://www.youtube.com/@someperson",
        "authorChannelId": {"value": "UCsynthetic000000000000"},
        "textDisplay": text_html,
        "publishedAt": f"{when}T03:04:05.000Z",
        "videoId": video,
    }
    if text is not None:
        snip["textOriginal"] = text
    if parent:
        snip["parentId"] = parent
    return {"kind": "youtube#comment", "id": cid, "snippet": snip}


def test_thread_with_replies_and_html_fallback(read_bytes):
    page = {
        "kind": "youtube#commentThreadListResponse",
        "items": [
            {
                "kind": "youtube#commentThread",
                "id": "T1",
                "snippet": {
                    "videoId": "vid00000001",
                    "topLevelComment": _api_comment("T1", "Tom &amp; Jerry<br />line <b>2</b>"),
                },
                "replies": {"comments": [_api_comment("T1.r1", "x", text="a reply", parent="T1")]},
            },
            {"kind": "youtube#commentThread", "id": "T2", "snippet": {"videoId": "v"}},
        ],
    }
    posts, rejects = read_bytes(json.dumps(page).encode())
    assert [p.post_id for p in posts] == ["T1", "T1.r1"]
    assert posts[0].text == "Tom & Jerry\nline 2"  # no textOriginal: HTML to text
    assert posts[1].text == "a reply" and posts[1].parent_id == "T1"
    assert posts[1].kind == "reply" and posts[1].thread_id == "vid00000001"
    assert {"@Some Person", "Some Person"} <= posts[0].identities
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "commentThread without snippet.topLevelComment")
    ]


def test_api_error_and_bad_fields_are_rejects(read_bytes):
    err = {"error": {"code": 403, "message": "The request cannot be completed: quota."}}
    posts, rejects = read_bytes(json.dumps(err).encode())
    assert posts == []
    assert [r.reason for r in rejects] == [
        "YouTube API error 403: The request cannot be completed: quota."
    ]
    bad = _api_comment("C1", "t", text="t")
    bad["snippet"]["publishedAt"] = "yesterday"
    wrong = _api_comment(17, "t", text="t")
    page = {"kind": "youtube#commentListResponse", "items": [bad, wrong, "oops"]}
    posts, rejects = read_bytes(json.dumps(page).encode())
    assert posts == []
    assert [r.reason for r in rejects] == [
        "bad record: publishedAt: cannot parse time 'yesterday'",
        "bad record: id must be a string, got int",
        "item is a JSON str, expected an object",
    ]


DOWNLOADER_LINES = [
    {
        "cid": "UgzSYNTHETICcomment0001",
        "text": "Talking to a chatbot at 3am helped &amp; I slept",
        "time": "7 months ago",
        "author": "@synthetic_user",
        "channel": "UCsyntheticChannel00000",
        "votes": "1.2K",
        "replies": "2",
        "photo": "https://yt3.ggpht.com/synthetic",
        "heart": False,
        "reply": False,
        "time_parsed": 1700000000.5,
    },
    {
        "cid": "UgzSYNTHETICcomment0001.9abcDEFghiJ",
        "text": "same here",
        "time": "3 years ago (edited)",
        "author": "@other",
        "channel": "UCotherChannel000000000",
        "votes": "0",
        "replies": "",
        "photo": "",
        "heart": True,
        "reply": True,
        "time_parsed": 1600000000,
    },
]


def test_downloader_lines_video_from_file_name(read_bytes):
    data = "\n".join(json.dumps(d) for d in DOWNLOADER_LINES) + "\n{truncated\n"
    posts, rejects = read_bytes(data.encode(), name="/tmp/AbCdEfGhIjK.json")
    assert [p.post_id for p in posts] == [d["cid"] for d in DOWNLOADER_LINES]
    top, reply = posts
    assert top.text == "Talking to a chatbot at 3am helped &amp; I slept"  # kept verbatim
    assert top.created_at == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)
    assert top.parent_id is None and top.kind == "comment"
    assert reply.parent_id == "UgzSYNTHETICcomment0001" and reply.kind == "reply"
    assert reply.created_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=timezone.utc)
    assert {p.thread_id for p in posts} == {"AbCdEfGhIjK"}
    assert reply.url == "https://www.youtube.com/watch?v=AbCdEfGhIjK&lc=" + reply.post_id
    assert [p.source_line for p in posts] == [1, 2]
    assert top.identities == {"@synthetic_user", "synthetic_user", "UCsyntheticChannel00000"}
    assert [(r.line, r.reason[:9]) for r in rejects] == [(3, "not JSON:")]


def test_downloader_without_video_in_name_and_missing_time(read_bytes):
    rec = dict(DOWNLOADER_LINES[0])
    del rec["time_parsed"]
    data = json.dumps(DOWNLOADER_LINES[1]) + "\n" + json.dumps(rec)
    posts, rejects = read_bytes(data.encode(), name="comments-export.jsonl")
    assert [(p.thread_id, p.url) for p in posts] == [(None, None)]
    assert [(r.line, r.reason) for r in rejects] == [(2, "bad record: missing field 'time_parsed'")]


def test_format_argument_checks_the_data(read_bytes):
    line = json.dumps(DOWNLOADER_LINES[0]).encode()
    assert read_bytes(line, format="youtube-comment-downloader")[0][0].post_id.startswith("Ugz")
    posts, rejects = read_bytes(line, format="youtube-data-api")
    assert posts == [] and "format youtube-data-api was asked" in rejects[0].reason


def test_sniff():
    assert YT.sniff(b'{"kind": "youtube#commentThreadListResponse"') == "youtube-data-api"
    assert YT.sniff(b'{"cid": "x", "text": "y", "votes": "1"}') == "youtube-comment-downloader"
    assert YT.sniff(b'{"data": {"videos": []}}') is None


def test_other_platform_files_are_rejected(shared_dir, other_platforms):
    others = (
        "mastodon/_extracted_bodies/test_entity_status__body00.json",
        "bluesky/_extracted_bodies/f_search__body00.json",
        "tiktok_research_api/example_resp_q_videos.json",
        "twitter_x_api_v2/two_tweets.jsonl",
    )
    for rel, rejects in other_platforms(shared_dir, others):
        assert all(r.reason.startswith("not YouTube data") for r in rejects), rel


def test_empty_and_undecodable_input(read_bytes):
    assert read_bytes(b"") == ([], [Reject("mem.json", 0, "empty file")])
    posts, rejects = read_bytes(b'{"kind": "youtube#commentListResponse", "items": []}')
    assert rejects == [Reject("mem.json", 1, "no records in this JSON value (empty page)")]
    posts, rejects = read_bytes(b'{"cid": "a\xff"}')
    assert posts == [] and rejects[0].reason.startswith("undecodable bytes")


_stamp = st.datetimes(
    min_value=datetime(2006, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@given(
    cid=st.from_regex(r"\A[A-Za-z0-9_-]{8,26}\Z"),
    text=st.text(max_size=200),
    when=_stamp,
)
def test_api_comment_roundtrip(read_bytes, cid, text, when):
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    item = {
        "kind": "youtube#comment",
        "id": cid,
        "snippet": {"textOriginal": text, "textDisplay": "<b>x</b>", "publishedAt": stamp},
    }
    posts, rejects = read_bytes(
        json.dumps({"kind": "youtube#commentListResponse", "items": [item]}).encode()
    )
    assert rejects == []
    assert [(p.post_id, p.text, p.created_at) for p in posts] == [(cid, text, when)]


@given(
    cid=st.from_regex(r"\A[A-Za-z0-9_-]{6,26}(\.[A-Za-z0-9_-]{6,22})?\Z"),
    text=st.text(max_size=200),
    epoch=st.integers(min_value=1_100_000_000, max_value=2_000_000_000),
)
def test_downloader_roundtrip(read_bytes, cid, text, epoch):
    rec = {"cid": cid, "text": text, "time": "1 day ago", "time_parsed": epoch, "votes": "3"}
    posts, rejects = read_bytes(json.dumps(rec).encode())
    assert rejects == []
    (p,) = posts
    assert (p.post_id, p.text) == (cid, text)
    assert p.created_at == datetime.fromtimestamp(epoch, tz=timezone.utc)
    assert p.parent_id == (cid.split(".")[0] if "." in cid else None)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_never_raise(read_bytes, data):
    posts, rejects = read_bytes(data)
    assert posts == [] and rejects
    assert all(isinstance(r.reason, str) and r.reason for r in rejects)


def test_engagement_and_community_from_the_samples(shared_dir, split):
    """score = likeCount, replies = a thread's totalReplyCount (replies in a thread or a
    comments.list page: none); these 2019 samples predate snippet.channelId, so no
    community, and the commenter's channel is never taken for one."""
    base = shared_dir / SAMPLES
    for page in ("comment_threads_by_video_paged_1.json", "comments_by_parent_paged_1.json"):
        posts, _ = split(list(YT.read(base / page)))
        items = raw(shared_dir, page)["items"]
        snips = [it["snippet"].get("topLevelComment", it)["snippet"] for it in items]
        assert [p.score for p in posts] == [s["likeCount"] for s in snips]
        want = [it["snippet"].get("totalReplyCount") for it in items]
        assert [p.replies for p in posts] == want
        assert {p.community for p in posts} == {None}
        assert all(isinstance(p.author_id, str) and p.author_id.startswith("UC") for p in posts)


def test_community_is_the_videos_channel_never_the_commenters(read_bytes):
    top = _api_comment("T1", "top", text="top")
    top["snippet"]["likeCount"] = 7
    reply = _api_comment("T1.r1", "x", text="a reply", parent="T1")
    reply["snippet"].update(likeCount="3", channelId="UCvideoChannelOfReply00")
    page = {
        "kind": "youtube#commentThreadListResponse",
        "items": [
            {
                "kind": "youtube#commentThread",
                "id": "T1",
                "snippet": {
                    "channelId": "UCvideoChannel000000000",
                    "videoId": "vid00000001",
                    "topLevelComment": top,
                    "totalReplyCount": 1,
                },
                "replies": {"comments": [reply]},
            }
        ],
    }
    posts, rejects = read_bytes(json.dumps(page).encode())
    assert rejects == []
    assert [(p.community, p.score, p.replies) for p in posts] == [
        ("UCvideoChannel000000000", 7, 1),
        ("UCvideoChannelOfReply00", 3, None),  # the comment's own channelId wins
    ]
    assert {p.author_id for p in posts} == {"UCsynthetic000000000000"}  # not a community


def test_downloader_counts_only_when_plain_numbers(read_bytes):
    lines = [
        dict(DOWNLOADER_LINES[0], votes="12", replies="3"),
        dict(DOWNLOADER_LINES[1], votes="1.2K", replies=""),
    ]
    posts, _ = read_bytes("\n".join(map(json.dumps, lines)).encode(), name="AbCdEfGhIjK.json")
    assert [(p.score, p.replies, p.community) for p in posts] == [(12, 3, None), (None, None, None)]
