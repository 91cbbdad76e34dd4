"""``vsdstats.filter.stream`` as library code: ``filter_stream``, ``filter_files`` and the
block reader, without the CLI.

Expected counts come from an independent pass over the synthetic input (``json.loads``
and the exact text check per line), never from what the filter reports.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import vsdstats.filter.stream as stream
from vsdstats.errors import InputError
from vsdstats.filter import DEFAULT_FIELDS
from vsdstats.filter.relevance import RelevanceFilter
from vsdstats.filter.stream import (
    FilterCounts,
    FilterError,
    filter_files,
    filter_stream,
    rejects_path,
)
from vsdstats.tables.codebook import load_codebook

RF = RelevanceFilter.from_codebook(load_codebook())
LLM = ["ChatGPT", "Claude", "Gemini", "chatgpt"]
COND = ["anxiety", "depression", "ADHD", "insomnia", "panic attack"]
PLAIN = ["nice weather", "my cat", "the bus was late", "coffee again"]


def _text(rnd: random.Random) -> str:
    kind = rnd.randrange(4)
    if kind == 0:  # both: relevant
        return f"{rnd.choice(LLM)} helped with my {rnd.choice(COND)} today"
    if kind == 1:
        return f"{rnd.choice(LLM)} wrote {rnd.choice(PLAIN)}"
    if kind == 2:
        return f"my {rnd.choice(COND)} and {rnd.choice(PLAIN)}"
    return rnd.choice(PLAIN)


def _record(rnd: random.Random, i: int) -> dict:
    kind = rnd.randrange(5)
    if kind == 0:
        return {"id": i, "title": _text(rnd), "selftext": _text(rnd)}
    if kind == 1:
        return {"id": i, "record": {"text": _text(rnd)}, "author": "synthuser"}
    if kind == 2:  # no text field: a candidate (both terms elsewhere) or not
        if rnd.random() < 0.5:
            return {"id": i, "subreddit": "ChatGPT", "flair": "anxiety"}
        return {"id": i, "score": 3}
    return {"id": i, "body": _text(rnd)}


def _lines(n: int, seed: int) -> list[bytes]:
    """Synthetic dump lines: records, blank lines, broken JSON and non-objects (with and
    without both term lists, so only some are pre-filter candidates)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        r = rnd.random()
        if r < 0.05:
            out.append(b"")
        elif r < 0.09:
            out.append(f'{{"id": {i}, "body": "ChatGPT and my anxiety", '.encode())
        elif r < 0.11:
            out.append(b'["Claude", "depression"]')
        elif r < 0.14:
            out.append(b"{not json, " + rnd.choice(PLAIN).encode())
        else:
            out.append(json.dumps(_record(rnd, i), ensure_ascii=rnd.random() < 0.5).encode())
    return out


def _reference(lines: list[bytes], fields=DEFAULT_FIELDS) -> tuple[list[bytes], list[int], int]:
    """Kept lines, 1-based reject line numbers and candidates without a text field,
    computed line by line (the input's lines hold both term lists or neither, so a
    candidate of the byte pre-filter is a line that ``match_bytes``)."""
    kept, rejects, no_text = [], [], 0
    for no, line in enumerate(lines, start=1):
        try:
            obj = json.loads(line) if line.strip() else None
        except ValueError:
            obj = ValueError
        if obj is ValueError or (obj is not None and not isinstance(obj, dict)):
            if RF.match_bytes(line):  # a candidate that cannot be read
                rejects.append(no)
            continue
        if obj is None:
            continue
        texts = []
        for f in fields:
            v = obj
            for part in f.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            if isinstance(v, str):
                texts.append(v)
        if texts and RF.match_fields(texts):
            kept.append(line)
        no_text += not texts and RF.match_bytes(line)
    return kept, rejects, no_text


def _engines() -> list[str]:
    return ["re", "hyperscan"] if RF.engine == "hyperscan" else ["re"]


@pytest.mark.parametrize("pipelined", [True, False])
@pytest.mark.parametrize("engine", _engines())
@pytest.mark.parametrize("block", [None, 61, 4096])
def test_filter_stream_reconciles_with_a_line_by_line_count(monkeypatch, engine, block, pipelined):
    if block is not None:
        monkeypatch.setattr(stream, "BLOCK_SIZE", block)  # lines split across reads
    lines = _lines(600, seed=11)
    kept_ref, rejects_ref, no_text_ref = _reference(lines)
    assert kept_ref and rejects_ref and no_text_ref  # the input exercises all three
    written: list[bytes] = []
    c = filter_stream(
        io.BytesIO(b"\n".join(lines) + b"\n"),
        "dump.jsonl",
        written.append,
        RF,
        engine=engine,
        pipelined=pipelined,
    )
    assert b"".join(written).splitlines() == kept_ref
    assert c.read == len(lines)
    assert c.kept == len(kept_ref)
    assert [r.line for r in c.rejects] == rejects_ref
    assert c.rejected == len(rejects_ref)
    assert c.dropped == len(lines) - len(kept_ref) - len(rejects_ref)
    assert c.balanced and not c.damaged
    assert {r.source_file for r in c.rejects} == {"dump.jsonl"}
    assert c.no_text == no_text_ref


