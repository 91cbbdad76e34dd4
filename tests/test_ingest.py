"""vsdstats ingest: reconciliation, dedup, pseudonyms, outputs, CLI; synthetic data only."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import vsdstats.ingest.pipeline as ingest_mod
from vsdstats.cli import main
from vsdstats.connectors.base import Connector
from vsdstats.connectors.hookspecs import hookimpl
from vsdstats.connectors.io import open_source
from vsdstats.connectors.readers import iter_json_lines, parse_time
from vsdstats.connectors.records import RawPost, Reject, Source
from vsdstats.ingest.pipeline import IngestError, RejectsFound, ingest_files
from vsdstats.ingest.pseudonymize import file_label, pseudonymize
from vsdstats.ingest.secret import SecretError, load_secret
from vsdstats.ingest.sinks import iter_rejects
from vsdstats.ingest.textnorm import normalize_text, text_hash
from vsdstats.tables.study import config_dir, default_secret_path, read_posts

SECRET = bytes(range(100, 132))


# ----------------------------------------------------------- test connector
class SynthConnector(Connector):
    """JSON lines ``{"synth": 1, "id", "created", "text", "author", ...}``."""

    name = "synth"
    formats = ("synth-jsonl",)

    def sniff(self, head: bytes) -> str | None:
        return "synth-jsonl" if b'"synth"' in head else None

    def read(self, source: Source, format: str | None = None) -> Iterator[RawPost | Reject]:
        name, stream = open_source(source)
        with stream:
            for item in iter_json_lines(stream, name):
                if isinstance(item, Reject):
                    yield item
                    continue
                line, obj = item
                if not isinstance(obj, dict) or "synth" not in obj:
                    yield Reject(name, line, "not a synth record")
                    continue
                try:
                    if not isinstance(obj["text"], str):
                        raise ValueError("text: not a string")
                    ids = {obj.get("name"), *obj.get("mentions", [])} - {None}
                    yield RawPost(
                        platform="synth",
                        post_id=str(obj["id"]),
                        created_at=parse_time(obj["created"], field="created"),
                        text=obj["text"],
                        author_handle=obj.get("author"),
                        author_id=obj.get("uid"),
                        url=obj.get("url"),
                        parent_id=obj.get("parent"),
                        source_file=name,
                        source_line=line,
                        identities=ids,
                    )
                except KeyError as exc:
                    yield Reject(name, line, f"missing field {exc.args[0]}")
                except (TypeError, ValueError) as exc:
                    yield Reject(name, line, str(exc))


class _Plugin:
    @hookimpl
    def register_platforms(self, register: Any) -> None:
        register(SynthConnector())


PLUGINS = (_Plugin(),)

# handles, display names, ids: all made up; none may reach an output
HANDLES = ["zorblax_q", "Mirwen77", "quux-fennel"]
NAMES = ["Zorblax Quintarius", "Mirwen Albadore"]
UIDS = ["U9981723", "U5521987"]


def rec(i: int, text: str, author: str = "zorblax_q", **kw: Any) -> dict[str, Any]:
    base = {"synth": 1, "id": f"p{i}", "created": 1_700_000_000 + i, "text": text}
    return {**base, "author": author, **kw}


def good_records() -> list[dict[str, Any]]:
    return [
        rec(
            1,
            "ChatGPT helped me with anxiety, thanks @Mirwen77",
            uid="U9981723",
            name="Zorblax Quintarius",
            mentions=["Mirwen77"],
            url="https://synth.example/zorblax_q/p1",
        ),
        rec(
            2,
            "I am Mirwen Albadore and I talk to Claude",
            author="Mirwen77",
            uid="U5521987",
            name="Mirwen Albadore",
            parent="p1",
        ),
        rec(
            3,
            "mail me: zorblax.q@mail.example, or u/quux-fennel knows",
            url="https://synth.example/post/3",
        ),
    ]


def write_jsonl(path: Path, records: list[Any], extra: bytes = b"") -> Path:
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records) + extra
    path.write_bytes(data)
    return path


def run(paths: list[Path], out: Path, **kw: Any) -> Any:
    kw.setdefault("secret", SECRET)
    return ingest_files("synth", paths, out, extra_plugins=PLUGINS, **kw)


def all_output_text(out: Path) -> str:
    """Every output file's bytes, plus decoded Parquet/DuckDB contents, as one string."""
    parts: list[str] = []
    files = [out] if out.is_file() else [p for p in out.rglob("*") if p.is_file()]
    if out.is_file():
        files += [p for p in out.parent.glob(out.stem + ".*") if p != out]
    for f in files:
        parts.append(f.read_bytes().decode("utf-8", "replace"))
        if f.suffix == ".parquet":
            parts.append(json.dumps(pq.read_table(f).to_pylist(), default=str))
        if f.suffix == ".duckdb":
            con = duckdb.connect(str(f), read_only=True)
            for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                parts.append(str(con.execute(f"SELECT * FROM {t}").fetchall()))
            con.close()
    return "\n".join(parts)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """CliRunner with the synth connector visible to `vsdstats ingest`."""
    real = ingest_mod.connectors
    monkeypatch.setattr(ingest_mod, "connectors", lambda extra=(): real((*PLUGINS, *extra)))
    monkeypatch.setenv("VSDSTATS_SECRET", SECRET.hex())
    return CliRunner()


