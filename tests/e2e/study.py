"""The README's worked example, run as a new user runs it (`tox -e e2e`).

In a fresh virtual environment holding the wheels of vsdstats and its plugins (not
editable), from an empty folder outside the checkout, with no network but loopback:

1. ``vsdstats collect reddit``: through the real PRAW client from a local replay of
   Reddit's API (``plugins/vsdstats-reddit/tests/reddit_replay.py``; invented posts);
2. ``vsdstats ingest reddit``: real Pushshift dump lines (``../shared/fixtures/platforms/
   reddit_pushshift/test_{submissions,comments}.json``, read in place, never copied);
3. ``vsdstats code --temperature 0 --seed 1``: the real openai/instructor client against a
   local OpenAI-compatible server (``tests/fake_openai.py``; codes picked from the
   codebook by a hash of the post, quotes copied from the post);
4. ``vsdstats export`` and ``vsdstats paper``;

then checks: every manifest lists versions and input hashes (recomputed here); no author
handle of the replayed or ingested data (read independently from those inputs) and no
key (API key, Reddit client id and secret, the study's pseudonymization secret) in any
byte of the study or paper folders, decoded Parquet and SQLite included; exported units
== coded units; paper_out/tables/table1_corpus.csv exists.  Exits 1 with a message
naming the failed check.  ``--keep DIR`` keeps the work folder there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED = CHECKOUT.parent / "shared"
DUMPS = [
    SHARED / "fixtures/platforms/reddit_pushshift/test_submissions.json",
    SHARED / "fixtures/platforms/reddit_pushshift/test_comments.json",
]
# the test helpers (standard library only; not the package, which must come from the wheel)
sys.path[:0] = [str(CHECKOUT / "tests"), str(CHECKOUT / "plugins/vsdstats-reddit/tests")]

from fake_openai import FakeOpenAI  # noqa: E402
from reddit_replay import HANDLES as REPLAY_HANDLES  # noqa: E402
from reddit_replay import ITEMS, serve  # noqa: E402

API_KEY = "sk-e2eInventedKey0123456789abcdefghijkl"
CLIENT_ID, CLIENT_SECRET = "invented-client-id-e2e", "invented-client-secret-e2e-31"
MODEL = "gpt-4o-mini-2024-07-18"
NOT_HANDLES = {"[deleted]", "[removed]", ""}


class Failed(Exception):
    """A check failed; the message says which."""


def check(ok: Any, msg: str) -> None:
    if not ok:
        raise Failed(msg)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class StudyCoder(FakeOpenAI):
    """The fake server, answering for the post in the request: codes picked from the
    codebook by the post's SHA-256, the quote its first words (not relevant when it has
    fewer than 6 words)."""

    def __init__(self, codes: dict[str, list[str]]) -> None:
        super().__init__(record=True, served_model=MODEL, fingerprint="fp_e2e0001")
        self.codes = codes

    def _find_text(self, messages: list[dict[str, Any]]) -> str | None:
        for m in messages:
            content = m.get("content")
            if m.get("role") == "user" and isinstance(content, str):
                found = re.match(r'<post id="[0-9a-f]+">\n(.*)\n</post>\Z', content, re.S)
                if found:
                    return found.group(1)
        return None

    def _content(
        self, text: str, beh: Any, open_dims: list[str] | None = None
    ) -> tuple[str | None, str | None]:
        """Deterministic codes from the post's text (``open_dims``: the e2e study codes
        no open labels, so they are not asked for)."""
        words = text.split()
        if len(words) < 6:
            return json.dumps({"relevant": False, "units": []}), None
        # keyed pseudonyms in masked text change with the study's secret: hash without them
        stable = re.sub(r"\S*[0-9a-f]{12,}\S*", "", text)
        h = hashlib.sha256(stable.encode("utf-8")).digest()
        unit = {f: cats[h[i] % len(cats)] for i, (f, cats) in enumerate(self.codes.items())}
        unit["llm_version"] = "unspecified"  # codebook 1.1: goes with every family
        unit["quote"] = " ".join(words[:8])
        return json.dumps({"relevant": True, "units": [unit]}), None


def dump_handles() -> set[str]:
    """The authors of the dump files, read here from the files themselves."""
    out: set[str] = set()
    for f in DUMPS:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                author = json.loads(line).get("author")
                if isinstance(author, str) and author not in NOT_HANDLES:
                    out.add(author)
    return out


def folder_texts(root: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file below ``root``, plus the decoded contents of every
    Parquet file and SQLite database (compression could hide a string from a byte search)."""
    import pyarrow.parquet as pq

    out: list[tuple[str, bytes]] = []
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        raw = p.read_bytes()
        out.append((str(p), raw))
        if p.suffix == ".parquet":
            table = pq.read_table(p).to_pandas()
            out.append((f"{p} (decoded)", table.to_csv(index=False).encode("utf-8")))
        elif raw.startswith(b"SQLite format 3\x00"):
            con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
            try:
                dump = "\n".join(con.iterdump())
            finally:
                con.close()
            out.append((f"{p} (decoded)", dump.encode("utf-8", "surrogateescape")))
    return out


