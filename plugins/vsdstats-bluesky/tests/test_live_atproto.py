"""``vsdstats collect bluesky`` through the real atproto client against a replay server
on 127.0.0.1 that answers as the XRPC lexicons document: ``createSession``,
``refreshSession``, ``app.bsky.feed.searchPosts`` in three pages linked by ``cursor``,
one 429 with ``ratelimit-*`` and ``Retry-After`` headers, one ``400 ExpiredToken``.
Every post, handle and DID is invented."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts
from vsdstats.testing import ReplayHandler, folder_bytes, replay_server

LOGIN_HANDLE = "quillmoss-researcher.invented.test"
LOGIN_DID = "did:plc:inventedloginacct0001"
PASSWORD = "invented-app-pass-7q2x"
HANDLES = [f"fernwhistle-invented{i}.bsky.social" for i in range(6)]
DIDS = [f"did:plc:inventedauthor{i:04d}" for i in range(6)]
NAMES = [f"Invented Person {i}" for i in range(6)]
CURSORS = [None, "invented-cursor-2", "invented-cursor-4"]  # the cursor that fetches page k


def _view(i: int) -> dict[str, Any]:
    other = HANDLES[(i + 1) % 6]
    prefix = f"invented post {i} about a chatbot, asking "
    mention = f"@{other}"
    text = f"{prefix}{mention} what they think"
    start = len(prefix.encode())
    return {
        "uri": f"at://{DIDS[i]}/app.bsky.feed.post/3kinv{i:04d}",
        "cid": f"bafyreiinventedcid{i:04d}",
        "author": {
            "did": DIDS[i],
            "handle": HANDLES[i],
            "displayName": NAMES[i],
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        },
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": f"2024-05-29T12:{50 - 10 * i:02d}:00.000Z",
            "text": text,
            "langs": ["en"],
            "facets": [
                {
                    "index": {"byteStart": start, "byteEnd": start + len(mention.encode())},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": DIDS[(i + 1) % 6]}
                    ],
                }
            ],
        },
        "replyCount": i,
        "repostCount": 0,
        "likeCount": 10 + i,
        "quoteCount": 0,
        "indexedAt": f"2024-05-29T12:{50 - 10 * i:02d}:01.000Z",
        "labels": [],
    }


VIEWS = [_view(i) for i in range(6)]


def _jwt(payload: dict[str, Any]) -> str:
    def seg(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'ES256K', 'typ': 'JWT'})}.{seg(payload)}.c2ln"


class Replay:
    """The server's state and its log of (time, method, nsid, query, auth)."""

    def __init__(self, fail_page: int | None = None) -> None:
        self.log: list[tuple[float, str, str, dict[str, list[str]], str]] = []
        self.access: list[str] = []
        self.refresh: list[str] = []
        self.sent_429 = False
        self.expired: set[str] = set()
        self.fail_page = fail_page  # answer 502 once for this page (an interrupted run)

    def session(self) -> dict[str, Any]:
        n = len(self.access) + 1
        exp = int(time.time()) + 7200
        self.access.append(
            _jwt({"scope": "com.atproto.appPass", "sub": LOGIN_DID, "exp": exp, "n": n})
        )
        self.refresh.append(
            _jwt({"scope": "com.atproto.refresh", "sub": LOGIN_DID, "exp": exp, "r": n})
        )
        return {
            "accessJwt": self.access[-1],
            "refreshJwt": self.refresh[-1],
            "handle": LOGIN_HANDLE,
            "did": LOGIN_DID,
            "active": True,
        }


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(ReplayHandler):
        def _nsid(self) -> tuple[str, dict[str, list[str]], str]:
            url = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            return url.path.removeprefix("/xrpc/"), parse_qs(url.query), auth

        def do_POST(self) -> None:
            body = json.loads(
                self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"
            )
            nsid, query, auth = self._nsid()
            state.log.append((time.monotonic(), "POST", nsid, query, auth))
            if nsid == "com.atproto.server.createSession":
                if body.get("identifier") != LOGIN_HANDLE or body.get("password") != PASSWORD:
                    return self.send_json(
                        401,
                        {
                            "error": "AuthenticationRequired",
                            "message": "Invalid identifier or password",
                        },
                    )
                return self.send_json(200, state.session())
            if nsid == "com.atproto.server.refreshSession":
                if auth != f"Bearer {state.refresh[-1]}":
                    return self.send_json(
                        400, {"error": "ExpiredToken", "message": "Token has expired"}
                    )
                return self.send_json(200, state.session())
            self.send_json(
                501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}
            )

        def do_GET(self) -> None:
            nsid, query, auth = self._nsid()
            state.log.append((time.monotonic(), "GET", nsid, query, auth))
            if nsid != "app.bsky.feed.searchPosts":
                return self.send_json(
                    501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}
                )
            if auth in state.expired:
                return self.send_json(
                    400, {"error": "ExpiredToken", "message": "Token has expired"}
                )
            if not state.access or auth != f"Bearer {state.access[-1]}":
                return self.send_json(
                    401, {"error": "AuthenticationRequired", "message": "Authentication Required"}
                )
            if not state.sent_429:
                state.sent_429 = True
                reset = str(int(time.time()) + 1)
                return self.send_json(
                    429,
                    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    {
                        "ratelimit-limit": "3000",
                        "ratelimit-remaining": "0",
                        "ratelimit-reset": reset,
                        "ratelimit-policy": "3000;w=300",
                        "Retry-After": "1",
                    },
                )
            cursor = query.get("cursor", [None])[0]
            page = CURSORS.index(cursor)
            if page == state.fail_page:
                state.fail_page = None
                return self.send_json(
                    502, {"error": "UpstreamFailure", "message": "Upstream Failure"}
                )
            if page == 1 and not state.expired:
                state.expired.add(auth)  # the access token expires now: once
                return self.send_json(
                    400, {"error": "ExpiredToken", "message": "Token has expired"}
                )
            body: dict[str, Any] = {"posts": VIEWS[2 * page : 2 * page + 2]}
            if page + 1 < len(CURSORS):
                body["cursor"] = CURSORS[page + 1]
            self.send_json(200, body, {"ratelimit-limit": "3000", "ratelimit-remaining": "2990"})

    return Handler