# -------------------------------------------------------------------- tests
def test_reconciliation_on_a_messy_file(tmp_path: Path) -> None:
    lines = [json.dumps(r).encode() for r in good_records()] + [
        b'{"synth": 1, "id": "p9", "created": 17000',  # 4 truncated
        b"",  # 5 blank
        json.dumps(rec(10, 12345)).encode(),  # 6 wrong type (text)
        json.dumps({"synth": 1, "id": "p11", "text": "no time"}).encode(),  # 7 missing field
        b'{"synth": 1, "id": "p12", "text": "caf\xe9"}',  # 8 undecodable
        b"   ",  # 9 blank
        json.dumps(rec(13, "bad time", created="yesterday")).encode(),  # 10 bad value
        json.dumps(rec(14, "empty id", id="")).encode(),  # 11 caught by the Post model
        b"[1, 2]",  # 12 not a record
    ]
    messy = tmp_path / "messy.jsonl"
    messy.write_bytes(b"\n".join(lines) + b"\n")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    out = tmp_path / "study"
    rep = run([messy, empty], out, keep_file_names=True)

    m, e = rep.files
    assert (m.read, m.kept, m.duplicates, m.filtered_out, m.rejected) == (10, 3, 0, 0, 7)
    assert (e.read, e.rejected) == (1, 1)
    assert rep.balanced and rep.read == rep.kept + rep.duplicates + rep.filtered_out + rep.rejected
    rejects = list(iter_rejects(out))
    assert len(rejects) == rep.rejected == 8
    assert {(f, line) for f, line, _ in rejects} == {
        *((str(messy), n) for n in (4, 6, 7, 8, 10, 11, 12)),
        (str(empty), 0),
    }
    assert all(reason for _, _, reason in rejects)
    by_line = {line: reason for f, line, reason in rejects if f == str(messy)}
    assert "not JSON" in by_line[4] and "undecodable" in by_line[8]
    assert "created" in by_line[7] and "post_id" in by_line[11]
    report = json.loads((out / "ingest_report.json").read_text())["runs"][-1]
    assert report["totals"]["read"] == 11 and report["balanced"] is True
    assert report["files"][0]["rejected"] == 7 and sum(report["reasons"].values()) == 8
    posts = read_posts(out)
    assert list(posts["post_id"]) == ["p1", "p2", "p3"]
    assert list(posts["source_line"]) == [1, 2, 3]
    assert set(posts["source_file"]) == {str(messy)}


def test_duplicate_ids_dropped_and_counted(tmp_path: Path) -> None:
    recs = good_records()
    f = write_jsonl(tmp_path / "d.jsonl", [*recs, recs[0], {**recs[1], "text": "edited"}])
    rep = run([f], tmp_path / "s")
    assert (rep.read, rep.kept, rep.duplicates) == (5, 3, 2)
    posts = read_posts(tmp_path / "s")
    assert posts["post_id"].is_unique and len(posts) == 3
    assert "edited" not in set(posts["text"])  # the first copy is kept


def test_duplicate_texts_flagged_not_dropped(tmp_path: Path) -> None:
    recs = [
        rec(1, "Talking to ChatGPT at night helps. https://a.example/x"),
        rec(2, "  talking to CHATGPT at   night helps.\n"),
        rec(3, "something else"),
        rec(4, "ｔａｌｋｉｎｇ to chatgpt at night helps. www.b.example"),
    ]
    rep = run([write_jsonl(tmp_path / "t.jsonl", recs)], tmp_path / "s")
    posts = read_posts(tmp_path / "s")
    assert rep.kept == 4 and rep.dup_texts == 2
    assert list(posts["dup_text"]) == [False, True, False, True]
    assert posts["text_hash"].nunique() == 2
    expected = hashlib.sha256(b"talking to chatgpt at night helps.").hexdigest()
    assert posts["text_hash"].iloc[0] == expected == text_hash(recs[1]["text"])
    assert normalize_text("A\u00a0 B https://x.y/z") == "a b"


