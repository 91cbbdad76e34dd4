"""The connector building blocks in vsdstats.connector_kit (and the ``live_module``
delegation of vsdstats.platforms.Connector.collect)."""

from __future__ import annotations

import gzip
import io
import sys
import types

import pytest

from vsdstats.connector_kit import (
    check_format,
    convert_or_reason,
    not_an_object,
    peek,
    read_guarded,
    require_str,
    snscrape_class,
    snscrape_records,
    some_keys,
)
from vsdstats.platforms import Connector, Reject


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
    with pytest.raises(NotImplementedError, match=r"^dead: live collection is not supported$"):
        Dead().collect("q")
