"""Every connector on mutated copies of the shared sample files (issue 8, items 1 and 3).

Mutations: a bad first line (a truncated copy of the first line, or garbage), a UTF-8
byte-order mark, lone surrogate escapes (``"\\ud800"``) in keys and values, and a file
cut off in the middle of a line.  Whatever the mutation, ingest must not raise, its
report must reconcile with a line count taken here from the bytes, the records on the
lines the mutation did not touch must survive, every output is valid UTF-8, and no
author handle or id from the input appears in any output file.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import PLATFORMS, SAMPLES, sample_files

from vsdstats.connectors.manager import get_connector
from vsdstats.connectors.records import RawPost
from vsdstats.ingest.pipeline import ingest_files
from vsdstats.tables.study import read_posts

SECRET = bytes(range(32))
BOM = b"\xef\xbb\xbf"
# examples per connector (about 2 s in all on 2 cores); VSDSTATS_FUZZ_EXAMPLES=N for more
MAX_EXAMPLES = int(os.environ.get("VSDSTATS_FUZZ_EXAMPLES") or min(settings().max_examples, 25))


SL_HEADER = ["Query Id", "Date", "Url", "Full Text", "Author", "Page Type", "Resource Id"]


def _files(platform: str) -> list[Path]:
    if platform == "social-listening":  # no real export exists (see SOURCES.md)
        return sorted(_synthetic_dir().glob("export.*"))
    return sample_files(platform)


@functools.lru_cache(maxsize=1)
def _synthetic_dir() -> Path:
    """Synthetic social-listening exports (CSV with a preamble, and JSONL)."""
    import csv
    import io
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="vsdstats-fuzz-sl-"))
    rows = [
        [str(i), f"2024-05-{i % 28 + 1:02d} 10:00:00", f"https://news.example.org/a/{i}",
         f"synthetic post number {i} about chatbots", f"writer_{i:03d}x", "news", f"r{i}"]
        for i in range(1, 31)
    ]  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write("Report:,synthetic\r\nBrand:,demo\r\n\r\n")
    w.writerow(SL_HEADER)
    w.writerows(rows)
    (d / "export.csv").write_text(buf.getvalue(), encoding="utf-8")
    lines = [json.dumps(dict(zip(SL_HEADER, r, strict=True))) for r in rows]
    (d / "export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


@pytest.fixture(autouse=True)
def _shared(shared_dir: Path) -> None:
    """Every test here needs the shared samples (a failure under CI when missing)."""


# ------------------------------------------------------------------ helpers
def nonblank_lines(data: bytes) -> list[int]:
    """Line numbers (from 1) of the non-blank physical lines, counted from the bytes."""
    lines = data.split(b"\n")
    lines[0] = lines[0].removeprefix(BOM)
    return [i for i, ln in enumerate(lines, start=1) if ln.strip()]


def is_json_lines(data: bytes) -> bool:
    """Whether ``data`` holds one JSON value per non-blank line (and not one document)."""
    try:
        json.loads(data)
        return False
    except ValueError:
        pass
    lines = [ln for ln in data.splitlines() if ln.strip()]
    return len(lines) > 1 and sum(map(_parses, lines)) > len(lines) / 2


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def identities(platform: str, path: Path) -> set[str]:
    """Author handles and ids the connector reads from ``path`` (long enough to search)."""
    out: set[str] = set()
    for rec in get_connector(platform).read(path):
        if isinstance(rec, RawPost):
            for v in (rec.author_handle, rec.author_id):
                if v and len(v) >= 4 and v.lower() not in {"deleted", "[deleted]"}:
                    out.add(v)
    return out


@dataclass
class Result:
    """What one ingest run left behind."""

    report: Any
    posts: Any
    blobs: dict[str, bytes] = field(default_factory=dict)

    def ids_by_line(self) -> dict[int, set[str]]:
        by: dict[int, set[str]] = {}
        for line, pid in zip(self.posts["source_line"], self.posts["post_id"], strict=True):
            by.setdefault(int(line), set()).add(pid)
        return by


def ingest(platform: str, path: Path, out: Path) -> Result:
    rep = ingest_files(platform, [path], out, secret=SECRET)
    posts = read_posts(out)
    files = [out] if out.is_file() else [p for p in out.rglob("*") if p.is_file()]
    files += [p for p in out.parent.glob(out.stem + ".*") if p.is_file() and p != out]
    blobs = {p.name: p.read_bytes() for p in files if p.name != "secret.key"}
    return Result(rep, posts, blobs)


@functools.cache
def baseline(platform: str, path: Path, tmp: Path) -> Result:
    """The unmutated file ingested once (``tmp`` is a session-wide folder)."""
    return ingest(platform, path, tmp / f"{platform}-{path.name}.parquet")


def _rejects(out: Path) -> list[tuple[int, str]]:
    """(line, reason) of the reject log of a Parquet or study output."""
    import csv

    log = out / "rejects.csv" if out.is_dir() else out.with_suffix(".rejects.csv")
    if not log.exists():
        return []
    with log.open(encoding="utf-8", newline="") as fh:
        return [(int(r["line"]), r["reason"]) for r in csv.DictReader(fh)]


def check_outputs(res: Result, handles: set[str], platform: str) -> None:
    """Reconciled, valid UTF-8 everywhere, and no handle or id in any output."""
    rep = res.report
    assert rep.read == rep.kept + rep.duplicates + rep.filtered_out + rep.rejected
    assert len(res.posts) == rep.kept
    for name, blob in res.blobs.items():
        if name.endswith((".csv", ".json")):
            text = blob.decode("utf-8")  # strict: no lone surrogate was written
        else:
            text = blob.decode("utf-8", "replace")
        for h in handles:
            pat = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(h)}(?![A-Za-z0-9_])", re.IGNORECASE)
            assert not pat.search(text), f"{platform}: author {h[:2]}... leaked into {name}"
    for col in ("text", "post_id", "thread_id", "parent_id", "author", "url", "source_file"):
        for v in res.posts[col].dropna():
            v.encode("utf-8")


# -------------------------------------------------------------- mutations
@dataclass
class Mutated:
    data: bytes
    line_map: dict[int, int]  # original line -> line in the mutated file, untouched lines
    whole: bool  # the mutation leaves every record of the file intact


def add_bom(data: bytes) -> Mutated:
    lines = nonblank_lines(data)
    return Mutated(BOM + data, {i: i for i in lines}, True)


def bad_first_line(data: bytes, bad: bytes) -> Mutated:
    assert b"\n" not in bad
    return Mutated(bad + b"\n" + data, {i: i + 1 for i in nonblank_lines(data)}, True)


def truncate(data: bytes, line: int, cut: float) -> Mutated:
    """``data`` cut inside the content of its ``line``-th non-blank line."""
    nb = nonblank_lines(data)
    target = nb[min(line, len(nb) - 1)]
    lines = data.split(b"\n")
    start = sum(len(ln) + 1 for ln in lines[: target - 1])
    content = lines[target - 1].rstrip()
    lead = len(content) - len(content.lstrip())
    pos = start + lead + 1 + int(cut * max(len(content) - lead - 2, 0))
    kept = {i: i for i in nb if i < target}
    return Mutated(data[:pos], kept, False)


def _strings(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], bool]]:
    """Paths to every string (``True``: a dict key) in a parsed JSON value."""
    out: list[tuple[tuple[Any, ...], bool]] = []
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            out.append((p, False))
        elif isinstance(v, list):
            stack.extend((x, (*p, i)) for i, x in enumerate(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                out.append(((*p, k), True))
                stack.append((x, (*p, k)))
    return out


def with_surrogate(value: Any, path: tuple[Any, ...], is_key: bool, sur: str, at: float) -> Any:
    """``value`` with ``sur`` inserted into the string (or key) at ``path``."""
    *up, last = path if path else (None,)
    parent = value
    for k in up:
        parent = parent[k]

    def insert(s: str) -> str:
        i = int(at * len(s))
        return s[:i] + sur + s[i:]

    if not path:
        return insert(value)
    if is_key:
        items = [(insert(k) if k == last else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    else:
        parent[last] = insert(parent[last])
    return value


@st.composite
def surrogate_mutation(draw: st.DrawFn, data: bytes) -> Mutated:
    """A lone surrogate escape put into one string of one line (or of the document)."""
    sur = chr(draw(st.integers(0xD800, 0xDFFF)))
    at = draw(st.floats(0, 1))
    if is_json_lines(data):
        lines = data.split(b"\n")
        nb = nonblank_lines(data)
        target = draw(st.sampled_from([i for i in nb if _parses(lines[i - 1])]))
        value = json.loads(lines[target - 1])
        paths = _strings(value)
        if not paths:
            return Mutated(data, {i: i for i in nb}, True)
        p, is_key = draw(st.sampled_from(paths))
        value = with_surrogate(value, p, is_key, sur, at)
        lines[target - 1] = json.dumps(value).encode()  # ensure_ascii: "\udXXX" escapes
        return Mutated(b"\n".join(lines), {i: i for i in nb if i != target}, False)
    try:
        value = json.loads(data)
    except ValueError:  # a CSV export: invalid UTF-8 bytes in one line instead
        nb = nonblank_lines(data)
        target = draw(st.sampled_from(nb))
        lines = data.split(b"\n")
        lines[target - 1] = lines[target - 1] + b"\xed\xa0\x80"  # an encoded surrogate
        return Mutated(b"\n".join(lines), {i: i for i in nb if i != target}, False)
    paths = _strings(value)
    p, is_key = draw(st.sampled_from(paths))
    value = with_surrogate(value, p, is_key, sur, at)
    return Mutated(json.dumps(value, indent=1).encode(), {}, False)


GARBAGE = [b"{", b'{"data": [', b"\x00\xff\xfe garbage", b"not json at all", b"[1, 2", b"}"]


def unchanged(data: bytes) -> Mutated:
    return Mutated(data, {i: i for i in nonblank_lines(data)}, True)


def then(a: Mutated, b: Mutated) -> Mutated:
    """``b`` (made from ``a.data``) after ``a``: line maps composed."""
    lines = {old: b.line_map[new] for old, new in a.line_map.items() if new in b.line_map}
    return Mutated(b.data, lines, a.whole and b.whole)


@st.composite
def bad_first_lines(draw: st.DrawFn, data: bytes) -> Mutated:
    """One to three bad lines put first: truncated copies of the first line, or garbage."""
    first = data.lstrip().split(b"\n", 1)[0].rstrip()
    m = unchanged(data)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            bad = first[: draw(st.integers(1, max(1, len(first) - 1)))]
        else:
            bad = draw(st.sampled_from(GARBAGE))
        m = then(m, bad_first_line(m.data, bad))
    return m


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> Mutated:
    """Some of: bad first lines, a surrogate, a cut mid-line, a BOM (in that order)."""
    steps = draw(
        st.sets(st.sampled_from(["first", "surrogate", "cut", "bom"]), min_size=1, max_size=3)
    )
    m = unchanged(data)
    if "first" in steps:
        m = then(m, draw(bad_first_lines(m.data)))
    if "surrogate" in steps:
        m = then(m, draw(surrogate_mutation(m.data)))
    if "cut" in steps:
        n = len(nonblank_lines(m.data))
        m = then(m, truncate(m.data, draw(st.integers(0, n - 1)), draw(st.floats(0, 1))))
    if "bom" in steps:
        m = then(m, add_bom(m.data))
    return m


def check_mutation(platform: str, src: Path, m: Mutated, tmp: Path, base_tmp: Path) -> None:
    path = tmp / src.name
    path.write_bytes(m.data)
    out = tmp / "out.parquet"
    res = ingest(platform, path, out)
    handles = identities(platform, src) | identities(platform, path)
    check_outputs(res, handles, platform)
    base = baseline(platform, src, base_tmp)
    rep = res.report
    original = src.read_bytes()
    if is_json_lines(original):
        # every non-blank line of the mutated file is read: kept, or rejected at its line
        lines = set(nonblank_lines(m.data))
        covered = set(res.ids_by_line()) | {ln for ln, _ in _rejects(out)}
        good = [ln for ln in m.data.removeprefix(BOM).split(b"\n") if _parses(ln)]
        if not good:
            # no line left that parses: may be one bad document, or one reject for a
            # file of unknown format
            assert covered - {0} <= lines and rep.rejected >= 1
        else:
            assert covered <= lines
            assert len(lines - covered) <= rep.duplicates
            assert rep.read >= len(lines)
            if base.report.read == len(nonblank_lines(original)):  # one record per line
                assert rep.read == len(lines)
    if is_json_lines(original) or src.suffix == ".csv":
        have = set(res.posts["post_id"])
        base_by = base.ids_by_line()
        for old in m.line_map:
            assert base_by.get(old, set()) <= have, f"posts of line {old} were lost"
    if m.whole:
        assert set(base.posts["post_id"]) <= set(res.posts["post_id"])
        assert rep.kept == base.report.kept
    assert rep.read >= 1


# ------------------------------------------------------------- regressions
LINE_FILES = [
    ("x", "twitter_x_api_v2/flat.jsonl"),
    ("x", "snscrape/res.json"),
    ("x", "twitter_x_api_v2/streaming_output_with_error.jsonl"),
    ("reddit", "reddit_pushshift/test_comments.json"),
    ("reddit", "reddit_pushshift/test_submissions.json"),
]


@pytest.mark.parametrize("platform,rel", LINE_FILES, ids=[r for _, r in LINE_FILES])
@pytest.mark.parametrize("how", ["truncated", "bom", "garbage"])
def test_a_bad_first_line_loses_only_itself(platform, rel, how, tmp_path, tmp_path_factory):
    src = PLATFORMS / rel
    data = src.read_bytes()
    first = data.split(b"\n", 1)[0]
    m = {
        "truncated": bad_first_line(data, first[: len(first) // 3]),
        "bom": add_bom(data),
        "garbage": bad_first_line(data, b'{"id": "1", "te'),
    }[how]
    path = tmp_path / src.name
    path.write_bytes(m.data)
    rep = ingest_files(platform, [path], tmp_path / "out.parquet", secret=SECRET)
    base = baseline(platform, src, tmp_path_factory.getbasetemp())
    lines = len(nonblank_lines(m.data))
    extra = lines - len(nonblank_lines(data))
    assert rep.read == base.report.read + extra
    if base.report.read == len(nonblank_lines(data)):
        assert rep.read == lines  # true, not just balanced: one count per line
    assert rep.kept == base.report.kept
    assert rep.rejected == base.report.rejected + extra
    assert rep.files[0].format is not None  # detected despite the first line


@pytest.mark.parametrize("platform", sorted(SAMPLES))
def test_documents_with_a_bom_read_as_without(platform, tmp_path, tmp_path_factory):
    for src in _files(platform):
        path = tmp_path / src.name
        path.write_bytes(BOM + src.read_bytes())
        rep = ingest_files(platform, [path], tmp_path / f"{src.name}.parquet", secret=SECRET)
        base = baseline(platform, src, tmp_path_factory.getbasetemp())
        assert (rep.read, rep.kept) == (base.report.read, base.report.kept), src.name


def _surrogated(value: Any) -> Any:
    """Every object gets an extra key and value holding lone surrogates, and every
    string with a space in it (prose, not ids or times) gains one at its end."""
    if isinstance(value, dict):
        out = {k: _surrogated(v) for k, v in value.items()}
        out["extra\udc80"] = "odd\ud800"
        return out
    if isinstance(value, list):
        return [_surrogated(v) for v in value]
    if isinstance(value, str) and " " in value:
        return value + "\udbff"
    return value


@pytest.mark.parametrize("out", ["o.parquet", "o.duckdb", "study"])
@pytest.mark.parametrize("platform", sorted(SAMPLES))
def test_lone_surrogates_never_crash_ingest(platform, out, tmp_path, tmp_path_factory):
    replaced = 0
    for src in _files(platform):
        data = src.read_bytes()
        if is_json_lines(data):
            lines = [
                json.dumps(_surrogated(json.loads(ln))) if _parses(ln) else ln.decode()
                for ln in data.splitlines()
            ]
            text = "\n".join(lines)
        else:
            text = json.dumps(_surrogated(json.loads(data)), indent=1)
        assert "\\ud800" in text
        path = tmp_path / src.name
        path.write_text(text, encoding="ascii")
        dest = tmp_path / f"{src.stem}-{out}"
        rep = ingest_files(platform, [path], dest, secret=SECRET)
        base = baseline(platform, src, tmp_path_factory.getbasetemp())
        assert rep.kept == base.report.kept, src.name  # replaced, not rejected
        posts = read_posts(dest)
        replaced += int(posts["text"].str.contains("\ufffd").sum())
        for v in posts["text"]:
            v.encode("utf-8")
    assert replaced > 0  # kept with U+FFFD in place of the surrogates


# ------------------------------------------------------------------- fuzz
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize("platform", [*sorted(SAMPLES), "social-listening"])
@FUZZ
@given(data=st.data())
def test_fuzz_connector(platform, data, tmp_path_factory):
    src = data.draw(st.sampled_from(_files(platform)), label="file")
    m = data.draw(mutation(src.read_bytes()), label="mutation")
    tmp = tmp_path_factory.mktemp(platform)
    check_mutation(platform, src, m, tmp, tmp_path_factory.getbasetemp())
