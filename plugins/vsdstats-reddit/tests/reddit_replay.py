"""A local HTTP server that replays Reddit's API as it documents it, for PRAW pointed
at loopback (``REDDIT_OAUTH_URL`` / ``REDDIT_URL``): the OAuth token endpoint
(``/api/v1/access_token``, client-credentials grant), ``/r/<sub>/search`` Listings
paged by ``after``, a 429 with ``Retry-After`` and ``x-ratelimit-*`` headers once, an
expired token (401) once, then a fresh token.  Every record is synthetic (invented
handles and text).

Standard library only: ``tests/test_live_praw.py`` and the end-to-end study
(``tests/e2e/study.py``, run from an installed wheel) both use it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vsdstats.testing import ReplayHandler, replay_server

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


def handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(ReplayHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            state.log.append((time.monotonic(), "POST", url.path, {}, ""))
            if url.path.rstrip("/") != "/api/v1/access_token":
                return self.send_json(404, {"error": 404})
            token = f"invented-token-{len(state.tokens) + 1}"
            state.tokens.append(token)
            self.send_json(
                200,
                {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"},
            )

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            auth = self.headers.get("Authorization", "")
            state.log.append((time.monotonic(), "GET", url.path, query, auth))
            if not url.path.rstrip("/").endswith("/search"):
                return self.send_json(404, {"error": 404})
            if not state.tokens or auth != f"bearer {state.tokens[-1]}" or auth in state.expired:
                return self.send_json(401, {"message": "Unauthorized", "error": 401})
            if not state.sent_429:
                state.sent_429 = True
                return self.send_json(
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
                return self.send_json(401, {"message": "Unauthorized", "error": 401})
            self.send_json(200, state.listing(after), OK_HEADERS)

    return Handler


@contextmanager
def serve() -> Iterator[tuple[Replay, str]]:
    """Run the replay server on 127.0.0.1 in a thread; yields (state, base URL)."""
    state = Replay()
    with replay_server(handler(state)) as base:
        yield state, base
