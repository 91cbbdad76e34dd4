"""The connector building blocks in vsdstats.connectors (and the ``live_module``
delegation of vsdstats.connectors.base.Connector.collect)."""

from __future__ import annotations

import gzip
import io
import json
import sys
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.connectors.base import Connector
from vsdstats.connectors.fields import (
    check_format,
    convert_or_reason,
    not_an_object,
    require_str,
    some_keys,
)
from vsdstats.connectors.guarded import peek, read_guarded
from vsdstats.connectors.readers import iter_json_lines, iter_json_values
from vsdstats.connectors.records import Reject
from vsdstats.connectors.snscrape_live import snscrape_class, snscrape_records


def test_read_guarded_passes_records_and_turns_errors_into_a_reject(tmp_path):
    def read(name, stream):
        yield Reject(name, 1, stream.readline().decode().strip())
        raise EOFError("cut")

    path = tmp_path / "f.txt.gz"
    path.write_bytes(gzip.compress(b"first\nsecond\n"))
    assert list(read_guarded(path, read)) == [
        Reject(str(path), 1, "first"),
        Reject(str(path), 0, "could not read: EOFError: cut"),
    ]
    stream = io.BytesIO(b"mine\n")
    list(read_guarded(stream, read))
    assert not stream.closed  # a stream passed in is the caller's to close


def test_peek_gives_back_the_head():
    stream = io.BytesIO(b"0123456789" * 3)
    head, rest = peek(stream, 4)
    assert head == b"0123" and rest.read() == b"0123456789" * 3
    head, rest = peek(io.BytesIO(b"ab"))
    assert head == b"ab" and list(rest) == [b"ab"]


def test_reasons_and_checks():
    class C(Connector):
        name, formats = "demo", ("a", "b")

    check_format(C(), None)
    check_format(C(), "b")
    with pytest.raises(ValueError, match=r"^demo: unknown format 'c'; known: \('a', 'b'\)$"):
        check_format(C(), "c")
    assert not_an_object("post", [1]) == "post is a JSON list, expected an object"
    assert some_keys({"z": 1, 2: 0, "a": 1, "b": 1, "c": 1, "d": 1, "e": 1}) == "2, a, b, c, d, e"
    assert require_str("x", "text") == "x"
    with pytest.raises(TypeError, match=r"^text must be a string, got int$"):
        require_str(5, "text")


def test_convert_or_reason():
    assert convert_or_reason(lambda d: d["k"], {"k": 1}) == 1
    assert convert_or_reason(lambda d: d["k"], {}) == "bad record: missing field 'k'"
    assert convert_or_reason(int, "x", what="post").startswith("bad post: invalid literal")
    with pytest.raises(AttributeError):
        convert_or_reason(lambda: None.x)
    assert convert_or_reason(lambda: None.x, errors=(AttributeError,)).startswith("bad record:")


def test_snscrape_helpers(monkeypatch):
    fake = types.ModuleType("snscrape.modules.demo")
    fake.Search = lambda q: types.SimpleNamespace(get_items=lambda: iter([q, q + "!", q + "?"]))
    monkeypatch.setitem(sys.modules, "snscrape.modules.demo", fake)
    search = snscrape_class("demo", "Search", "Demo")
    out = snscrape_records(search("q"), lambda item, i: Reject("s", i, item), 2, "f", "w")
    assert list(out) == [Reject("s", 1, "q"), Reject("s", 2, "q!")]
    broken = types.SimpleNamespace(get_items=lambda: iter([1 / 0]))
    with pytest.raises(RuntimeError, match=r"^failed \(ZeroDivisionError: .*\); why$"):
        list(snscrape_records(broken, lambda item, i: item, None, "failed", "why"))
    monkeypatch.setitem(sys.modules, "snscrape.modules.nothing", None)
    with pytest.raises(RuntimeError, match=r"^live Nothing collection needs a working snscrape"):
        snscrape_class("nothing", "Search", "Nothing")


def test_collect_is_handed_to_live_module(monkeypatch):
    live = types.ModuleType("demo_live_module")
    live.collect = lambda query, since=None, until=None, limit=None: iter([(query, limit)])
    monkeypatch.setitem(sys.modules, "demo_live_module", live)

    class Live(Connector):
        name, can_collect, live_module = "live", True, "demo_live_module"

    class Dead(Connector):
        name = "dead"

    assert list(Live().collect("q", limit=3)) == [("q", 3)]
    with pytest.raises(
        NotImplementedError, match=r"^dead: live collection is not implemented yet$"
    ):
        Dead().collect("q")


# ------------------------------------------------- bad first lines, BOMs, surrogates
BOM = b"\xef\xbb\xbf"
GOOD = [{"id": str(i), "text": f"post {i}"} for i in range(1, 6)]
GOOD_LINES = b"".join(json.dumps(g).encode() + b"\n" for g in GOOD)


