"""``vsdstats collect x`` through the real twarc client (``Twarc2``) against a replay
server on 127.0.0.1 answering as the X API v2 documents (``/2/tweets/search/recent``
pages with ``includes.users`` and ``meta.next_token``, a 429 with ``x-rate-limit-*``
headers once).

twarc has no base-URL setting (its endpoints are literal ``https://api.twitter.com``
URLs), so the test points it at loopback the way any ``requests`` user can be: an
``HTTPS_PROXY`` on 127.0.0.1 that accepts the CONNECT and terminates TLS with a
throw-away certificate for api.twitter.com, trusted through ``REQUESTS_CA_BUNDLE``.
twarc itself is not patched.  Every record is synthetic (invented handles and text)."""

from __future__ import annotations

import datetime as dt
import ssl
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
from vsdstats.testing import ReplayHandler, folder_bytes

TOKEN = "AAAAinvented-bearer-token-5150"
HANDLES = [f"thornquist_invented{i}" for i in range(6)]
BASE = 1_790_000_000_000_000_000


def _tweet(i: int) -> dict[str, Any]:
    tid = str(BASE + 100 - i)  # newest first
    return {
        "id": tid,
        "text": f"invented tweet {i} about chatbots, hi @{HANDLES[(i + 1) % 6]}",
        "author_id": str(900_000 + i),
        "created_at": f"2024-05-2{i}T10:00:00.000Z",
        "conversation_id": tid,
        "edit_history_tweet_ids": [tid],
        "lang": "en",
        "public_metrics": {"retweet_count": 0, "reply_count": i, "like_count": i, "quote_count": 0},
    }


TWEETS = [_tweet(i) for i in range(6)]
TOKENS = [None, "invnexttoken2", "invnexttoken3"]


def _page(k: int) -> dict[str, Any]:
    data = TWEETS[2 * k : 2 * k + 2]
    users = [{"id": t["author_id"], "username": HANDLES[int(t["author_id"]) - 900_000],
              "name": f"Invented Person {t['author_id']}"} for t in data]  # fmt: skip
    meta: dict[str, Any] = {
        "newest_id": data[0]["id"],
        "oldest_id": data[-1]["id"],
        "result_count": len(data),
    }
    if k + 1 < len(TOKENS):
        meta["next_token"] = TOKENS[k + 1]
    return {"data": data, "includes": {"users": users}, "meta": meta}


class Replay:
    def __init__(self) -> None:
        self.log: list[tuple[float, str, dict[str, list[str]], str]] = []
        self.sent_429 = False


def _certificate(tmp_path) -> tuple[str, str]:
    """A self-signed certificate for api.twitter.com (its own CA), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.twitter.com")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("api.twitter.com")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "replay-cert.pem", tmp_path / "replay-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def _api(state: Replay) -> type[BaseHTTPRequestHandler]:
    class Api(ReplayHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = parse_qs(url.query)
            auth = self.headers.get("Authorization", "")
            state.log.append((time.monotonic(), url.path, q, auth))
            if auth != f"Bearer {TOKEN}":
                return self.send_json(401, {"title": "Unauthorized", "status": 401})
            if url.path != "/2/tweets/search/recent":
                return self.send_json(404, {"title": "Not Found Error", "status": 404})
            token = q.get("next_token", [None])[0]
            if token == TOKENS[1] and not state.sent_429:
                state.sent_429 = True
                reset = str(int(time.time()))
                headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0"}
                headers["x-rate-limit-reset"] = reset
                return self.send_json(429, {"title": "Too Many Requests", "status": 429}, headers)
            ok = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449"}
            self.send_json(200, _page(TOKENS.index(token)), ok)

    return Api


def _proxy(state: Replay, ctx: ssl.SSLContext) -> type[BaseHTTPRequestHandler]:
    api = _api(state)

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_CONNECT(self) -> None:
            if self.path != "api.twitter.com:443":
                self.send_error(403)
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            tls = ctx.wrap_socket(self.connection, server_side=True)
            api(tls, self.client_address, self.server)  # serves the tunnel's requests
            self.close_connection = True

    return Proxy


@pytest.fixture
def server(monkeypatch, tmp_path):
    state = Replay()
    cert, key = _certificate(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _proxy(state, ctx))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    proxy = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("https_proxy", proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
    yield state
    httpd.shutdown()
    httpd.server_close()


def _collect(study, *extra: str) -> Any:
    args = ["collect", "x", "-q", "chatbot lang:en", "-o", str(study), "--no-progress", *extra]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_collect_x_resumes_through_twarc(server, tmp_path):
    study = tmp_path / "study"
    first = _collect(study, "--limit", "2")  # page 1 only: an interrupted collection
    assert first.exit_code == 0, first.output
    assert len(read_posts(study)) == 2
    (entry,) = load_states(study).values()
    assert entry["state"] == {"next_token": TOKENS[1]}

    second = _collect(study)  # resumes at next_token 2; a 429 on the way
    assert second.exit_code == 0, second.output
    posts = read_posts(study)
    assert len(posts) == len(TWEETS) and posts["post_id"].is_unique
    assert set(posts["post_id"]) == {t["id"] for t in TWEETS}
    (entry,) = load_states(study).values()
    assert entry["state"] == {}

    tokens = [q.get("next_token", [None])[0] for _, _, q, _ in server.log]
    assert tokens == [None, TOKENS[1], TOKENS[1], TOKENS[2]]  # the 429'd page repeated
    assert all(q["query"] == ["chatbot lang:en"] for _, _, q, _ in server.log)
    assert all("author_id" in q["expansions"][0] for _, _, q, _ in server.log)
    # twarc waited after the 429 (until x-rate-limit-reset, at least 10 s)
    assert server.log[2][0] - server.log[1][0] >= 10.0

    data = folder_bytes(study)
    for secret in [*HANDLES, TOKEN]:
        assert secret.encode() not in data and secret.lower().encode() not in data.lower()


def test_keep_raw_gets_the_pages_not_the_token(server, tmp_path):
    server.sent_429 = True  # no rate-limit wait here
    study, raw = tmp_path / "study", tmp_path / "raw"
    res = _collect(study, "--keep-raw", str(raw))
    assert res.exit_code == 0, res.output
    bodies = [f.read_bytes() for f in sorted(raw.rglob("*.json"))]
    assert len(bodies) == 3 and HANDLES[0].encode() in bodies[0]
    assert not any(TOKEN.encode() in b for b in bodies)


def test_missing_bearer_token_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "X_BEARER_TOKEN" in lines[0], res.output
    assert not server.log


def test_refused_token_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "invented-wrong-token")
    res = _collect(tmp_path / "study")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "HTTP 401" in lines[0], res.output
