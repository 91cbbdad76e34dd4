"""``vsdstats filter`` on synthetic NDJSON (.jsonl, .zst) dumps and posts tables."""

from __future__ import annotations

import csv
import json
import platform
from pathlib import Path

import pandas as pd
import pytest
import zstandard
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.filter.relevance import RelevanceFilter
from vsdstats.filter.stream import filter_files
from vsdstats.tables.codebook import load_codebook

# (line, kept?) -- line numbers are 1-based positions in this list
LINES: list[tuple[bytes, bool]] = [
    (json.dumps({"id": "a", "body": "ChatGPT got me through a panic attack"}).encode(), True),
    (json.dumps({"id": "b", "body": "Nice weather today"}).encode(), False),
    (json.dumps({"id": "c", "title": "Claude\u2019s take", "selftext": "my ADHD"}).encode(), True),
    (b"", False),  # blank line: read and dropped
    (b'{"id": "d", "body": "ChatGPT and my anxiety", ', False),  # truncated candidate: rejected
    (b"not json at all", False),  # not a candidate: dropped without parsing
    (json.dumps({"id": "e", "body": "ChatGPT\nADHD"}, ensure_ascii=False).encode(), True),
    (json.dumps({"id": "f", "subreddit": "ChatGPT", "body": "my anxiety"}).encode(), False),
    (b'["ChatGPT", "anxiety"]', False),  # candidate but not an object: rejected
    (json.dumps({"id": "g", "body": "added to my address via chatgpt"}).encode(), False),
    (b'{"id": "h", "body": "Gemini helps my \\u00e9 depression \\ud83d\\ude00"}', True),
]
KEPT = [ln for ln, k in LINES if k]


def _dump(path: Path) -> Path:
    data = b"\n".join(ln for ln, _ in LINES) + b"\n"
    if path.suffix == ".zst":
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27, enable_ldm=True)
        data = zstandard.ZstdCompressor(compression_params=params).compress(data)
    path.write_bytes(data)
    return path


def _read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    return data.splitlines()


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["filter", *args])
    return res.exit_code, res.output


@pytest.mark.parametrize(("src", "dst"), [("d.jsonl", "o.jsonl"), ("d.zst", "o.jsonl.zst")])
def test_filter_ndjson_dump(tmp_path: Path, src: str, dst: str) -> None:
    inp, out = _dump(tmp_path / src), tmp_path / dst
    code, output = _run(str(inp), "--out", str(out))
    assert code == 0, output
    assert _read_lines(out) == KEPT
    assert "read 11, kept 4, dropped 5, rejected 2" in output
    with open(f"{out}.rejects.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(Path(r["source_file"]).name, int(r["line"])) for r in rows] == [(src, 5), (src, 9)]
    assert rows[0]["reason"].startswith("not JSON") and "not a JSON object" in rows[1]["reason"]


@pytest.mark.parametrize("engine", ["re", "hyperscan"])
def test_filter_api_counts_reconcile(tmp_path: Path, engine: str) -> None:
    rf = RelevanceFilter.from_codebook(load_codebook())
    if engine == "hyperscan" and rf.engine != "hyperscan":
        # hyperscan is a dependency on x86-64 only: missing there is a failure
        if platform.machine() in ("x86_64", "AMD64"):
            pytest.fail("hyperscan should be installed on x86-64 (see pyproject.toml)")
        pytest.skip("hyperscan has no wheels for this platform")
    inp = _dump(tmp_path / "d.jsonl")
    counts = filter_files([inp, inp], tmp_path / "o.jsonl", rf, engine=engine)
    assert (counts.read, counts.kept, counts.rejected) == (22, 8, 4)
    assert counts.balanced
    assert [r.line for r in counts.rejects] == [5, 9, 5, 9]


def test_filter_field_option_and_big_blocks(tmp_path: Path, monkeypatch) -> None:
    import vsdstats.filter.stream as f

    monkeypatch.setattr(f, "BLOCK_SIZE", 64)  # many blocks, lines split across reads
    inp = _dump(tmp_path / "d.jsonl")
    out = tmp_path / "o.jsonl"
    code, output = _run(str(inp), "-o", str(out), "--field", "body")
    assert code == 0, output
    assert _read_lines(out) == [KEPT[0], KEPT[2], KEPT[3]]  # the title/selftext post is gone
    assert "rejected 2" in output


def test_filter_posts_tables(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3", "p4"],
            "text": ["Claude eased my insomnia", "ChatGPT wrote code", None, "OCD and Gemini"],
        }
    )
    for ext in (".csv", ".parquet"):
        inp, out = tmp_path / f"posts{ext}", tmp_path / f"kept{ext}"
        df.to_csv(inp, index=False) if ext == ".csv" else df.to_parquet(inp, index=False)
        code, output = _run(str(inp), "--out", str(out))
        assert code == 0, output
        kept = pd.read_csv(out) if ext == ".csv" else pd.read_parquet(out)
        assert list(kept["post_id"]) == ["p1", "p4"]
        assert "read 4, kept 2, dropped 2, rejected 0" in output


