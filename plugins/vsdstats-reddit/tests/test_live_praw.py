"""``vsdstats collect reddit`` through the real PRAW client against a replay server on
127.0.0.1 that answers as Reddit's API documents: the OAuth token endpoint
(``/api/v1/access_token``, client-credentials grant), ``/r/<sub>/search`` Listings
paged by ``after``, a 429 with ``Retry-After`` and ``x-ratelimit-*`` headers once, an
expired token (401) once, then a fresh token.  Every record is synthetic (invented
handles and text)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts

HANDLES = [f"Quillmoss_Invented{i}" for i in range(6)]
T_NEWEST = 1_717_000_000  # 2024-05-29; posts 10 minutes apart, newest first


def _submission(i: int) -> dict[str, Any]:
    sid = f"zz{i:03d}"
    return {
        "kind": "t3",
        "data": {
            "id": sid,
            "name": f"t3_{sid}",
            "title": f"invented title {i} about a chatbot",
            "selftext": f"invented body {i}; thanks u/{HANDLES[(i + 1) % 6]}",
            "author": HANDLES[i],
            "author_fullname": f"t2_inv{i:04d}",
            "subreddit": "InventedSub",
            "subreddit_name_prefixed": "r/InventedSub",
            "created_utc": float(T_NEWEST - 600 * i),
            "permalink": f"/r/InventedSub/comments/{sid}/invented_title_{i}/",
            "url": f"https://www.reddit.com/r/InventedSub/comments/{sid}/invented_title_{i}/",
            "score": 10 + i,
            "num_comments": i,
            "is_self": True,
        },
    }


ITEMS = [_submission(i) for i in range(6)]
PAGES = [ITEMS[0:2], ITEMS[2:4], ITEMS[4:6]]  # a page of 2 (Reddit's are up to 100)
OK_HEADERS = {"x-ratelimit-remaining": "598", "x-ratelimit-used": "2", "x-ratelimit-reset": "1"}


class Replay:
    """The server's state and its log of (time, method, path, query, auth)."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str, str, dict[str, list[str]], str]] = []
        self.tokens: list[str] = []
        self.sent_429 = False
        self.expired: set[str] = set()  # tokens that expired (answered 401)

    def listing(self, after: str | None) -> dict[str, Any]:
        index = 0 if after is None else [it["data"]["name"] for it in ITEMS].index(after) + 1
        page = ITEMS[index : index + 2]
        last = page[-1]["data"]["name"] if page and index + 2 < len(ITEMS) else None
        return {
            "kind": "Listing",
            "data": {
                "after": last,
                "before": None,
                "dist": len(page),
                "modhash": "",
                "children": page,
            },
        }


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            state.log.append((time.monotonic(), "POST", url.path, {}, ""))
            if url.path.rstrip("/") != "/api/v1/access_token":
                return self._send(404, {"error": 404})
            token = f"invented-token-{len(state.tokens) + 1}"
            state.tokens.append(token)
            self._send(
                200,
                {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"},
            )

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            auth = self.headers.get("Authorization", "")
            state.log.append((time.monotonic(), "GET", url.path, query, auth))
            if not url.path.rstrip("/").endswith("/search"):
                return self._send(404, {"error": 404})
            if not state.tokens or auth != f"bearer {state.tokens[-1]}" or auth in state.expired:
                return self._send(401, {"message": "Unauthorized", "error": 401})
            if not state.sent_429:
                state.sent_429 = True
                return self._send(
                    429,
                    {"message": "Too Many Requests", "error": 429},
                    {
                        "Retry-After": "1",
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-used": "600",
                        "x-ratelimit-reset": "1",
                    },
                )
            after = query.get("after", [None])[0]
            if after == PAGES[0][-1]["data"]["name"] and not state.expired:
                state.expired.add(auth)  # the token expires now: 401 once
                return self._send(401, {"message": "Unauthorized", "error": 401})
            self._send(200, state.listing(after), OK_HEADERS)

    return Handler


@pytest.fixture
def server(monkeypatch, tmp_path):
    state = Replay()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("REDDIT_OAUTH_URL", base)
    monkeypatch.setenv("REDDIT_URL", base)
    monkeypatch.setenv("REDDIT_CLIENT_ID", "invented-client-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "invented-client-secret-77")
    monkeypatch.setenv("REDDIT_USER_AGENT", "vsdstats-test/0 (by invented)")
    monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)  # no praw.ini of the checkout
    yield state
    httpd.shutdown()
    httpd.server_close()


def _collect(study, *extra: str) -> Any:
    args = ["collect", "reddit", "-q", "chatbot", "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _study_bytes(study) -> bytes:
    return b"".join(f.read_bytes() for f in study.rglob("*") if f.is_file())


def test_collect_reddit_resumes_through_praw(server, tmp_path):
    study = tmp_path / "study"
    first = _collect(study, "--limit", "2")  # page 1 only: an interrupted collection
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 2
    (entry,) = load_states(study).values()
    assert entry["state"] == {"after": "t3_zz001"}

    second = _collect(study)  # resumes after t3_zz001
    assert second.exit_code == 0, second.output
    posts = read_posts(study)
    assert len(posts) == len(ITEMS) and posts["post_id"].is_unique
    assert set(posts["post_id"]) == {it["data"]["name"] for it in ITEMS}
    assert set(posts["community"]) == {"InventedSub"}
    (entry,) = load_states(study).values()
    assert entry["state"] == {}  # the listing ended: the next run starts from the newest

    searches = [r for r in server.log if r[1] == "GET"]
    afters = [r[3].get("after", [None])[0] for r in searches]
    # 429, page 1 | page 2 (401, then again with a fresh token), page 3
    assert afters == [None, None, "t3_zz001", "t3_zz001", "t3_zz003"]
    assert all(r[3]["sort"] == ["new"] and r[3]["q"] == ["chatbot"] for r in searches)
    # the rate-limit wait happened: Retry-After 1 s after the 429
    assert searches[1][0] - searches[0][0] >= 1.0
    # the expired token was refreshed: a new token request between the 401 and the retry
    # (a token per run, and one more after the 401)
    assert [r[1] for r in server.log].count("POST") == 3 == len(server.tokens)
    assert searches[2][4] == "bearer invented-token-2"
    assert searches[3][4] == "bearer invented-token-3"

    data = _study_bytes(study)
    for handle in HANDLES:  # no handle of the replayed data anywhere in the study
        assert handle.encode() not in data and handle.lower().encode() not in data.lower()
    for secret in (b"invented-client-secret-77", b"invented-client-id", b"invented-token"):
        assert secret not in data


def test_keep_raw_gets_the_responses_but_not_the_token(server, tmp_path):
    study, raw = tmp_path / "study", tmp_path / "raw"
    res = _collect(study, "--keep-raw", str(raw))
    assert res.exit_code == 0, res.output
    assert "hold the authors' identities" in res.output
    bodies = [f.read_bytes() for f in sorted(raw.rglob("*.json"))]
    assert any(HANDLES[0].encode() in b for b in bodies)
    assert not any(b"invented-token" in b for b in bodies)
    assert str(raw).encode() not in _study_bytes(study)
    inside = _collect(study, "--keep-raw", str(study / "raw"))
    assert inside.exit_code == 2 and "outside the study" in inside.output


def test_missing_client_id_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.delenv("REDDIT_CLIENT_ID")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "REDDIT_CLIENT_ID" in lines[0], res.output
    assert not server.log  # nothing was requested
