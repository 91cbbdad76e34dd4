"""community, score and replies in the posts table: ingest keeps them, hashes a community
that names a person, and studies written before these columns still read and append
(the new columns missing, NA).  Synthetic records only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vsdstats.connectors.fields import count
from vsdstats.ingest.pipeline import ingest_files
from vsdstats.ingest.pseudonymize import keyed_id
from vsdstats.tables.models import POST_COLUMNS
from vsdstats.tables.study import ADDED_COLUMNS, COLUMNS, SCHEMA, read_posts

SECRET = bytes(range(7, 39))


def _reddit(i: int, sub: str, author: str = "someuser", **kw: object) -> dict:
    return {"id": f"k{i}", "title": f"post {i}", "selftext": "text", "author": author,
            "created_utc": 1_700_000_000 + i, "subreddit": sub, "score": -2 + i,
            "num_comments": i, **kw}  # fmt: skip


def _lines(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


def test_counts_are_whole_numbers_or_missing() -> None:
    assert [count(v) for v in (3, "12", " 1,204 ", 4.0, 0)] == [3, 12, 1204, 4, 0]
    assert [count(v) for v in (True, "1.2K", 2.5, -1, "", None, {}, 2**63)] == [None] * 8
    assert count(-5, signed=True) == -5 and count("-5", signed=True) == -5


def test_reddit_community_and_counts_reach_the_posts_table(tmp_path: Path) -> None:
    recs = [_reddit(1, "ChatGPT"), _reddit(2, "u_someuser"), _reddit(3, "u_OtherName", "x2")]
    out = tmp_path / "s"
    ingest_files("reddit", [_lines(tmp_path / "rs.jsonl", recs)], out, secret=SECRET)
    posts = read_posts(out)
    assert (
        {c: str(posts[c].dtype) for c in ADDED_COLUMNS}
        == {
            "community": "string",
            "score": "Int64",
            "replies": "Int64",
        }
        == {c: POST_COLUMNS[c] for c in ADDED_COLUMNS}
    )
    assert posts["score"].tolist() == [-1, 0, 1] and posts["replies"].tolist() == [1, 2, 3]
    # a profile subreddit names its owner: a keyed hash (one per profile), never the name
    assert posts["community"].tolist() == [
        "ChatGPT",
        keyed_id("u_someuser", SECRET, "reddit"),
        keyed_id("u_OtherName", SECRET, "reddit"),
    ]
    blob = (out / "posts.parquet").read_bytes().lower()
    assert b"someuser" not in blob and b"othername" not in blob


def test_youtube_owner_commenting_on_own_video_gets_a_hashed_community(tmp_path: Path) -> None:
    def comment(cid: str, author_channel: str) -> dict:
        return {"kind": "youtube#comment", "id": cid, "snippet": {
            "authorDisplayName": f"@{cid}name", "authorChannelId": {"value": author_channel},
            "textOriginal": "hello", "textDisplay": "hello", "likeCount": 4,
            "publishedAt": "2024-01-02T03:04:05Z", "videoId": "vid00000001"}}  # fmt: skip

    owner = "UCownerOfTheVideo000000"
    page = {"kind": "youtube#commentThreadListResponse", "items": [
        {"kind": "youtube#commentThread", "id": cid, "snippet": {
            "channelId": owner, "videoId": "vid00000001", "totalReplyCount": 0,
            "topLevelComment": comment(cid, chan)}}
        for cid, chan in (("Ua", "UCsomeViewer00000000000"), ("Ub", owner))]}  # fmt: skip
    f = tmp_path / "page.json"
    f.write_text(json.dumps(page), encoding="utf-8")
    out = tmp_path / "s"
    ingest_files("youtube", [f], out, secret=SECRET)
    posts = read_posts(out)
    assert posts["community"].tolist() == [owner, keyed_id(owner, SECRET, "youtube")]
    assert posts["score"].tolist() == [4, 4] and posts["replies"].tolist() == [0, 0]
    assert "UCsomeViewer" not in " ".join(posts.astype(str).fillna("").to_numpy().ravel())


def test_mastodon_instance_named_after_its_user_is_hashed(tmp_path: Path) -> None:
    def status(sid: str, host: str, user: str) -> dict:
        return {"id": sid, "created_at": "2024-03-04T05:06:07Z", "in_reply_to_id": None,
                "spoiler_text": "", "language": "de", "content": "<p>hi</p>",
                "uri": f"https://{host}/users/{user}/statuses/{sid}",
                "url": f"https://{host}/@{user}/{sid}", "reblog": None,
                "replies_count": 2, "favourites_count": 5, "reblogs_count": 0,
                "account": {"id": sid, "username": user, "acct": f"{user}@{host}",
                            "display_name": user}, "mentions": []}  # fmt: skip

    f = tmp_path / "tl.json"
    f.write_text(json.dumps([status("1", "social.example", "ann"),
                             status("2", "zed.example", "zed")]))  # fmt: skip
    out = tmp_path / "s"
    ingest_files("mastodon", [f], out, secret=SECRET)
    posts = read_posts(out)
    assert posts["community"].tolist() == [
        "social.example",
        keyed_id("zed.example", SECRET, "mastodon"),  # the host holds the handle "zed"
    ]
    assert posts["lang"].tolist() == ["de", "de"] and posts["score"].tolist() == [5, 5]


def _old_schema() -> pa.Schema:
    return pa.schema([f for f in SCHEMA if f.name not in ADDED_COLUMNS])


def test_a_study_from_before_the_columns_reads_and_appends(tmp_path: Path) -> None:
    out = tmp_path / "s"
    ingest_files("reddit", [_lines(tmp_path / "a.jsonl", [_reddit(1, "A")])], out, secret=SECRET)
    old = pq.read_table(out / "posts.parquet").select(_old_schema().names)
    pq.write_table(old, out / "posts.parquet")  # as an older vsdstats wrote it
    before = read_posts(out)
    assert before[list(ADDED_COLUMNS)].isna().all().all() and list(before.columns) == COLUMNS
    ingest_files("reddit", [_lines(tmp_path / "b.jsonl", [_reddit(2, "B")])], out, secret=SECRET)
    after = read_posts(out)
    assert pd.isna(after["community"].iloc[0]) and after["community"].iloc[1] == "B"
    assert pd.isna(after["score"].iloc[0]) and after["score"].iloc[1] == 0
    assert pq.read_schema(out / "posts.parquet").names == COLUMNS


def test_an_old_duckdb_file_reads_and_appends(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE posts (platform VARCHAR, post_id VARCHAR, thread_id VARCHAR, "
        "parent_id VARCHAR, author VARCHAR, created_at TIMESTAMPTZ, text VARCHAR, url VARCHAR, "
        "lang VARCHAR, source_file VARCHAR, source_line BIGINT, kind VARCHAR, "
        "text_hash VARCHAR, dup_text BOOLEAN)"
    )
    con.execute(
        "INSERT INTO posts VALUES ('reddit', 't3_old', 't3_old', NULL, NULL, "
        "TIMESTAMPTZ '2020-01-01 00:00:00+00', 'old post', NULL, NULL, NULL, 1, "
        "'submission', 'ffff', false)"
    )
    con.close()
    old = read_posts(db)
    assert len(old) == 1 and old[list(ADDED_COLUMNS)].isna().all().all()
    ingest_files("reddit", [_lines(tmp_path / "b.jsonl", [_reddit(5, "C")])], db, secret=SECRET)
    posts = read_posts(db).set_index("post_id")
    assert posts.loc["t3_k5", "community"] == "C" and posts.loc["t3_k5", "score"] == 3
    assert pd.isna(posts.loc["t3_old", "score"])


@pytest.mark.parametrize("bad", [{"a": 1}, 17, ""])
def test_a_community_that_is_not_text_is_missing(tmp_path: Path, bad: object) -> None:
    f = _lines(tmp_path / "a.jsonl", [_reddit(1, "A", subreddit=bad)])
    out = tmp_path / "s"
    ingest_files("reddit", [f], out, secret=SECRET)
    assert read_posts(out)["community"].isna().all()
