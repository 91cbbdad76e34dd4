"""The bluesky connector (plugins/vsdstats-bluesky) on the atproto and bskyr samples in
../shared and on synthetic XRPC responses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from vsdstats_bluesky import BlueskyConnector

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import Reject

CONNECTOR = BS = BlueskyConnector()
BASE = "fixtures/platforms/bluesky"
SAMPLES = BASE


def no_did_in_ids(posts):
    for p in posts:
        for v in (p.post_id, p.thread_id, p.parent_id, p.url):
            assert v is None or "did:" not in v


def post_view(cid, text, did="did:plc:synthetic000000000000000", reply=None, created=None):
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": created or "2024-05-06T07:08:09.123Z",
        "langs": ["en"],
    }
    if reply:
        record["reply"] = reply
    return {
        "uri": f"at://{did}/app.bsky.feed.post/3kabc{cid[-4:]}",
        "cid": cid,
        "author": {"did": did, "handle": "someone.example.social", "displayName": "Some One"},
        "record": record,
    }


def ref(cid, did="did:plc:parent00000000000000000"):
    return {"cid": cid, "uri": f"at://{did}/app.bsky.feed.post/3kxyz"}


def test_entry_point_lists_bluesky_and_formats():
    reg = connectors()["bluesky"]
    assert reg.plugin == "vsdstats-bluesky" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("bluesky-xrpc", "atproto-record")


def raw(shared_dir, rel):
    """A sample as plain JSON: expected values come from it at run time (the samples
    hold real handles, DIDs and posts that are not copied into this repository)."""
    return json.loads((shared_dir / BASE / rel).read_text("utf-8"))


def did(uri):
    return uri.split("/")[2]


def test_search_posts(shared_dir, sample):
    rel = "_extracted_bodies/f_search__body00.json"
    posts, rejects = sample(shared_dir, rel)
    src = raw(shared_dir, rel)["posts"]
    assert (len(posts), rejects) == (25, [])
    assert [p.post_id for p in posts] == [x["cid"] for x in src]
    assert [p.text for p in posts] == [x["record"]["text"] for x in src]
    assert sum(p.kind == "reply" for p in posts) == 12
    assert sum(p.lang == "en" for p in posts) == 21 and sum(p.lang is None for p in posts) == 4
    first = posts[0]
    assert first.created_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=timezone.utc)
    assert first.url is None and first.thread_id == first.post_id and first.parent_id is None
    reply = src[2]["record"]["reply"]
    assert posts[2].thread_id == reply["root"]["cid"]
    assert posts[2].parent_id == reply["parent"]["cid"]
    assert posts[2].thread_id != posts[2].parent_id
    for p, x in zip(posts, src, strict=True):
        author = x["author"]
        assert {author["did"], author["handle"], did(x["uri"])} <= p.identities
        assert (p.author_id, p.author_handle) == (author["did"], author["handle"])
    no_did_in_ids(posts)


def test_author_feed_reposts_are_counted_not_emitted(shared_dir, sample):
    rel = "_extracted_bodies/f_autfeed__body00.json"
    posts, rejects = sample(shared_dir, rel)
    feed = raw(shared_dir, rel)["feed"]
    assert (len(posts), len(rejects)) == (43, 7)
    assert {r.reason for r in rejects} == {"repost (not a new post)"}
    reposts = [n for n, item in enumerate(feed, start=1) if "reason" in item]
    assert [r.line for r in rejects] == reposts
    assert [p.post_id for p in posts] == [x["post"]["cid"] for x in feed if "reason" not in x]
    assert sum(p.kind == "reply" for p in posts) == 24
    first, src = posts[0], feed[0]["post"]
    ref_ = src["record"]["reply"]
    assert (first.parent_id, first.thread_id) == (ref_["parent"]["cid"], ref_["root"]["cid"])
    assert first.created_at == datetime(2025, 5, 5, 1, 30, 17, 912000, tzinfo=timezone.utc)
    # the author's DID, handle and name, and the DID in the parent reference
    author = src["author"]
    assert {author["did"], author["handle"], author["displayName"]} <= first.identities
    assert did(ref_["parent"]["uri"]) in first.identities
    no_did_in_ids(posts)


def test_get_posts_and_post_thread(shared_dir, sample):
    for rel, path in (
        ("_extracted_bodies/f_getposts__body00.json", ("posts", 0)),
        ("_extracted_bodies/f_postthread__body00.json", ("thread", "post")),
    ):
        (p,), rejects = sample(shared_dir, rel)
        src = raw(shared_dir, rel)[path[0]][path[1]]
        assert rejects == []
        assert (p.post_id, p.text) == (src["cid"], src["record"]["text"])
        assert p.created_at == datetime(2023, 9, 19, 11, 32, 54, 574000, tzinfo=timezone.utc)
        assert src["author"]["did"] in p.identities


def test_thread_view_with_embed_media(shared_dir, sample):
    rel = "thread_view_post_with_embed_media.json"
    (p,), rejects = sample(shared_dir, rel)
    src = raw(shared_dir, rel)["thread"]["post"]
    assert rejects == []
    assert p.post_id == src["cid"]
    assert p.text == "" and p.lang == "en"  # image + quote only
    author = src["author"]
    assert {author["did"], author["handle"], author["displayName"]} <= p.identities


def test_records_with_and_without_time_zone(shared_dir, sample):
    (p,), rejects = sample(shared_dir, "post_record.json")
    src = raw(shared_dir, "post_record.json")
    assert rejects == []
    assert (p.post_id, p.text, p.lang) == (src["cid"], src["value"]["text"], None)
    assert p.created_at == datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=timezone.utc)
    assert p.identities == {did(src["uri"])}  # from the at:// URI
    (q,), rejects = sample(shared_dir, "extended_post_record.json")  # unknown field "lol"
    src = raw(shared_dir, "extended_post_record.json")
    assert "lol" in src["value"] and not src["value"]["createdAt"].endswith("Z")
    assert rejects == [] and (q.text, q.lang) == (src["value"]["text"], "en")
    assert q.created_at == datetime(2023, 7, 21, 1, 33, 51, 481951, tzinfo=timezone.utc)


def test_thread_walk_not_found_blocked_and_parents(read_bytes):
    thread = {
        "thread": {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": post_view("cidB", "focal", reply={"root": ref("cidA"), "parent": ref("cidA")}),
            "parent": {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": post_view("cidA", "root post"),
            },
            "replies": [
                {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": post_view(
                        "cidC", "a reply", reply={"root": ref("cidA"), "parent": ref("cidB")}
                    ),
                    "replies": [{"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x"}],
                },
                {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://y", "blocked": True},
            ],
        }
    }
    posts, rejects = read_bytes(json.dumps(thread).encode())
    assert [(p.post_id, p.thread_id, p.parent_id) for p in posts] == [
        ("cidA", "cidA", None),
        ("cidB", "cidA", "cidA"),
        ("cidC", "cidA", "cidB"),
    ]
    assert [(r.line, r.reason) for r in rejects] == [
        (4, "thread entry not found (deleted or missing post)"),
        (5, "thread entry blocked (post hidden by a block)"),
    ]


def test_mentions_facets_are_identities_and_bare_record_id(read_bytes):
    view = post_view("cidM", "hi @friend.example.social ok")
    view["record"]["facets"] = [
        {
            "index": {"byteStart": 3, "byteEnd": 25},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:friend"}],
        }
    ]
    (p,), _ = read_bytes(json.dumps({"posts": [view]}).encode())
    assert {"did:plc:friend", "@friend.example.social", "friend.example.social"} <= p.identities
    bare = {"$type": "app.bsky.feed.post", "text": "bare", "createdAt": "2024-01-01T00:00:00"}
    (b,), rejects = read_bytes(json.dumps(bare).encode())
    assert rejects == [] and b.post_id.startswith("sha256:") and len(b.post_id) == 39
    assert b.created_at == datetime(2024, 1, 1, tzinfo=timezone.utc)  # no zone: UTC
    (b2,), _ = read_bytes(json.dumps(bare, indent=2).encode())
    assert b2.post_id == b.post_id  # stable


def test_bad_posts_xrpc_errors_and_other_platforms(shared_dir, read_bytes, other_platforms):
    bad_text = post_view("cid1", "x")
    bad_text["record"]["text"] = 42
    bad_reply = post_view("cid2", "x", reply={"root": {"uri": "at://z"}, "parent": ref("p")})
    like = post_view("cid3", "x")
    like["record"]["$type"] = "app.bsky.feed.like"
    page = {"posts": [bad_text, bad_reply, like, "nope", {"uri": "at://q"}]}
    posts, rejects = read_bytes(json.dumps(page).encode())
    assert posts == []
    assert [r.reason for r in rejects] == [
        "bad post: text must be a string, got int",
        "bad post: reply.root must be a strong reference with a cid",
        "bad post: record of type 'app.bsky.feed.like', not a post",
        "post is a JSON str, expected an object",
        "bad post: missing field 'record'",
    ]
    err = {"error": "InvalidRequest", "message": "Profile not found"}
    assert read_bytes(json.dumps(err).encode())[1][0].reason == (
        "XRPC error InvalidRequest: Profile not found"
    )
    others = (
        "mastodon/_extracted_bodies/test_entity_context__body00.json",
        "youtube/comments_by_parent_paged_1.json",
        "tiktok_research_api/example_resp_q_videos.json",
        "twitter_x_api_v2/two_tweets.jsonl",
    )
    for rel, rejects in other_platforms(shared_dir, others):
        assert all(r.reason.startswith("not Bluesky data") for r in rejects), rel


def test_empty_input(read_bytes):
    assert read_bytes(b"\n\n") == ([], [Reject("mem.json", 0, "empty file")])
    assert read_bytes(b'{"posts": [], "cursor": null}')[1] == [
        Reject("mem.json", 1, "no records in this JSON value (empty page)")
    ]


def test_sniff():
    assert (
        BS.sniff(
            b'{"uri": "at://did:plc:x/app.bsky.feed.post/1", "value": {"$type": '
            b'"app.bsky.feed.post"'
        )
        == "atproto-record"
    )
    assert BS.sniff(b'{"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/1"') == "bluesky-xrpc"
    assert BS.sniff(b'[{"id": "1", "content": "<p>hi</p>"}]') is None


_cid = st.from_regex(r"\Abafyrei[a-z2-7]{52}\Z")


@given(
    cids=st.lists(_cid, min_size=1, max_size=4, unique=True),
    text=st.text(max_size=200),
    when=st.datetimes(
        min_value=datetime(2023, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(timezone.utc),
    ),
    repost=st.booleans(),
)
def test_feed_roundtrip(read_bytes, cids, text, when, repost):
    stamp = when.isoformat().replace("+00:00", "Z")
    feed = [{"post": post_view(c, text, created=stamp)} for c in cids]
    if repost:
        feed.append(
            {
                "post": post_view("bafyreirepost", "x"),
                "reason": {"$type": "app.bsky.feed.defs#reasonRepost"},
            }
        )
    posts, rejects = read_bytes(json.dumps({"feed": feed, "cursor": "c"}).encode())
    assert [(p.post_id, p.text, p.created_at) for p in posts] == [(c, text, when) for c in cids]
    assert [r.reason for r in rejects] == ["repost (not a new post)"] * repost


@given(st.binary(max_size=300))
def test_fuzzed_bytes_yield_only_rejects(read_bytes, data):
    posts, rejects = read_bytes(data)
    assert posts == [] and rejects
    assert all(r.reason for r in rejects)


def test_gzip_sample_and_corrupt_gzip(shared_dir, tmp_path, split):
    import gzip

    rel = "_extracted_bodies/f_getposts__body00.json"
    packed = tmp_path / "getposts.json.gz"
    packed.write_bytes(gzip.compress((shared_dir / BASE / rel).read_bytes()))
    (p,), rejects = split(list(BS.read(packed)))
    assert rejects == [] and p.post_id == raw(shared_dir, rel)["posts"][0]["cid"]
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'{"posts": []}')[:-9])
    posts, rejects = split(list(BS.read(broken)))
    assert posts == [] and len(rejects) == 1
    assert rejects[0].reason.startswith("truncated compressed stream")
    assert f"byte {broken.stat().st_size}" in rejects[0].reason


def test_engagement_counts_of_post_views(shared_dir, sample):
    """score = likeCount, replies = replyCount of each post view; no community."""
    name = "_extracted_bodies/f_search__body00.json"
    posts, _ = sample(shared_dir, name)
    views = json.loads((shared_dir / SAMPLES / name).read_text("utf-8"))["posts"]
    want = [(v["likeCount"], v["replyCount"]) for v in views]
    assert [(p.score, p.replies) for p in posts] == want
    assert {p.community for p in posts} == {None}
    langs = [v["record"].get("langs") for v in views]
    assert [p.lang for p in posts] == [ls[0] if ls else None for ls in langs]


def test_bare_records_have_no_counts(shared_dir, sample):
    posts, _ = sample(shared_dir, "post_record.json")
    assert [(p.score, p.replies, p.community) for p in posts] == [(None, None, None)]
