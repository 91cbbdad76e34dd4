"""The data contract: Post and CodedUnit models and their tidy tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from vsdstats.ingest.pseudonymize import is_pseudonym, pseudonymize
from vsdstats.tables.codebook import load_codebook
from vsdstats.tables.models import (
    CODED_UNIT_COLUMNS,
    POST_COLUMNS,
    CodedUnit,
    Post,
    SchemaError,
    to_frame,
    validate_frame,
)

SECRET = b"study-secret-0123456789"


def _post(**kw):
    base = dict(
        platform="reddit",
        post_id="t3_abc",
        created_at=datetime(2024, 5, 1, 12, tzinfo=timezone.utc),
        text="I talk to ChatGPT when my anxiety spikes.",
        author=pseudonymize("SomeUser", SECRET, "reddit"),
    )
    base.update(kw)
    return Post(**base)


def _unit(**kw):
    base = dict(
        post_id="t3_abc",
        llm_product="chatgpt",
        llm_version="gpt_4o",
        sentiment="positive",
        condition="anxiety",
        perspective="emotional_support",
        value="calmness",
        quote="I talk to ChatGPT when my anxiety spikes",
        coder="llm",
        model="gpt-4o-mini",
        codebook_version="1.1.0",
    )
    base.update(kw)
    return CodedUnit(**base)


def test_post_converts_to_utc_and_rejects_naive_times():
    p = _post(created_at=datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))))
    assert p.created_at == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert p.created_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone-aware"):
        _post(created_at=datetime(2024, 5, 1, 12))


def test_post_rejects_raw_handles_and_unknown_fields():
    with pytest.raises(ValidationError, match="author"):
        _post(author="SomeUser")
    with pytest.raises(ValidationError, match="display_name"):
        _post(display_name="Some User")


@given(st.text(min_size=1, max_size=30), st.sampled_from(["reddit", "x", "bluesky"]))
def test_pseudonyms_are_keyed_stable_and_shaped(handle, platform):
    a = pseudonymize(handle, SECRET, platform)
    assert is_pseudonym(a)
    assert a == pseudonymize(handle, SECRET, platform)
    assert a != pseudonymize(handle, b"another-secret-abcdefgh", platform)


def test_pseudonym_needs_a_real_secret():
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonymize("x", b"short")


def test_post_frame_round_trip():
    posts = [
        _post(post_id=str(2**60 + i), source_file="f.jsonl", source_line=i + 1) for i in range(3)
    ]
    df = to_frame(posts, "post")
    assert list(df.columns) == list(POST_COLUMNS)
    assert df["post_id"].tolist() == [str(2**60 + i) for i in range(3)]  # exact beyond 2**53
    assert str(df["created_at"].dtype) == "datetime64[ns, UTC]"
    again = validate_frame(df.astype({"created_at": str}), "post")
    pd.testing.assert_frame_equal(again, df)


def test_validate_frame_errors_name_column_and_row():
    df = pd.DataFrame(
        {
            "platform": ["x", "x"],
            "post_id": ["1", "2"],
            "created_at": ["2024-01-01T00:00:00Z", "not a date"],
            "text": ["a", "b"],
        }
    )
    with pytest.raises(SchemaError, match=r"posts.csv: column 'created_at' row 1"):
        validate_frame(df, "post", source="posts.csv")
    with pytest.raises(SchemaError, match=r"missing required column.*text"):
        validate_frame(df.drop(columns="text"), "post")
    df2 = df.assign(created_at="2024-01-01T00:00:00Z", author=["a_" + "0" * 24, "@bob"])
    with pytest.raises(SchemaError, match=r"pseudonyms.*row 1"):
        validate_frame(df2, "post")
    with pytest.raises(SchemaError, match="without a time zone"):
        validate_frame(df.assign(created_at="2024-01-01 00:00"), "post")


def test_coded_units_checked_against_codebook():
    cb = load_codebook()
    u = _unit().check(cb)
    df = to_frame([u, _unit(unit_index=1, sentiment="negative")], "coded_unit")
    assert list(df.columns) == list(CODED_UNIT_COLUMNS)
    validate_frame(df, "coded_unit", codebook=cb)
    with pytest.raises(ValueError, match="'happy' is not a category"):
        _unit(sentiment="happy").check(cb)
    bad = df.assign(value=["calmness", "serenity"])
    with pytest.raises(SchemaError, match=r"column 'value' row 1: 'serenity'"):
        validate_frame(bad, "coded_unit", codebook=cb)
    with pytest.raises(ValidationError, match="coder"):
        _unit(coder="robot")


def test_llm_version_checked_against_family():
    cb = load_codebook()
    assert _unit(llm_version="unspecified", perspective="none", value="none").check(cb)
    with pytest.raises(ValueError, match="llm_version: missing"):
        _unit(llm_version=None).check(cb)
    with pytest.raises(ValueError, match="'claude_4' is a version of llm_product 'claude'"):
        _unit(llm_version="claude_4").check(cb)
    df = to_frame([_unit(), _unit(unit_index=1, llm_version="gpt_5")], "coded_unit")
    validate_frame(df, "coded_unit", codebook=cb)
    wrong = df.assign(llm_version=["gpt_4o", "gemini_2_5"])
    with pytest.raises(SchemaError, match=r"'llm_version' row 1: 'gemini_2_5' is a version of"):
        validate_frame(wrong, "coded_unit", codebook=cb)
    unknown = df.assign(llm_version=["gpt_4o", "gpt_6"])
    with pytest.raises(SchemaError, match=r"'llm_version' row 1: 'gpt_6' is not a category"):
        validate_frame(unknown, "coded_unit", codebook=cb)


def test_codebook_1_0_units_load_without_a_version():
    """A table coded with codebook 1.0 has no llm_version column: it reads as missing
    (not coded), never as 'unspecified' (the post names no version)."""
    cb = load_codebook()
    old = to_frame([_unit()], "coded_unit").drop(columns=["llm_version"])
    old = old.assign(codebook_version="1.0.0")
    out = validate_frame(old, "coded_unit", codebook=cb)
    assert list(out.columns) == list(CODED_UNIT_COLUMNS)
    assert out["llm_version"].isna().all() and str(out["llm_version"].dtype) == "string"
