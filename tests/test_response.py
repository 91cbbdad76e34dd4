"""Response models and quote verification."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from vsdstats.coding.quotes import normalize, quote_in_text, word_count
from vsdstats.coding.response import (
    build_response_model,
    extraction_to_units,
    post_text_context,
)
from vsdstats.tables.codebook import load_codebook

CB = load_codebook()
MODEL = build_response_model(CB)
POST = "Last winter ChatGPT was the only thing I talked to when my depression got bad."
QUOTE = "ChatGPT was the only thing I talked to"


def unit(**over):
    u = {
        "llm_product": "chatgpt",
        "llm_version": "unspecified",
        "sentiment": "positive",
        "condition": "depressive",
        "perspective": "emotional_support",
        "value": "human_welfare",
        "quote": QUOTE,
    }
    return {**u, **over}


def check(data, text=POST):
    return MODEL.model_validate(data, context={"text": text})


def errors(data, text=POST) -> str:
    with pytest.raises(ValidationError) as exc:
        check(data, text)
    return str(exc.value)


def test_valid_extraction_and_units():
    ex = check({"relevant": True, "units": [unit(), unit(sentiment="neutral")]})
    rows = extraction_to_units(
        ex, "p1", coder="llm", model="m", codebook_version=CB.version, text=POST
    )
    assert [r.unit_index for r in rows] == [0, 1]
    assert rows[1].sentiment == "neutral" and rows[0].quote == QUOTE
    assert all(r.check(CB) for r in rows)
    assert check({"relevant": False, "units": []}).units == []


def test_version_of_another_family_is_a_validation_error_for_the_retry():
    """A version that belongs to another family is not mapped to 'unspecified': the
    error, which instructor feeds back, names the versions that fit the family."""
    ok = check({"relevant": True, "units": [unit(llm_version="gpt_4o")]})
    assert ok.units[0].llm_version == "gpt_4o"
    rows = extraction_to_units(ok, "p1", coder="llm", model="m", codebook_version=CB.version)
    assert rows[0].llm_version == "gpt_4o" and rows[0].check(CB)
    msg = errors({"relevant": True, "units": [unit(llm_version="claude_3_5_sonnet")]})
    assert "units.0" in msg and "'claude_3_5_sonnet' is a version of llm_product 'claude'" in msg
    assert "gpt_4o" in msg and "unspecified" in msg
    assert check({"relevant": True, "units": [unit(llm_product="companion")]}).units
    msg = errors({"relevant": True, "units": [unit(llm_version="gpt-4o")]})
    assert "units.0.llm_version" in msg
    msg = errors(
        {"relevant": True, "units": [{k: v for k, v in unit().items() if k != "llm_version"}]}
    )
    assert "units.0.llm_version" in msg and "Field required" in msg


def test_none_is_a_perspective_and_a_value():
    ex = check({"relevant": True, "units": [unit(perspective="none", value="none")]})
    assert (ex.units[0].perspective, ex.units[0].value) == ("none", "none")


def test_codebook_without_versions_builds_the_old_unit(tmp_path):
    """A user's codebook without llm_version (1.0 layout) still works: no version field."""
    from vsdstats.tables.codebook import default_codebook_path

    text = default_codebook_path().read_text(encoding="utf-8")
    p = tmp_path / "cb10.toml"
    p.write_text(text[: text.index("[dimensions.llm_version]")], encoding="utf-8")
    cb = load_codebook(p)
    assert "llm_version" not in cb.dimensions
    model = build_response_model(cb)
    u = {k: v for k, v in unit().items() if k != "llm_version"}
    ex = model.model_validate({"relevant": True, "units": [u]}, context={"text": POST})
    rows = extraction_to_units(ex, "p1", coder="llm", model="m", codebook_version=cb.version)
    assert rows[0].llm_version is None and rows[0].check(cb)


def test_unknown_label_lists_allowed_codes():
    msg = errors({"relevant": True, "units": [unit(condition="sadness")]})
    assert "units.0.condition" in msg and "'depressive'" in msg and "'general'" in msg


