"""CITATION.cff at the repository root: valid CFF 1.2.0 structure, the version of
pyproject.toml, and the WWW 2026 study among its references (issue 11).

Parsed with PyYAML when it is installed, else with the small block-YAML reader below
(mappings, lists, plain/quoted scalars, ``>-`` folded blocks: the subset the file uses);
either way the same assertions run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CFF = ROOT / "CITATION.cff"
STUDY = (
    "LLM Use for Mental Health: Crowdsourcing Users' Sentiment-based Perspectives and "
    "Values from Social Discussions"
)


def _scalar(s: str) -> Any:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    return s


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        assert "\t" not in raw, "tabs are not YAML indentation"
        out.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))
    return out


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The mapping or list starting at line ``i`` (all of its lines at ``indent``)."""
    if lines[i][1].startswith("- "):
        items: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            # "- key: v" opens a mapping whose keys sit at indent + 2
            lines[i] = (indent + 2, lines[i][1][2:])
            value, i = _block(lines, i, indent + 2)
            items.append(value)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        m = re.fullmatch(r"([A-Za-z][\w-]*):(?: (.*))?", lines[i][1])
        assert m, f"not a 'key: value' line: {lines[i][1]!r}"
        key, rest = m.group(1), (m.group(2) or "").strip()
        assert key not in mapping, f"duplicate key {key!r}"
        i += 1
        if rest in (">-", ">", "|", "|-"):
            parts = []
            while i < len(lines) and lines[i][0] > indent:
                parts.append(lines[i][1])
                i += 1
            mapping[key] = " ".join(parts) if rest.startswith(">") else "\n".join(parts)
        elif rest:
            mapping[key] = _scalar(rest)
        else:
            assert i < len(lines) and lines[i][0] >= indent, f"{key!r} has no value"
            child_indent = lines[i][0]
            if child_indent == indent and not lines[i][1].startswith("- "):
                raise AssertionError(f"{key!r} has no value")
            mapping[key], i = _block(lines, i, child_indent)
    return mapping, i


def parse(text: str) -> dict[str, Any]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        lines = _lines(text)
        data, end = _block(lines, 0, 0)
        assert end == len(lines), f"unparsed from line {end}: {lines[end:][:1]}"
        return data
    return yaml.safe_load(text)


def test_the_reader_rejects_what_is_not_block_yaml():
    import pytest

    for bad in ("title: a\ntitle: b\n", "title a\n", "authors:\nversion: 1\n"):
        with pytest.raises(AssertionError):
            _, end = _block(_lines(bad), 0, 0)
            assert end == len(_lines(bad))


def test_citation_cff_is_valid_and_matches_pyproject():
    data = parse(CFF.read_text("utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    for key in ("cff-version", "message", "title", "authors", "version"):
        assert data.get(key), key
    assert str(data["cff-version"]) == "1.2.0"
    assert str(data["version"]) == version
    assert {"name": "vsdstats developers"} in data["authors"]
    (ref,) = [r for r in data["references"] if r.get("title") == STUDY]
    assert ref["type"] == "conference-paper" and int(ref["year"]) == 2026
    assert ref["authors"][0] == {"family-names": "Li", "given-names": "Lingyao"}
    assert all(a.get("family-names") and a.get("given-names") for a in ref["authors"])
    assert "WWW" in ref["conference"]["name"]