def test_pseudonyms_stable_within_study_and_different_across(tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", good_records()[:1])
    b = write_jsonl(tmp_path / "b.jsonl", [rec(50, "later post")])
    study = tmp_path / "study"
    r1 = ingest_files("synth", [a], study, extra_plugins=PLUGINS)
    key = default_secret_path(study)
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    # the key lives outside the study folder, in the user's config folder
    assert not key.resolve().is_relative_to(study.resolve())
    assert key.resolve().is_relative_to(config_dir().resolve())
    assert not any(p.name.endswith(".key") for p in study.rglob("*"))
    assert len(bytes.fromhex(key.read_text().strip())) >= 32
    r2 = ingest_files("synth", [b], study, extra_plugins=PLUGINS)
    posts = read_posts(study)
    assert len(posts) == 2 and posts["author"].nunique() == 1
    assert r1.secret_id == r2.secret_id and r2.posts_in_output == 2
    assert len(json.loads((study / "ingest_report.json").read_text())["runs"]) == 2
    other = tmp_path / "other"
    ingest_files("synth", [a], other, extra_plugins=PLUGINS)
    assert read_posts(other)["author"].iloc[0] != posts["author"].iloc[0]
    secret = bytes.fromhex(key.read_text().strip())
    assert posts["author"].iloc[0] == pseudonymize("zorblax_q", secret, "synth")
    with pytest.raises(IngestError, match="different secret"):
        run([b], study)  # SECRET is not the study's secret
    key.unlink()
    with pytest.raises(IngestError, match=r"secret .* is missing"):
        ingest_files("synth", [b], study, extra_plugins=PLUGINS)
    assert not key.exists() and len(read_posts(study)) == 2


def test_a_shared_study_folder_carries_no_key(tmp_path: Path, monkeypatch) -> None:
    import shutil

    a = write_jsonl(tmp_path / "a.jsonl", good_records()[:1])
    b = write_jsonl(tmp_path / "b.jsonl", [rec(50, "later post")])
    study = tmp_path / "study"
    ingest_files("synth", [a], study, extra_plugins=PLUGINS)
    key = default_secret_path(study)
    shared = tmp_path / "shared"
    shutil.copytree(study, shared)
    # a colleague's machine: another config folder, so no key for the study id
    monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "colleague"))
    with pytest.raises(IngestError, match=r"secret .* is missing"):
        ingest_files("synth", [b], shared, extra_plugins=PLUGINS)
    # with the key handed over privately the pseudonyms stay comparable
    r = ingest_files("synth", [b], shared, secret_file=key, extra_plugins=PLUGINS)
    assert r.posts_in_output == 2 and read_posts(shared)["author"].nunique() == 1
    # a study made before the move keeps its in-folder key
    legacy = tmp_path / "legacy"
    shutil.copytree(study, legacy)
    (legacy / ".vsdstats" / "study-id").unlink()
    (legacy / ".vsdstats" / "secret.key").write_bytes(key.read_bytes())
    assert default_secret_path(legacy) == legacy / ".vsdstats" / "secret.key"
    ingest_files("synth", [b], legacy, extra_plugins=PLUGINS)


def test_secret_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSDSTATS_SECRET", "c0ffeeXYZ")
    with pytest.raises(SecretError, match="not hexadecimal") as info:
        load_secret(None, tmp_path / "s")
    assert "c0ffee" not in str(info.value)  # the value is never echoed
    monkeypatch.setenv("VSDSTATS_SECRET", "ab" * 16)
    with pytest.raises(SecretError, match="at least 32 bytes"):
        load_secret(None, tmp_path / "s")
    monkeypatch.setenv("VSDSTATS_SECRET", "ab" * 32)
    assert load_secret(None, tmp_path / "s") == bytes.fromhex("ab" * 32)
    monkeypatch.delenv("VSDSTATS_SECRET")
    key = tmp_path / "k" / "study.key"
    first = load_secret(key)
    assert len(first) == 32 and load_secret(key) == first
    with pytest.raises(SecretError, match="--secret-file"):
        load_secret(None, tmp_path / "x.duckdb")


