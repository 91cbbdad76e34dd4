"""``vsdstats collect youtube`` through the real google-api-python-client against a
replay server on 127.0.0.1 answering as the YouTube Data API v3 documents:
``/youtube/v3/search`` (``youtube#searchListResponse`` paged by ``pageToken`` /
``nextPageToken``) and ``/youtube/v3/commentThreads`` (``youtube#commentThreadListResponse``
with ``replies.comments``), a 429 once, and a 403 ``quotaExceeded`` once (Google's
error shape).  Every record is synthetic (invented handles, channel ids and text)."""

from __future__ import annotations

import logging
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts
from vsdstats.testing import ReplayHandler, folder_bytes, replay_server

KEY = "AIzaInventedKey-0123456789"
HANDLES = [f"@FernwickInvented{i}" for i in range(7)]
COMMENTER_CHANNELS = [f"UCinventedCommenter{i:04d}x" for i in range(7)]
VIDEO_CHANNEL = "UCinventedPublisher000001"
VIDEOS = ["vidInvent0A", "vidInvent0B"]


def _comment(i: int, video: str, parent: str | None = None) -> dict[str, Any]:
    cid = f"Ugzinvented{i:03d}" if parent is None else f"{parent}.reply{i:03d}"
    snip = {
        "channelId": VIDEO_CHANNEL,
        "videoId": video,
        "textDisplay": f"invented comment {i} about chatbots, hi {HANDLES[(i + 1) % 7]}",
        "textOriginal": f"invented comment {i} about chatbots, hi {HANDLES[(i + 1) % 7]}",
        "authorDisplayName": HANDLES[i],
        "authorProfileImageUrl": f"https://yt3.ggpht.example/invented{i}",
        "authorChannelUrl": f"http://www.youtube.com/{HANDLES[i]}",
        "authorChannelId": {"value": COMMENTER_CHANNELS[i]},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": i,
        "publishedAt": f"2024-05-0{1 + i}T10:00:00Z",
        "updatedAt": f"2024-05-0{1 + i}T10:00:00Z",
    }
    if parent is not None:
        snip["parentId"] = parent
    return {"kind": "youtube#comment", "etag": f"e{i}", "id": cid, "snippet": snip}


def _thread(i: int, video: str, reply: int | None = None) -> dict[str, Any]:
    top = _comment(i, video)
    thread: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": f"t{i}",
        "id": top["id"],
        "snippet": {
            "channelId": VIDEO_CHANNEL,
            "videoId": video,
            "topLevelComment": top,
            "canReply": True,
            "totalReplyCount": 0 if reply is None else 1,
            "isPublic": True,
        },
    }
    if reply is not None:
        thread["replies"] = {"comments": [_comment(reply, video, parent=top["id"])]}
    return thread


def _page(kind: str, items: list[Any], token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "kind": kind,
        "etag": "invented",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        "items": items,
    }
    if token:
        page["nextPageToken"] = token
    return page


def _result(video: str) -> dict[str, Any]:
    return {
        "kind": "youtube#searchResult",
        "etag": "r",
        "id": {"kind": "youtube#video", "videoId": video},
        "snippet": {
            "publishedAt": "2024-04-30T09:00:00Z",
            "channelId": VIDEO_CHANNEL,
            "title": "invented video about chatbots",
            "description": "invented",
            "channelTitle": "Invented Publisher Channel",
            "liveBroadcastContent": "none",
        },
    }


SEARCH = {None: _page("youtube#searchListResponse", [_result(VIDEOS[0])], "SRCHtok2")}
SEARCH["SRCHtok2"] = _page("youtube#searchListResponse", [_result(VIDEOS[1])], None)
THREADS = "youtube#commentThreadListResponse"
COMMENTS = {  # (video, pageToken) -> page
    (VIDEOS[0], None): _page(
        THREADS, [_thread(0, VIDEOS[0], reply=1), _thread(2, VIDEOS[0])], "CMTtok2"
    ),
    (VIDEOS[0], "CMTtok2"): _page(THREADS, [_thread(3, VIDEOS[0])], None),
    (VIDEOS[1], None): _page(
        THREADS, [_thread(4, VIDEOS[1], reply=5), _thread(6, VIDEOS[1])], None
    ),
}
ALL_IDS = {
    c["id"]
    for p in COMMENTS.values()
    for t in p["items"]
    for c in [t["snippet"]["topLevelComment"], *t.get("replies", {}).get("comments", [])]
}
QUOTA = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your quota.",
        "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}],
    }
}