@contextmanager
def _serve(monkeypatch, tmp_path, state: Replay) -> Iterator[None]:
    with replay_server(_handler(state)) as base:
        monkeypatch.setenv("BLUESKY_BASE_URL", base)
        monkeypatch.setenv("BLUESKY_HANDLE", LOGIN_HANDLE)
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", PASSWORD)
        monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
        yield


@pytest.fixture
def server(monkeypatch, tmp_path):
    state = Replay()
    with _serve(monkeypatch, tmp_path, state):
        yield state


def _collect(study, *extra: str) -> Any:
    args = ["collect", "bluesky", "-q", "chatbot", "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _assert_private(study) -> None:
    data = folder_bytes(study).lower()
    for secret in (*HANDLES, *DIDS, *NAMES, LOGIN_HANDLE, LOGIN_DID, PASSWORD):
        assert secret.lower().encode() not in data, secret
    for i in range(6):  # the DID's unique part either
        assert f"inventedauthor{i:04d}".encode() not in data
    assert b"eyj" not in data  # no JWT (base64 of '{"')


def test_collect_bluesky_resumes_through_atproto(server, tmp_path):
    study = tmp_path / "study"
    first = _collect(study, "--limit", "2", "--since", "2024-05-01", "--until", "2024-06-01")
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 2
    (entry,) = load_states(study).values()
    assert entry["state"] == {"cursor": CURSORS[1]}

    second = _collect(study, "--since", "2024-05-01", "--until", "2024-06-01")
    assert second.exit_code == 0, second.output
    posts = read_posts(study)
    assert len(posts) == len(VIEWS) and posts["post_id"].is_unique
    assert set(posts["post_id"]) == {v["cid"] for v in VIEWS}
    (entry,) = load_states(study).values()
    assert entry["state"] == {}  # the search ended: the next run starts from the newest
    texts = " ".join(posts["text"])
    assert "about a chatbot" in texts

    searches = [r for r in server.log if r[2] == "app.bsky.feed.searchPosts"]
    cursors = [r[3].get("cursor", [None])[0] for r in searches]
    # 429, page 1 | page 2 (ExpiredToken, then again after refreshSession), page 3
    assert cursors == [None, None, CURSORS[1], CURSORS[1], CURSORS[2]]
    assert [r[3]["limit"] for r in searches] == [["2"], ["2"], ["100"], ["100"], ["100"]]
    for r in searches:
        assert r[3]["q"] == ["chatbot"] and r[3]["sort"] == ["latest"]
        assert r[3]["since"] == ["2024-05-01T00:00:00.000Z"]
        assert r[3]["until"] == ["2024-06-01T00:00:00.000Z"]
    # the rate-limit wait happened: Retry-After 1 s after the 429
    assert searches[1][0] - searches[0][0] >= 1.0
    # the expired token was refreshed (not a new login) and the retry used the new token
    calls = [r[2].rsplit(".", 1)[1] for r in server.log if r[1] == "POST"]
    assert calls == ["createSession", "createSession", "refreshSession"]
    assert searches[2][4] == f"Bearer {server.access[1]}"
    assert searches[3][4] == f"Bearer {server.access[2]}"
    refresh = next(r for r in server.log if r[2].endswith("refreshSession"))
    assert refresh[4] == f"Bearer {server.refresh[1]}"
    _assert_private(study)


def test_failure_after_page_one_resumes_without_duplicates(monkeypatch, tmp_path):
    state = Replay(fail_page=1)
    state.sent_429 = True
    state.expired.add("none")  # no ExpiredToken in this run
    with _serve(monkeypatch, tmp_path, state):
        study = tmp_path / "study"
        failed = _collect(study)  # page 1 stored, then a 502
        assert failed.exit_code != 0
        assert "502" in failed.output and "Traceback" not in failed.output
        assert len(read_posts(study)) == 2
        (entry,) = load_states(study).values()
        assert entry["state"] == {"cursor": CURSORS[1]}
        again = _collect(study)
        assert again.exit_code == 0, again.output
        posts = read_posts(study)
        assert len(posts) == 6 and posts["post_id"].is_unique
        cursors = [r[3].get("cursor", [None])[0] for r in state.log if r[1] == "GET"]
        assert cursors == [None, CURSORS[1], CURSORS[1], CURSORS[2]]
        _assert_private(study)


def test_keep_raw_gets_search_responses_not_sessions(server, tmp_path):
    study, raw = tmp_path / "study", tmp_path / "raw"
    res = _collect(study, "--keep-raw", str(raw))
    assert res.exit_code == 0, res.output
    bodies = [f.read_bytes() for f in sorted(raw.rglob("*.json"))]
    assert len(bodies) == 3 and any(HANDLES[0].encode() in b for b in bodies)
    assert not any(b"accessJwt" in b or PASSWORD.encode() in b for b in bodies)
    assert str(raw).encode() not in folder_bytes(study)


def test_community_is_refused(server, tmp_path):
    res = _collect(tmp_path / "study", "--community", "somewhere")
    assert res.exit_code == 2 and "community" in res.output
    assert not server.log


def test_wrong_password_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "not-the-password")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "BLUESKY_APP_PASSWORD" in lines[0], res.output
    assert "not-the-password" not in res.output


@pytest.mark.parametrize("var", ["BLUESKY_APP_PASSWORD", "BLUESKY_HANDLE"])
def test_missing_credential_is_one_line(server, tmp_path, monkeypatch, var):
    monkeypatch.delenv(var)
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and var in lines[0], res.output
    assert not server.log  # nothing was requested