def test_reingest_appends_and_dedups_against_existing(tmp_path: Path) -> None:
    recs = good_records()
    study = tmp_path / "s"
    run([write_jsonl(tmp_path / "a.jsonl", recs[:2])], study, batch_size=1)
    b = write_jsonl(tmp_path / "b.jsonl", [recs[1], recs[2], rec(9, recs[0]["text"])])
    rep = run([b], study, batch_size=1)
    assert (rep.read, rep.kept, rep.duplicates, rep.dup_texts) == (3, 2, 1, 1)
    posts = read_posts(study)
    assert list(posts["post_id"]) == ["p1", "p2", "p3", "p9"]
    assert list(posts["dup_text"]) == [False, False, False, True]


@pytest.mark.parametrize("out_name", ["study", "posts.parquet", "posts.duckdb"])
def test_no_identity_or_secret_in_any_output(tmp_path: Path, out_name: str) -> None:
    f = write_jsonl(tmp_path / "in.jsonl", good_records(), extra=b'{"synth": 1, "author": "x"}\n')
    out = tmp_path / out_name
    rep = run([f], out)
    assert rep.kept == 3 and rep.rejected == 1
    blob = all_output_text(out).lower()
    for raw in [*HANDLES, *NAMES, *UIDS, "zorblax.q@mail.example"]:
        assert raw.lower() not in blob, raw
    assert SECRET.hex() not in blob
    posts = read_posts(out)
    p = {h: pseudonymize(h, SECRET, "synth") for h in HANDLES}
    assert posts["text"].iloc[0] == f"ChatGPT helped me with anxiety, thanks @{p['Mirwen77']}"
    assert "[email]" in posts["text"].iloc[2] and f"@{p['quux-fennel']}" in posts["text"].iloc[2]
    assert pd.isna(posts["url"].iloc[0]) and posts["url"].iloc[2] == "https://synth.example/post/3"
    assert rep.urls_dropped == 1