def test_filter_table_without_text_column(tmp_path: Path) -> None:
    inp = tmp_path / "posts.csv"
    pd.DataFrame({"post_id": ["p1"], "words": ["x"]}).to_csv(inp, index=False)
    code, output = _run(str(inp), "--out", str(tmp_path / "o.csv"))
    assert code != 0 and "posts.csv" in output and "words" in output


def test_export_and_use_terms(tmp_path: Path) -> None:
    terms = tmp_path / "terms.toml"
    code, output = _run("--export-terms", str(terms))
    assert code == 0, output
    text = terms.read_text()
    assert "replace = true" in text and '"ChatGPT",' in text
    terms.write_text(text.replace('"Chai",', '"Chai",\n  "Sunnybot",'))
    inp = tmp_path / "d.jsonl"
    inp.write_text(json.dumps({"body": "Sunnybot and my anxiety"}) + "\n")
    out = tmp_path / "o.jsonl"
    assert _run(str(inp), "-o", str(out))[0] == 0
    assert _read_lines(out) == []
    code, output = _run(str(inp), "-o", str(out), "--terms", str(terms), "--force")
    assert code == 0, output
    assert len(_read_lines(out)) == 1


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[llm]\nterms = "ChatGPT"\n')
    inp = _dump(tmp_path / "d.jsonl")
    code, output = _run(str(inp), "-o", str(tmp_path / "o.jsonl"), "--terms", str(bad))
    assert code != 0 and "bad.toml" in output and "`llm.terms`" in output
    code, output = _run(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl"))
    assert code != 0 and "missing.jsonl" in output
    (tmp_path / "exists.jsonl").write_text("")
    code, output = _run(str(inp), "-o", str(tmp_path / "exists.jsonl"))
    assert code != 0 and "--force" in output


def _tweet(i: int, text: str) -> dict[str, str]:
    return {"id": str(1000 + i), "text": text, "author_id": str(500 + i)}


def test_x_api_v2_pages_are_read_as_their_tweets(tmp_path: Path) -> None:
    """issue 8 item 16: a page line holding many tweets is not 'without a text field'."""
    hit, miss = "ChatGPT eased my anxiety", "ChatGPT wrote my shopping list"
    users = {"users": [{"id": "501", "username": "synthuser1"}]}
    mixed = {"data": [_tweet(1, miss), _tweet(2, hit), _tweet(3, "my anxiety")], "includes": users}
    none = {"data": [_tweet(4, miss), _tweet(5, "anxiety today")], "meta": {"result_count": 2}}
    every = {"data": [_tweet(6, hit), _tweet(7, "Claude and my depression")]}
    single = {"data": _tweet(8, hit), "includes": users}  # a one-tweet lookup response
    lines = [json.dumps(p).encode() for p in (mixed, none, every, single)]
    inp = tmp_path / "pages.jsonl"
    inp.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "o.jsonl"
    code, output = _run(str(inp), "--out", str(out))
    assert code == 0, output
    got = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert got == [{**mixed, "data": [mixed["data"][1]]}, every, single]
    assert out.read_bytes().splitlines()[1:] == lines[2:]  # whole matches stay byte for byte
    assert "read 4, kept 3, dropped 1, rejected 0" in output
    assert "without a text field" not in output
    assert "3 X API page lines read as their 7 tweets, 3 of them kept" in output


def test_a_byte_order_mark_is_not_written(tmp_path: Path) -> None:
    inp, out = tmp_path / "bom.jsonl", tmp_path / "o.jsonl"
    inp.write_bytes(b"\xef\xbb\xbf" + b"\n".join(ln for ln, _ in LINES) + b"\n")
    code, output = _run(str(inp), "--out", str(out))
    assert code == 0, output
    assert _read_lines(out) == KEPT  # the first kept line without its BOM
    assert "read 11, kept 4, dropped 5, rejected 2" in output
