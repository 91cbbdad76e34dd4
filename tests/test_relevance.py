"""The relevance pre-filter: matching rules, term files, and the byte pre-filter's
never-drop property."""

from __future__ import annotations

import json
import platform

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.filter.relevance import RelevanceFilter
from vsdstats.filter.terms import (
    DEFAULT_CASE_SENSITIVE,
    TermFileError,
    Terms,
    codebook_terms,
    load_term_file,
    terms_toml,
)
from vsdstats.tables.codebook import load_codebook


@pytest.fixture(scope="module")
def rf() -> RelevanceFilter:
    return RelevanceFilter.from_codebook(load_codebook())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ChatGPT helped me through a panic attack", True),
        ("chatgpt's advice on my ANXIETY", True),
        ("I asked ChatGPTx about my anxiety", False),  # no boundary after the term
        ("GPT-4o and my depression", True),
        ("I use_chatgpt for anxiety", False),  # underscore is a word character
        ("ChatGPT helps my ADD", True),
        ("ChatGPT added it to my address", False),  # ADD is case-sensitive
        ("chatgpt helps my add", False),
        ("chatgpt helps my adhd", True),
        ("Claude and my mental\n\thealth", True),  # whitespace inside a phrase
        ("Claude and my mentalhealth", False),
        ("Claude is great", False),  # only an LLM term
        ("my anxiety is bad", False),  # only a mental-health term
        ("Replika got me through ED recovery", True),
        ("Replika got me through ed recovery", False),  # ED is case-sensitive
        ("Claude’s take on my «autism»", True),  # non-ASCII punctuation is a boundary
        ("ChatGPTを使ってanxietyを", True),  # so are non-ASCII letters
    ],
)
def test_match_text_rules(rf: RelevanceFilter, text: str, expected: bool) -> None:
    assert rf.match_text(text) is expected


def test_fields_combine_and_explain(rf: RelevanceFilter) -> None:
    assert rf.match_fields(["Asking Claude", "about my insomnia"])
    assert not rf.match_fields(["Asking Claude", "about my car"])
    ex = rf.explain("ChatGPT and GPT-4 helped my social anxiety")
    assert ex.llm == ["ChatGPT", "GPT-4", "GPT"]
    assert ex.mental_health == ["social anxiety", "anxiety"]
    assert ex.relevant
    assert not rf.explain("nothing here").relevant


def test_codebook_terms_and_defaults() -> None:
    t = codebook_terms(load_codebook())
    assert "ChatGPT" in t.llm and "ADHD" in t.mental_health
    assert set(DEFAULT_CASE_SENSITIVE) <= t.case_sensitive
    with pytest.raises(ValueError, match="both"):
        RelevanceFilter(Terms((), ("anxiety",)))


def test_term_file_extends(tmp_path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(
        'case_sensitive = ["PI"]\n[llm]\nterms = ["PI", "my bot"]\n'
        '[mental_health]\nterms = ["burnout"]\n'
    )
    rf = RelevanceFilter.from_codebook(load_codebook(), p)
    assert rf.match_text("my bot helps with burnout")
    assert rf.match_text("ChatGPT helps with burnout")  # codebook terms kept
    assert rf.match_text("PI and anxiety") and not rf.match_text("pi and anxiety")
    assert "ADD" in rf.terms.case_sensitive


def test_term_file_replaces(tmp_path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(
        'replace = true\n[llm]\nterms = ["my bot"]\n[mental_health]\nterms = ["burnout"]\n'
    )
    rf = RelevanceFilter.from_codebook(load_codebook(), p)
    assert rf.terms.llm == ("my bot",)
    assert not rf.match_text("ChatGPT helps with burnout")
    assert rf.match_text("MY BOT helps with Burnout")


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('[llm]\nterms = "ChatGPT"\n', "llm.terms"),
        ('[llm]\nterms = ["ok", "  "]\n', "llm.terms[1]"),
        ('[llm]\nwords = ["x"]\n', "llm.words"),
        ("replace = 1\n", "replace"),
        ("[mental]\nterms = []\n", "mental"),
        ('replace = true\n[llm]\nterms = ["x"]\n', "mental_health.terms"),
        ("case_sensitive = [1]\n", "case_sensitive"),
    ],
)
def test_bad_term_file_names_file_and_key(tmp_path, content: str, key: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(content)
    with pytest.raises(TermFileError) as exc:
        load_term_file(p, codebook_terms(load_codebook()))
    assert str(p) in str(exc.value) and f"`{key}`" in str(exc.value)


def test_term_file_syntax_and_missing(tmp_path) -> None:
    base = codebook_terms(load_codebook())
    p = tmp_path / "syntax.toml"
    p.write_text("[llm\n")
    with pytest.raises(TermFileError, match=r"syntax\.toml: TOML syntax error"):
        load_term_file(p, base)
    with pytest.raises(TermFileError, match="cannot read"):
        load_term_file(tmp_path / "missing.toml", base)


def test_exported_terms_round_trip(tmp_path) -> None:
    base = codebook_terms(load_codebook())
    p = tmp_path / "terms.toml"
    p.write_text(terms_toml(base), encoding="utf-8")
    again = load_term_file(p, Terms(("x",), ("y",), frozenset()))
    assert again == base


def test_match_bytes_sees_through_json_escapes(rf: RelevanceFilter) -> None:
    for text in [
        "ChatGPT\nADHD",
        "Claude\u2019s help with my \u00abdepression\u00bb",
        "mental\u00a0health talk with Gemini",
        'Copilot "anxiety"',
    ]:
        assert rf.match_text(text)
        for ascii_only in (True, False):
            line = json.dumps({"body": text}, ensure_ascii=ascii_only).encode()
            assert rf.match_bytes(line), line
    assert not rf.match_bytes(b'{"body": "ChatGPTx and ADHDs"}')


# Pieces that stress boundaries, escapes, phrases and case rules.
_PIECES = [
    "ChatGPT",
    "chatgpt",
    "GPT-4o",
    "Claude",
    "c.ai",
    "Character.AI",
    "ADHD",
    "ADD",
    "add",
    "ED",
    "ed",
    "recovery",
    "mental",
    "health",
    "self-harm",
    "panic attack",
    "anxiety",
    "x",
    "_",
    "4",
    " ",
    "\n",
    "\t",
    "\u00a0",
    "\u2028",
    "\u2019",
    "é",
    "ſ",
    "K",
    "\u212a",
    '"',
    "\\",
    "/",
    "\\n",
    "\u0000",
    "\U0001f600",
    "中",
    "-",
    ".",
]
_texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)), max_size=14).map(
    "".join
)


