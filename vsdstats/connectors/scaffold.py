"""``vsdstats new-plugin``: scaffold a platform-connector distribution.

The scaffold works as generated: its connector (a
:class:`~vsdstats.connectors.JsonConnector`, registered by
:func:`~vsdstats.connectors.connector_plugin`) reads JSON lines with ``id``,
``created_at``, ``text`` and ``author``, it ships a sample file and a test, and once
installed it is listed by ``vsdstats plugins``.  Its version is written once, in its
``pyproject.toml``.
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

Edit `@module@/__init__.py` to read the platform's real export format: declare its
formats in the `formats` table and turn one JSON value into posts in `parse_value`;
see "Writing a platform plugin" in the vsdstats docs.  The version is the one in
`pyproject.toml`.
"""

_INIT = '''\
"""vsdstats connector for @name@: JSON lines with id, created_at, text and author."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vsdstats.connectors import (
    JsonConnector,
    JsonFile,
    JsonFormat,
    RawPost,
    connector_plugin,
    count,
    dist_version,
    parse_time,
    text_or_none,
)

__version__ = dist_version("@dist@")  # the one version: pyproject.toml's

FORMAT = "@name@-jsonl"
REQUIRED = ("id", "created_at", "text")


def is_post(value: Any) -> bool:
    """Whether a JSON value is one @name@ post (how ``sniff`` recognises the format)."""
    return isinstance(value, dict) and all(k in value for k in REQUIRED)


class @cls@(JsonConnector):
    """Reads @name@ JSON lines (one post per line).

    JsonConnector detects the format (``sniff``), reads the file (a BOM, bad lines,
    ``.gz``/``.zst``, duplicate ids) and calls ``parse_value`` once per JSON value.
    """

    name = "@name@"
    formats = (JsonFormat(FORMAT, match=is_post),)
    can_collect = False

    def parse_value(self, value: Any, file: JsonFile) -> Iterator[RawPost | str]:
        """The post in one line, or the reason (a string) it is rejected."""
        if not isinstance(value, dict):
            yield "not a JSON object"
            return
        missing = [k for k in REQUIRED if value.get(k) is None]
        if missing:
            yield f"missing field(s) {', '.join(missing)}"
            return
        if not isinstance(value["text"], str):
            yield "field text is not a string"
            return
        try:
            created = parse_time(value["created_at"], field="created_at")
        except ValueError as exc:
            yield str(exc)
            return
        author = value.get("author")
        author = str(author) if author is not None else None
        yield RawPost(
            platform=self.name,
            post_id=str(value["id"]),
            created_at=created,
            text=value["text"],
            author_handle=author,
            identities={author} if author else set(),
            community=text_or_none(value.get("community")),  # where it was published
            score=count(value.get("likes")),  # None unless a whole number
            replies=count(value.get("replies")),
        )


register_platforms = connector_plugin(@cls@, version=__version__)
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
    assert found["@name@"].connector.version == plugin.__version__  # pyproject's version
'''
