"""``vsdstats collect mastodon`` through the real Mastodon.py client against a replay
server on 127.0.0.1 that answers as the Mastodon API documents: the hashtag timeline
and v2 status search paged by ``max_id``, ``/api/v1|v2/instance`` (Mastodon.py's
version check), one 429 with ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``,
and (in one test) a 502 after page 1.  Every status, account and name is invented."""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts
from vsdstats.testing import ReplayHandler, replay_server

TOKEN = "invented-mastodon-token-5k9"
USERS = [f"brackenfold_invented{i}" for i in range(6)]
NAMES = [f"Invented Tooter {i}" for i in range(6)]
HOST = "invented-instance.example"
IDS = [str(112_000_000_000_000_006 - i) for i in range(6)]  # newest first


def _status(i: int) -> dict[str, Any]:
    other = USERS[(i + 1) % 6]
    acct = f"{USERS[i]}@{HOST}"
    return {
        "id": IDS[i],
        "created_at": f"2024-05-29T12:{50 - 10 * i:02d}:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://{HOST}/users/{USERS[i]}/statuses/{IDS[i]}",
        "url": f"https://{HOST}/@{USERS[i]}/{IDS[i]}",
        "replies_count": i,
        "reblogs_count": 0,
        "favourites_count": 10 + i,
        "content": (
            f"<p>invented toot {i} about a #chatbot, asking "
            f'<span class="h-card"><a href="https://{HOST}/@{other}" class="u-url mention">'
            f"@<span>{other}</span></a></span> what they think</p>"
        ),
        "reblog": None,
        "account": {
            "id": f"10900000000000{i:04d}",
            "username": USERS[i],
            "acct": acct,
            "display_name": NAMES[i],
            "url": f"https://{HOST}/@{USERS[i]}",
            "created_at": "2023-01-01T00:00:00.000Z",
        },
        "media_attachments": [],
        "mentions": [
            {
                "id": f"10900000000000{(i + 1) % 6:04d}",
                "username": other,
                "acct": other,
                "url": f"https://{HOST}/@{other}",
            }
        ],
        "tags": [{"name": "chatbot", "url": f"https://{HOST}/tags/chatbot"}],
        "emojis": [],
        "card": None,
        "poll": None,
    }


STATUSES = [_status(i) for i in range(6)]


class Replay:
    """The server's state and its log of (time, path, query, auth)."""

    def __init__(self, fail_after: str | None = None) -> None:
        self.log: list[tuple[float, str, dict[str, list[str]], str]] = []
        self.sent_429 = False
        self.fail_after = fail_after  # answer 502 once for the page after this max_id