@given(text=_texts, ascii_only=st.booleans())
def test_prefilter_never_drops_what_text_check_keeps(text: str, ascii_only: bool) -> None:
    rf = _RF
    line = json.dumps({"id": "t1", "body": text}, ensure_ascii=ascii_only).encode("utf-8")
    assert rf.match_bytes(line) >= rf.match_text(text)
    block = b'{"id": "t0"}\n' + line + b"\n"
    lines = {block[s:e] for s, e in rf.scan_block(block, engine="re")}
    assert (line in lines) >= rf.match_bytes(line)
    if rf.engine == "hyperscan":
        lines = {block[s:e] for s, e in rf.scan_block(block, engine="hyperscan")}
        assert (line in lines) >= rf.match_bytes(line)


_RF = RelevanceFilter.from_codebook(load_codebook())


def test_scan_block_engines_agree_on_exact_lines(rf: RelevanceFilter) -> None:
    lines = [
        b'{"body": "ChatGPT and my anxiety"}',
        b'{"body": "nothing"}',
        b'{"body": "Claude\\nADHD"}',
        b'{"title": "ChatGPTx", "body": "ADHD"}',
        b'{"body": "Gemini \\u2019therapy\\u2019"}',
    ]
    block = b"\n".join(lines) + b"\n"
    for engine in ("re", "hyperscan") if rf.engine == "hyperscan" else ("re",):
        found = [block[s:e] for s, e in rf.scan_block(block, engine=engine)]
        assert [ln for ln in found if rf.match_bytes(ln)] == [lines[0], lines[2], lines[4]]


@pytest.mark.parametrize("rarer", [0, 1])
def test_hyperscan_two_stage_scan_equals_one_pass(rarer: int) -> None:
    rf = RelevanceFilter.from_codebook(load_codebook())
    if rf.engine != "hyperscan":
        # hyperscan is a dependency on x86-64 only: missing there is a failure
        if platform.machine() in ("x86_64", "AMD64"):
            pytest.fail("hyperscan should be installed on x86-64 (see pyproject.toml)")
        pytest.skip("hyperscan has no wheels for this platform")
    import random

    rnd = random.Random(rarer)
    words = ["ChatGPT", "Claude", "anxiety", "ADHD", "ADD", "add", "the", "x", "mental health"]
    lines = [
        json.dumps({"id": i, "body": " ".join(rnd.choices(words, k=rnd.randint(0, 5)))}).encode()
        for i in range(3000)
    ]
    block = b"\n".join(lines) + b"\n"
    hs = rf._hyperscan()
    hs.SMALL = 0
    one = [block[s:e] for s, e in rf.scan_block(block, engine="re")]
    hs.hits, hs.since = [10**6, 10**6], 0  # as if calibrated on earlier blocks ...
    hs.hits[rarer] = 100  # ... `rarer` first, then the other list on the lines it hit
    two = [block[s:e] for s, e in rf.scan_block(block, engine="hyperscan")]
    assert hs.since == len(block)  # the two-stage path ran
    exact = [ln for ln in lines if rf.match_bytes(ln)]
    assert exact and [ln for ln in two if rf.match_bytes(ln)] == exact
    assert [ln for ln in one if rf.match_bytes(ln)] == exact