@given(cut=st.integers(1, len(json.dumps(GOOD[0])) - 1), bom=st.booleans())
def test_json_lines_are_read_past_a_truncated_first_line(cut, bom):
    data = (BOM if bom else b"") + json.dumps(GOOD[0]).encode()[:cut] + b"\n" + GOOD_LINES
    items = list(iter_json_values(io.BytesIO(data), "f.jsonl"))
    assert isinstance(items[0], Reject) and items[0].line == 1
    assert items[1:] == [(i + 2, g) for i, g in enumerate(GOOD)]


@pytest.mark.parametrize(
    "data",
    [BOM + GOOD_LINES, BOM + json.dumps(GOOD, indent=2).encode(), BOM + b"\n" + GOOD_LINES],
    ids=["lines", "document", "bom-line"],
)
def test_a_byte_order_mark_is_stripped(data):
    items = [v for _, v in iter_json_values(io.BytesIO(data), "f.json")]
    assert items in (GOOD, [GOOD])
    if b"\n\n" not in data[:8] and data.count(b"\n") == len(GOOD):
        lines = list(iter_json_lines(io.BytesIO(data), "f.jsonl"))
        assert [v for _, v in lines] == GOOD


def test_a_bad_line_before_a_document_loses_only_that_line():
    doc = json.dumps({"posts": GOOD}, indent=2).encode()
    items = list(iter_json_values(io.BytesIO(b'{"posts": [\n' + doc), "f.json"))
    assert isinstance(items[0], Reject) and items[0].line == 1
    assert items[1:] == [(2, {"posts": GOOD})]


def test_a_broken_document_is_one_reject():
    doc = json.dumps({"posts": GOOD}, indent=2).encode()
    items = list(iter_json_values(io.BytesIO(doc[: len(doc) // 2]), "f.json"))
    assert len(items) == 1 and isinstance(items[0], Reject)


@given(
    surrogate=st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}"),
    where=st.sampled_from(["key", "value", "nested"]),
    document=st.booleans(),
)
def test_lone_surrogates_become_replacement_characters(surrogate, where, document):
    rec = {
        "key": f'{{"a{surrogate}b": "x"}}',
        "value": f'{{"a": "x{surrogate}"}}',
        "nested": f'{{"a": [{{"b": {{"c{surrogate}": ["{surrogate}"]}}}}]}}',
    }[where]
    data = (rec if document else f"{rec}\n{rec}\n").encode()
    values = [v for _, v in iter_json_values(io.BytesIO(data), "f.json")]
    assert values and all(v == values[0] for v in values)
    text = json.dumps(values, ensure_ascii=False)
    text.encode("utf-8")  # no lone surrogate is left
    assert "\ufffd" in text


def test_surrogate_pairs_are_kept():
    data = b'{"t": "\\ud83d\\ude00 ok"}'
    assert list(iter_json_values(io.BytesIO(data), "f.json")) == [(1, {"t": "\U0001f600 ok"})]


# ------------------------------------------- a BOM in TOML and table files (item 1)
def test_toml_files_with_a_bom_load(tmp_path):
    from vsdstats.filter.terms import codebook_terms, load_term_file
    from vsdstats.paper.config import _load_toml
    from vsdstats.tables.codebook import default_codebook_path, load_codebook

    book = tmp_path / "codebook.toml"
    book.write_bytes(BOM + default_codebook_path().read_bytes())
    cb = load_codebook(book)
    assert cb.dimensions == load_codebook().dimensions
    terms = tmp_path / "terms.toml"
    terms.write_bytes(BOM + b'[llm]\nterms = ["synthbot"]\n')
    assert "synthbot" in load_term_file(terms, codebook_terms(cb)).llm
    assert _load_toml(terms) == {"llm": {"terms": ["synthbot"]}}


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".ndjson"])
def test_tables_with_a_bom_read_their_first_column(tmp_path, suffix):
    from vsdstats.tables.io import read_table

    body = {
        ".csv": b"post_id,label\np1,a\np2,b\n",
        ".tsv": b"post_id\tlabel\np1\ta\np2\tb\n",
        ".jsonl": b'{"post_id": "p1", "label": "a"}\n{"post_id": "p2", "label": "b"}\n',
    }
    path = tmp_path / f"t{suffix}"
    path.write_bytes(BOM + body.get(suffix, body[".jsonl"]))
    df = read_table(path)
    assert list(df.columns) == ["post_id", "label"]
    assert list(df["post_id"]) == ["p1", "p2"]


def test_good_lines_after_mostly_bad_ones_are_read():
    bad = b"".join(b'{"id": "%d", "te\n' % i for i in range(15))
    items = list(iter_json_values(io.BytesIO(bad + GOOD_LINES), "f.jsonl"))
    assert [i.line for i in items if isinstance(i, Reject)] == list(range(1, 16))
    assert [v for v in items if not isinstance(v, Reject)] == [
        (16 + i, g) for i, g in enumerate(GOOD)
    ]


@pytest.mark.parametrize("data", [b"{\n{\n", b'{"a": 1\n[2,\n{"b"\n'])
def test_cut_json_lines_count_each_line(data):
    items = list(iter_json_values(io.BytesIO(data), "f.jsonl"))
    assert [i.line for i in items if isinstance(i, Reject)] == [1, 2, 3][: data.count(b"\n")]
