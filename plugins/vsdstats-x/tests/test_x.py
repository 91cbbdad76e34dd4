"""The X connector (plugins/vsdstats-x) on real samples and synthetic records.

Real ids, handles and texts are read from ../shared at run time, never written here.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vsdstats_x import FLAT, SNSCRAPE, V2, XConnector
from vsdstats_x.live import item_to_record, search_query

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import RawPost, Reject

X = "fixtures/platforms/twitter_x_api_v2"
C = XConnector()


def test_entry_point_lists_x():
    reg = connectors()["x"]
    assert reg.plugin == "vsdstats-x" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("x-api-v2", "twarc-flat", "snscrape-jsonl")
    assert reg.connector.can_collect is True  # the API v2 search through twarc


# file -> (format, posts, kinds, reject reasons)
EXPECTED = {
    "brexit.jsonl": (V2, 100, {"retweet": 67, "tweet": 12, "quote": 11, "reply": 10}, []),
    "edited.jsonl": (V2, 1, {"tweet": 1}, []),
    "flat.jsonl": (FLAT, 100, {"retweet": 47, "reply": 31, "tweet": 14, "quote": 8}, []),
    "kpop.jsonl": (
        V2,
        100,
        {"retweet": 78, "tweet": 22},
        ["API error (Forbidden, user): User has been suspended: [<redacted>]."],
    ),
    "media_tweet.jsonl": (V2, 1, {"tweet": 1}, []),
    "mentions_tweet.jsonl": (V2, 1, {"retweet": 1}, []),
    "search_tweets_query.json": (V2, 4, {"reply": 4}, []),
    "streaming_output_with_error.jsonl": (
        V2,
        7,
        {"reply": 3, "tweet": 3, "quote": 1},
        ["not JSON: Expecting ',' delimiter (column 45)"],
    ),
    "two_tweets.jsonl": (V2, 1, {"retweet": 1}, []),
}


def _pages(path):
    text = path.read_text()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return out


def _listed(data):
    return data if isinstance(data, list) else [data]


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_real_samples(shared_dir, fname, split):
    fmt, n, kinds, reasons = EXPECTED[fname]
    path = shared_dir / X / fname
    assert C.sniff(path.read_bytes()[:65536]) == fmt
    posts, rejects = split(list(C.read(path)))
    assert (len(posts), Counter(p.kind for p in posts)) == (n, Counter(kinds))
    assert [r.reason for r in rejects] == reasons
    assert posts == split(list(C.read(path, format=fmt)))[0]
    pages = _pages(path)
    tweets = [t for pg in pages for t in ([pg] if fmt == FLAT else _listed(pg["data"]))]
    users = {u["id"]: u for pg in pages for u in pg.get("includes", {}).get("users", [])}
    for p, t in zip(posts, tweets, strict=True):
        assert p.post_id == t["id"] and isinstance(p.post_id, str)
        assert p.text == html.unescape(t["text"])
        assert p.thread_id == t.get("conversation_id")
        assert p.lang == t["lang"] and p.url == f"https://x.com/i/web/status/{t['id']}"
        assert p.created_at == datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
        author = t["author"] if fmt == FLAT else users[t["author_id"]]
        assert p.author_handle == author["username"] and p.author_id == t["author_id"]
        assert {author["username"], author["name"], author["id"]} <= p.identities
        for m in t.get("entities", {}).get("mentions", []):
            assert m["username"] in p.identities
        replied = [r["id"] for r in t.get("referenced_tweets", []) if r["type"] == "replied_to"]
        assert p.parent_id == (replied[0] if replied else None)
        assert p.author_handle not in p.url


def test_timestamps_and_entities(shared_dir):
    posts = [r for r in C.read(shared_dir / X / "search_tweets_query.json")]
    assert posts[0].created_at == datetime(2020, 6, 25, 6, 14, 19, tzinfo=timezone.utc)
    assert posts[0].thread_id is None  # conversation_id was not requested
    brexit = [p for p in C.read(shared_dir / X / "brexit.jsonl")]
    raw = json.loads((shared_dir / X / "brexit.jsonl").read_text())["data"]
    escaped = [i for i, t in enumerate(raw) if "&amp;" in t["text"]]
    assert escaped, "sample should contain HTML-escaped text"
    for i in escaped:
        assert "&amp;" not in brexit[i].text or "&amp;amp;" in raw[i]["text"]


def test_mentions_identities(shared_dir):
    path = shared_dir / X / "mentions_tweet.jsonl"
    page = json.loads(path.read_text())
    (post,) = list(C.read(path))
    mention = page["data"][0]["entities"]["mentions"][0]
    assert {mention["username"], mention["id"]} <= post.identities
    assert "@" + mention["username"] in post.text  # ingest masks it; the connector keeps text


def test_edited_tweet_kept_once(shared_dir, split):
    path = shared_dir / X / "edited.jsonl"
    page = json.loads(path.read_text())
    old, new = page["data"][0]["edit_history_tweet_ids"]
    (post,) = list(C.read(path))
    assert post.post_id == new != old
    # a page holding both versions (and a duplicate) keeps the latest once
    both = dict(page, data=page["includes"]["tweets"] + page["data"])
    recs = list(C.read(io.BytesIO(json.dumps(both).encode())))
    posts, rejects = split(recs)
    assert [p.post_id for p in posts] == [new]
    assert [r.reason for r in rejects] == [
        f"superseded edit version {old} of {new}",
        f"duplicate tweet {new}",
    ]


def test_snscrape_jsonl(shared_dir, split):
    path = shared_dir / "fixtures/platforms/snscrape/res.json"
    assert C.sniff(path.read_bytes()[:65536]) == SNSCRAPE
    posts, rejects = split(list(C.read(path)))
    assert (len(posts), len(rejects)) == (100, 0)
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    assert "rawContent" not in raw[0] and "content" in raw[0]  # the pre-0.4 schema
    for p, d in zip(posts, raw, strict=True):
        assert p.post_id == str(d["id"]) and p.thread_id == str(d["conversationId"])
        assert p.text == html.unescape(d["content"]) and p.lang == d["lang"]
        assert p.created_at == datetime.fromisoformat(d["date"])
        assert {d["user"]["username"], d["user"]["displayname"], str(d["user"]["id"])} <= (
            p.identities
        )
        assert p.author_id == str(d["user"]["id"])
        for m in d["mentionedUsers"] or []:
            assert m["username"] in p.identities
        assert d["user"]["username"] not in p.url
    assert posts[0].created_at == datetime(2021, 2, 13, 9, 58, 42, tzinfo=timezone.utc)
    entity = next(i for i, d in enumerate(raw) if "&lt;" in d["content"])
    assert "<" in posts[entity].text and "&lt;" not in posts[entity].text


def test_streaming_truncated_last_line(shared_dir):
    recs = list(C.read(shared_dir / X / "streaming_output_with_error.jsonl"))
    assert [r.source_line for r in recs if isinstance(r, RawPost)] == list(range(1, 8))
    assert recs[-1] == Reject(
        str(shared_dir / X / "streaming_output_with_error.jsonl"),
        8,
        "not JSON: Expecting ',' delimiter (column 45)",
    )


def test_files_of_other_platforms_are_rejected(shared_dir):
    dump = shared_dir / "fixtures/platforms/reddit_pushshift/test_comments.json"
    assert C.sniff(dump.read_bytes()[:65536]) is None
    recs = list(C.read(dump))
    assert len(recs) == 27 and {r.reason for r in recs} == {"not X data (looks like Reddit)"}
    thread = shared_dir / (
        "fixtures/platforms/reddit_api_praw_cassettes/_extracted_bodies/"
        "TestSubmission.test_comments__body01.json"
    )
    assert [r.reason for r in C.read(thread)] == ["not X data (looks like Reddit)"]
    flat = list(C.read(shared_dir / X / "flat.jsonl", format=V2))
    assert len(flat) == 100 and {r.reason for r in flat} == {"a twarc-flat record, not x-api-v2"}


def test_bad_records_become_rejects(split):
    good = {"id": "1", "text": "hi", "created_at": "2022-01-01T00:00:00Z", "author_id": "9"}
    page = {
        "data": [
            good,
            {"id": 2, "text": "int id", "created_at": "2022-01-01T00:00:00.000Z"},
            {"id": "x3", "text": "t", "created_at": "2022-01-01T00:00:00Z"},
            {"id": "4", "text": None, "created_at": "2022-01-01T00:00:00Z"},
            {"id": "5", "text": "no time"},
            {"id": "6", "text": "t", "created_at": "soon"},
            "not a tweet",
        ],
        "errors": [
            {
                "title": "Not Found Error",
                "detail": "Could not find tweet with id: [77].",
                "value": "77",
                "resource_type": "tweet",
            }
        ],
    }
    lines = [json.dumps(page), json.dumps({"meta": {"result_count": 0}}), "[1, 2", "42"]
    recs = list(C.read(io.BytesIO("\n".join(lines).encode())))
    posts, rejects = split(recs)
    assert [p.post_id for p in posts] == ["1", "2"] and posts[0].identities == {"9"}
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "API error (Not Found Error, tweet): Could not find tweet with id: [<redacted>]."),
        (1, "id: not a numeric id"),
        (1, "text: expected a string, got NoneType"),
        (1, "tweet 5: missing created_at (request tweet.fields=created_at)"),
        (1, "created_at: cannot parse time 'soon'"),
        (1, "not a tweet: a JSON str, expected an object"),
        (2, "API page without tweets (no data)"),
        (3, "not JSON: Expecting ',' delimiter (column 1)"),
        (4, "not X data: a JSON int"),
    ]
    empty = list(C.read(io.BytesIO(b"  \n")))
    assert [r.reason for r in empty] == ["empty file"]


_times = st.datetimes(
    min_value=datetime(2007, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@given(
    st.lists(
        st.tuples(st.integers(1, 2**63 - 1), st.text(max_size=280), _times),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    ),
    st.booleans(),
)
def test_roundtrip_v2_pages(tweets, flat):
    user = {"id": "12", "username": "someone", "name": "Some One"}
    data = [
        {
            "id": str(i),
            "text": html.escape(text, quote=False),
            "created_at": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
            "author_id": "12",
            "conversation_id": str(i),
        }
        for i, text, t in tweets
    ]
    if flat:
        blob = "\n".join(json.dumps(dict(d, author=user)) for d in data)
    else:
        blob = json.dumps({"data": data, "includes": {"users": [user]}})
    out = list(C.read(io.BytesIO(blob.encode())))
    assert all(isinstance(p, RawPost) for p in out)
    assert [p.post_id for p in out] == [str(i) for i, _, _ in tweets]
    assert [p.text for p in out] == [text for _, text, _ in tweets]
    assert [p.created_at for p in out] == [t for _, _, t in tweets]
    assert all(p.identities == {"12", "someone", "Some One"} for p in out)


@given(st.binary(max_size=300))
def test_fuzzed_bytes_only_reject(data):
    for fmt in (None, V2, FLAT, SNSCRAPE):
        out = list(C.read(io.BytesIO(data), format=fmt))
        assert out and all(isinstance(r, Reject) and r.reason for r in out)


def _tweet_item(**kw):
    try:
        from snscrape.modules.twitter import Tweet, User
    except Exception:  # snscrape missing or broken: same attributes on a plain object
        Tweet = User = SimpleNamespace
    user = User(username="someone", id=12, displayname="Some One")
    other = User(username="friend", id=34, displayname="A Friend")
    base = dict(
        url="https://twitter.com/someone/status/100",
        date=datetime(2023, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        rawContent="@friend thanks &amp; bye",
        renderedContent="",
        id=100,
        user=user,
        replyCount=0,
        retweetCount=0,
        likeCount=0,
        quoteCount=0,
        conversationId=90,
        lang="en",
        inReplyToTweetId=95,
        inReplyToUser=other,
        mentionedUsers=[other],
    )
    base.update(kw)
    return Tweet(**base)


def test_live_item_mapping():
    p = item_to_record(_tweet_item(), 1)
    assert isinstance(p, RawPost)
    assert (p.post_id, p.thread_id, p.parent_id, p.kind) == ("100", "90", "95", "reply")
    assert p.text == "@friend thanks & bye" and p.author_handle == "someone"
    assert p.identities == {"someone", "Some One", "12", "friend", "A Friend", "34"}
    assert p.created_at == datetime(2023, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert p.url == "https://x.com/i/web/status/100" and p.source_file is None
    bad = item_to_record(_tweet_item(id="abc"), 2)
    assert bad == Reject("snscrape:twitter", 2, "id: not a numeric id")
    assert search_query("chatgpt therapy", datetime(2024, 1, 1, tzinfo=timezone.utc), None) == (
        "chatgpt therapy since_time:1704067200"
    )


@pytest.mark.parametrize("fname", ["two_tweets.jsonl", "flat.jsonl", "brexit.jsonl"])
def test_engagement_from_public_metrics(shared_dir, fname, split):
    """score = like_count, replies = reply_count; X records name no community."""
    path = shared_dir / X / fname
    fmt = EXPECTED[fname][0]
    posts, _ = split(list(C.read(path)))
    pages = _pages(path)
    tweets = [t for pg in pages for t in ([pg] if fmt == FLAT else _listed(pg["data"]))]
    by_id = {t["id"]: t["public_metrics"] for t in tweets}
    assert posts and all(p.post_id in by_id for p in posts)
    assert [(p.score, p.replies) for p in posts] == [
        (by_id[p.post_id]["like_count"], by_id[p.post_id]["reply_count"]) for p in posts
    ]
    assert {p.community for p in posts} == {None}


def test_snscrape_engagement(shared_dir, split):
    path = shared_dir / "fixtures/platforms/snscrape/res.json"
    posts, _ = split(list(C.read(path)))
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(p.score, p.replies) for p in posts] == [(d["likeCount"], d["replyCount"]) for d in raw]
