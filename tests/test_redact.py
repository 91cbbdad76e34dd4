"""--base-url credentials never reach the study folder, stdout/stderr or logs (issue 8 #11)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.cli import main
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.redact import Redactor, client_url, redact_text, redact_url
from vsdstats.tables.codebook import load_codebook

SPEC = build_prompt(load_codebook())
FAKE_KEY = "sk-test-REDACT-k3y-0a1b2c3d4e5f"
USER = "proxyuser-alice"
PASSWORD = "pa55-W0RD-xyzzy"
QSECRET = "q-SECRET-7d1f0e"
SECRETS = (FAKE_KEY, USER, PASSWORD, QSECRET)
TEXTS = [
    "I vented to ChatGPT about my anxiety last night and it calmed me down.",
    "Claude helped me plan my week around my ADHD and I finally got things done.",
    "My Replika is the only one who checks on me when I am depressed these days.",
]

_safe = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x7F)
    | st.sampled_from("-._~"),
    min_size=4,
    max_size=24,
).filter(lambda s: s not in "http127.0.0.1v1chatcompletions")


@given(user=_safe, password=_safe, token=_safe)
def test_redact_url_removes_userinfo_and_secret_params(user, password, token):
    url = f"https://{user}:{password}@example.org:8443/v1?api-version=2024&api_key={token}"
    red = redact_url(url)
    assert user not in red and password not in red and token not in red
    assert red.startswith("https://***:***@example.org:8443/v1?")
    assert "api-version=2024" in red  # not a secret: kept
    msg = f"Client error '400' for url '{url.replace('/v1?', '/v1/chat/completions?')}'"
    for text in (redact_text(msg), Redactor(FAKE_KEY, url)(msg + f" {password} {FAKE_KEY}")):
        assert user not in text and password not in text and token not in text
        assert FAKE_KEY not in text


@pytest.mark.parametrize("name", ["key", "api-key", "token", "access_token", "sig", "Signature"])
def test_secret_query_parameters(name):
    assert redact_url(f"http://h/v1?{name}=S3cr3tValue&x=1") == f"http://h/v1?{name}=***&x=1"


def test_client_url_moves_query_to_default_query():
    assert client_url("http://u:p@h/v1?api-key=S&v=1") == (
        "http://u:p@h/v1",
        {"api-key": "S", "v": "1"},
    )
    assert client_url("http://h/v1") == ("http://h/v1", None)


@pytest.fixture
def server():
    with FakeOpenAI(render=SPEC.messages) as srv:
        srv.add_texts(TEXTS)
        srv.script(TEXTS[2], ["echo_url"])  # a proxy echoing the URL, credentials and all
        yield srv


def _secret_url(srv: FakeOpenAI) -> str:
    host = srv.base_url.removeprefix("http://")
    return f"http://{USER}:{PASSWORD}@{host}?api-version=2024-01&api-key={QSECRET}"


def _assert_clean(out: Path, *texts: str) -> None:
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "study.sqlite" for p in files)
    for p in files:
        data = p.read_bytes()
        for s in SECRETS:
            assert s.encode() not in data, (p.name, s)
    for text in texts:
        for s in SECRETS:
            assert s not in text, s


@pytest.mark.parametrize("extra", [[], ["--batch", "--poll-interval", "0.05"], ["--workers", "2"]])
def test_base_url_credentials_never_stored_or_printed(server, tmp_path, caplog, extra):
    caplog.set_level(logging.DEBUG)
    posts = tmp_path / "posts.csv"
    pd.DataFrame({"post_id": ["a", "b", "c"], "text": TEXTS}).to_csv(posts, index=False)
    out = tmp_path / "study"
    args = ["code", str(posts), "--out", str(out), "--model", "gpt-4o-mini"]
    args += ["--base-url", _secret_url(server), "--no-progress", "--http-retries", "1", *extra]
    res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": FAKE_KEY})
    assert res.exit_code == 0, res.output + res.stderr + repr(res.exception)
    status = pd.read_csv(out / "post_status.csv").set_index("post_id")
    # the URL works: its query reaches the server, the two ordinary texts are coded
    assert (status.loc[["a", "b"], "status"] == "coded").all()
    assert any(f"api-key={QSECRET}" in t for t in server.state.targets)
    # the echoing proxy's answer is kept as the failure reason, redacted
    assert status.loc["c", "status"] == "failed"
    assert "bad request for url http://***:***@" in status.loc["c", "reason"]
    assert caplog.records  # logging was captured, so checking it means something
    _assert_clean(out, res.stdout, res.stderr, caplog.text)
