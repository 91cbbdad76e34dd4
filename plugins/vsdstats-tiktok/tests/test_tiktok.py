"""The tiktok connector (plugins/vsdstats-tiktok) on TikTok's documentation examples in
../shared and on synthetic responses."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from vsdstats_tiktok import TikTokConnector

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import Reject

CONNECTOR = TT = TikTokConnector()
SAMPLES = "fixtures/platforms/tiktok_research_api"
BIG = 7_301_234_567_890_123_457  # > 2**53: a float would round it


def test_entry_point_lists_tiktok_and_formats():
    reg = connectors()["tiktok"]
    assert reg.plugin == "vsdstats-tiktok" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("tiktok-research-api",)


def raw_ids(shared_dir, name, key):
    """The digits of every ``key`` number in a sample, cut from its bytes (no JSON
    parser, so no float anywhere): expected ids come from the file at run time."""
    text = (shared_dir / SAMPLES / name).read_text("utf-8")
    return re.findall(rf'"{key}":\s*(\d+)', text)


def test_video_query_example(shared_dir, sample):
    name = "example_resp_q_videos.json"
    posts, rejects = sample(shared_dir, name)
    (video,) = posts  # the example repeats one video: the copy is a duplicate
    assert [(r.line, r.reason) for r in rejects] == [(2, "duplicate post id (first at record 1)")]
    ids = raw_ids(shared_dir, name, "video_id")
    assert len(ids) == 2 and int(ids[0]) > 2**53
    assert video.post_id == ids[0]  # exact
    assert video.thread_id == video.post_id and video.parent_id is None
    doc = json.loads((shared_dir / SAMPLES / name).read_text())
    assert video.text == doc["data"]["videos"][0]["video_description"] and video.kind == "video"
    assert video.created_at == datetime(2021, 10, 9, 23, 59, 59, tzinfo=timezone.utc)
    assert video.url == f"https://www.tiktok.com/embed/v2/{ids[0]}"


def test_comment_list_example(shared_dir, sample):
    name = "example_resp_comments.json"
    posts, rejects = sample(shared_dir, name)
    assert rejects == []
    (c,) = posts
    (cid,) = raw_ids(shared_dir, name, "id")
    assert int(cid) > 2**53 and c.post_id == cid
    assert c.thread_id == raw_ids(shared_dir, name, "video_id")[0]
    assert c.parent_id == raw_ids(shared_dir, name, "parent_comment_id")[0]
    doc = json.loads((shared_dir / SAMPLES / name).read_text())
    assert c.text == doc["data"]["comments"][0]["text"] and c.text
    assert c.created_at == datetime(2022, 12, 19, 23, 13, 18, tzinfo=timezone.utc)
    assert c.url is None and c.kind == "reply"


def test_request_and_user_info_are_rejected_with_reasons(shared_dir, sample):
    assert sample(shared_dir, "example_request.json") == (
        [],
        [
            Reject(
                str(shared_dir / "fixtures/platforms/tiktok_research_api/example_request.json"),
                1,
                "a Research API request body (query), not a response",
            )
        ],
    )
    posts, rejects = sample(shared_dir, "example_resp_q_user.json")
    assert posts == []
    assert [r.reason for r in rejects] == ["a user info response (a profile), not posts"]


def test_big_ids_stay_exact_and_top_level_comments(read_bytes):
    body = (
        '{"data": {"comments": ['
        f'{{"id": {BIG}, "video_id": {BIG + 1}, "text": "hi", "create_time": 1700000000, '
        f'"parent_comment_id": {BIG + 1}}},'
        f'{{"id": "{BIG + 2}", "video_id": {BIG + 1}, "text": "re", "create_time": 1700000001, '
        f'"parent_comment_id": {BIG}}},'
        f'{{"id": 7.301234567890124e18, "video_id": 1, "text": "x", "create_time": 1}}'
        '], "has_more": false}, "error": {"code": "ok", "message": ""}}'
    )
    posts, rejects = read_bytes(body.encode())
    assert [p.post_id for p in posts] == [str(BIG), str(BIG + 2)]
    assert posts[0].parent_id is None and posts[0].kind == "comment"  # parent == video
    assert posts[1].parent_id == str(BIG) and posts[1].thread_id == str(BIG + 1)
    assert [r.reason for r in rejects] == ["bad record: id is a float: precision lost, rejected"]


def test_video_with_username_is_an_identity_not_in_url(read_bytes):
    body = {
        "data": {
            "videos": [
                {
                    "id": BIG,
                    "create_time": 1700000000,
                    "username": "synthetic.creator",
                    "video_description": "my therapist is a chatbot #mentalhealth",
                    "region_code": "US",
                    "hashtag_names": ["mentalhealth"],
                }
            ]
        },
        "error": {"code": "ok"},
    }
    (video,), rejects = read_bytes(json.dumps(body).encode())
    assert rejects == []
    assert video.author_handle == "synthetic.creator"
    assert video.identities == {"synthetic.creator"}
    assert "synthetic.creator" not in video.url


def test_error_responses_and_bad_records(read_bytes):
    err = {"data": {}, "error": {"code": "invalid_params", "message": "Invalid max_count"}}
    assert read_bytes(json.dumps(err).encode())[1] == [
        Reject("mem.json", 1, "TikTok API error invalid_params: Invalid max_count")
    ]
    body = {
        "data": {
            "videos": [
                {"id": 1, "create_time": "soon", "video_description": "a"},
                {"id": 2, "create_time": 1},
                {"id": True, "create_time": 1, "video_description": "b"},
                ["not", "an", "object"],
            ]
        },
        "error": {"code": "ok"},
    }
    posts, rejects = read_bytes(json.dumps(body).encode())
    assert posts == []
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "bad record: create_time: cannot parse time 'soon'"),
        (2, "bad record: missing field 'video_description'"),
        (3, "bad record: id must be an integer, got a boolean"),
        (4, "record is a JSON list, expected an object"),
    ]


def test_empty_truncated_and_other_platform(shared_dir, read_bytes, other_platforms):
    assert read_bytes(b"  \n") == ([], [Reject("mem.json", 0, "empty file")])
    posts, rejects = read_bytes(b'{"data": {"videos": [{"id": 1')
    assert posts == [] and rejects[0].reason.startswith("not JSON")
    others = (
        "youtube/comment_thread_single.json",
        "mastodon/_extracted_bodies/test_hashtag_tl__body02.json",
        "bluesky/post_record.json",
        "reddit_pushshift/test_comments.json",
    )
    for rel, rejects in other_platforms(shared_dir, others):
        assert all("not a TikTok Research API response" in r.reason for r in rejects), rel


def test_sniff():
    assert TT.sniff(b'{"data": {"videos": [{"create_time": 1') == "tiktok-research-api"
    assert TT.sniff(b'{"kind": "youtube#commentListResponse"') is None


_ids = st.integers(min_value=0, max_value=2**63 - 1)


@given(
    vid=_ids,
    cid=_ids,
    text=st.text(max_size=150),
    t=st.integers(min_value=1_400_000_000, max_value=2_000_000_000),
)
def test_roundtrip_video_and_comment(read_bytes, vid, cid, text, t):
    body = {
        "data": {
            "videos": [{"id": vid, "create_time": t, "video_description": text}],
        },
        "error": {"code": "ok"},
    }
    comments = {
        "data": {"comments": [{"id": cid, "video_id": vid, "text": text, "create_time": t}]}
    }
    data = (json.dumps(body) + "\n" + json.dumps(comments)).encode()
    posts, rejects = read_bytes(data)
    when = datetime.fromtimestamp(t, tz=timezone.utc)
    expect = [(str(vid), text, when, "video")]
    if cid != vid:
        expect.append((str(cid), text, when, "comment"))
    assert [(p.post_id, p.text, p.created_at, p.kind) for p in posts] == expect
    assert len(rejects) == (cid == vid)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_yield_only_rejects(read_bytes, data):
    posts, rejects = read_bytes(data)
    assert posts == [] and rejects
    assert all(r.reason for r in rejects)


def test_region_and_engagement(shared_dir, sample):
    """A video's community is its region_code, score like_count (absent in the
    example), replies comment_count; a comment has like_count and reply_count."""
    doc = json.loads((shared_dir / SAMPLES / "example_resp_q_videos.json").read_text())
    v = doc["data"]["videos"][0]
    (video,), _ = sample(shared_dir, "example_resp_q_videos.json")
    assert (video.community, video.score, video.replies) == (
        v["region_code"], v.get("like_count"), v["comment_count"]
    )  # fmt: skip
    doc = json.loads((shared_dir / SAMPLES / "example_resp_comments.json").read_text())
    c = doc["data"]["comments"][0]
    (comment,), _ = sample(shared_dir, "example_resp_comments.json")
    assert (comment.community, comment.score, comment.replies) == (
        None, c["like_count"], c["reply_count"]
    )  # fmt: skip