def test_small_blocks_really_are_small(monkeypatch):
    """BLOCK_SIZE is read when the stream is read (a patched value takes effect)."""
    data = b"".join(b"line %d\n" % i for i in range(200))
    monkeypatch.setattr(stream, "BLOCK_SIZE", 50)
    blocks = list(stream._blocks(io.BytesIO(data)))
    assert len(blocks) >= len(data) // 50
    assert b"".join(buf[s:e] for buf, s, e, _ in blocks) == data
    assert sum(n for *_, n in blocks) == data.count(b"\n")
    assert all(buf[s:e].endswith(b"\n") for buf, s, e, _ in blocks)


def test_last_line_without_newline_and_fields_option():
    data = b'{"title": "ChatGPT", "body": "my anxiety"}\n{"body": "Claude and my ADHD"}'
    out: list[bytes] = []
    c = filter_stream(io.BytesIO(data), "d", out.append, RF, fields=("body",))
    assert (c.read, c.kept, c.dropped) == (2, 1, 1)
    assert out == [b'{"body": "Claude and my ADHD"}\n']  # the newline is added


def test_counts_accumulate_over_streams_with_per_file_line_numbers():
    lines = _lines(120, seed=5)
    _, rejects_ref, _ = _reference(lines)
    data = b"\n".join(lines) + b"\n"
    c = FilterCounts()
    for name in ("a", "b"):
        filter_stream(io.BytesIO(data), name, lambda b: None, RF, counts=c)
    assert c.read == 2 * len(lines) and c.balanced
    assert [(r.source_file, r.line) for r in c.rejects] == [
        *[("a", n) for n in rejects_ref],
        *[("b", n) for n in rejects_ref],
    ]


def test_a_cut_gzip_keeps_the_lines_before_and_counts_one_reject(tmp_path):
    good = [json.dumps({"body": f"ChatGPT and my anxiety {i}"}).encode() for i in range(50)]
    member = gzip.compress(b"\n".join(good) + b"\n")
    cut = gzip.compress(b"\n".join(good) + b"\n")[:-30]
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(member + cut)
    out = tmp_path / "o.jsonl"
    c = filter_files([path], out, RF)
    assert c.damaged and str(path.name) in c.damaged[0]
    kept = out.read_bytes().splitlines()
    assert kept[: len(good)] == good  # the whole first member
    assert c.read == c.kept + c.dropped + c.rejected
    assert c.rejects[-1].line == c.read  # the damage is the last line read
    assert c.rejected == 1


def test_filter_files_writes_output_and_rejects(tmp_path):
    lines = _lines(200, seed=3)
    kept_ref, rejects_ref, _ = _reference(lines)
    inp = tmp_path / "dump.jsonl"
    inp.write_bytes(b"\n".join(lines) + b"\n")
    for name in ("o.jsonl", "o.jsonl.gz", "o.jsonl.zst"):
        out = tmp_path / "sub" / name
        c = filter_files([inp], out, RF)
        data = out.read_bytes()
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        elif name.endswith(".zst"):
            import zstandard

            data = zstandard.ZstdDecompressor().stream_reader(data).read()
        assert data.splitlines() == kept_ref
        assert not (tmp_path / "sub" / f"{name}.part").exists()
        with rejects_path(out).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [int(r["line"]) for r in rows] == rejects_ref == [r.line for r in c.rejects]
        assert {Path(r["source_file"]).name for r in rows} == {"dump.jsonl"}


def test_filter_files_posts_tables_reconcile(tmp_path):
    rnd = random.Random(2)
    texts = [_text(rnd) for _ in range(80)] + [None] * 5
    df = pd.DataFrame({"post_id": [f"p{i}" for i in range(len(texts))], "text": texts})
    want = [pid for pid, t in zip(df["post_id"], texts, strict=True) if t and RF.match_text(t)]
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    df.iloc[:40].to_csv(a, index=False)
    df.iloc[40:].to_parquet(b, index=False)
    out = tmp_path / "kept.parquet"
    c = filter_files([a, b], out, RF)
    assert list(pd.read_parquet(out)["post_id"]) == want
    assert (c.read, c.kept, c.rejected) == (len(df), len(want), 0)
    assert c.dropped == len(df) - len(want) and c.balanced
    assert c.no_text == 5
    assert not rejects_path(out).exists()


