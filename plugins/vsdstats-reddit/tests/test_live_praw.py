"""``vsdstats collect reddit`` through the real PRAW client against a replay server on
127.0.0.1 that answers as Reddit's API documents: the OAuth token endpoint
(``/api/v1/access_token``, client-credentials grant), ``/r/<sub>/search`` Listings
paged by ``after``, a 429 with ``Retry-After`` and ``x-ratelimit-*`` headers once, an
expired token (401) once, then a fresh token.  Every record is synthetic (invented
handles and text; the server is ``reddit_replay.py`` beside this file)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from reddit_replay import HANDLES, ITEMS, serve

from vsdstats.cli import main
from vsdstats.ingest.collect import load_states
from vsdstats.tables.study import read_posts
from vsdstats.testing import folder_bytes


@pytest.fixture
def server(monkeypatch, tmp_path):
    with serve() as (state, base):
        monkeypatch.setenv("REDDIT_OAUTH_URL", base)
        monkeypatch.setenv("REDDIT_URL", base)
        monkeypatch.setenv("REDDIT_CLIENT_ID", "invented-client-id")
        monkeypatch.setenv("REDDIT_CLIENT_SECRET", "invented-client-secret-77")
        monkeypatch.setenv("REDDIT_USER_AGENT", "vsdstats-test/0 (by invented)")
        monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
        monkeypatch.chdir(tmp_path)  # no praw.ini of the checkout
        yield state


def _collect(study, *extra: str) -> Any:
    args = ["collect", "reddit", "-q", "chatbot", "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


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

    data = folder_bytes(study)
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
    assert str(raw).encode() not in folder_bytes(study)
    inside = _collect(study, "--keep-raw", str(study / "raw"))
    assert inside.exit_code == 2 and "outside the study" in inside.output


def test_missing_client_id_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.delenv("REDDIT_CLIENT_ID")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "REDDIT_CLIENT_ID" in lines[0], res.output
    assert not server.log  # nothing was requested
