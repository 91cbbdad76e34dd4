"""Mention masking and identity scrubbing (vsdstats.masking); synthetic strings only."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from vsdstats.masking import EMAIL_TOKEN, Masker, rewrite_url
from vsdstats.privacy import is_pseudonym, pseudonymize

SECRET = bytes(range(32))
M = Masker(SECRET, "synth")
PSEUDO = re.compile(r"a_[0-9a-f]{24}")


def p(handle: str) -> str:
    return "@" + pseudonymize(handle, SECRET, "synth")


def test_plain_bluesky_and_mastodon_mentions() -> None:
    text = "thanks @Zorblax_9, @quux.bsky.social and @mira@fedi.example!"
    out = M.mask_mentions(text)
    assert out == (
        f"thanks {p('zorblax_9')}, {p('quux.bsky.social')} and {p('mira@fedi.example')}!"
    )


def test_mentions_are_case_insensitive_and_keyed() -> None:
    assert M.mask_mentions("@Zorb") == M.mask_mentions("@zorb")
    other = Masker(bytes(range(1, 33)), "synth")
    assert other.mask_mentions("@zorb") != M.mask_mentions("@zorb")


def test_reddit_user_mentions_and_profile_subreddits() -> None:
    out = M.mask_mentions("ask u/quibble_x or /u/Flarn-7, see r/u_snorp; r/depression stays")
    assert out == (f"ask {p('quibble_x')} or {p('flarn-7')}, see {p('snorp')}; r/depression stays")


def test_emails_masked_not_treated_as_mentions() -> None:
    out = M.mask_mentions("write to zed.q+notes@mail.example.org or me@x.io.")
    assert out == f"write to {EMAIL_TOKEN} or {EMAIL_TOKEN}."


def test_times_and_non_mentions_kept() -> None:
    text = "woke up @3am again, meds @10:30pm, a@b, 5 @ 6, r/anxiety"
    assert M.mask_mentions(text) == text


def test_mentions_inside_links_masked() -> None:
    out = M.mask_mentions("https://fedi.example/@mira/1234")
    assert out == f"https://fedi.example/{p('mira')}/1234"


def test_identities_scrubbed_as_whole_tokens() -> None:
    text = "Quentin Blorp here (qblorp, id 99812). qblorpish stays"
    out = M.mask_text(text, identities={"Quentin Blorp"}, author_keys=("qblorp", "99812"))
    author = pseudonymize("qblorp", SECRET, "synth")
    name = pseudonymize("quentin blorp", SECRET, "synth")
    assert out == f"{name} here ({author}, id {author}). qblorpish stays"


def test_single_character_identities_not_scrubbed() -> None:
    assert M.scrub_identities("I am a person", {"a", "I"}) == "I am a person"


def test_urls() -> None:
    keys = ("qblorp",)
    assert M.scrub_url("https://example.org/post/1", (), keys) == "https://example.org/post/1"
    assert (
        M.scrub_url("https://twitter.com/qblorp/status/123", (), keys)
        == "https://x.com/i/web/status/123"
    )
    assert M.scrub_url("https://bsky.app/profile/qblorp/post/3k", (), keys) is None
    assert rewrite_url("https://www.reddit.com/r/u_qblorp/comments/abc/t/def/") == (
        "https://www.reddit.com/comments/abc/_/def/"
    )
    assert M.scrub_url(None) is None


_WORDS = st.sampled_from(["I", "feel", "better", "today,", "ChatGPT", "helped", "me", "🙂", "\n"])
_HANDLE = st.from_regex(r"[A-Za-z0-9_]{1,15}(\.[A-Za-z0-9-]{1,10}){0,2}", fullmatch=True)
_TIME = re.compile(r"\d{1,2}(:\d{2})?([aApP][mM])?")


@given(
    before=st.lists(_WORDS, max_size=6),
    handle=_HANDLE,
    after=st.lists(_WORDS, max_size=6),
    tail=st.sampled_from(["", ".", ",", "!", ":", ")"]),
)
def test_arbitrary_handles_never_survive_as_mentions(
    before: list[str], handle: str, after: list[str], tail: str
) -> None:
    assume(not _TIME.fullmatch(handle))
    pre, post = " ".join(before), " ".join(after)
    text = f"{pre} @{handle}{tail} {post}"
    out = M.mask_mentions(text)
    assert out == f"{pre} {p(handle)}{tail} {post}"
    assert "@" + handle not in out


@given(
    handle=st.from_regex(r"[A-Za-z0-9_-]{3,20}", fullmatch=True),
    prefix=st.sampled_from(["u/", "/u/", "r/u_"]),
)
def test_arbitrary_reddit_names_never_survive(handle: str, prefix: str) -> None:
    out = M.mask_mentions(f"thanks {prefix}{handle} for this")
    assert out == f"thanks {p(handle)} for this"


@given(
    identity=st.text(
        st.characters(codec="utf-8", categories=("L", "N", "Zs", "P", "S")), min_size=2
    ).filter(lambda s: s.strip().lstrip("@").strip() and len(s.strip().lstrip("@")) >= 2),
    before=st.lists(_WORDS, max_size=4),
)
def test_arbitrary_identities_never_survive(identity: str, before: list[str]) -> None:
    text = f"{' '.join(before)} {identity} \n"
    out = M.scrub_identities(text, {identity})
    core = identity.strip().lstrip("@").strip()
    assert core.lower() not in PSEUDO.sub("", out).lower().replace(" ".join(before).lower(), "", 1)
    assert any(is_pseudonym(t) for t in PSEUDO.findall(out))
