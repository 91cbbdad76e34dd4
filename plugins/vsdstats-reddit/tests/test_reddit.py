"""The Reddit connector (plugins/vsdstats-reddit) on real samples and synthetic records.

Real ids, handles and texts are read from ../shared at run time, never written here.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from vsdstats_reddit import API, PUSHSHIFT, RedditConnector
from vsdstats_reddit.listing import MORE_REASON
from vsdstats_reddit.live import item_to_record

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import RawPost, Reject

PS = "fixtures/platforms/reddit_pushshift"
PRAW = "fixtures/platforms/reddit_api_praw_cassettes"
BODIES = f"{PRAW}/_extracted_bodies"
C = RedditConnector()


def _raw_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_entry_point_lists_reddit():
    reg = connectors()["reddit"]
    assert reg.plugin == "vsdstats-reddit" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == (PUSHSHIFT, API) == ("pushshift-ndjson", "reddit-api-json")
    assert reg.connector.can_collect is True


def test_pushshift_comments(shared_dir, split):
    path = shared_dir / PS / "test_comments.json"
    assert C.sniff(path.read_bytes()[:65536]) == PUSHSHIFT
    posts, rejects = split(list(C.read(path)))
    assert (len(posts), len(rejects)) == (27, 0)
    raw = _raw_lines(path)
    assert [p.post_id for p in posts] == [f"t1_{d['id']}" for d in raw]
    assert [p.thread_id for p in posts] == [d["link_id"] for d in raw]
    assert [p.parent_id for p in posts] == [d["parent_id"] for d in raw]
    assert [p.source_line for p in posts] == list(range(1, 28))
    assert {p.kind for p in posts} == {"comment"} and {p.platform for p in posts} == {"reddit"}
    # created_utc as float (2024), string (2009) and int (2005) all become UTC datetimes
    assert type(raw[0]["created_utc"]) is float and type(raw[10]["created_utc"]) is str
    assert posts[0].created_at == datetime(2024, 2, 1, tzinfo=timezone.utc)
    assert posts[10].created_at == datetime(2009, 9, 1, tzinfo=timezone.utc)
    assert posts[15].created_at == datetime(2005, 12, 12, 5, 26, 28, tzinfo=timezone.utc)
    # [deleted] authors: no handle, no identities
    gone = [i for i, d in enumerate(raw) if d["author"] in ("[deleted]", "[removed]")]
    assert gone == [6, 8, 12, 17, 18]
    assert all(posts[i].author_handle is None and not posts[i].identities for i in gone)
    for p, d in zip(posts, raw, strict=True):
        if d["author"] not in ("[deleted]", "[removed]"):
            assert p.author_handle == d["author"] and d["author"] in p.identities
        if d.get("author_fullname"):
            assert d["author_fullname"] in p.identities
        assert p.text == html.unescape(d["body"]).strip()
    # HTML entities decoded (line 14 quotes with &gt;)
    assert "&gt;" in raw[13]["body"] and posts[13].text.startswith(">")
    assert "&gt;" not in posts[13].text
    # url from permalink, or built from subreddit + link_id when the dump has none
    assert posts[0].url == "https://www.reddit.com" + raw[0]["permalink"]
    assert "permalink" not in raw[15]
    assert posts[15].url == (
        f"https://www.reddit.com/r/{raw[15]['subreddit']}/comments/"
        f"{raw[15]['link_id'][3:]}/_/{raw[15]['id']}/"
    )


def test_pushshift_submissions(shared_dir, split):
    path = shared_dir / PS / "test_submissions.json"
    posts, rejects = split(list(C.read(path, format=PUSHSHIFT)))
    assert (len(posts), len(rejects)) == (31, 0)
    raw = _raw_lines(path)
    assert [p.post_id for p in posts] == [f"t3_{d['id']}" for d in raw]
    assert all(p.thread_id == p.post_id and p.parent_id is None for p in posts)
    assert {p.kind for p in posts} == {"submission"}
    assert posts[10].created_at == datetime(2005, 6, 23, 18, 43, 53, tzinfo=timezone.utc)
    assert posts[20].created_at == datetime(2014, 9, 1, tzinfo=timezone.utc)
    for p, d in zip(posts, raw, strict=True):
        title, body = html.unescape(d["title"]), html.unescape(d["selftext"])
        expected = (
            title
            if not body.strip() or body in ("[deleted]", "[removed]")
            else (f"{title}\n\n{body}")
        )
        assert p.text == expected.strip()
        assert p.author_handle == d["author"] and d["author"] in p.identities
    assert "&amp;" in raw[15]["title"] and "&amp;" not in posts[15].text
    assert "&" in posts[15].text


EXPECTED_BODIES = {
    "TestComment.test_attributes__body01.json": (1, Counter({"comment": 1})),
    "TestSubmission.test_comments__body01.json": (3, Counter({"submission": 1, "comment": 2})),
    "TestSubreddit.test_search__body01.json": (6, Counter({"submission": 6})),
    "TestSubredditListings.test_comments__body01.json": (100, Counter({"comment": 100})),
    "TestSubredditListings.test_new__body01.json": (100, Counter({"submission": 100})),
}


@pytest.mark.parametrize("fname", sorted(EXPECTED_BODIES))
def test_api_bodies_and_cassettes(shared_dir, fname, split):
    n, kinds = EXPECTED_BODIES[fname]
    body = shared_dir / BODIES / fname
    assert C.sniff(body.read_bytes()[:65536]) == API
    posts, rejects = split(list(C.read(body)))
    assert (len(posts), len(rejects)) == (n, 0)
    assert Counter(p.kind for p in posts) == kinds
    # the cassette wraps the same body after a token request (a reject, not silence)
    cassette = shared_dir / PRAW / fname.replace("__body01", "")
    assert C.sniff(cassette.read_bytes()[:65536]) == API
    cposts, crejects = split(list(C.read(cassette)))
    assert [p.post_id for p in cposts] == [p.post_id for p in posts]
    assert [r.reason for r in crejects] == [
        "cassette interaction 1 (POST https://www.reddit.com/api/v1/access_token): "
        "no Reddit listing"
    ]


def test_api_thread_nesting(shared_dir):
    path = shared_dir / BODIES / "TestSubmission.test_comments__body01.json"
    doc = json.loads(path.read_text())
    sub = doc[0]["data"]["children"][0]["data"]
    top = doc[1]["data"]["children"][0]["data"]
    reply = top["replies"]["data"]["children"][0]["data"]
    posts = [r for r in C.read(path) if isinstance(r, RawPost)]
    assert [p.post_id for p in posts] == [f"t3_{sub['id']}", f"t1_{top['id']}", f"t1_{reply['id']}"]
    assert {p.thread_id for p in posts} == {f"t3_{sub['id']}"}
    assert posts[1].parent_id == f"t3_{sub['id']}" and posts[2].parent_id == f"t1_{top['id']}"
    assert posts[0].created_at == datetime.fromtimestamp(sub["created_utc"], timezone.utc)
    assert posts[0].created_at == datetime(2014, 9, 17, 6, 34, 31, tzinfo=timezone.utc)
    assert posts[2].author_handle == reply["author"] and reply["author"] in posts[2].identities
    assert posts[0].url == "https://www.reddit.com" + sub["permalink"]


def _thing(kind: str, **data) -> dict:
    return {"kind": kind, "data": data}


def test_api_synthetic_more_and_empty_replies(split):
    reply = _thing(
        "t1",
        id="c2",
        body="a &amp; b",
        author="zed",
        created_utc=1700000100.0,
        link_id="t3_s1",
        parent_id="t1_c1",
        replies="",
    )
    more = _thing("more", id="m1", count=5, children=["c3", "c4"])
    top = _thing(
        "t1",
        id="c1",
        body="top",
        author="[deleted]",
        created_utc=1700000050,
        link_id="t3_s1",
        parent_id="t3_s1",
        replies={"kind": "Listing", "data": {"children": [reply, more]}},
    )
    sub = _thing(
        "t3",
        id="s1",
        title="T",
        selftext="",
        author="op",
        author_fullname="t2_op",
        created_utc="1700000000",
        permalink="/r/test/comments/s1/t/",
    )
    doc = [
        {"kind": "Listing", "data": {"children": [sub]}},
        {"kind": "Listing", "data": {"children": [top, _thing("t5", id="sr")]}},
    ]
    recs = list(C.read(io.BytesIO(json.dumps(doc).encode())))
    posts, rejects = split(recs)
    assert [p.post_id for p in posts] == ["t3_s1", "t1_c1", "t1_c2"]
    assert posts[0].text == "T" and posts[0].identities == {"op", "t2_op"}
    assert posts[0].author_id == "t2_op"
    assert posts[1].author_handle is None and posts[2].text == "a & b"
    assert posts[2].parent_id == "t1_c1" and posts[2].thread_id == "t3_s1"
    assert posts[0].created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert [r.reason for r in rejects] == [MORE_REASON, "not a Reddit post or listing (kind 't5')"]


def test_bad_dump_lines_become_rejects(tmp_path, split):
    lines = [
        json.dumps(
            {
                "id": "a1",
                "body": "ok",
                "created_utc": 1600000000,
                "link_id": "t3_x",
                "parent_id": "t3_x",
                "author": "u",
            }
        ),
        '{"id": "a2", "body": "trunc',
        json.dumps({"id": 5, "body": "x", "created_utc": 1}),
        json.dumps({"id": "a3", "body": None, "created_utc": 1}),
        json.dumps({"id": "a4", "title": "t"}),
        json.dumps({"id": "a5", "body": "x", "created_utc": "yesterday"}),
        json.dumps({"foo": 1}),
        json.dumps([1, 2]),
        "",
    ]
    data = "\n".join(lines).encode() + b"\n\xff\xfe{}\n"
    path = tmp_path / "RC_bad.ndjson"
    path.write_bytes(data)
    posts, rejects = split(list(C.read(path, format=PUSHSHIFT)))
    assert [p.post_id for p in posts] == ["t1_a1"]
    assert [(r.line, r.reason) for r in rejects] == [
        (2, "not JSON: Invalid control character at (column 28)"),
        (3, "id: expected a string, got int"),
        (4, "body: expected a string, got NoneType"),
        (5, "missing required field 'created_utc'"),
        (6, "created_utc: cannot parse time 'yesterday'"),
        (7, "not a Reddit submission or comment (no 'title' or 'body' field)"),
        (8, "not a Reddit record: a JSON list, expected an object"),
        (10, "undecodable bytes at column 1"),
    ]


def test_zst_dump_and_empty_file(tmp_path):
    line = {
        "id": "z1",
        "title": "hello",
        "selftext": "[removed]",
        "author": "[removed]",
        "created_utc": 1234567890,
        "subreddit": "test",
    }
    raw = (json.dumps(line) + "\n").encode()
    zpath = tmp_path / "RS_2009-02.zst"
    zpath.write_bytes(zstandard.ZstdCompressor().compress(raw))
    assert C.sniff(zpath.read_bytes()) == PUSHSHIFT  # sniffs through the compression
    (post,) = list(C.read(zpath))
    assert post.post_id == "t3_z1" and post.text == "hello" and post.author_handle is None
    assert post.url == "https://www.reddit.com/r/test/comments/z1/"
    assert post.created_at == datetime(2009, 2, 13, 23, 31, 30, tzinfo=timezone.utc)
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert list(C.read(empty)) == [Reject(str(empty), 0, "empty file")]
    assert list(C.read(empty, format=API)) == [Reject(str(empty), 0, "empty file")]


def test_files_of_other_platforms_are_rejected(shared_dir):
    tw = shared_dir / "fixtures/platforms/twitter_x_api_v2/flat.jsonl"
    assert C.sniff(tw.read_bytes()[:65536]) is None
    (rej,) = list(C.read(tw))
    assert isinstance(rej, Reject) and rej.reason.startswith("not a Reddit file")
    assert "X/Twitter" in rej.reason
    forced = list(C.read(tw, format=PUSHSHIFT))
    assert len(forced) == 100 and all(isinstance(r, Reject) for r in forced)
    assert {r.reason for r in forced} == {
        "not a Reddit submission or comment (no 'title' or 'body' field)"
    }
    sns = list(C.read(shared_dir / "fixtures/platforms/snscrape/res.json", format=API))
    assert len(sns) == 100 and {r.reason for r in sns} == {
        "not a Reddit post or listing (no 'kind')"
    }


_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_texts = st.text(min_size=1, max_size=200).filter(lambda s: s.strip())


@given(
    st.lists(
        st.tuples(
            _ids,
            st.booleans(),
            _texts,
            st.integers(1_100_000_000, 1_900_000_000),
            st.sampled_from([int, float, str]),
        ),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_roundtrip_dump_lines(records):
    lines = []
    for rid, is_sub, text, ts, kind in records:
        d = {"id": rid, "author": "someone", "created_utc": kind(ts), "subreddit": "s"}
        if is_sub:
            d.update(title=html.escape(text, quote=False), selftext="")
        else:
            d.update(body=html.escape(text, quote=False), link_id="t3_p", parent_id="t3_p")
        lines.append(json.dumps(d))
    out = list(C.read(io.BytesIO("\n".join(lines).encode())))
    assert all(isinstance(p, RawPost) for p in out)
    assert [p.post_id for p in out] == [("t3_" if s else "t1_") + rid for rid, s, *_ in records]
    assert [p.text for p in out] == [t.strip() for _, _, t, _, _ in records]
    assert [p.created_at for p in out] == [
        datetime.fromtimestamp(ts, timezone.utc) for *_, ts, _ in records
    ]


@given(st.binary(max_size=300))
def test_fuzzed_bytes_only_reject(data):
    for fmt in (None, PUSHSHIFT, API):
        out = list(C.read(io.BytesIO(data), format=fmt))
        assert out and all(isinstance(r, Reject) and r.reason for r in out)


def _snscrape_items():
    try:
        from snscrape.modules.reddit import Comment, Submission
    except Exception:  # snscrape missing or broken: same attributes on a plain object
        Submission = Comment = SimpleNamespace
    when = datetime(2023, 3, 1, 12, 0, tzinfo=timezone.utc)
    sub = Submission(
        author="poster",
        date=when,
        id="t3_abc",
        link=None,
        selftext="body &amp; more",
        subreddit="test",
        title="Title",
        url="https://old.reddit.com/r/test/comments/abc/title/",
    )
    com = Comment(
        author="[deleted]",
        body="reply",
        date=when,
        id="t1_def",
        parentId="t3_abc",
        subreddit="test",
        url="https://old.reddit.com/r/test/comments/abc/title/def/",
    )
    return sub, com


def test_live_item_mapping():
    sub, com = _snscrape_items()
    p = item_to_record(sub, 1)
    assert isinstance(p, RawPost)
    assert (p.post_id, p.thread_id, p.parent_id, p.kind) == ("t3_abc", "t3_abc", None, "submission")
    assert p.text == "Title\n\nbody & more" and p.identities == {"poster"}
    assert p.url == "https://www.reddit.com/r/test/comments/abc/title/"
    assert p.created_at == datetime(2023, 3, 1, 12, tzinfo=timezone.utc) and p.source_file is None
    c = item_to_record(com, 2)
    assert (c.post_id, c.thread_id, c.parent_id, c.author_handle) == (
        "t1_def",
        "t3_abc",
        "t3_abc",
        None,
    )
    bad = item_to_record(SimpleNamespace(id=None, body="x", date=None, url=""), 3)
    assert bad == Reject("snscrape:reddit", 3, "created_utc: missing or not a time: None")


def test_community_score_and_replies_from_the_dumps(shared_dir, split):
    """community = subreddit, score = score (may be negative), replies = a submission's
    num_comments (comments carry no count); a profile subreddit u_<name> names its owner,
    so it and the name are identities for ingest to hash."""
    for name in ("test_submissions.json", "test_comments.json"):
        path = shared_dir / PS / name
        posts, _ = split(list(C.read(path)))
        raw = _raw_lines(path)
        assert [p.community for p in posts] == [d["subreddit"] for d in raw]
        assert [p.score for p in posts] == [int(d["score"]) for d in raw]
        if name == "test_submissions.json":
            assert [p.replies for p in posts] == [int(d["num_comments"]) for d in raw]
        else:
            assert {p.replies for p in posts} == {None}
        for p in posts:
            if p.community.lower().startswith("u_"):
                assert {p.community, p.community[2:]} <= p.identities


def test_api_listing_counts(shared_dir, split):
    path = shared_dir / BODIES / "TestSubredditListings.test_new__body01.json"
    body = json.loads(path.read_text("utf-8"))
    posts, _ = split(list(C.read(path)))
    kids = [c["data"] for c in body["data"]["children"]]
    assert [(p.community, p.score, p.replies) for p in posts] == [
        (d["subreddit"], d["score"], d["num_comments"]) for d in kids
    ]


def test_counts_that_are_not_numbers_are_missing(split):
    line = {"id": "abc", "title": "t", "selftext": "", "created_utc": 1700000000,
            "subreddit": "  ", "score": "n/a", "num_comments": True}  # fmt: skip
    data = io.BytesIO(json.dumps(line).encode() + b"\n")
    (p,), _ = split(list(C.read(data, PUSHSHIFT)))
    assert (p.community, p.score, p.replies) == (None, None, None)
