"""The mastodon connector (plugins/vsdstats-mastodon) on the Mastodon.py response
bodies in ../shared and on synthetic statuses (live collection: test_live_mastodonpy.py)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st
from vsdstats_mastodon import MastodonConnector

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import Reject

CONNECTOR = MA = MastodonConnector()
BODIES = "fixtures/platforms/mastodon/_extracted_bodies"
SAMPLES = BODIES


def status(sid, content, reply_to=None, reblog=None, spoiler="", acct="someone@example.org"):
    return {
        "id": sid,
        "created_at": "2024-03-04T05:06:07.890Z",
        "in_reply_to_id": reply_to,
        "spoiler_text": spoiler,
        "language": "en",
        "url": f"https://example.org/@someone/{sid}",
        "content": content,
        "reblog": reblog,
        "account": {"id": "9001", "username": "someone", "acct": acct, "display_name": "Some One"},
        "mentions": [],
    }


def test_entry_point_lists_mastodon_and_formats():
    reg = connectors()["mastodon"]
    assert reg.plugin == "vsdstats-mastodon" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("mastodon-api",) and reg.connector.can_collect


def raw(shared_dir, name):
    """A body as plain JSON: expected values come from it at run time (the samples hold
    real handles and posts that are not copied into this repository)."""
    return json.loads((shared_dir / BODIES / name).read_text("utf-8"))


def strip_tags(markup):
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_single_status_html_spoiler_and_identities(shared_dir, sample):
    name = "test_entity_status__body00.json"
    posts, rejects = sample(shared_dir, name)
    assert rejects == []
    (p,) = posts
    st_ = raw(shared_dir, name)
    acc, mention, tag = st_["account"], st_["mentions"][0], st_["tags"][0]
    assert p.post_id == st_["id"] and p.thread_id == p.post_id
    assert p.parent_id is None and p.lang == st_["language"] == "de"
    assert p.created_at == datetime(2023, 5, 28, 12, 6, 50, tzinfo=timezone.utc)
    # spoiler first, then the two paragraphs on their own lines, tags gone
    assert st_["spoiler_text"] and st_["content"].count("<p>") == 2
    paragraphs = [strip_tags(x) for x in re.findall(r"<p>(.*?)</p>", st_["content"])]
    assert p.text == st_["spoiler_text"] + "\n\n" + "\n".join(paragraphs)
    assert p.text.split("\n")[2].startswith("@" + mention["username"] + " ")
    assert p.text.lower().endswith("#" + tag["name"]) and "<" not in p.text
    assert p.url == st_["url"] and "@" + acc["username"] in p.url
    assert {acc["acct"], acc["username"], acc["id"], acc["display_name"]} <= p.identities
    assert {mention["acct"], mention["username"], mention["id"]} <= p.identities
    assert (p.author_handle, p.author_id) == (acc["acct"], acc["id"])


def test_second_status(shared_dir, sample):
    name = "test_entity_status__body01.json"
    (p,), rejects = sample(shared_dir, name)
    st_ = raw(shared_dir, name)
    assert rejects == []
    assert (p.post_id, p.text) == (st_["id"], strip_tags(st_["content"]))
    assert p.created_at == datetime(2023, 5, 28, 11, 57, 0, 378000, tzinfo=timezone.utc)


def test_context_threads_to_first_ancestor(shared_dir, sample):
    name = "test_entity_context__body00.json"
    posts, rejects = sample(shared_dir, name)
    ctx = raw(shared_dir, name)
    (anc,), (desc,) = ctx["ancestors"], ctx["descendants"]
    assert rejects == []
    assert [p.post_id for p in posts] == [anc["id"], desc["id"]]
    assert [p.text for p in posts] == [strip_tags(anc["content"]), strip_tags(desc["content"])]
    assert {p.thread_id for p in posts} == {anc["id"]}
    assert [p.parent_id for p in posts] == [None, desc["in_reply_to_id"]]
    assert desc["in_reply_to_id"] != anc["id"]  # the focal status, not in the body
    assert [p.kind for p in posts] == ["post", "reply"]


def test_search_v2_statuses_accounts_and_hashtags(shared_dir, sample):
    name = "test_entity_searchv2__body02.json"
    posts, rejects = sample(shared_dir, name)
    res = raw(shared_dir, name)
    assert [p.post_id for p in posts] == [x["id"] for x in res["statuses"]]
    assert sorted({r.reason for r in rejects}) == [
        "search result: account, not a post",
        "search result: hashtag, not a post",
    ]
    assert [r.reason for r in rejects].count("search result: account, not a post") == 18
    assert len(rejects) == 19 and len(posts) == 2
    first, src = posts[0], res["statuses"][0]
    assert first.parent_id == src["in_reply_to_id"] and first.thread_id is None  # root unknown
    names = [m["username"] for m in src["mentions"]]
    assert first.text.startswith(" ".join("@" + n for n in names) + " ")
    card = re.search(r'href="(https://www\.youtube\.com/[^"]+)"', src["content"]).group(1)
    assert first.text.endswith(" " + card)  # invisible spans joined back into the link
    for m in src["mentions"]:
        assert {m["acct"], m["username"], m["id"]} <= first.identities


def test_hashtag_timeline_list(shared_dir, sample):
    name = "test_hashtag_tl__body02.json"
    (p,), rejects = sample(shared_dir, name)
    (src,) = raw(shared_dir, name)
    assert rejects == []
    assert (p.post_id, p.text, p.lang) == (src["id"], strip_tags(src["content"]), "ja")
    assert p.text.lower().startswith("#" + src["tags"][0]["name"])
    assert p.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=timezone.utc)
    assert src["account"]["username"] in p.identities


def test_reblogs_are_rejects_and_reply_chains_resolve(read_bytes):
    items = [
        status("1", "<p>root &amp; <br>more</p>"),
        status("2", "<p>reply</p>", reply_to="1"),
        status("3", "<p>reply to reply</p>", reply_to="2"),
        status("4", "", reblog=status("1", "<p>root</p>")),
        status("5", "<p>orphan</p>", reply_to="999"),
        status("6", "<p>cw body</p>", spoiler="content warning"),
    ]
    posts, rejects = read_bytes(json.dumps(items).encode())
    assert [(p.post_id, p.thread_id, p.parent_id) for p in posts] == [
        ("1", "1", None),
        ("2", "1", "1"),
        ("3", "1", "2"),
        ("5", None, "999"),
        ("6", "6", None),
    ]
    assert posts[0].text == "root &\nmore"
    assert posts[-1].text == "content warning\n\ncw body"
    assert rejects == [Reject("mem.json", 4, "reblog (not a new post)")]


def test_context_without_ancestors_threads_to_focal_status(read_bytes):
    ctx = {"ancestors": [], "descendants": [status("8", "<p>a</p>", reply_to="7")]}
    (p,), rejects = read_bytes(json.dumps(ctx).encode())
    assert (p.thread_id, p.parent_id, rejects) == ("7", "7", [])


def test_bad_statuses_and_other_platforms(shared_dir, read_bytes, other_platforms):
    bad = [status("1", 5), {**status("2", "<p>x</p>"), "created_at": None}, "str", status(None, "")]
    posts, rejects = read_bytes(json.dumps(bad).encode())
    assert posts == []
    assert [r.reason for r in rejects] == [
        "bad status: content must be a string, got int",
        "bad status: created_at: missing or not a time: None",
        "status is a JSON str, expected an object",
        "bad status: id must be a string or integer, got NoneType",
    ]
    others = (
        "bluesky/_extracted_bodies/f_getposts__body00.json",
        "youtube/comment_thread_single.json",
        "tiktok_research_api/example_resp_comments.json",
        "reddit_pushshift/test_submissions.json",
    )
    for rel, rejects in other_platforms(shared_dir, others):
        assert all(r.reason.startswith("not Mastodon API data") for r in rejects), rel


def test_empty_file_and_empty_timeline(read_bytes):
    assert read_bytes(b"") == ([], [Reject("mem.json", 0, "empty file")])
    assert read_bytes(b"[]") == (
        [],
        [Reject("mem.json", 1, "no records in this JSON value (empty page)")],
    )


def test_sniff():
    assert MA.sniff(b'{"ancestors": [], "descendants": []}') == "mastodon-api"
    assert MA.sniff(b'[{"id": "1", "in_reply_to_id": null, "content": "<p>') == "mastodon-api"
    assert MA.sniff(b'{"posts": [{"uri": "at://did:plc:x"}]}') is None


_words = st.lists(
    st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=12),
    min_size=1,
    max_size=20,
)


@given(
    sid=st.integers(min_value=1, max_value=2**63 - 1),
    words=_words,
    when=st.datetimes(
        min_value=datetime(2016, 1, 1),
        max_value=datetime(2035, 1, 1),
        timezones=st.just(timezone.utc),
    ),
)
def test_status_roundtrip(read_bytes, sid, words, when):
    text = " ".join(words)
    s = status(str(sid), f"<p>{html.escape(text)}</p>")
    s["created_at"] = when.isoformat().replace("+00:00", "Z")
    posts, rejects = read_bytes(json.dumps(s).encode())
    assert rejects == []
    assert [(p.post_id, p.text, p.created_at) for p in posts] == [(str(sid), text, when)]


@given(st.binary(max_size=300))
def test_fuzzed_bytes_yield_only_rejects(read_bytes, data):
    posts, rejects = read_bytes(data)
    assert posts == [] and rejects
    assert all(r.reason for r in rejects)


def test_community_is_the_instance_host_with_counts(shared_dir, sample):
    """community = host of the status's uri (its origin server), score =
    favourites_count, replies = replies_count, lang = language."""
    from urllib.parse import urlsplit

    for name in ("test_entity_status__body00.json", "test_entity_searchv2__body02.json"):
        posts, _ = sample(shared_dir, name)
        body = raw(shared_dir, name)
        statuses = body["statuses"] if isinstance(body, dict) and "statuses" in body else [body]
        assert [(p.community, p.score, p.replies, p.lang) for p in posts] == [
            (urlsplit(s["uri"]).hostname, s["favourites_count"], s["replies_count"], s["language"])
            for s in statuses
        ]


def test_host_from_url_when_uri_is_missing_or_bad(read_bytes):
    a = status("1", "<p>x</p>")  # url only: https://example.org/@someone/1
    b = dict(status("2", "<p>y</p>"), url="not a url", uri="https://[bad")
    posts, _ = read_bytes(json.dumps([a, b]).encode())
    assert [p.community for p in posts] == ["example.org", None]