def test_parquet_and_duckdb_round_trip(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "in.jsonl", good_records(), extra=b"{bad\n[]\n")
    frames, rejects = {}, {}
    for name in ["study", "p.parquet", "d.duckdb"]:
        run([f], tmp_path / name)
        frames[name] = read_posts(tmp_path / name)
        rejects[name] = list(iter_rejects(tmp_path / name))
    assert rejects["study"] == rejects["p.parquet"] == rejects["d.duckdb"]
    assert [line for _, line, _ in rejects["study"]] == [4, 5]
    base = frames["study"]
    assert len(base) == 3 and str(base["created_at"].dtype) == "datetime64[ns, UTC]"
    assert base["created_at"].iloc[0] == pd.Timestamp(1_700_000_001, unit="s", tz="UTC")
    for name in ["p.parquet", "d.duckdb"]:
        pd.testing.assert_frame_equal(frames[name], base, check_dtype=True)
    assert (tmp_path / "p.rejects.csv").is_file() and (tmp_path / "p.report.json").is_file()
    con = duckdb.connect(str(tmp_path / "d.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest_runs").fetchone() == (1,)
    con.close()
    run([f], tmp_path / "d.duckdb")  # appending: all duplicates, nothing added
    assert len(read_posts(tmp_path / "d.duckdb")) == 3


@pytest.mark.parametrize("suffix", [".zst", ".gz"])
def test_compressed_input_ingests_like_plain(tmp_path: Path, suffix: str) -> None:
    plain = write_jsonl(tmp_path / "in.jsonl", [*good_records(), rec(4, "x")], extra=b"{oops\n")
    zst = tmp_path / f"in.jsonl{suffix}"
    data = plain.read_bytes()
    if suffix == ".zst":  # streamed with a 256 MiB window (beyond zstd's default limit)
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)
        cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()
        zst.write_bytes(cobj.compress(data) + cobj.flush())
        assert zstandard.get_frame_parameters(zst.read_bytes()).window_size == 2**28
    else:
        zst.write_bytes(gzip.compress(data))
    r1, r2 = run([plain], tmp_path / "a"), run([zst], tmp_path / "b")
    assert (r1.read, r1.kept, r1.rejected) == (r2.read, r2.kept, r2.rejected) == (5, 4, 1)
    a, b = read_posts(tmp_path / "a"), read_posts(tmp_path / "b")
    assert set(b["source_file"]) == {file_label(str(zst), SECRET)}  # no file names stored
    cols = [c for c in a.columns if c != "source_file"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_wrong_platform_file_ends_as_rejects(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "t3", "data": {}}\n{"kind": "t1"}\n')
    rep = run([other], tmp_path / "s")
    assert (rep.read, rep.rejected, rep.kept) == (2, 2, 0)
    assert all("does not look like a synth file" in r for _, _, r in iter_rejects(tmp_path / "s"))


def test_relevance_stand_in_filters_and_counts(tmp_path: Path) -> None:
    class OnlyChatGPT:
        def match_text(self, text: str) -> bool:
            return "chatgpt" in text.lower()

    recs = [*good_records(), good_records()[0]]
    rep = run([write_jsonl(tmp_path / "r.jsonl", recs)], tmp_path / "s", relevance=OnlyChatGPT())
    assert (rep.read, rep.kept, rep.filtered_out, rep.duplicates) == (4, 1, 2, 1)
    assert rep.balanced and list(read_posts(tmp_path / "s")["post_id"]) == ["p1"]


def test_strict_api_raises_after_writing(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "x.jsonl", good_records(), extra=b"not json\n")
    with pytest.raises(RejectsFound) as info:
        run([f], tmp_path / "s", strict=True)
    assert info.value.report.rejected == 1 and len(read_posts(tmp_path / "s")) == 3


def test_connector_crash_is_a_reject(tmp_path: Path) -> None:
    class Boom(SynthConnector):
        def read(self, source: Source, format: str | None = None) -> Iterator[RawPost | Reject]:
            yield from list(super().read(source, format))[:1]
            raise RuntimeError("decoder exploded")

    class P:
        @hookimpl
        def register_platforms(self, register: Any) -> None:
            register(Boom())

    f = write_jsonl(tmp_path / "x.jsonl", good_records())
    rep = ingest_files("synth", [f], tmp_path / "s", secret=SECRET, extra_plugins=(P(),))
    assert (rep.read, rep.kept, rep.rejected) == (2, 1, 1)
    [(_, line, reason)] = iter_rejects(tmp_path / "s")
    assert line == 2 and "decoder exploded" in reason and "rest unread" in reason


_LINES = [
    b'{"synth": 1, "id": "g", "created": 5, "text": "ok"}',
    b'{"synth": 1, "id": 7, "created": "2024-01-01T00:00:00Z", "text": "@u1 \\udc80 hi"}',
    b"{",
    b"",
    b"\xff\xfe",
    b"null",
]


@given(data=st.binary(max_size=400), lines=st.lists(st.sampled_from(_LINES), max_size=8))
def test_garbage_never_raises_and_every_line_is_counted(data: bytes, lines: list[bytes]) -> None:
    blob = b"\n".join(lines) + b"\n" + data
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "g.jsonl"
        f.write_bytes(blob)
        rep = run([f], Path(d) / "s")
        nonblank = sum(1 for line in blob.split(b"\n") if line.strip())
        assert rep.read == max(nonblank, 1)
        assert rep.balanced
        assert len(list(iter_rejects(Path(d) / "s"))) == rep.rejected
        assert len(read_posts(Path(d) / "s")) == rep.kept


def test_progress_bar_and_odd_strings(tmp_path: Path) -> None:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    odd = b'{"synth": 1, "id": "s1", "created": 1, "text": "broken \\ud83d emoji"}\n'
    f = write_jsonl(tmp_path / "o.jsonl", good_records(), extra=odd)
    rep = run([f], tmp_path / "s", progress=True, console=console)
    assert rep.kept == 4 and "rows/s" in buf.getvalue() and "rejects" in buf.getvalue()
    assert read_posts(tmp_path / "s")["text"].iloc[3] == "broken \ufffd emoji"


def test_source_file_hides_the_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/qblorp")
    assert ingest_mod.display_name("/home/qblorp/data/x.zst") == "~/data/x.zst"
    assert ingest_mod.display_name("data/x.zst") == "data/x.zst"
    assert ingest_mod.display_name("/srv/x.zst") == "/srv/x.zst"


# ---------------------------------------------------------------------- CLI
def test_cli_ingest_and_strict_exit_codes(cli: CliRunner, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", good_records())
    bad = write_jsonl(tmp_path / "bad.jsonl", good_records(), extra=b"{trunc\n")
    res = cli.invoke(main, ["ingest", "synth", str(good), "--out", str(tmp_path / "a"), "--strict"])
    assert res.exit_code == 0, res.output
    assert "read = kept + duplicates + filtered out + rejected: holds" in res.output
    args = ["ingest", "synth", str(bad), "--out", str(tmp_path / "b"), "--no-progress"]
    assert cli.invoke(main, args).exit_code == 0
    res = cli.invoke(main, [*args[:4], str(tmp_path / "c"), "--strict"])
    assert res.exit_code == 1 and "1 record(s) rejected" in res.output
    assert len(read_posts(tmp_path / "c")) == 3  # written anyway


def test_cli_usage_errors_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", good_records())
    out = ["--out", str(tmp_path / "s")]
    res = cli.invoke(main, ["ingest", "nosuch", str(good), *out])
    assert res.exit_code == 2 and "installed:" in res.output and "synth" in res.output
    res = cli.invoke(main, ["ingest", "synth", str(tmp_path / "missing.jsonl"), *out])
    assert res.exit_code == 2 and "missing.jsonl" in res.output
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    res = cli.invoke(main, ["ingest", "synth", str(good), *out, "--secret-file", str(short)])
    assert res.exit_code == 2 and "short.key" in res.output and "32 bytes" in res.output
    res = cli.invoke(main, ["ingest", "synth", str(good), *out, "--format", "csv"])
    assert res.exit_code == 2 and "synth-jsonl" in res.output
    for r in (res,):
        assert "Traceback" not in r.output
    assert not (tmp_path / "s" / "posts.parquet").exists()


def test_cli_parquet_needs_a_secret_file(cli: CliRunner, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", good_records())
    env = {"VSDSTATS_SECRET": ""}
    args = ["ingest", "synth", str(good), "--out", str(tmp_path / "p.parquet")]
    res = cli.invoke(main, args, env=env)
    assert res.exit_code == 2 and "--secret-file" in res.output
    key = tmp_path / "keys" / "study.key"
    res = cli.invoke(main, [*args, "--secret-file", str(key)], env=env)
    assert res.exit_code == 0, res.output
    assert key.is_file() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert key.read_text().strip() not in all_output_text(tmp_path / "p.parquet")


def test_cli_relevance_option(cli: CliRunner, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", good_records())
    res = cli.invoke(
        main, ["ingest", "synth", str(good), "--out", str(tmp_path / "s"), "--relevance"]
    )
    try:
        import vsdstats.filter.relevance  # noqa: F401
    except ImportError:
        assert res.exit_code == 2 and "vsdstats.filter.relevance" in res.output
        return
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "s" / "ingest_report.json").read_text())["runs"][0]
    assert report["relevance"] is True
    assert report["totals"]["kept"] + report["totals"]["filtered_out"] == 3


# ------------------------------------------------------- real reddit plugin
def test_reddit_pushshift_end_to_end(shared_dir: Path, tmp_path: Path) -> None:
    from conftest import require

    from vsdstats.connectors.manager import connectors

    require("reddit" in connectors(), "the vsdstats-reddit plugin is not installed")
    src = shared_dir / "fixtures" / "platforms" / "reddit_pushshift" / "test_comments.json"
    raw = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line]
    authors = {r["author"] for r in raw if r.get("author")} - {"[deleted]", "[removed]"}
    user_ids = {r["author_fullname"] for r in raw if r.get("author_fullname")}
    assert authors and user_ids
    out = tmp_path / "study"
    rep = ingest_files("reddit", [src], out, secret=SECRET)
    assert rep.read == len(raw) and rep.balanced
    assert rep.kept + rep.duplicates + rep.rejected == len(raw) and rep.kept > 0
    posts = read_posts(out)
    assert len(posts) == rep.kept and posts["author"].dropna().str.startswith("a_").all()
    blob = all_output_text(out).lower()
    leaked = [a for a in authors | user_ids if a.lower() in blob]
    assert not leaked, f"{len(leaked)} author names or ids in the outputs"  # never print them
    with open(out / "rejects.csv", newline="") as f:
        assert next(csv.reader(f)) == ["file", "line", "reason"]
    assert set(posts["source_file"]) == {file_label(os.fspath(src), SECRET)}
    zst = tmp_path / "comments.json.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(src.read_bytes()))
    rz = ingest_files("reddit", [zst], tmp_path / "z", secret=SECRET)
    assert (rz.read, rz.kept, rz.rejected) == (rep.read, rep.kept, rep.rejected)
    cols = ["post_id", "author", "text", "created_at", "url"]
    pd.testing.assert_frame_equal(read_posts(tmp_path / "z")[cols], posts[cols])
