"""Mention masking and identity scrubbing (vsdstats.ingest.masking); synthetic strings only."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vsdstats.ingest.masking import EMAIL_TOKEN, Masker, rewrite_url
from vsdstats.ingest.pseudonymize import is_pseudonym, pseudonymize

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


# ---- issue 8 item 6: other people's profile links in text
@pytest.mark.parametrize(
    "link",
    [
        "twitter.com/{h}",
        "https://x.com/{h}",
        "https://mobile.twitter.com/{h}/status/1790000000000000001",
        "https://x.com/intent/user?screen_name={h}",
        "https://www.instagram.com/{h}/",
        "https://facebook.com/{h}",
        "https://bsky.app/profile/{h}.bsky.social",
        "[@someone](https://x.com/{h})",
        "https://www.reddit.com/u/{h}",
        "https://www.reddit.com/user/{h}/",
        "https://www.youtube.com/@{h}",
        "https://www.tiktok.com/@{h}/video/7301",
        "https://fedi.example/@{h}",
        "https://fedi.example/users/{h}/statuses/1",
        "https://www.threads.net/@{h}",
    ],
)
def test_profile_links_masked(link: str) -> None:
    handle = "Zorblax_9"
    out = M.mask_text(f"see {link.format(h=handle)} for more")
    assert handle.lower() not in out.lower()
    assert PSEUDO.search(out)


def test_site_pages_are_not_profiles() -> None:
    text = "x.com/i/web/status/1 x.com/home x.com/search?q=a instagram.com/p/Cx1 box.com/zorb"
    assert M.mask_text(text) == text


@given(handle=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,14}", fullmatch=True), site=st.sampled_from(
    ["twitter.com/", "x.com/", "instagram.com/", "facebook.com/", "bsky.app/profile/"]
))  # fmt: skip
def test_arbitrary_profile_links_never_survive(handle: str, site: str) -> None:
    assume(handle.lower() not in {"home", "search", "explore", "intent", "share", "login"})
    out = M.mask_text(f"follow https://{site}{handle} now")
    assert out == f"follow https://{site}{p(handle)} now"


# ---- issue 8 item 7: look-alikes of a known identity
@pytest.mark.parametrize(
    "variant",
    [
        "ｑｂｌｏｒｐ",  # fullwidth
        "qbl\u043er\u0440",  # Cyrillic o and r
        "qb\u200blorp",  # zero-width space inside
        "q\u200db\u2060lorp",  # joiners
        "𝐪𝐛𝐥𝐨𝐫𝐩",  # mathematical bold
        "QBL\u041eRP",  # Cyrillic capital O
    ],
)
def test_lookalike_identities_scrubbed(variant: str) -> None:
    author = pseudonymize("qblorp", SECRET, "synth")
    out = M.mask_text(f"I am {variant}, hi", author_keys=("qblorp",))
    assert out == f"I am {author}, hi"
    assert re.fullmatch(r"cc @a_[0-9a-f]{24}", M.mask_text(f"cc @{variant}"))


def test_lookalike_scrub_keeps_other_words() -> None:
    text = "qblorpish ｑｂｌｏｒｐｉｓｈ café 👨\u200d👩\u200d👧"
    assert M.mask_text(text, author_keys=("qblorp",)) == text


# ---- issue 8 item 8: e-mail variants and phone numbers
@pytest.mark.parametrize(
    "email",
    [
        "zed@localhost",
        "zed@[127.0.0.1]",
        "zed@127.0.0.1",
        "zed(at)gmail(dot)com",
        "zed [at] mail [dot] example [dot] org",
        "zed{at}mail.example",
        "zed＠mail.example.org",
    ],
)
def test_email_variants_masked(email: str) -> None:
    assert M.mask_text(f"write {email} today") == f"write {EMAIL_TOKEN} today"


@pytest.mark.parametrize(
    "phone",
    ["+1 415-555-2671", "(415) 555-2671", "+44 20 7946 0958", "020 7946 0958", "+49 30 1234567"],
)
def test_phone_numbers_masked(phone: str) -> None:
    assert M.mask_text(f"call me on {phone} tonight") == "call me on [phone] tonight"


_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))
_ORDINARY = st.one_of(  # a bare 10-digit run may be a real phone number: not here
    st.integers(0, 10**6).map(str),
    st.integers(1900, 2100).map(str),
    _DATES.map(lambda d: d.isoformat()),
    _DATES.map(lambda d: d.strftime("%d/%m/%Y")),
    _DATES.map(lambda d: d.strftime("%d.%m.%Y")),
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
    ),
    st.integers(1, 1000).map(lambda n: f"I took {n} mg"),
    st.decimals(0, 10**6, places=2).map(lambda d: f"${d:,}"),
    st.integers(10**17, 10**19).map(lambda n: f"post {n}"),
    st.integers(10**5, 10**8).map(lambda n: f"{n:,} views"),
)


@given(st.lists(_ORDINARY, min_size=1, max_size=4))
def test_ordinary_numbers_not_masked_as_phones(parts: list[str]) -> None:
    text = "on " + ", ".join(parts) + " ok"
    assert M.mask_text(text) == text
