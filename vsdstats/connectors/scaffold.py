"""``vsdstats new-plugin``: scaffold a platform-connector distribution.

The scaffold works as generated: its connector reads JSON lines with ``id``,
``created_at``, ``text`` and ``author``, it ships a sample file and a test, and once
installed it is listed by ``vsdstats plugins``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from vsdstats.errors import InputError

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


class ScaffoldError(InputError):
    """The plugin name or target directory is unusable."""


def check_name(name: str) -> str:
    """``name`` if it is a lowercase slug (``mastodon``, ``my-forum``); else ScaffoldError."""
    if not NAME_RE.match(name) or len(name) > 40:
        raise ScaffoldError(
            f"plugin name {name!r} is not a lowercase slug: use letters a-z and digits, "
            "starting with a letter, optionally joined by single '-' or '_' (max 40 chars)"
        )
    return name


def default_dir(cwd: Path | None = None) -> Path:
    """``./plugins`` if it exists, else ``.``."""
    here = cwd or Path.cwd()
    return here / "plugins" if (here / "plugins").is_dir() else here


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[-_]", name))


def render(name: str) -> dict[str, str]:
    """Relative path -> file content of the scaffold for ``name``."""
    check_name(name)
    module = f"vsdstats_{name.replace('-', '_')}"
    values = {
        "name": name,
        "module": module,
        "dist": f"vsdstats-{name}",
        "cls": f"{_camel(name)}Connector",
    }
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{module}/__init__.py": _INIT,
        "samples/sample.jsonl": _SAMPLE,
        f"tests/test_{module.removeprefix('vsdstats_')}.py": _TEST,
    }
    return {path: _fill(text, values) for path, text in files.items()}


def _fill(text: str, values: dict[str, str]) -> str:
    for key, val in values.items():
        text = text.replace(f"@{key}@", val)
    return text


def scaffold(name: str, directory: str | Path | None = None) -> Path:
    """Write ``DIR/vsdstats-NAME/``; refuses to overwrite an existing directory."""
    files = render(name)
    root = Path(directory) if directory is not None else default_dir()
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root} is not a directory")
    target = root / f"vsdstats-{name}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; refusing to overwrite it")
    for rel, content in files.items():
        p = target / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    return target


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "@dist@"
version = "0.1.0"
description = "vsdstats platform connector for @name@"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["vsdstats"]

[project.optional-dependencies]
test = ["pytest>=7.4"]

[project.entry-points."vsdstats.platforms"]
@name@ = "@module@"

[tool.setuptools]
packages = ["@module@"]
"""

_README = """\
# @dist@

A [vsdstats](https://pypi.org/project/vsdstats/) platform connector for **@name@**.

It reads JSON lines with `id`, `created_at` (ISO 8601 or epoch seconds), `text` and
`author` (see `samples/sample.jsonl`); bad lines become `Reject` records.

```sh
pip install -e .          # registers the "@name@" platform
vsdstats plugins          # lists it
pytest tests              # reads the sample file
```

Edit `@module@/__init__.py` to read the platform's real export format; see
"Writing a platform plugin" in the vsdstats docs.
"""

_INIT = '''\
"""vsdstats connector for @name@: JSON lines with id, created_at, text and author."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from vsdstats.connectors import Connector, RawPost, Record, Reject, Source, hookimpl, open_source
from vsdstats.connectors.readers import iter_json_lines, parse_time

try:
    __version__ = version("@dist@")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

FORMAT = "@name@-jsonl"
REQUIRED = ("id", "created_at", "text")


class @cls@(Connector):
    """Reads @name@ JSON lines (one post per line)."""

    name = "@name@"
    formats = (FORMAT,)
    can_collect = False
    version = __version__

    def sniff(self, head: bytes) -> str | None:
        first = head.lstrip().split(b"\\n", 1)[0]
        try:
            obj = json.loads(first)
        except ValueError:
            return None
        return FORMAT if isinstance(obj, dict) and all(k in obj for k in REQUIRED) else None

    def read(self, source: Source, format: str | None = None) -> Iterator[Record]:
        name, stream = open_source(source)
        try:
            for item in iter_json_lines(stream, name):
                if isinstance(item, Reject):
                    yield item
                else:
                    yield self._post(item[1], name, item[0])
        finally:
            if isinstance(source, (str, Path)):
                stream.close()

    def _post(self, obj: Any, name: str, line: int) -> Record:
        if not isinstance(obj, dict):
            return Reject(name, line, "not a JSON object")
        missing = [k for k in REQUIRED if obj.get(k) is None]
        if missing:
            return Reject(name, line, f"missing field(s) {', '.join(missing)}")
        if not isinstance(obj["text"], str):
            return Reject(name, line, "field text is not a string")
        try:
            created = parse_time(obj["created_at"], field="created_at")
        except ValueError as exc:
            return Reject(name, line, str(exc))
        author = obj.get("author")
        author = str(author) if author is not None else None
        return RawPost(
            platform=self.name,
            post_id=str(obj["id"]),
            created_at=created,
            text=obj["text"],
            author_handle=author,
            source_file=name,
            source_line=line,
            identities={author} if author else set(),
        )


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    register(@cls@())
'''

_SAMPLE_RECORDS = [
    {
        "id": "p1",
        "created_at": "2025-01-05T10:00:00Z",
        "text": "Synthetic post: I asked a chatbot for breathing exercises.",
        "author": "synthetic_user_1",
    },
    {
        "id": "p2",
        "created_at": 1736100000,
        "text": "Synthetic reply: that helped me too.",
        "author": "synthetic_user_2",
    },
    {
        "id": "p3",
        "created_at": "2025-01-06T08:30:00+01:00",
        "text": "Synthetic post without an author.",
    },
]
_SAMPLE = "".join(json.dumps(r) + "\n" for r in _SAMPLE_RECORDS)

_TEST = '''\
"""Tests of the @name@ connector on its synthetic sample file."""

from __future__ import annotations

from pathlib import Path

import @module@ as plugin
from vsdstats.connectors import RawPost, Reject, connectors

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "sample.jsonl"


def test_reads_sample() -> None:
    records = list(plugin.@cls@().read(SAMPLE))
    assert all(isinstance(r, RawPost) for r in records)
    assert [r.post_id for r in records] == ["p1", "p2", "p3"]
    assert all(r.created_at.utcoffset().total_seconds() == 0 for r in records)
    assert records[0].platform == "@name@"
    assert records[0].identities == {"synthetic_user_1"}
    assert records[2].author_handle is None


def test_bad_lines_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "no time"}\\nnot json\\n', encoding="utf-8")
    records = list(plugin.@cls@().read(bad))
    assert [(r.line, isinstance(r, Reject)) for r in records] == [(1, True), (2, True)]


def test_sniff() -> None:
    c = plugin.@cls@()
    assert c.sniff(SAMPLE.read_bytes()[:200]) == plugin.FORMAT
    assert c.sniff(b"id,text\\n") is None


def test_registered() -> None:
    found = connectors()
    if "@name@" not in found:  # not installed: register the module directly
        found = connectors(extra_plugins=(plugin,))
    assert found["@name@"].connector.formats == (plugin.FORMAT,)
'''
