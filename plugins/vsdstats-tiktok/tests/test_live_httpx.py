"""``vsdstats collect tiktok`` over httpx against a replay server on 127.0.0.1 answering
as the TikTok Research API documents: ``/v2/oauth/token/`` (client credentials),
``/v2/research/video/query/`` paged by ``cursor`` + ``search_id`` while ``has_more``,
``/v2/research/video/comment/list/`` paged by ``cursor``, a 429 with ``Retry-After``
once and an expired token (``access_token_invalid``) once.  Every record is synthetic
(invented handles, ids and text)."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from vsdstats_tiktok.live import windows

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts
from vsdstats.testing import ReplayHandler, folder_bytes, replay_server

CLIENT_KEY, CLIENT_SECRET = "invented-client-key-41", "invented-client-secret-93"
HANDLES = [f"brackenvale_invented{i}" for i in range(5)]
BASE_ID = 7_300_000_000_000_000_000  # above 2**53, as TikTok's ids are


def _video(i: int, comments: int = 0) -> dict[str, Any]:
    return {
        "id": BASE_ID + i,
        "video_description": f"invented video {i} about #chatbot",
        "create_time": 1_709_300_000 + 86_400 * 10 * i,
        "region_code": "DE",
        "like_count": i,
        "comment_count": comments,
        "share_count": 0,
        "view_count": 100 + i,
        "hashtag_names": ["chatbot"],
        "username": HANDLES[i],
    }


def _comment(j: int, video: int) -> dict[str, Any]:
    return {
        "id": BASE_ID + 1000 + j,
        "video_id": video,
        "text": f"invented comment {j}, cc @{HANDLES[j % 5]}",
        "create_time": 1_709_400_000 + j,
        "like_count": j,
        "reply_count": 0,
        "parent_comment_id": video,
    }


V = [_video(0, comments=3), _video(1), _video(2), _video(3)]
COMMENTS = [_comment(j, V[0]["id"]) for j in range(3)]
# (start_date, cursor) -> (videos, next cursor, has_more)
VIDEO_PAGES = {
    ("20240301", 0): (V[0:2], 2, True),
    ("20240301", 2): (V[2:3], 3, False),
    ("20240331", 0): (V[3:4], 1, False),
}
COMMENT_PAGES = {0: (COMMENTS[0:2], 2, True), 2: (COMMENTS[2:3], 3, False)}
ALL_IDS = {str(v["id"]) for v in V} | {str(c["id"]) for c in COMMENTS}
OK = {"code": "ok", "message": "", "log_id": "20240101000000INVENTED"}


class Replay:
    def __init__(self) -> None:
        self.log: list[tuple[float, str, dict[str, Any], str]] = []
        self.tokens: list[str] = []
        self.sent_429 = False
        self.expired: set[str] = set()


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(ReplayHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            if url.path == "/v2/oauth/token/":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                state.log.append((time.monotonic(), url.path, form, ""))
                if (form.get("client_key"), form.get("client_secret")) != (
                    CLIENT_KEY,
                    CLIENT_SECRET,
                ) or form.get("grant_type") != "client_credentials":
                    return self.send_json(401, {"error": "invalid_client"})
                token = f"clt.invented-token-{len(state.tokens) + 1}"
                state.tokens.append(token)
                return self.send_json(
                    200, {"access_token": token, "expires_in": 7200, "token_type": "Bearer"}
                )
            body = json.loads(raw)
            fields = parse_qs(url.query).get("fields", [""])[0]
            state.log.append((time.monotonic(), url.path, body, auth))
            if (
                auth != f"Bearer {state.tokens[-1] if state.tokens else ''}"
                or auth in state.expired
            ):
                err = {"code": "access_token_invalid", "message": "expired", "log_id": "x"}
                return self.send_json(401, {"error": err})
            if url.path == "/v2/research/video/query/":
                assert "username" in fields and "comment_count" in fields
                if body["cursor"] == 2 and not state.sent_429:
                    state.sent_429 = True
                    err = {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x"}
                    return self.send_json(429, {"error": err}, {"Retry-After": "1"})
                videos, cursor, more = VIDEO_PAGES[(body["start_date"], body["cursor"])]
                data = {"videos": videos, "cursor": cursor, "has_more": more}
                data["search_id"] = f"invented-search-{body['start_date']}"
                return self.send_json(200, {"data": data, "error": OK})
            if url.path == "/v2/research/video/comment/list/":
                if not state.expired:  # the token expires at the first comment request
                    state.expired.add(auth)
                    err = {"code": "access_token_invalid", "message": "expired", "log_id": "x"}
                    return self.send_json(401, {"error": err})
                comments, cursor, more = COMMENT_PAGES[body["cursor"]]
                data = {"comments": comments, "cursor": cursor, "has_more": more}
                return self.send_json(200, {"data": data, "error": OK})
            self.send_json(404, {"error": {"code": "not_found"}})

    return Handler


@pytest.fixture
def server(monkeypatch, tmp_path):
    state = Replay()
    with replay_server(_handler(state)) as base:
        monkeypatch.setenv("TIKTOK_API_BASE_URL", base)
        monkeypatch.setenv("TIKTOK_CLIENT_KEY", CLIENT_KEY)
        monkeypatch.setenv("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
        yield state


def _collect(study, *extra: str) -> Any:
    args = ["collect", "tiktok", "-q", "chatbot", "-o", str(study), "--no-progress"]
    args += ["--since", "2024-03-01", "--until", "2024-04-15", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_windows_split_at_30_days():
    from datetime import datetime, timezone

    d = lambda s: datetime.fromisoformat(s).replace(tzinfo=timezone.utc)  # noqa: E731
    spans = windows(d("2024-03-01"), d("2024-04-15"))
    assert [(a.isoformat(), b.isoformat()) for a, b in spans] == [
        ("2024-03-01", "2024-03-30"),
        ("2024-03-31", "2024-04-15"),
    ]
    assert all((b - a).days <= 29 for a, b in windows(d("2023-01-01"), d("2024-12-31")))


def test_collect_tiktok_resumes_waits_and_renews_the_token(server, tmp_path):
    study = tmp_path / "study"
    first = _collect(study, "--limit", "2")  # the first video page only: interrupted
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 2
    (entry,) = load_states(study).values()
    assert entry["state"]["window"] == "20240301" and entry["state"]["cursor"] == 2
    assert entry["state"]["videos"] == [str(V[0]["id"])]  # the one with comments

    second = _collect(study)
    assert second.exit_code == 0, second.output
    posts = read_posts(study)
    assert len(posts) == len(ALL_IDS) and posts["post_id"].is_unique
    assert set(posts["post_id"]) == ALL_IDS
    (entry,) = load_states(study).values()
    assert entry["state"] == {}

    calls = [(p.split("/")[-2], b.get("start_date"), b.get("cursor")) for _, p, b, _ in server.log]
    assert calls == [
        ("token", None, None),
        ("query", "20240301", 0),  # run 1 stops after --limit 2
        ("token", None, None),  # run 2
        ("list", None, 0),  # access_token_invalid
        ("token", None, None),  # renewed once
        ("list", None, 0),
        ("list", None, 2),
        ("query", "20240301", 2),  # 429, Retry-After: 1
        ("query", "20240301", 2),
        ("query", "20240331", 0),  # the second 30-day window
    ]
    queries = [(t, b) for t, p, b, _ in server.log if p.endswith("/query/")]
    assert queries[2][0] - queries[1][0] >= 1.0  # the wait happened
    assert queries[1][1]["search_id"] == "invented-search-20240301"  # paging by search_id
    assert queries[0][1]["end_date"] == "20240330" and queries[3][1]["end_date"] == "20240415"
    assert queries[0][1]["query"]["and"][0]["field_values"] == ["chatbot"]

    data = folder_bytes(study)
    for secret in [*HANDLES, CLIENT_KEY, CLIENT_SECRET, "invented-token"]:
        assert secret.encode() not in data and secret.lower().encode() not in data.lower()


def test_keep_raw_holds_no_token(server, tmp_path):
    study, raw = tmp_path / "study", tmp_path / "raw"
    res = _collect(study, "--keep-raw", str(raw))
    assert res.exit_code == 0, res.output
    bodies = [f.read_bytes() for f in sorted(raw.rglob("*.json"))]
    assert len(bodies) == 5 and any(HANDLES[0].encode() in b for b in bodies)
    assert not any(b"invented-token" in b or CLIENT_SECRET.encode() in b for b in bodies)


@pytest.mark.parametrize("var", ["TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"])
def test_missing_credential_is_one_line(server, tmp_path, monkeypatch, var):
    monkeypatch.delenv(var)
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and var in lines[0], res.output
    assert not server.log
