"""Truncated or corrupt .zst/.gz input (issue 8 item 2): an error naming the file and the
byte offset, counted as a reject, ``--strict`` fails, and what came before is kept.

Inputs are synthetic: several real zstd frames (gzip members) made by the libraries,
the last one cut.  The good lines are counted from the uncompressed data, not from
what vsdstats reports.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.cli import main
from vsdstats.connectors.io import TruncatedInput, open_source, read_prefix
from vsdstats.connectors.manager import connectors
from vsdstats.filter.stream import filter_files

SECRET = bytes(range(7, 39))
ZSTD_BLOCK = 128 * 1024  # a frame this small is one block: cut, it decodes to nothing


def comment(i: int) -> bytes:
    """A synthetic Pushshift-style comment line (every 3rd one is relevant)."""
    body = f"comment {i}: " + ("ChatGPT helps my anxiety" if i % 3 == 0 else "nice weather")
    rec = {
        "id": f"c{i:05d}",
        "body": body,
        "author": f"synthuser{i % 5}",
        "created_utc": 1_700_000_000 + i,
        "subreddit": "synthetic",
        "link_id": "t3_abc",
        "parent_id": "t3_abc",
    }
    return json.dumps(rec).encode() + b"\n"


def post_view(i: int) -> bytes:
    """A synthetic Bluesky getPosts page of one post view, as one JSON line."""
    rec = {
        "uri": f"at://did:plc:synthetic000000000000000/app.bsky.feed.post/3kabc{i:05d}",
        "cid": f"bafysynthetic{i:06d}",
        "author": {"did": "did:plc:synthetic000000000000000", "handle": "someone.example"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": f"post {i} ChatGPT and anxiety",
            "createdAt": "2024-05-06T07:08:09.123Z",
        },
    }
    return json.dumps({"posts": [rec]}).encode() + b"\n"


def zst_frames(chunks: list[bytes]) -> list[bytes]:
    """Each chunk compressed as its own zstd frame (with a checksum)."""
    cctx = zstandard.ZstdCompressor(level=3, write_checksum=True)
    return [cctx.compress(c) for c in chunks]


def lines_of(chunks: list[bytes]) -> int:
    return sum(c.count(b"\n") for c in chunks)


def complete_lines(data: bytes) -> bytes:
    return data[: data.rfind(b"\n") + 1]


def drain_lines(stream: io.BufferedIOBase) -> tuple[list[bytes], TruncatedInput | None]:
    got: list[bytes] = []
    try:
        for line in stream:
            got.append(line)
    except TruncatedInput as exc:
        return got, exc
    return got, None


# ------------------------------------------------------------- open_source
@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=4),
    cut=st.floats(0.0, 1.0, exclude_max=True),
)
def test_multi_frame_zst_cut_in_last_frame(tmp_path_factory, sizes: list[int], cut: float) -> None:
    lines = [comment(i) for i in range(sum(sizes))]
    chunks, k = [], 0
    for n in sizes:
        chunks.append(b"".join(lines[k : k + n]))
        k += n
    frames = zst_frames(chunks)
    last = frames[-1]
    # cut inside the frame (at its start the file would just hold fewer whole frames)
    # and before its checksum, so that its one block is incomplete
    keep = 1 + int(cut * (len(last) - 5))
    data = b"".join(frames[:-1]) + last[:keep]
    path = tmp_path_factory.mktemp("z") / "dump.jsonl.zst"
    path.write_bytes(data)
    expected = b"".join(chunks[:-1])  # the frames before the cut one, counted directly
    assert len(chunks[-1]) < ZSTD_BLOCK
    name, stream = open_source(path)
    with stream:
        got, err = read_prefix(stream)
    assert got == expected
    assert isinstance(err, TruncatedInput) and err.file == str(path) == name
    assert err.offset == len(data) and f"byte {len(data)}" in err.detail
    assert "truncated" in err.detail
    name, stream = open_source(path)
    with stream:
        seen, err = drain_lines(stream)
    assert b"".join(seen) == expected and isinstance(err, TruncatedInput)


def test_zst_cut_in_checksum_and_clean_multi_frame(tmp_path: Path) -> None:
    chunks = [b"".join(comment(i) for i in range(k, k + 10)) for k in (0, 10, 20)]
    frames = zst_frames(chunks)
    whole = tmp_path / "whole.zst"
    whole.write_bytes(b"".join(frames))
    _, stream = open_source(whole)
    with stream:
        assert read_prefix(stream) == (b"".join(chunks), None)
    cut = tmp_path / "cut.zst"
    cut.write_bytes(b"".join(frames)[:-2])  # all data there, the last checksum cut
    _, stream = open_source(cut)
    with stream:
        got, err = read_prefix(stream)
    assert isinstance(err, TruncatedInput)
    assert got.count(b"\n") >= lines_of(chunks[:-1]) and b"".join(chunks).startswith(got)


@given(n=st.integers(1, 300), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_gzip_cut_anywhere_keeps_the_decodable_prefix(tmp_path_factory, n: int, cut: float) -> None:
    raw = b"".join(comment(i) for i in range(n))
    packed = gzip.compress(raw)
    data = packed[: int(cut * len(packed))]
    path = tmp_path_factory.mktemp("g") / "dump.jsonl.gz"
    path.write_bytes(data)
    # what zlib itself decodes from the cut bytes, cut to whole lines
    expected = complete_lines(zlib.decompressobj(31).decompress(data)) if data else b""
    _, stream = open_source(path)
    with stream:
        got, err = read_prefix(stream)
    assert got == expected
    if not data:
        assert err is None  # an empty file is empty, not damaged
    else:
        assert isinstance(err, TruncatedInput) and err.offset == len(data)


def test_gzip_second_member_cut_and_corrupt_streams(tmp_path: Path) -> None:
    first = b"".join(comment(i) for i in range(50))
    second = b"".join(comment(i) for i in range(50, 100))
    two = gzip.compress(first) + gzip.compress(second)
    path = tmp_path / "two.gz"
    path.write_bytes(two + b"\0\0\0")  # zero padding after the last member is fine
    _, stream = open_source(path)
    with stream:
        assert read_prefix(stream) == (first + second, None)
    path.write_bytes(two[:-20])
    _, stream = open_source(path)
    with stream:
        got, err = read_prefix(stream)
    assert got.startswith(first) and (first + second).startswith(got)
    assert isinstance(err, TruncatedInput) and err.offset == len(two) - 20
    assert f"member starting at byte {len(gzip.compress(first))}" in err.detail
    for name, data in [
        ("junk.gz", two + b"trailing junk"),
        ("junk.zst", b"".join(zst_frames([first, second])) + b"trailing junk"),
        ("not.zst", b"this is not zstd at all\n"),
    ]:
        p = tmp_path / name
        p.write_bytes(data)
        _, stream = open_source(p)
        with stream:
            got, err = read_prefix(stream)
        assert isinstance(err, TruncatedInput) and "corrupt" in err.detail, name
        assert got == (b"" if name == "not.zst" else first + second)


# ------------------------------------------------------------------ ingest
def _need(platform: str) -> None:
    if platform not in connectors():
        pytest.fail(f"the vsdstats-{platform} plugin is not installed")


def _rejects(study: Path) -> list[dict[str, str]]:
    with open(study / "rejects.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _ingest(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["ingest", *args])
    return res.exit_code, res.output


def _cut_reddit_dump(tmp_path: Path) -> tuple[Path, int]:
    """A 3-frame .zst of synthetic comments whose last frame is cut; the number of
    comments in the two whole frames."""
    chunks = [b"".join(comment(i) for i in range(k, k + 40)) for k in (0, 40, 80)]
    frames = zst_frames(chunks)
    data = b"".join(frames)[: -len(frames[-1]) // 2]
    path = tmp_path / "RC_synthetic.jsonl.zst"
    path.write_bytes(data)
    return path, lines_of(chunks[:-1])


def test_ingest_cut_zst_is_a_counted_reject_and_strict_fails(tmp_path: Path) -> None:
    _need("reddit")
    path, good = _cut_reddit_dump(tmp_path)
    size = path.stat().st_size
    secret = tmp_path / "secret.key"
    secret.write_bytes(SECRET)
    study = tmp_path / "study"
    code, out = _ingest("reddit", str(path), "-o", str(study), "--secret-file", str(secret))
    assert code == 0, out
    report = json.loads((study / "ingest_report.json").read_text())["runs"][0]["totals"]
    assert report["kept"] == good and report["rejected"] == 1
    assert report["read"] == good + 1
    (row,) = _rejects(study)
    assert "truncated" in row["reason"] and f"byte {size}" in row["reason"]
    assert int(row["line"]) == good + 1
    code, out = _ingest(
        "reddit", str(path), "-o", str(tmp_path / "s2"), "--secret-file", str(secret), "--strict"
    )
    assert code == 1 and "--strict" in out and "1 record(s) rejected" in out


def test_ingest_cut_gzip_json_lines_keeps_good_lines(tmp_path: Path) -> None:
    """read_json_records (bluesky, mastodon, youtube, tiktok) used to lose everything."""
    _need("bluesky")
    from vsdstats.ingest.pipeline import ingest_files

    raw = b"".join(post_view(i) for i in range(200))
    packed = gzip.compress(raw)
    data = packed[: len(packed) * 2 // 3]
    path = tmp_path / "posts.jsonl.gz"
    path.write_bytes(data)
    good = complete_lines(zlib.decompressobj(31).decompress(data)).count(b"\n")
    assert 0 < good < 200
    rep = ingest_files("bluesky", [path], tmp_path / "s", secret=SECRET)
    assert (rep.read, rep.kept, rep.rejected) == (good + 1, good, 1)
    (row,) = _rejects(tmp_path / "s")
    assert "truncated" in row["reason"] and f"byte {len(data)}" in row["reason"]


# ------------------------------------------------------------------ filter
def test_filter_cut_zst_and_gzip_keep_the_prefix_and_fail(tmp_path: Path) -> None:
    from vsdstats.filter.relevance import RelevanceFilter
    from vsdstats.tables.codebook import load_codebook

    rf = RelevanceFilter.from_codebook(load_codebook())
    zst, good = _cut_reddit_dump(tmp_path)
    raw = b"".join(comment(i) for i in range(300))
    packed = gzip.compress(raw)
    gz = tmp_path / "RC_synthetic.jsonl.gz"
    gz.write_bytes(packed[: len(packed) // 2])
    gz_prefix = complete_lines(zlib.decompressobj(31).decompress(gz.read_bytes()))
    zst_prefix = b"".join(comment(i) for i in range(good))
    for path, prefix in [(zst, zst_prefix), (gz, gz_prefix)]:
        plain = tmp_path / f"prefix{path.suffix}.jsonl"
        plain.write_bytes(prefix)
        ref = filter_files([plain], tmp_path / f"ref{path.suffix}.jsonl", rf)
        out = tmp_path / f"out{path.suffix}.jsonl"
        res = CliRunner().invoke(main, ["filter", str(path), "--out", str(out)])
        assert res.exit_code == 1, res.output
        size = path.stat().st_size
        assert str(path) in res.output and f"byte {size}" in res.output
        assert "Traceback" not in res.output
        assert out.read_bytes() == (tmp_path / f"ref{path.suffix}.jsonl").read_bytes()
        assert ref.kept > 0 and f"read {ref.read + 1}, kept {ref.kept}" in res.output
        with open(f"{out}.rejects.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [int(r["line"]) for r in rows] == [prefix.count(b"\n") + 1]
        assert "truncated" in rows[0]["reason"] and f"byte {size}" in rows[0]["reason"]
