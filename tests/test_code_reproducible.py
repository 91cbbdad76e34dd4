"""Reproducible coding (issue 11): ``--temperature``/``--seed`` sent with every request
and recorded, the raw response / returned model id / system fingerprint stored per
text, ``--dry-run`` sending nothing, and the provenance manifest.

Everything runs through the real instructor + openai client against the scripted local
server (tests/fake_openai.py), which records the request bodies it receives."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import FakeOpenAI, default_quote

from vsdstats.cli import main
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.store import RunKey, Store, text_key
from vsdstats.provenance import KEY_PACKAGES, git_info, redact_argv
from vsdstats.tables.codebook import default_codebook_path, load_codebook

CB = load_codebook()
SPEC = build_prompt(CB)
KEY = "sk-test-REPRO-k3y-0a1b2c3d4e5f6789"
URL_SECRET = "QuerySecret-77aa"
PASSWORD = "pw-Basic-99zz"
SNAPSHOT = "gpt-4o-mini-2024-07-18"  # the dated model id an API returns
TEXTS = [
    "I vented to ChatGPT about my anxiety last night and it calmed me down.",
    "Claude helped me plan my week around my ADHD and I finally got things done.",
    "My Replika is the only one who checks on me when I am depressed these days.",
]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def posts(tmp_path) -> Path:
    p = tmp_path / "posts.csv"
    rows = [(f"p{i}", TEXTS[i % 3]) for i in range(5)]
    pd.DataFrame(rows, columns=["post_id", "text"]).to_csv(p, index=False)
    return p


def server(**kw) -> FakeOpenAI:
    srv = FakeOpenAI(render=SPEC.messages, record=True, **kw)
    srv.add_texts(TEXTS)
    return srv


def invoke(posts: Path, out: Path, srv: FakeOpenAI, *extra: str, base_url: str | None = None):
    args = ["code", str(posts), "--out", str(out), "--model", "gpt-4o-mini"]
    args += ["--base-url", base_url or srv.base_url, "--no-progress", *extra]
    res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": KEY})
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def rows(out: Path) -> dict[str, dict]:
    """The results table of study.sqlite, read with plain SQL, by text hash."""
    con = sqlite3.connect(out / "study.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return {r["text_hash"]: dict(r) for r in con.execute("SELECT * FROM results")}
    finally:
        con.close()


def manifests(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "manifests").glob("code-*.json"))]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------- sent and stored
def test_temperature_and_seed_sent_with_every_request_and_stored(posts, tmp_path):
    out = tmp_path / "study"
    with server(served_model=SNAPSHOT, fingerprint="fp_abc123") as srv:
        srv.script(TEXTS[0], ["bad_quote", "ok"])  # a validation retry: two requests
        invoke(posts, out, srv, "--temperature", "0.3", "--seed", "42")
        bodies = srv.bodies()
    assert len(bodies) == 4  # 3 texts + 1 validation retry
    assert all(b["temperature"] == 0.3 and b["seed"] == 42 for b in bodies)
    assert all(b["model"] == "gpt-4o-mini" for b in bodies)
    stored = rows(out)
    assert len(stored) == 3
    for t in TEXTS:
        r = stored[text_key(t)]
        assert r["status"] == "coded"
        assert (r["temperature"], r["seed"]) == (0.3, 42)
        assert r["returned_model"] == SNAPSHOT  # what the API said, not what was asked
        assert r["system_fingerprint"] == "fp_abc123"
        raw = json.loads(r["raw_response"])  # the tool-call arguments as received
        assert raw["relevant"] is True and raw["units"][0]["quote"] == default_quote(t)
        responses = json.loads(r["responses_json"])
        assert len(responses) == r["requests"] == (2 if t == TEXTS[0] else 1)
        assert all(x["model"] == SNAPSHOT and x["id"].startswith("chatcmpl-") for x in responses)
        assert responses[-1]["raw"] == r["raw_response"]
    first = json.loads(stored[text_key(TEXTS[0])]["responses_json"])[0]
    assert "words that never appear in the post" in first["raw"]  # the rejected answer
    # the store's own reader returns the same fields
    with Store(out / "study.sqlite") as s:
        res = s.results(RunKey(CB.version, "gpt-4o-mini", SPEC.prompt_hash))
    r0 = res[text_key(TEXTS[0])]
    assert (r0.returned_model, r0.system_fingerprint, r0.seed) == (SNAPSHOT, "fp_abc123", 42)
    assert len(r0.responses) == 2
    summary = json.loads((out / "code_summary.json").read_text())
    assert (summary["temperature"], summary["seed"]) == (0.3, 42)
    with sqlite3.connect(out / "study.sqlite") as con:
        (settings,) = con.execute("SELECT settings FROM runs").fetchone()
    assert json.loads(settings)["temperature"] == 0.3 and json.loads(settings)["seed"] == 42


def test_defaults_send_temperature_zero_and_no_seed(posts, tmp_path):
    out = tmp_path / "study"
    with server(fingerprint=None) as srv:
        invoke(posts, out, srv, "--mode", "json")
        bodies = srv.bodies()
    assert len(bodies) == 3
    assert all(b["temperature"] == 0 and "seed" not in b for b in bodies)
    for r in rows(out).values():
        assert r["temperature"] == 0 and r["seed"] is None
        assert r["system_fingerprint"] is None  # the server sent null
        assert r["returned_model"] == "gpt-4o-mini"
        assert json.loads(r["raw_response"])["relevant"] is True  # json mode: content
    (m,) = manifests(out)
    assert m["seeds"] == {"seed": None} and m["sampling"] == {"temperature": 0.0, "seed": None}
    assert m["results"]["system_fingerprint"] == {"none or unrecorded": 3}


def test_batch_mode_sends_and_records_sampling(posts, tmp_path):
    out = tmp_path / "study"
    with server(served_model=SNAPSHOT) as srv:
        invoke(posts, out, srv, "--batch", "--poll-interval", "0.05", "--seed", "3")
        bodies = srv.bodies()
    assert len(bodies) == 3 and all(b["seed"] == 3 and b["temperature"] == 0 for b in bodies)
    for r in rows(out).values():
        assert (r["seed"], r["returned_model"]) == (3, SNAPSHOT)
        assert r["system_fingerprint"] == "fp_fake0001"
        assert json.loads(r["raw_response"])["relevant"] is True


def test_workers_send_the_seed_too(posts, tmp_path):
    out = tmp_path / "study"
    with server(served_model=SNAPSHOT) as srv:
        invoke(posts, out, srv, "--workers", "2", "--seed", "5", "--temperature", "0.5")
        bodies = srv.bodies()
    assert len(bodies) == 3 and all((b["seed"], b["temperature"]) == (5, 0.5) for b in bodies)
    assert {(r["seed"], r["temperature"], r["returned_model"]) for r in rows(out).values()} == {
        (5, 0.5, SNAPSHOT)
    }


# ----------------------------------------------------------------- --dry-run
def _sections(stdout: str) -> tuple[str, dict, dict]:
    head, rest = stdout.split("\n\n# response schema", 1)
    schema_part, request_part = rest.split("\n\n# request:", 1)
    system = head.split("\n", 1)[1]
    schema = json.loads(schema_part.split("\n", 1)[1])
    request = json.loads(request_part.split("\n", 1)[1])
    return system, schema, request


@pytest.mark.parametrize("mode", ["tools", "json"])
def test_dry_run_sends_nothing_and_shows_what_a_run_sends(posts, tmp_path, mode):
    out = tmp_path / "study"
    with server() as srv:
        args = ["code", str(posts), "--out", str(out), "--model", "gpt-4o-mini"]
        args += ["--mode", mode, "--base-url", srv.base_url, "--seed", "11", "--dry-run"]
        res = CliRunner().invoke(main, args, env={"OPENAI_API_KEY": KEY})
        assert res.exit_code == 0, res.output
        assert srv.total == 0 and srv.state.targets == []  # no request at all
        assert not out.exists()  # and nothing written
        system, schema, request = _sections(res.stdout)
        assert "dry run: no request sent; 3 distinct text(s)" in res.stderr
        # the same command without --dry-run: what the server gets is what was shown
        invoke(posts, out, srv, "--mode", mode, "--seed", "11")
        sent = srv.requests(TEXTS[0])
    assert request == sent[0]
    assert (request["temperature"], request["seed"]) == (0, 11)
    assert request["messages"][1]["content"] == SPEC.user_content(TEXTS[0])
    assert request["messages"][0]["content"] == system
    if mode == "tools":
        assert system == SPEC.system  # the codebook's prompt, unchanged
        assert schema == request["tools"][0]["function"]["parameters"]
        assert schema["properties"].keys() == {"relevant", "units"}
    else:  # instructor appends the schema to the system message in json mode
        assert system.startswith(SPEC.system)
        assert schema == SPEC.response_model.model_json_schema()
        assert json.dumps(schema, indent=2) in system
    (m,) = manifests(out)
    assert m["prompt"]["system_sha256"] == hashlib.sha256(system.encode()).hexdigest()


def test_dry_run_shows_the_next_text_to_code(posts, tmp_path):
    out = tmp_path / "study"
    with server() as srv:
        invoke(posts, out, srv, "--limit", "1")  # TEXTS[0] is done
        n = srv.total
        res = CliRunner().invoke(
            main,
            ["code", str(posts), "--out", str(out), "--model", "gpt-4o-mini", "--dry-run"],
        )
        assert res.exit_code == 0, res.output
        assert srv.total == n  # the dry run sent nothing
    _, _, request = _sections(res.stdout)
    assert request["messages"][1]["content"] == SPEC.user_content(TEXTS[1])
    assert "2 distinct text(s) would be coded" in res.stderr


def test_dry_run_with_baseline_is_a_one_line_error(posts, tmp_path):
    args = ["code", str(posts), "-o", str(tmp_path / "s"), "--baseline", "--dry-run"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "--dry-run" in res.output and "Traceback" not in res.output


def test_help_names_the_options():
    res = CliRunner().invoke(main, ["code", "--help"], terminal_width=200)
    text = " ".join(res.output.split())
    assert "--temperature" in text and "[default: 0.0; 0<=x<=2]" in text
    assert "--seed" in text and "default: none, not sent" in text
    assert "--dry-run" in text


# ----------------------------------------------------------------- the manifest
def test_manifest_records_versions_hashes_and_no_credentials(posts, tmp_path):
    out = tmp_path / "study"
    codebook = tmp_path / "codebook.toml"
    codebook.write_bytes(default_codebook_path().read_bytes())
    with server(served_model=SNAPSHOT) as srv:
        host = srv.base_url.removeprefix("http://")
        url = f"http://user:{PASSWORD}@{host}?api-key={URL_SECRET}&api-version=1"
        res = invoke(posts, out, srv, "--seed", "9", "--codebook", str(codebook), base_url=url)
        assert srv.total == 3
    (path,) = (out / "manifests").glob("code-*.json")
    assert str(path) in res.stderr  # named among the files written
    m = json.loads(path.read_text())
    for key in (
        "vsdstats", "plugins", "packages", "python", "platform", "command_line", "inputs",
        "outputs", "settings", "seeds", "sampling", "model", "codebook", "prompt", "results",
    ):  # fmt: skip
        assert key in m, key
    assert m["command"] == "code" and m["vsdstats"]["version"] == version("vsdstats")
    assert m["packages"].keys() >= {"pandas", "numpy", "scipy", "instructor", "openai"}
    for name in ("pandas", "numpy", "scipy", "instructor", "openai", "pydantic", "pluggy"):
        assert name in KEY_PACKAGES and m["packages"][name] == version(name)
    assert m["python"]["version"].count(".") == 2
    assert all(isinstance(v, str) for v in m["plugins"].values())
    # the commit of this checkout (the test runs from one), absent from a wheel install
    git = git_info()
    if git is None:
        assert "git_commit" not in m["vsdstats"]
    else:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        assert m["vsdstats"]["git_commit"] == head and len(head) == 40
    # every input with its SHA-256, computed independently here
    ins = {i["role"]: i for i in m["inputs"]}
    assert ins["posts"]["sha256"] == sha(posts) and ins["posts"]["bytes"] == posts.stat().st_size
    assert ins["codebook"]["sha256"] == sha(codebook) == m["codebook"]["sha256"]
    assert Path(ins["codebook"]["path"]) == codebook
    for o in m["outputs"]:
        assert o["sha256"] == sha(Path(o["path"])), o["path"]
    names = {Path(o["path"]).name for o in m["outputs"]}
    assert names >= {"coded_units.parquet", "code_summary.json"}
    assert m["prompt"]["system_sha256"] == hashlib.sha256(SPEC.system.encode()).hexdigest()
    assert m["prompt"]["prompt_hash"] == SPEC.prompt_hash
    assert m["seeds"] == {"seed": 9} and m["sampling"] == {"temperature": 0.0, "seed": 9}
    assert m["model"]["model"] == "gpt-4o-mini" and m["settings"]["seed"] == 9
    assert m["results"]["returned_model"] == {SNAPSHOT: 3}
    assert m["results"]["by_sampling"] == {"temperature=0.0 seed=9": 3}
    # the command line as typed, credentials masked
    cmd = m["command_line"]
    assert cmd[:3] == ["vsdstats", "code", str(posts)]
    assert cmd[cmd.index("--seed") + 1] == "9"
    shown_url = cmd[cmd.index("--base-url") + 1]
    assert shown_url == f"http://***:***@{host}?api-key=***&api-version=1"
    assert m["model"]["base_url"] == shown_url
    # no credential anywhere in the study folder (the SQLite files included)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 7
    for p in files:
        data = p.read_bytes()
        for secret in (KEY, URL_SECRET, PASSWORD):
            assert secret.encode() not in data, (p, secret)


def test_each_run_adds_a_manifest(posts, tmp_path):
    out = tmp_path / "study"
    with server() as srv:
        first_run = invoke(posts, out, srv, "--seed", "1")
        again = invoke(posts, out, srv, "--seed", "2")  # nothing left to code: still recorded
        assert srv.total == 3
    assert "note: of the stored results" not in first_run.stderr
    assert "3 were coded with another temperature or seed" in again.stderr
    first, second = manifests(out)
    assert first["summary"]["texts_sent"] == 3 and second["summary"]["texts_sent"] == 0
    assert first["inputs"] == second["inputs"]
    assert second["sampling"]["seed"] == 2  # what this run would send ...
    assert second["results"]["by_sampling"] == {
        "temperature=0.0 seed=1": 3
    }  # ... and what made the data


OLD_SCHEMA = """
CREATE TABLE results (
    codebook_version TEXT NOT NULL, model TEXT NOT NULL, prompt_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('coded', 'not_relevant', 'failed')),
    units_json TEXT NOT NULL DEFAULT '[]', reason TEXT, coder TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
    http_retries INTEGER NOT NULL DEFAULT 0, validation_retries INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL, started_at REAL,
    finished_at REAL, PRIMARY KEY (codebook_version, model, prompt_hash, text_hash)
);
"""


def test_a_study_made_before_these_fields_still_reads_and_resumes(posts, tmp_path):
    out = tmp_path / "study"
    out.mkdir()
    with sqlite3.connect(out / "study.sqlite") as con:  # the schema as first released
        con.executescript(OLD_SCHEMA)
        con.execute(
            "INSERT INTO results (codebook_version, model, prompt_hash, text_hash, status, "
            "coder, requests) VALUES (?, ?, ?, ?, 'not_relevant', 'llm', 1)",
            (CB.version, "gpt-4o-mini", SPEC.prompt_hash, text_key(TEXTS[2])),
        )
    with Store(out / "study.sqlite") as s:
        (old,) = s.results(RunKey(CB.version, "gpt-4o-mini", SPEC.prompt_hash)).values()
    assert old.status == "not_relevant" and old.responses == []
    assert (old.temperature, old.seed, old.raw_response, old.returned_model) == (None,) * 4
    with server(served_model=SNAPSHOT) as srv:
        res = invoke(posts, out, srv, "--seed", "1")
        assert srv.counts[TEXTS[2]] == 0 and srv.total == 2  # the old row counts as done
    assert "0 were coded with another temperature or seed and 1 before" in res.stderr
    stored = rows(out)
    assert stored[text_key(TEXTS[2])]["returned_model"] is None
    assert stored[text_key(TEXTS[0])]["returned_model"] == SNAPSHOT
    (m,) = manifests(out)
    assert m["results"]["by_sampling"] == {"temperature=0.0 seed=1": 2, "unrecorded": 1}


# ----------------------------------------------------------------- provenance helpers
def test_redact_argv():
    argv = [
        "code", "posts.csv", "--api-key", "abc123secret", "--token=tok-XYZ",
        "--api-key-env", "MY_KEY", "--max-tokens", "5", "--base-url",
        "http://me:pw1234@host/v1?key=k-123456&v=2", "sk-proj-abcdefghijklmnop", "plain-secret",
    ]  # fmt: skip
    red = redact_argv(argv, secrets=["plain-secret"])
    assert red == [
        "code", "posts.csv", "--api-key", "***", "--token=***",
        "--api-key-env", "MY_KEY", "--max-tokens", "5", "--base-url",
        "http://***:***@host/v1?key=***&v=2", "sk-proj-a***", "***",
    ]  # fmt: skip


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_git_info_only_for_a_checkout_that_tracks_the_package(tmp_path):
    pkg = tmp_path / "repo" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    assert git_info(pkg) is None  # no repository
    _git(tmp_path / "repo", "init", "-q")
    assert git_info(pkg) is None  # a repository that does not track the package
    _git(tmp_path / "repo", "add", "pkg/__init__.py")
    _git(tmp_path / "repo", "commit", "-q", "-m", "x")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path / "repo", capture_output=True, text=True
    ).stdout.strip()
    assert git_info(pkg) == {"commit": head, "dirty": False}
    (pkg / "__init__.py").write_text("x = 1\n")
    assert git_info(pkg) == {"commit": head, "dirty": True}
