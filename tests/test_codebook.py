"""The codebook file: defaults, validation errors that name file and key."""

from __future__ import annotations

import re
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
    "perspective": 13,  # 12 + none (codebook 1.1)
    "value": 13,  # 12 + none
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
    assert len(cb.sha256) == 64 and cb.version == "1.1.0"
    assert cb.codes("perspective")[-1] == cb.codes("value")[-1] == "none"
    assert cb.unit_fields == (
        "llm_product",
        "llm_version",
        "sentiment",
        "condition",
        "perspective",
        "value",
    )


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
            _write(tmp_path, _default_text().replace('version = "1.1.0"', 'version = "one"'))
        )


def test_check_label(tmp_path):
    cb = load_codebook()
    assert cb.check_label("condition", "adhd") == "adhd"
    with pytest.raises(ValueError, match="'ADHD' is not a category"):
        cb.check_label("condition", "ADHD")
    with pytest.raises(KeyError, match="no dimension 'mood'"):
        cb.codes("mood")


def test_edited_copy_loads(tmp_path):
    text = _default_text().replace('version = "1.1.0"', 'version = "1.1.0-lab"')
    text += (
        '\n[[dimensions.value.categories]]\ncode = "dignity"\nlabel = "Dignity"\n'
        'definition = "Being treated with respect."\nexamples = ["It never talked down to me."]\n'
    )
    cb = load_codebook(_write(tmp_path, text))
    assert cb.version == "1.1.0-lab" and cb.codes("value")[-1] == "dignity"


def test_llm_version_categories_belong_to_families():
    cb = load_codebook()
    dim = cb.dimensions["llm_version"]
    assert dim.within == "llm_product"
    families = set(cb.codes("llm_product"))
    free = [c.code for c in dim.categories if c.family is None]
    assert free == ["other_version", "unspecified"]
    for c in dim.categories:
        if c.family is not None:
            assert c.family in families and c.released is not None and c.terms, c.code
    want = {
        "gpt_4o": "chatgpt",
        "gpt_4_1": "chatgpt",
        "gpt_5": "chatgpt",
        "o_series": "chatgpt",
        "claude_3_5_sonnet": "claude",
        "claude_3_7_sonnet": "claude",
        "claude_4": "claude",
        "gemini_1_5": "gemini",
        "gemini_2_0": "gemini",
        "gemini_2_5": "gemini",
        "llama_3": "llama",
        "deepseek_v3": "deepseek",
        "deepseek_r1": "deepseek",
    }
    assert {k: cb.category("llm_version", k).family for k in want} == want
    assert cb.members("llm_version", "companion") == ["other_version", "unspecified"]
    assert cb.check_within("llm_version", "claude_4", "claude") == "claude_4"
    assert cb.check_within("llm_version", "unspecified", "grok") == "unspecified"
    with pytest.raises(ValueError, match=r"'claude_4' is a version of llm_product 'claude'"):
        cb.check_within("llm_version", "claude_4", "chatgpt")


def test_version_dates_agree_with_release_markers():
    """analysis/releases.toml marks releases on fig6; a version it names must not be
    released later in the codebook than the marker's month (Gemini 2.5: the codebook has
    the first public, experimental release; the marker may be general availability)."""
    from vsdstats.paper.config import load_releases

    cb = load_codebook()
    names = {}
    for c in cb.dimensions["llm_version"].categories:
        for t in (c.label, *c.terms):
            names[t.lower()] = c
    matched = 0
    for r in load_releases():
        c = names.get(r.label.lower())
        if c is None:
            continue
        matched += 1
        assert c.released is not None
        assert (c.released.year, c.released.month) <= (r.date.year, r.date.month), r.label
    assert matched >= 8


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (('within = "llm_product"', 'within = "mood"'), "dimensions.llm_version.within"),
        (('family = "claude"', 'family = "anthropic"'), "dimensions.llm_version.categories["),
        (
            ('code = "neutral"', 'code = "neutral"\nfamily = "chatgpt"'),
            "dimensions.sentiment.categories[1].family",
        ),
    ],
)
def test_bad_nesting_names_the_key(tmp_path, edit, key):
    old, new = edit
    text = _default_text()
    assert old in text
    with pytest.raises(CodebookError, match=re.escape(key)):
        load_codebook(_write(tmp_path, text.replace(old, new, 1)))


def test_insulting_comparison_is_an_exclusion():
    cb = load_codebook()
    assert any(
        "insulting comparison of the poster to a chatbot" in e for e in cb.relevance.exclusions
    )