class Replay:
    def __init__(self) -> None:
        self.log: list[tuple[float, str, dict[str, list[str]]]] = []
        self.sent_429 = False
        self.sent_quota = False


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(ReplayHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            state.log.append((time.monotonic(), url.path, q))
            if q.get("key") != [KEY]:
                return self.send_json(400, {"error": {"code": 400, "message": "API key not valid"}})
            token = q.get("pageToken", [None])[0]
            if url.path == "/youtube/v3/search":
                if token == "SRCHtok2" and not state.sent_quota:
                    state.sent_quota = True
                    return self.send_json(403, QUOTA)
                return self.send_json(200, SEARCH[token])
            if url.path == "/youtube/v3/commentThreads":
                video = q["videoId"][0]
                if video == VIDEOS[1] and not state.sent_429:
                    state.sent_429 = True
                    err = {"code": 429, "message": "Too many requests", "errors": []}
                    return self.send_json(429, {"error": err})
                return self.send_json(200, COMMENTS[(video, token)])
            self.send_json(404, {"error": {"code": 404, "message": "not found"}})

    return Handler


@pytest.fixture
def server(monkeypatch, tmp_path):
    state = Replay()
    with replay_server(_handler(state)) as base:
        monkeypatch.setenv("YOUTUBE_API_BASE_URL", f"{base}/")
        monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
        monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
        yield state


def _collect(study, *extra: str) -> Any:
    args = ["collect", "youtube", "-q", "chatbot", "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _calls(server: Replay) -> list[tuple[str, str | None]]:
    """(``search`` or the video id, pageToken) of every request."""
    return [
        (
            q["videoId"][0] if "videoId" in q else path.rsplit("/", 1)[-1],
            q.get("pageToken", [None])[0],
        )
        for _, path, q in server.log
    ]


def test_collect_youtube_resumes_and_stops_on_quota(server, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    study = tmp_path / "study"
    first = _collect(study, "--since", "2024-04-01", "--limit", "3")  # one comment page
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 3
    (entry,) = load_states(study).values()
    assert entry["state"] == {"search": "SRCHtok2", "videos": [VIDEOS[0]], "comments": "CMTtok2"}

    second = _collect(study, "--since", "2024-04-01")  # quota is spent at search page 2
    assert second.exit_code == 2
    lines = second.output.strip().splitlines()
    assert len(lines) == 1 and "daily quota is used up" in lines[0], second.output
    assert KEY not in second.output
    (entry,) = load_states(study).values()
    assert entry["state"] == {"search": "SRCHtok2", "videos": [], "comments": None}
    assert len(read_posts(study)) == 4

    third = _collect(study, "--since", "2024-04-01")  # "the next day"
    assert third.exit_code == 0, third.output
    posts = read_posts(study)
    assert len(posts) == len(ALL_IDS) and posts["post_id"].is_unique
    assert set(posts["post_id"]) == ALL_IDS
    assert set(posts["thread_id"]) == set(VIDEOS)
    (entry,) = load_states(study).values()
    assert entry["state"] == {}

    assert _calls(server) == [
        ("search", None),
        (VIDEOS[0], None),  # run 1 stops after --limit 3
        (VIDEOS[0], "CMTtok2"),  # run 2 resumes at comment page 2
        ("search", "SRCHtok2"),  # 403 quotaExceeded: not retried
        ("search", "SRCHtok2"),  # run 3
        (VIDEOS[1], None),  # 429
        (VIDEOS[1], None),  # retried by googleapiclient
    ]
    searches = [q for _, p, q in server.log if p.endswith("/search")]
    assert all(q["q"] == ["chatbot"] and q["type"] == ["video"] for q in searches)
    assert all(q["publishedAfter"] == ["2024-04-01T00:00:00Z"] for q in searches)
    # googleapiclient's backoff after the 429 (rand() * 2**1 s) happened and was logged,
    # with the API key redacted from the URL it quotes
    sleeping = [r.getMessage() for r in caplog.records if "Sleeping" in r.getMessage()]
    assert len(sleeping) == 1 and "key=REDACTED" in sleeping[0]
    assert all(KEY not in r.getMessage() for r in caplog.records)

    data = folder_bytes(study)
    for secret in [*HANDLES, *COMMENTER_CHANNELS, KEY]:
        assert secret.encode() not in data, secret
        assert secret.lstrip("@").lower().encode() not in data.lower(), secret


def test_keep_raw_never_holds_the_key(server, tmp_path):
    study, raw = tmp_path / "study", tmp_path / "raw"
    server.sent_quota = True
    res = _collect(study, "--keep-raw", str(raw))
    assert res.exit_code == 0, res.output
    files = sorted(raw.rglob("*.json"))
    assert [f.name.split("-", 1)[1] for f in files][:2] == ["search.json", "commentThreads.json"]
    assert any(HANDLES[0].encode() in f.read_bytes() for f in files)
    assert not any(KEY.encode() in f.read_bytes() or KEY in str(f) for f in files)
    assert KEY.encode() not in folder_bytes(study)


def test_missing_api_key_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "YOUTUBE_API_KEY" in lines[0], res.output
    assert not server.log