@pytest.mark.parametrize(
    ("inputs", "out", "needle"),
    [
        ([], "o.jsonl", "no input files"),
        (["a.csv", "d.jsonl"], "o.jsonl", "mix posts tables and NDJSON"),
        (["d.jsonl"], "o.parquet", "written as .jsonl"),
        (["missing.jsonl"], "o.jsonl", "missing.jsonl: cannot open"),
        (["words.csv"], "o.csv", "none of the text columns"),
    ],
)
def test_filter_files_refuses_unusable_inputs(tmp_path, inputs, out, needle):
    (tmp_path / "d.jsonl").write_bytes(b'{"body": "x"}\n')
    (tmp_path / "a.csv").write_text("post_id,text\n1,x\n")
    (tmp_path / "words.csv").write_text("post_id,words\n1,x\n")
    with pytest.raises(FilterError, match=needle) as info:
        filter_files([tmp_path / p for p in inputs], tmp_path / out, RF)
    assert isinstance(info.value, InputError)
    assert not (tmp_path / out).exists()


def test_summary_names_every_count():
    c = FilterCounts(read=10, kept=3, dropped=5, rejected=2, no_text=1)
    assert c.balanced
    assert c.summary() == "read 10, kept 3, dropped 5, rejected 2 (1 without a text field)"
    assert not FilterCounts(read=1).balanced


def test_package_face_and_light_cli_import():
    import vsdstats.filter as f

    assert f.filter_files is filter_files and f.FilterError is FilterError
    assert f.RelevanceFilter is RelevanceFilter
    probe = (
        "import sys, vsdstats.cli.filter, vsdstats.cli.validate; "
        "print([m for m in ('pandas', 'numpy', 'pyarrow', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("threaded", [True, False])
@pytest.mark.parametrize("kind", ["zst", "gz"])
def test_compressed_pieces_split_lines_and_keep_every_one(tmp_path, kind, threaded):
    """The decoder's own pieces (about 64 KiB here) cut lines anywhere; several frames
    (members) follow each other; the blocks still hold every line once, whole and in
    order, and a cut file gives the lines before the damage, then TruncatedInput."""
    import zstandard

    from vsdstats.connectors.io import TruncatedInput, open_source

    rng = random.Random(5)
    lines = [b"x" * rng.randrange(0, 3000) + b" %d" % i for i in range(900)]
    data = b"\n".join(lines) + b"\n"
    cuts = [0, len(data) // 3, len(data) // 2, len(data)]
    parts = [data[a:b] for a, b in itertools.pairwise(cuts)]
    if kind == "zst":
        blob = b"".join(zstandard.ZstdCompressor(level=1).compress(p) for p in parts)
    else:
        blob = b"".join(gzip.compress(p, compresslevel=1) for p in parts)
    path = tmp_path / f"d.jsonl.{kind}"
    path.write_bytes(blob)
    _, s = open_source(path)
    with s:
        blocks = list(stream._blocks(s, size=1 << 16, threaded=threaded))
    assert len(blocks) > 10  # many pieces, so many lines straddle two of them
    assert b"".join(buf[a:b] for buf, a, b, _ in blocks) == data
    assert sum(n for *_, n in blocks) == len(lines)
    path.write_bytes(blob[: len(blob) - 50])  # cut inside the last frame
    _, s = open_source(path)
    got: list[bytes] = []
    with s, pytest.raises(TruncatedInput):
        for buf, a, b, _ in stream._blocks(s, size=1 << 16, threaded=threaded):
            got.append(buf[a:b])
    joined = b"".join(got)
    assert joined.endswith(b"\n") and data.startswith(joined)
    assert len(joined) >= cuts[2]  # the two whole frames before the damage came through


def test_gzip_members_larger_than_one_decoder_call_are_read_once(tmp_path):
    """A member whose output needs several output-limited calls ends with its leftover
    input in both ``unconsumed_tail`` and ``unused_data``: it is read once, not twice."""
    from vsdstats.connectors.io import open_source

    # 12 MB from 7 KB: one 16 KiB feed decodes to more than the 4 MiB output limit
    part = b"".join(b'{"body": "%s %d"}\n' % (b"x" * 60_000, i) for i in range(200))
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(part, 9) + gzip.compress(part[:-7], 9))
    _, s = open_source(path)
    with s:
        assert s.read() == part + part[:-7]