def test_extra_fields_rejected():
    assert "units.0.confidence" in errors({"relevant": True, "units": [unit(confidence=0.9)]})
    assert "rationale" in errors({"relevant": False, "units": [], "rationale": "x"})


def test_quote_not_in_text():
    msg = errors({"relevant": True, "units": [unit(quote="ChatGPT cured my depression forever")]})
    assert "not a verbatim passage" in msg and "Copy a contiguous passage" in msg


def test_quote_case_hint():
    msg = errors({"relevant": True, "units": [unit(quote=QUOTE.lower())]})
    assert "ignoring case" in msg


def test_short_quote():
    msg = errors({"relevant": True, "units": [unit(quote="my depression got bad")]})
    assert "4 word(s)" in msg and "at least 5" in msg


def test_relevance_unit_mismatch():
    msg = errors({"relevant": False, "units": [unit()]})
    assert "relevant is false" in msg and "empty list" in msg
    msg = errors({"relevant": True, "units": []})
    assert "relevant is true but units is empty" in msg and "set relevant to false" in msg


def test_without_context_only_length_is_checked():
    ok = MODEL.model_validate({"relevant": True, "units": [unit(quote="not in any post at all")]})
    with pytest.raises(ValueError, match="not verbatim"):
        extraction_to_units(ok, "p", coder="llm", model="m", codebook_version="1", text=POST)


def test_normalisation():
    text = "I said \u201cit\u2019s   fine\u201d\n\tto\u00a0Claude \u2014 and meant it"
    assert normalize(text) == 'I said "it\'s fine" to Claude - and meant it'
    assert quote_in_text('said "it\'s fine" to Claude', text)
    assert quote_in_text("said \u201cit\u2019s fine\u201d  to   Claude", text)
    assert not quote_in_text("", text) and not quote_in_text("   ", text)
    assert word_count("a - b ... c d") == 4


WORD = st.text(alphabet="abcXYZ019'\".,!?\u2019\u201c\u201d", min_size=1, max_size=6)
SPACE = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", " \n "])
SWAP = str.maketrans({"'": "\u2019", "\u2019": "'", '"': "\u201c", "\u201c": '"', "\u201d": '"'})


@given(
    words=st.lists(WORD, min_size=5, max_size=30),
    seps=st.lists(SPACE, min_size=30, max_size=30),
    data=st.data(),
)
def test_any_five_word_substring_is_found(words, seps, data):
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    i = data.draw(st.integers(0, len(words) - 5))
    j = data.draw(st.integers(i + 5, len(words)))
    gaps = data.draw(st.lists(SPACE, min_size=j - i, max_size=j - i))
    quote = "".join(w + g for w, g in zip(words[i:j], gaps, strict=True)).translate(SWAP)
    assert quote_in_text(quote, text)


def test_post_text_context_checks_quotes_without_pydantic_context():
    bad = {"relevant": True, "units": [unit(quote="ChatGPT cured my depression forever")]}
    with post_text_context(POST), pytest.raises(ValidationError, match="not a verbatim"):
        MODEL.model_validate(bad)
    assert MODEL.model_validate(bad).units  # outside the block: length check only
    with post_text_context("some other post entirely"):
        assert check({"relevant": True, "units": [unit()]})  # explicit context wins


def test_post_text_context_is_per_task():
    import asyncio

    async def one(text: str, quote: str) -> bool:
        with post_text_context(text):
            await asyncio.sleep(0.01)  # the other task sets its own post meanwhile
            try:
                MODEL.model_validate({"relevant": True, "units": [unit(quote=quote)]})
            except ValidationError:
                return False
            return True

    async def both() -> list[bool]:
        other = "Somebody else wrote a different post about Claude helping with stress."
        return await asyncio.gather(one(POST, QUOTE), one(other, QUOTE))

    assert asyncio.run(both()) == [True, False]