def _handler(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(ReplayHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query, auth = parse_qs(url.query), self.headers.get("Authorization", "")
            path = url.path.rstrip("/")
            if path in ("/api/v1/instance", "/api/v2/instance"):  # Mastodon.py's version check
                return self.send_json(200, {"uri": HOST, "domain": HOST, "version": "4.2.0"})
            state.log.append((time.monotonic(), path, query, auth))
            if auth != f"Bearer {TOKEN}":
                return self.send_json(401, {"error": "The access token is invalid"})
            if path not in ("/api/v1/timelines/tag/chatbot", "/api/v2/search"):
                return self.send_json(404, {"error": "Record not found"})
            if not state.sent_429:
                state.sent_429 = True
                reset = datetime.now(timezone.utc) + timedelta(seconds=1.5)
                return self.send_json(
                    429,
                    {"error": "Too many requests"},
                    {
                        "X-RateLimit-Limit": "300",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds"),
                    },
                )
            max_id = query.get("max_id", [None])[0]
            if max_id is not None and max_id == state.fail_after:
                state.fail_after = None
                return self.send_json(502, {"error": "Bad gateway"})
            older = [s for s in STATUSES if max_id is None or int(s["id"]) < int(max_id)]
            page = older[: min(2, int(query.get("limit", ["40"])[0]))]
            headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "290"}
            if path == "/api/v2/search":
                return self.send_json(
                    200, {"accounts": [], "statuses": page, "hashtags": []}, headers
                )
            self.send_json(200, page, headers)

    return Handler


@pytest.fixture
def serve(monkeypatch, tmp_path):
    servers = ExitStack()

    def start(state: Replay) -> str:
        return servers.enter_context(replay_server(_handler(state)))

    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("MASTODON_API_BASE_URL", raising=False)
    monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
    with servers:
        yield start


def _collect(study, query: str, *extra: str) -> Any:
    args = ["collect", "mastodon", "-q", query, "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _assert_private(study) -> None:
    data = b"".join(f.read_bytes() for f in study.rglob("*") if f.is_file()).lower()
    for secret in (*USERS, *NAMES, TOKEN):
        assert secret.lower().encode() not in data, secret


def test_hashtag_timeline_resumes_and_waits_for_the_rate_limit(serve, tmp_path):
    state = Replay()
    base = serve(state)
    study = tmp_path / "study"
    first = _collect(study, "#chatbot", "--community", base, "--limit", "2")
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 2
    (entry,) = load_states(study).values()
    assert entry["state"] == {"max_id": IDS[1]}

    second = _collect(study, "#chatbot", "--community", base)
    assert second.exit_code == 0, second.output
    posts = read_posts(study)
    assert len(posts) == 6 and posts["post_id"].is_unique
    assert set(posts["post_id"]) == set(IDS)
    assert set(posts["community"]) == {HOST}
    assert "about a #chatbot" in " ".join(posts["text"])
    (entry,) = load_states(study).values()
    assert entry["state"] == {}  # an empty page ended the timeline

    max_ids = [r[2].get("max_id", [None])[0] for r in state.log]
    # 429, page 1 | pages 2, 3, then the empty page
    assert max_ids == [None, None, IDS[1], IDS[3], IDS[5]]
    assert [r[2]["limit"] for r in state.log] == [["2"], ["2"], ["40"], ["40"], ["40"]]
    # Mastodon.py's ratelimit_method="wait" slept until X-RateLimit-Reset (1.5 s ahead)
    assert state.log[1][0] - state.log[0][0] >= 1.0
    _assert_private(study)


def test_search_after_a_failure_resumes_without_duplicates(serve, tmp_path, monkeypatch):
    state = Replay(fail_after=IDS[1])
    monkeypatch.setenv("MASTODON_API_BASE_URL", serve(state))  # no --community
    study = tmp_path / "study"
    failed = _collect(study, "chatbot")
    assert failed.exit_code == 2, failed.output
    assert "Bad gateway" in failed.output and len(failed.output.strip().splitlines()) == 1
    assert len(read_posts(study)) == 2
    again = _collect(study, "chatbot")
    assert again.exit_code == 0, again.output
    posts = read_posts(study)
    assert len(posts) == 6 and posts["post_id"].is_unique
    searches = [r for r in state.log if r[1] == "/api/v2/search"]
    assert len(searches) == len(state.log)
    assert all(r[2]["q"] == ["chatbot"] and r[2]["type"] == ["statuses"] for r in searches)
    max_ids = [r[2].get("max_id", [None])[0] for r in searches]
    assert max_ids == [None, None, IDS[1], IDS[1], IDS[3], IDS[5]]
    _assert_private(study)


def test_until_is_the_first_max_id(serve, tmp_path):
    state = Replay()
    state.sent_429 = True
    base = serve(state)
    res = _collect(
        tmp_path / "s", "#chatbot", "--community", base, "--until", "2024-05-29T12:35:00"
    )
    assert res.exit_code == 0, res.output
    first = int(state.log[0][2]["max_id"][0])
    until_ms = int(datetime(2024, 5, 29, 12, 35, tzinfo=timezone.utc).timestamp() * 1000)
    assert first >> 16 == until_ms  # a snowflake id: milliseconds << 16
    # the replay ignores max_id's time (its ids are synthetic): the statuses at 12:50 and
    # 12:40 come back and are dropped by the created_at filter
    assert set(read_posts(tmp_path / "s")["post_id"]) == set(IDS[2:])


@pytest.mark.parametrize("var", ["MASTODON_ACCESS_TOKEN", "MASTODON_API_BASE_URL"])
def test_missing_credential_is_one_line(serve, tmp_path, monkeypatch, var):
    state = Replay()
    base = serve(state)
    monkeypatch.setenv("MASTODON_API_BASE_URL", base)
    monkeypatch.delenv(var)
    res = _collect(tmp_path / "study", "#chatbot")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and var in lines[0], res.output
    assert not state.log
