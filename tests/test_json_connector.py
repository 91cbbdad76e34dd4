"""The JsonConnector base (a ``formats`` table and ``parse_value``), the
``connector_plugin`` hook helper and ``dist_version``, on synthetic records."""

from __future__ import annotations

import io
import json
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

import pytest

from vsdstats.connectors import (
    JsonConnector,
    JsonFormat,
    RawPost,
    Reject,
    connector_plugin,
    connectors,
    dist_version,
    parse_time,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _post(obj, file):
    return RawPost("demo", str(obj["id"]), parse_time(obj["t"], field="t"), obj["text"])


class Demo(JsonConnector):
    name = "demojson"
    formats = (
        JsonFormat("demo-api", head=(b'"demo#page"',), parser="parse_page"),
        JsonFormat("demo-lines", head=((b'"id"', b'"t"'),)),
    )

    def parse_value(self, value, file):
        if not isinstance(value, dict) or "id" not in value:
            yield "not a demo record"
        else:
            yield _post(value, file)

    def parse_page(self, value, file):
        for obj in value.get("items", []):
            yield from self.parse_value(obj, file)


def _stream(data: bytes, name: str = "mem.json") -> io.BytesIO:
    s = io.BytesIO(data)
    s.name = name
    return s


def _line(i, text="synthetic"):
    return json.dumps({"id": i, "t": 1_700_000_000 + i, "text": text})


def test_the_table_becomes_format_names_and_sniffs_in_order():
    assert Demo.formats == ("demo-api", "demo-lines")
    assert set(Demo.format_table) == set(Demo.formats)
    d = Demo()
    assert d.sniff(b'{"kind": "demo#page", "id": 1, "t": 2}') == "demo-api"
    assert d.sniff(b'{"id": 1, "t": 2}\n') == "demo-lines"
    assert d.sniff(b'{"id": 1}\n') is None

    class Reordered(Demo):
        sniff_order = ("demo-lines", "demo-api")

    assert Reordered().sniff(b'{"kind": "demo#page", "id": 1, "t": 2}') == "demo-lines"
    assert Reordered.formats == Demo.formats
    with pytest.raises(TypeError, match="unknown formats"):
        type("Bad", (Demo,), {"sniff_order": ("nope",)})
    with pytest.raises(TypeError, match="mixes"):
        type("Mixed", (JsonConnector,), {"formats": (JsonFormat("a"), "b")})


def test_records_mode_reads_bom_bad_lines_and_duplicates():
    data = b"\xef\xbb\xbf" + "\n".join([_line(1), "{cut", _line(2), _line(1), "[1]"]).encode()
    out = list(Demo().read(_stream(data)))
    assert [(type(r).__name__, getattr(r, "source_line", None) or r.line) for r in out] == [
        ("RawPost", 1),
        ("Reject", 2),
        ("RawPost", 3),
        ("Reject", 4),
        ("Reject", 5),
    ]
    assert out[0].created_at == datetime.fromtimestamp(1_700_000_001, tz=timezone.utc)
    assert out[3].reason == "duplicate post id (first at record 1)"
    assert out[4].reason == "not a demo record"
    page = json.dumps({"kind": "demo#page", "items": [json.loads(_line(5)), json.loads(_line(6))]})
    posts = list(Demo().read(_stream(page.encode()), format="demo-api"))
    assert [(p.post_id, p.source_line) for p in posts] == [("5", 1), ("6", 2)]
    with pytest.raises(ValueError, match="unknown format 'x'"):
        Demo().read(_stream(b""), format="x")


class Mixed(JsonConnector):
    name = "demomixed"
    formats = (
        JsonFormat("a", match=lambda v: isinstance(v, dict) and "a" in v, parser="parse_a"),
        JsonFormat("b", match=lambda v: isinstance(v, dict) and "b" in v, lines=True),
    )
    read_mode = "values"
    mixed_formats = True

    def parse_a(self, value, file):
        file.state["n"] = file.state.get("n", 0) + 1
        yield f"a number {file.state['n']}"

    def parse_value(self, value, file):
        yield Reject(file.name, file.line, "b")


def test_values_mode_classifies_each_value():
    data = b'{"a": 1}\n{"b": 1}\n[2]\n{"a": 2}\n'
    out = list(Mixed().read(_stream(data)))
    assert [(r.line, r.reason) for r in out] == [
        (1, "a number 1"),
        (2, "b"),
        (3, "not demomixed data: a JSON list of no known format"),
        (4, "a number 2"),
    ]
    assert Mixed().sniff(b'garbage\n{"b": 1}\n') == "b"
    assert Mixed().sniff(b"[1]\n[2]\n") is None
    out = list(Mixed().read(_stream(data), format="b"))
    assert [r.reason for r in out][:2] == ["a a record, not b", "b"]
    assert list(Mixed().read(_stream(data), format="c")) == [
        Reject("mem.json", 0, "unknown format 'c' (demomixed reads ('a', 'b'))")
    ]


class Sniffed(Mixed):
    name = "demosniffed"
    mixed_formats = False


def test_values_mode_sniffs_the_file_once():
    out = list(Sniffed().read(_stream(b'{"a": 1}\n{"b": 1}\n')))
    assert [r.reason for r in out] == ["a number 1", "a number 2"]
    assert list(Sniffed().read(_stream(b"  \n"))) == [Reject("mem.json", 0, "empty file")]
    (rej,) = Sniffed().read(_stream(b"[1]\n"))
    assert rej.reason == "not a demosniffed file: none of the formats a, b"


def test_connector_plugin_registers_and_fills_in_the_version():
    hook = connector_plugin(Demo, Sniffed(), version="9.8.7")
    plugin = types.ModuleType("vsdstats_demojson")
    plugin.register_platforms = hook
    found = connectors(extra_plugins=(plugin,))
    assert found["demojson"].connector.version == "9.8.7"
    assert isinstance(found["demosniffed"].connector, Sniffed)
    with pytest.raises(TypeError, match="not a Connector"):
        connector_plugin(object)
    with pytest.raises(TypeError, match="at least one"):
        connector_plugin()


@pytest.mark.parametrize(
    "plugin", ["bluesky", "mastodon", "reddit", "social-listening", "tiktok", "x", "youtube"]
)
def test_each_plugin_has_one_version(plugin):
    """The version lives in pyproject.toml only; the package and the registry read it."""
    folder = ROOT / "plugins" / f"vsdstats-{plugin}"
    meta = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    module = __import__(f"vsdstats_{plugin.replace('-', '_')}")
    assert module.__version__ == dist_version(meta["name"]) == meta["version"]
    assert connectors()[plugin].connector.version == meta["version"]
    for py in (folder / module.__name__).glob("*.py"):
        assert meta["version"] not in py.read_text(), py
    assert dist_version("vsdstats-not-installed-xyz") == "0.0.0"
