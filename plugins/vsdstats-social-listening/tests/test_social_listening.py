"""The social-listening connector (plugins/vsdstats-social-listening).

No real Brandwatch export is available (see ../shared/SOURCES.md, "Looked for but not
found"), so every fixture here is synthetic and written to tmp_path.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from vsdstats_social_listening import CSV, JSONL, SocialListeningConnector
from vsdstats_social_listening.rows import parse_date

from vsdstats.connectors.manager import connectors
from vsdstats.connectors.records import RawPost, Reject

C = SocialListeningConnector()
UTC = timezone.utc
HEADER = [
    "Query Id", "Query Name", "Date", "Title", "Url", "Full Text", "Author", "Full Name",
    "Page Type", "Resource Id", "Thread Id", "Language", "Twitter Followers",
]  # fmt: skip
PREAMBLE = (
    "Report:,LLM chatbots and mental health\r\n"
    "Brand:,Demo\r\n"
    "From:,2024-05-01 00:00:00.0\r\n"
    "To:,2024-05-31 23:59:59.0\r\n"
    "Label:,all\r\n"
    "\r\n"
)


def _csv(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


ROWS = [
    ["1", "q", "2024-05-01 13:45:00.0", "", "https://twitter.com/user_a/status/1790000000000000001",
     'ChatGPT helps with my "anxiety", honestly\nsecond line &amp; more', "@user_a", "User A",
     "twitter", "1790000000000000001", "", "en", "120"],
    ["2", "q", "2024-05-02T10:00:00+02:00", "Claude as a therapist?",
     "https://www.reddit.com/r/mentalhealth/comments/abc12/claude_as_a_therapist/", "Has anyone",
     "redditor_b", "", "reddit", "rid-2", "t3_abc12", "EN", ""],
    ["3", "q", "2024-05-03 08:00:00", "", "https://news.example.org/a", "news text", "desk", "",
     "news", "r3", "", "en", ""],
    ["4", "q", "not a date", "", "https://x.com/c/status/4", "t", "c", "", "twitter", "4", "",
     "en", ""],
    ["5", "q", "2024-05-03 08:00:00"],
    ["6", "q", "2024-05-04 09:30:00.0", "", "https://www.youtube.com/watch?v=abc", "", "d", "",
     "youtube", "r6", "", "en", ""],
    ["7", "q", "2024-05-04 09:30:00.0", "", "https://bsky.app/profile/e/post/3k", "bsky post",
     "e.bsky.social", "", "bluesky", "at://did:plc:e/app.bsky.feed.post/3k", "", "en", ""],
]  # fmt: skip


def test_entry_point_lists_social_listening():
    reg = connectors()["social-listening"]
    assert reg.plugin == "vsdstats-social-listening" and reg.plugin_version == "0.1.0"
    assert reg.connector.formats == ("brandwatch-csv", "brandwatch-jsonl")
    assert reg.connector.can_collect is False


def test_csv_with_bom_preamble_quotes_and_newlines(tmp_path, split):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (PREAMBLE + _csv(ROWS)).encode())
    assert C.sniff(path.read_bytes()) == CSV
    posts, rejects = split(list(C.read(path)))
    assert [(p.platform, p.post_id) for p in posts] == [
        ("x", "1790000000000000001"),
        ("reddit", "t3_abc12"),
        ("bluesky", "at://did:plc:e/app.bsky.feed.post/3k"),
    ]
    tw, rd, bs = posts
    assert tw.text == 'ChatGPT helps with my "anxiety", honestly\nsecond line & more'
    assert tw.created_at == datetime(2024, 5, 1, 13, 45, tzinfo=UTC)
    assert tw.author_handle == "user_a" and tw.lang == "en"
    assert tw.identities == {"@user_a", "user_a", "User A"}  # not Twitter Followers
    assert tw.source_line == 8  # 6 preamble lines, the header, then the row
    assert rd.text == "Claude as a therapist?\n\nHas anyone" and rd.lang == "en"
    assert rd.created_at == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)  # +02:00 converted
    assert rd.thread_id == "t3_abc12" and rd.source_line == 10  # the tweet spans 2 lines
    assert bs.created_at == datetime(2024, 5, 4, 9, 30, tzinfo=UTC)
    assert [(r.line, r.reason) for r in rejects] == [
        (11, "unsupported Page Type 'news'"),
        (12, "cannot parse Date 'not a date'"),
        (13, "row has 3 fields, header has 13"),
        (14, "missing Full Text"),
    ]


def test_jsonl_and_api_field_names(tmp_path, split):
    lines = [
        json.dumps(dict(zip(HEADER, ROWS[0], strict=True))),
        json.dumps({"results": [{
            "date": "2024-05-05T12:00:00.000+0000", "fullText": "api row", "url": "u",
            "pageType": "mastodon", "resourceId": "m-1", "author": "f@example.social",
            "fullname": "F", "authorId": "99",
        }]}),
        json.dumps({"kind": "Listing", "data": {}}),
        '{"Date": "2024-05-01", "Full Text": "trunc',
        json.dumps(["x"]),
    ]  # fmt: skip
    path = tmp_path / "mentions.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert C.sniff(path.read_bytes()) == JSONL
    posts, rejects = split(list(C.read(path)))
    assert [(p.platform, p.post_id, p.source_line) for p in posts] == [
        ("x", "1790000000000000001", 1),
        ("mastodon", "m-1", 2),
    ]
    assert posts[1].created_at == datetime(2024, 5, 5, 12, tzinfo=UTC)
    assert posts[1].identities == {"f@example.social", "F", "99"}
    assert posts[1].author_id == "99"
    assert [(r.line, r.reason[:40]) for r in rejects] == [
        (3, "not a social-listening mention (no Full "),
        (4, "not JSON: Invalid control character at ("),
        (5, "not a mention: a JSON list"),
    ]


def test_utf16_tab_separated_and_undecodable_rows(tmp_path):
    rows = [ROWS[1], ROWS[6]]
    path = tmp_path / "export.tsv"
    path.write_bytes(_csv(rows, delimiter="\t").encode("utf-16"))
    assert C.sniff(path.read_bytes()) == CSV
    posts = [p for p in C.read(path)]
    assert [p.post_id for p in posts] == ["t3_abc12", "at://did:plc:e/app.bsky.feed.post/3k"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([ROWS[6]]).encode() + b"8,q,2024-05-01,,u,caf\xe9,a,,reddit,r8,,en,\r\n")
    recs = list(C.read(bad))
    assert isinstance(recs[0], RawPost)
    assert recs[1] == Reject(str(bad), 3, "undecodable bytes (not UTF-8)")


def test_not_an_export(tmp_path, shared_dir):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert list(C.read(empty)) == [Reject(str(empty), 0, "empty file")]
    dump = shared_dir / "fixtures/platforms/reddit_pushshift/test_comments.json"
    assert C.sniff(dump.read_bytes()[:65536]) is None
    recs = list(C.read(dump))
    assert len(recs) == 27
    assert {r.reason for r in recs} == {"not a social-listening mention (no Full Text and Date)"}
    corpus = shared_dir / "fixtures/corpora/DR.csv"
    (rej,) = list(C.read(corpus))
    assert rej.reason.startswith("not a social-listening export: no header row")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01 13:45:00.0", datetime(2024, 5, 1, 13, 45, tzinfo=UTC)),
        ("2024-05-01T13:45:00Z", datetime(2024, 5, 1, 13, 45, tzinfo=UTC)),
        ("2024-05-01T13:45:00.123-0500", datetime(2024, 5, 1, 18, 45, 0, 123000, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714571100", datetime(2024, 5, 1, 13, 45, tzinfo=UTC)),
        (1714571100000, datetime(2024, 5, 1, 13, 45, tzinfo=UTC)),
    ],
)
def test_date_formats(text, expected):
    assert parse_date(text) == expected


_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=120
).filter(lambda s: s.strip())
_times = st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2030, 1, 1))


@given(
    st.lists(st.tuples(_text, _times, st.sampled_from(["twitter", "reddit", "TikTok"])),
             min_size=1, max_size=6),
    st.booleans(),
)  # fmt: skip
def test_roundtrip(rows, as_jsonl):
    header = ["Date", "Url", "Full Text", "Author", "Page Type", "Resource Id"]
    table = [
        [t.strftime("%Y-%m-%d %H:%M:%S.") + str(t.microsecond // 100000), f"https://e/{i}",
         text.replace("&", "&amp;"), "someone", pt, f"id{i}"]
        for i, (text, t, pt) in enumerate(rows)
    ]  # fmt: skip
    if as_jsonl:
        blob = "\n".join(json.dumps(dict(zip(header, r, strict=True))) for r in table)
    else:
        blob = PREAMBLE + _csv(table, header)
    posts = list(C.read(io.BytesIO(blob.encode())))
    assert all(isinstance(p, RawPost) for p in posts)
    assert [p.post_id for p in posts] == [f"id{i}" for i in range(len(rows))]
    assert [p.text for p in posts] == [text.strip() for text, _, _ in rows]
    assert [p.created_at for p in posts] == [
        t.replace(microsecond=t.microsecond // 100000 * 100000, tzinfo=UTC) for _, t, _ in rows
    ]
    assert [p.platform for p in posts] == [
        {"twitter": "x", "reddit": "reddit", "TikTok": "tiktok"}[pt] for *_, pt in rows
    ]


@given(st.binary(max_size=300))
def test_fuzzed_bytes_only_reject(data):
    for fmt in (None, CSV, JSONL):
        out = list(C.read(io.BytesIO(data), format=fmt))
        assert out and all(isinstance(r, Reject) and r.reason for r in out)


def test_offset_bounds():
    assert parse_date("2024-05-01 00:30:00+01:00") == datetime(2024, 4, 30, 23, 30, tzinfo=UTC)
    assert parse_date("2024-05-01T00:00:00-12:00") - timedelta(hours=12) == datetime(
        2024, 5, 1, tzinfo=UTC
    )


# ---- issue 8 item 5: no name in post_id or url
_NAMED = [
    ("mastodon", "https://mastodon.social/@zorblax/109876543210", "109876543210", None),
    ("tiktok", "https://www.tiktok.com/@zorblax/video/7301234567890123456",
     "7301234567890123456", "https://www.tiktok.com/embed/v2/7301234567890123456"),
    ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&ab_channel=Zorblax",
     "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("youtube", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAbC123&ab_channel=Zorblax",
     "UgzAbC123", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAbC123"),
    ("twitter", "https://twitter.com/zorblax/status/1790000000000000009",
     "1790000000000000009", "https://x.com/i/web/status/1790000000000000009"),
    ("bluesky", "https://bsky.app/profile/zorblax.bsky.social/post/3kabc", None, None),
]  # fmt: skip


def _named_export(tmp_path, author: str = ""):
    header = ["Date", "Url", "Full Text", "Author", "Page Type"]
    rows = [["2024-05-01 10:00:00", url, f"post {i}", author, pt]
            for i, (pt, url, _, _) in enumerate(_NAMED)]  # fmt: skip
    path = tmp_path / "export.csv"
    path.write_text(_csv(rows, header))
    return path


def test_post_ids_from_urls_carry_no_name(tmp_path):
    posts = list(C.read(_named_export(tmp_path)))
    for post, (_, url, want, _) in zip(posts, _NAMED, strict=True):
        assert isinstance(post, RawPost)
        assert post.post_id == (want or url)  # a URL id is hashed at ingest (below)


@pytest.mark.parametrize("author", ["", "someone_else"])
def test_ingest_keeps_no_name_in_post_id_or_url(tmp_path, author):
    from vsdstats.ingest.pipeline import ingest_files
    from vsdstats.ingest.pseudonymize import keyed_id
    from vsdstats.tables.study import read_posts

    secret = bytes(range(32))
    study = tmp_path / "study"
    rep = ingest_files("social-listening", [_named_export(tmp_path, author)], study, secret=secret)
    assert rep.kept == len(_NAMED)
    posts = read_posts(study).sort_values("text")
    for (_, row), (_, url, want, safe) in zip(posts.iterrows(), _NAMED, strict=True):
        blob = f"{row['post_id']} {row['url']}".lower()
        assert "zorblax" not in blob
        assert row["post_id"] == (want or keyed_id(url, secret, row["platform"]))
        assert (None if pd.isna(row["url"]) else row["url"]) == safe
    assert rep.files[0].urls_dropped == sum(safe is None for *_, safe in _NAMED)


def test_community_and_counts_columns(tmp_path, split):
    row = {"Date": "2024-05-01", "Full Text": "a post",
           "Url": "https://www.reddit.com/r/x/comments/abc/", "Page Type": "reddit",
           "Subreddit": "ChatGPT", "Likes": "12", "Comments": "3"}  # fmt: skip
    bad = dict(row, Url="https://www.reddit.com/r/x/comments/abd/", Likes="1.2K", Comments="")
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps(bad) + "\n")
    posts, _ = split(list(C.read(path)))
    assert [(p.community, p.score, p.replies) for p in posts] == [
        ("ChatGPT", 12, 3),
        ("ChatGPT", None, None),
    ]
