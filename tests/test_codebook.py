"""The codebook file: defaults, validation errors that name file and key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vsdstats.tables.codebook import (
    REQUIRED_DIMENSIONS,
    CodebookError,
    default_codebook_path,
    load_codebook,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXPECTED = {
    "sentiment": 3,
    "condition": 11,
    "perspective": 12,
    "value": 12,
    "llm_product": 10,
}


def test_default_codebook_has_the_study_categories():
    cb = load_codebook()
    assert {d: len(cb.codes(d)) for d in REQUIRED_DIMENSIONS} == EXPECTED
    assert cb.codes("sentiment") == ["positive", "neutral", "negative"]
    assert "environmental_sustainability" in cb.codes("value")
    assert "companion" in cb.codes("llm_product")
    for dim in cb.dimensions.values():
        for cat in dim.categories:
            assert cat.definition and cat.examples
    assert len(cb.sha256) == 64 and cb.version == "1.0.0"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cb.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _default_text() -> str:
    return default_codebook_path().read_text(encoding="utf-8")


def test_missing_definition_names_file_and_key(tmp_path):
    text = _default_text().replace(
        'definition = "The use is described factually', 'note = "The use is described factually', 1
    )
    p = _write(tmp_path, text)
    with pytest.raises(CodebookError) as ei:
        load_codebook(p)
    msg = str(ei.value)
    assert str(p) in msg
    assert "dimensions.sentiment.categories[1].definition" in msg
    assert "dimensions.sentiment.categories[1].note" in msg  # unknown key rejected too


def test_duplicate_code_is_reported(tmp_path):
    text = _default_text().replace('code = "neutral"', 'code = "positive"', 1)
    with pytest.raises(CodebookError, match=r"categories\[1\]\.code`: duplicate code 'positive'"):
        load_codebook(_write(tmp_path, text))


def test_missing_dimension_and_bad_code_and_syntax(tmp_path):
    data = tomllib.loads(_default_text())
    assert "value" in data["dimensions"]
    text = (
        _default_text()
        .replace("[dimensions.value]", "[dimensions.values]")
        .replace("[[dimensions.value.categories]]", "[[dimensions.values.categories]]")
    )
    with pytest.raises(CodebookError, match=r"lacks required dimension.*value"):
        load_codebook(_write(tmp_path, text))
    with pytest.raises(CodebookError, match=r"dimensions.sentiment.categories\[0\].code"):
        load_codebook(_write(tmp_path, _default_text().replace('"positive"', '"Positive!"', 1)))
    with pytest.raises(CodebookError, match="TOML syntax error"):
        load_codebook(_write(tmp_path, "[codebook\nname='x'"))
    with pytest.raises(CodebookError, match="cannot read"):
        load_codebook(tmp_path / "nope.toml")
    with pytest.raises(CodebookError, match=r"key `codebook.version`"):
        load_codebook(
            _write(tmp_path, _default_text().replace('version = "1.0.0"', 'version = "one"'))
        )


def test_check_label(tmp_path):
    cb = load_codebook()
    assert cb.check_label("condition", "adhd") == "adhd"
    with pytest.raises(ValueError, match="'ADHD' is not a category"):
        cb.check_label("condition", "ADHD")
    with pytest.raises(KeyError, match="no dimension 'mood'"):
        cb.codes("mood")


def test_edited_copy_loads(tmp_path):
    text = _default_text().replace('version = "1.0.0"', 'version = "1.1.0-lab"')
    text += (
        '\n[[dimensions.value.categories]]\ncode = "dignity"\nlabel = "Dignity"\n'
        'definition = "Being treated with respect."\nexamples = ["It never talked down to me."]\n'
    )
    cb = load_codebook(_write(tmp_path, text))
    assert cb.version == "1.1.0-lab" and cb.codes("value")[-1] == "dignity"