def vsdstats(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Run the installed console script; its stderr (the log) is returned."""
    exe = Path(sys.executable).with_name("vsdstats")
    t0 = time.perf_counter()
    res = subprocess.run([str(exe), *args], env=env, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    print(f"e2e: vsdstats {' '.join(args)}  ({dt:.1f} s, exit {res.returncode})", flush=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout[-3000:] + res.stderr[-6000:])
        raise Failed(f"vsdstats {args[0]} exited {res.returncode}")
    return res.stderr


def check_installed() -> None:
    """vsdstats and the Reddit plugin come from installed, non-editable wheels."""
    import json as _json
    from importlib.metadata import distribution

    import vsdstats_reddit

    import vsdstats

    for mod, dist in ((vsdstats, "vsdstats"), (vsdstats_reddit, "vsdstats-reddit")):
        where = Path(mod.__file__).resolve()
        for src in (CHECKOUT / "vsdstats", CHECKOUT / "plugins"):
            check(not where.is_relative_to(src), f"{mod.__name__} is imported from {where}")
        check("site-packages" in where.parts, f"{mod.__name__} is not installed: {where}")
        direct = distribution(dist).read_text("direct_url.json")
        editable = bool(direct) and _json.loads(direct).get("dir_info", {}).get("editable")
        check(not editable, f"{dist} is an editable install")
    cwd = Path.cwd().resolve()
    check(cwd != CHECKOUT and not (cwd / "vsdstats").exists(), f"run from a checkout: {cwd}")


def check_manifests(study: Path, paper_out: Path, work: Path) -> list[str]:
    """Every manifest: versions, and inputs whose SHA-256 is that of the file read."""
    from importlib.metadata import version

    import vsdstats

    site = Path(vsdstats.__file__).resolve().parents[1]
    dumps = {sha256(f): f.name for f in DUMPS}
    manifests = [*sorted((study / "manifests").glob("*.json")), paper_out / "manifest.json"]
    commands = []
    for mf in manifests:
        check(mf.is_file(), f"{mf}: no manifest")
        m = json.loads(mf.read_text(encoding="utf-8"))
        cmd = m.get("command")
        if cmd == "ingest" and m["command_line"][1] == "collect":
            cmd = "collect"  # collect streams into ingest: an ingest manifest of collect
            check(m["settings"].get("query") == "chatbot", f"{mf}: collect settings")
        commands.append(cmd)
        check(m["vsdstats"]["version"] == vsdstats.__version__, f"{mf}: vsdstats version")
        check("git_commit" not in m["vsdstats"], f"{mf}: a git commit from an installed wheel")
        plugins = m.get("plugins", {})
        check(plugins.get("vsdstats-reddit") == version("vsdstats-reddit"), f"{mf}: plugins")
        pk = m.get("packages", {})
        check(pk.get("pandas") == version("pandas"), f"{mf}: package versions")
        check(m.get("python", {}).get("version"), f"{mf}: Python version")
        inputs = m.get("inputs", [])
        if cmd != "collect":  # collect reads an API, no file
            check(inputs, f"{mf}: no inputs listed")
        for rec in inputs:
            check(re.fullmatch(r"[0-9a-f]{64}", rec.get("sha256", "")), f"{mf}: {rec} hash")
            if cmd == "ingest" and rec.get("role") == "input":
                # the study names input files by a keyed hash: match by content
                check(rec["sha256"] in dumps, f"{mf}: input {rec['path']} is no dump file")
                continue
            p = Path(rec["path"])
            if not p.is_absolute():
                p = (site / p) if rec["path"].startswith("vsdstats/") else (work / p)
            check(p.is_file(), f"{mf}: input {rec['path']} not found")
            check(rec["sha256"] == sha256(p), f"{mf}: SHA-256 of {rec['path']} differs")
        if cmd == "ingest":
            got = {r["sha256"] for r in inputs if r.get("role") == "input"}
            check(got == set(dumps), f"{mf}: the dump files are not all listed")
        if cmd == "code":
            check(m["sampling"] == {"temperature": 0.0, "seed": 1}, f"{mf}: sampling")
            check(m["seeds"] == {"seed": 1}, f"{mf}: seeds")
            check(m["codebook"]["sha256"], f"{mf}: codebook hash")
            check(m["prompt"]["system_sha256"], f"{mf}: prompt hash")
        if cmd == "paper":
            r = m.get("r") or {}
            check(str(r.get("version", "")).startswith("R version"), f"{mf}: R version")
            check(r.get("packages", {}).get("glmmTMB"), f"{mf}: R package versions")
            check(m["analysis"]["sha256"], f"{mf}: analysis hash")
            roles = {x["role"] for x in inputs}
            check({"coded_units", "posts", "analysis", "codebook", "r_script"} <= roles, mf)
    for need in ("collect", "ingest", "code", "export", "paper"):
        check(need in commands, f"no {need} manifest among {commands}")
    return commands


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, help="keep the work folder here")
    args = ap.parse_args()
    t_start = time.perf_counter()
    check_installed()
    for f in DUMPS:
        check(f.is_file(), f"{f}: the shared sample dump is missing")

    from vsdstats.tables.codebook import load_codebook
    from vsdstats.tables.models import CODE_FIELDS

    cb = load_codebook()
    codes = {f: list(cb.codes(f)) for f in CODE_FIELDS}

    work = args.keep or Path(tempfile.mkdtemp(prefix="vsdstats-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    config = Path(tempfile.mkdtemp(prefix="vsdstats-e2e-config-"))  # outside the study
    study, paper_out = work / "study", work / "paper_out"
    with serve() as (replay, reddit_url), StudyCoder(codes) as llm:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(
            NO_PROXY="127.0.0.1,localhost",
            REDDIT_OAUTH_URL=reddit_url,
            REDDIT_URL=reddit_url,
            REDDIT_CLIENT_ID=CLIENT_ID,
            REDDIT_CLIENT_SECRET=CLIENT_SECRET,
            REDDIT_USER_AGENT="vsdstats-e2e/0 (by invented)",
            VSDSTATS_CONFIG_DIR=str(config),
            OPENAI_API_KEY=API_KEY,
        )
        env.pop("VSDSTATS_SECRET", None)
        run = lambda *a: vsdstats(*a, env=env, cwd=work)  # noqa: E731
        run("collect", "reddit", "--query", "chatbot", "--out", "study", "--no-progress")
        run("ingest", "reddit", *map(str, DUMPS), "--out", "study", "--no-progress")
        run(
            "code", "study", "--model", MODEL, "--base-url", llm.base_url,
            "--temperature", "0", "--seed", "1", "--max-retries", "0", "--no-progress",
        )  # fmt: skip
        run("export", "study", "-o", "units.csv")
        run("paper", "study", "-o", "paper_out", "--min-cell", "5")
        bodies = llm.bodies()
    check(any(r[1] == "GET" for r in replay.log), "PRAW never reached the replay server")
    check(bodies, "the coder never reached the local OpenAI-compatible server")
    check(
        all(b.get("temperature") == 0 and b.get("seed") == 1 for b in bodies),
        "a request went without temperature 0 and seed 1",
    )

    commands = check_manifests(study, paper_out, work)

    import pandas as pd

    from vsdstats.tables.study import read_posts

    posts = read_posts(study)
    replayed = {it["data"]["name"] for it in ITEMS}
    check(replayed <= set(posts["post_id"]), "not every replayed post is in the study")
    check(len(posts) > len(replayed), "no ingested dump post is in the study")
    from vsdstats.tables.analysis_table import StudyFiles
    from vsdstats.tables.io import read_table

    coded = read_table(StudyFiles.of(study).units)
    exported = pd.read_csv(work / "units.csv")
    check(len(coded) > 0, "no unit was coded")
    check(len(exported) == len(coded), f"exported {len(exported)} units, coded {len(coded)}")
    check((paper_out / "tables" / "table1_corpus.csv").is_file(), "no table1_corpus.csv")

    handles = set(REPLAY_HANDLES) | dump_handles()
    secrets = [p.read_bytes().strip() for p in config.rglob("*.key")]
    check(secrets, f"no pseudonymization secret in {config}")
    keys = [API_KEY.encode(), CLIENT_ID.encode(), CLIENT_SECRET.encode()]
    keys += [s for s in secrets if s] + [b"invented-token"]
    for folder in (study, paper_out):
        for name, data in folder_texts(folder):
            low = data.lower()
            for h in handles:
                check(h.lower().encode() not in low, f"{name}: holds an author handle")
            for k in keys:
                check(k not in data, f"{name}: holds a key or token")
    check(not list(study.rglob("*.key")), "a key file inside the study folder")

    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(config, ignore_errors=True)
    dt = time.perf_counter() - t_start
    print(
        f"e2e: OK in {dt:.0f} s: {len(posts)} posts ({len(replayed)} collected), "
        f"{len(coded)} coded units = {len(exported)} exported; manifests {commands}; "
        f"{len(handles)} handles and {len(keys)} keys absent from {work.name}/",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as exc:
        print(f"e2e: FAILED: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
