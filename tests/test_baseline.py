"""The offline baseline coder on synthetic posts."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.coding.baseline import MODEL_NAME, BaselineCoder
from vsdstats.coding.quotes import word_count
from vsdstats.tables.codebook import load_codebook
from vsdstats.tables.models import CODE_FIELDS, validate_frame

CB = load_codebook()
CODER = BaselineCoder(CB)


def test_relevant_post_is_coded():
    text = (
        "My therapist is away. Honestly ChatGPT helped me so much with my depression "
        "and my anxiety, I love it."
    )
    relevant, units = CODER.code("p1", text)
    assert relevant
    assert [u.condition for u in units] == ["depressive", "anxiety"]
    assert {u.llm_product for u in units} == {"chatgpt"}
    assert {u.sentiment for u in units} == {"positive"}
    assert all(u.coder == "baseline" and u.model == MODEL_NAME for u in units)
    assert (
        units[0].quote
        == "Honestly ChatGPT helped me so much with my depression and my anxiety, I love it."
    )


def test_negative_and_first_product():
    text = "I vented to Replika and later to Claude, it was awful and made my panic worse."
    relevant, units = CODER.code("p2", text)
    assert relevant and len(units) == 1
    u = units[0]
    assert (u.llm_product, u.condition, u.sentiment) == ("companion", "anxiety", "negative")
    assert u.perspective == "emotional_support"  # "vented"
    assert u.quote in text and word_count(u.quote) >= 5


def test_general_only_without_specific_condition():
    _, units = CODER.code("p3", "Talking to Gemini about stress after work is nice.")
    assert [u.condition for u in units] == ["general"]


def test_not_relevant():
    assert CODER.code("p4", "I use Claude for coding all day long.") == (False, [])
    assert CODER.code("p5", "My depression is bad this week.") == (False, [])
    assert CODER.code("p6", "") == (False, [])
    # word boundaries and case-sensitive acronyms
    assert CODER.code("p7", "ChatGPTx added some depressingly long text") == (False, [])


def test_ungated_codes_conditions_only():
    relevant, units = BaselineCoder(CB, require_llm=False).code("p8", "I feel depressed today.")
    assert relevant and units[0].condition == "depressive" and units[0].llm_product == "other"


def test_short_post_quote_window():
    text = "Short. ChatGPT: yes. It helps my ADHD a lot really."
    _, units = CODER.code("p9", text)
    assert units[0].quote in text and word_count(units[0].quote) >= 5


def test_code_frame_is_deterministic_and_valid():
    posts = pd.DataFrame(
        {
            "post_id": ["a", "b", "c"],
            "text": ["ChatGPT eased my loneliness so much", "no terms here", None],
        }
    )
    s1, u1 = CODER.code_frame(posts)
    s2, u2 = BaselineCoder(CB).code_frame(posts)
    pd.testing.assert_frame_equal(s1, s2)
    pd.testing.assert_frame_equal(u1, u2)
    assert s1["relevant"].tolist() == [True, False, False]
    assert s1.loc[0, "llm_terms"] == "ChatGPT" and s1.loc[0, "mh_terms"] == "loneliness"
    validate_frame(u1, "coded_unit", codebook=CB)


ALPHABET = st.sampled_from(
    "ChatGPT Claude Replika depression anxiety ADHD stress help awful love . ! ? \n a b x".split(
        " "
    )
)


@given(st.one_of(st.lists(ALPHABET, max_size=40).map(" ".join), st.text(max_size=200)))
def test_never_emits_labels_outside_codebook(text):
    relevant, units = CODER.code("h", text)
    assert relevant == bool(units)
    for u in units:
        for f in CODE_FIELDS:
            assert getattr(u, f) in CB.codes(f)
        assert u.quote in text
