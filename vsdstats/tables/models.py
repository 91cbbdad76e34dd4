"""The data contract every stage shares: normalized posts and coded units.

Two pydantic models validate single records; ``POST_COLUMNS`` and
``CODED_UNIT_COLUMNS`` document the tidy table each becomes (column -> pandas
dtype), and :func:`to_frame` / :func:`validate_frame` convert and check tables.

Post table (one row per post):
    platform        lower-case platform slug (reddit, x, youtube, tiktok, mastodon, bluesky, ...)
    post_id         platform id as a string (TikTok ids exceed 2**53, so never a float)
    thread_id       id of the thread/submission/video the post belongs to (itself for roots)
    parent_id       id of the post replied to, or missing for top-level posts
    author          keyed pseudonym ``a_<24 hex>`` (never a raw handle), or missing
    created_at      timestamp, timezone-aware UTC
    text            plain text (HTML and markup removed)
    url             permalink, or missing
    lang            BCP-47 language tag when the platform gives one (Reddit, YouTube and
                    TikTok give none)
    community       where the post was published, as the platform defines a community
                    (below), or missing
    score           engagement as the platform counts it (below), or missing
    replies         number of replies/comments the platform reports for the post, or missing
    source_file     file the post was read from (for audit), or missing for live collection
    source_line     1-based line (or record) number within source_file

``community``, ``score`` and ``replies`` per platform (missing where the record does
not carry them; tables written before these columns existed read them as missing):

- reddit: the subreddit (``AskReddit``); ``score``; ``num_comments`` (submissions;
  missing for comments, which carry no count).
- x: none; ``public_metrics.like_count`` (snscrape ``likeCount``); ``reply_count``
  (``replyCount``).
- youtube: the video's channel id (``snippet.channelId`` of the thread or comment; the
  downloader's lines do not name it); ``likeCount`` (the downloader's ``votes`` when it
  is a plain number, not "1.2K"); ``totalReplyCount`` of a thread's top-level comment
  (the downloader's ``replies``).
- tiktok: ``region_code`` of a video (comments: none); ``like_count``;
  ``comment_count`` of a video, ``reply_count`` of a comment.
- mastodon: the host of the instance the status was published on (of its ``uri``);
  ``favourites_count``; ``replies_count``.
- bluesky: none (a feed is where a post was read, not where it was published);
  ``likeCount``; ``replyCount`` (post views only; bare records carry no counts).
- social-listening exports: the row's ``Subreddit``/``Community`` column if any;
  ``Likes``; ``Replies``/``Comments``.

Privacy of ``community``: a community names a place, not an author, but some places are
people.  The rules: YouTube keeps only the channel the *video* belongs to (its public
publisher), never the commenter's channel (``authorChannelId``, the downloader's
``channel``), which is the commenter's identity; Reddit profile subreddits (``u_name``)
name their owner; a Mastodon instance can be a single person's server.  So ingest
treats ``community`` like an id: when it contains one of the post's identities (the
author's handle, id or display name, a mentioned user, ``u_name`` of a profile
subreddit) or a mention, it is replaced by a keyed hash ``h_<24 hex>`` (still one value
per community within a study, unrelated to any pseudonym).  A single-person instance
whose host does not contain the owner's name is kept as it is: a host is public, and
the post's author stays a pseudonym, but a reader who knows who runs that server can
guess the author; publish per-community results only above a minimum count of authors.
Hashtags are topics, not communities, on every platform here, so none is kept.

Coded-unit table (one row per post and reported use; a post yields 0..n units):
    post_id, unit_index, llm_product, llm_version, sentiment, condition, perspective, value,
    quote (verbatim supporting quote), coder (``llm``, ``baseline``, ``simulated`` or
    ``human:<id>``),
    model (model name, missing for humans), codebook_version.
    ``llm_version`` (codebook 1.1) is the model version within the family; it is
    missing (NA) in units coded with a codebook that has no llm_version dimension
    (codebook 1.0): "not coded", which is not the same as ``unspecified`` ("the post
    names no version").  Tables written before the column existed read it as NA.

Analysis table (one row per coded unit, joined with its post on ``post_id``; what
``vsdstats export`` writes and every ``stats`` command and ``paper`` read, see
:mod:`vsdstats.tables.analysis_table`): ``ANALYSIS_COLUMNS`` = post_id, unit_index, the
post's :data:`UNIT_POST_COLUMNS` (platform, author, created_at, community, score,
replies, lang), then the coded-unit columns from llm_product on; columns a coder adds
follow in their own order.  No post text: ``quote`` is the only text it carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vsdstats.errors import InputError

if TYPE_CHECKING:
    from vsdstats.tables.codebook import Codebook

#: An author in every table: ``a_`` + 24 hex digits (:mod:`vsdstats.ingest.pseudonymize`).
PSEUDONYM_PATTERN = r"^a_[0-9a-f]{24}$"

POST_COLUMNS: dict[str, str] = {
    "platform": "string",
    "post_id": "string",
    "thread_id": "string",
    "parent_id": "string",
    "author": "string",
    "created_at": "datetime64[ns, UTC]",
    "text": "string",
    "url": "string",
    "lang": "string",
    "community": "string",
    "score": "Int64",
    "replies": "Int64",
    "source_file": "string",
    "source_line": "Int64",
}

#: The coded fields every unit has (required columns).
CODE_FIELDS = ("llm_product", "sentiment", "condition", "perspective", "value")
#: Coded fields a unit has when its codebook defines them (NA otherwise).
OPTIONAL_CODE_FIELDS = ("llm_version",)

CODED_UNIT_COLUMNS: dict[str, str] = {
    "post_id": "string",
    "unit_index": "Int64",
    "llm_product": "string",
    "llm_version": "string",
    "sentiment": "string",
    "condition": "string",
    "perspective": "string",
    "value": "string",
    "quote": "string",
    "coder": "string",
    "model": "string",
    "codebook_version": "string",
}

#: The post columns each coded unit carries in the analysis table.
UNIT_POST_COLUMNS = ("platform", "author", "created_at", "community", "score", "replies", "lang")

ANALYSIS_COLUMNS: dict[str, str] = {
    "post_id": "string",
    "unit_index": "Int64",
    **{c: POST_COLUMNS[c] for c in UNIT_POST_COLUMNS},
    **{c: t for c, t in CODED_UNIT_COLUMNS.items() if c not in ("post_id", "unit_index")},
}

_REQUIRED = {
    "post": ("platform", "post_id", "created_at", "text"),
    "coded_unit": ("post_id", *CODE_FIELDS, "coder", "codebook_version"),
}


class SchemaError(InputError):
    """A table does not follow the data contract."""


class Post(BaseModel):
    """One normalized post."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    post_id: str = Field(min_length=1)
    thread_id: str | None = None
    parent_id: str | None = None
    author: str | None = Field(default=None, pattern=PSEUDONYM_PATTERN)
    created_at: datetime
    text: str
    url: str | None = None
    lang: str | None = None
    community: str | None = None
    score: int | None = None
    replies: int | None = Field(default=None, ge=0)
    source_file: str | None = None
    source_line: int | None = Field(default=None, ge=1)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware (connectors convert to UTC)")
        return v.astimezone(timezone.utc)


class CodedUnit(BaseModel):
    """One reported use of an LLM for mental health, coded against the codebook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    post_id: str = Field(min_length=1)
    unit_index: int = Field(default=0, ge=0)
    llm_product: str
    llm_version: str | None = None
    sentiment: str
    condition: str
    perspective: str
    value: str
    quote: str
    coder: str = Field(pattern=r"^(llm|baseline|simulated|human(:.+)?)$")
    model: str | None = None
    codebook_version: str

    def check(self, codebook: Codebook) -> CodedUnit:
        """Raise ValueError unless every label is a category of ``codebook`` (and
        llm_version, required when the codebook has it, belongs to llm_product)."""
        for f in CODE_FIELDS:
            codebook.check_label(f, getattr(self, f))
        _check_optional(codebook, {f: getattr(self, f) for f in (*CODE_FIELDS, "llm_version")})
        if self.codebook_version != codebook.version:
            raise ValueError(
                f"codebook_version {self.codebook_version!r} != codebook {codebook.version!r}"
            )
        return self


def _check_optional(codebook: Codebook, unit: dict[str, str | None]) -> None:
    for f in OPTIONAL_CODE_FIELDS:
        v = unit.get(f)
        if f not in codebook.dimensions:
            if v is not None:
                raise ValueError(
                    f"{f}: {v!r} given but codebook {codebook.name} {codebook.version} "
                    f"has no {f} dimension"
                )
            continue
        if v is None:
            raise ValueError(f"{f}: missing (codebook {codebook.version} codes it)")
        codebook.check_label(f, v)
        within = codebook.dimensions[f].within
        if within is not None:
            codebook.check_within(f, v, str(unit[within]))


def _columns(kind: str) -> dict[str, str]:
    if kind == "post":
        return POST_COLUMNS
    if kind == "coded_unit":
        return CODED_UNIT_COLUMNS
    raise ValueError(f"unknown table kind {kind!r} (post or coded_unit)")


def to_frame(records: Iterable[Post | CodedUnit], kind: str) -> pd.DataFrame:
    """Tidy DataFrame with the documented columns and dtypes, from model instances."""
    cols = _columns(kind)
    df = pd.DataFrame([r.model_dump() for r in records], columns=list(cols))
    return df.astype(cols)


def validate_frame(
    df: pd.DataFrame, kind: str, codebook: Codebook | None = None, source: str = "table"
) -> pd.DataFrame:
    """Check a table against the contract; return it with the documented dtypes.

    Errors name the source, the column and the first offending row.
    """
    cols = _columns(kind)
    missing = [c for c in _REQUIRED[kind] if c not in df.columns]
    if missing:
        raise SchemaError(f"{source}: missing required column(s) {', '.join(missing)}")
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = pd.Series(pd.NA, index=out.index, dtype=cols[c])
    for c in _REQUIRED[kind]:
        bad = out[c].isna()
        if bad.any():
            raise SchemaError(f"{source}: column {c!r} is missing a value at row {_first(bad)}")
    for c, dtype in cols.items():
        try:
            if dtype.startswith("datetime"):
                out[c] = _to_utc(out[c], c, source)
            else:
                out[c] = out[c].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{source}: column {c!r} cannot be read as {dtype}: {exc}") from None
    if kind == "post":
        bad_author = out["author"].notna() & ~out["author"].str.match(PSEUDONYM_PATTERN).fillna(
            False
        )
        if bad_author.any():
            raise SchemaError(
                f"{source}: column 'author' must hold pseudonyms (a_<24 hex>), "
                f"not raw handles: row {_first(bad_author)}"
            )
    if kind == "coded_unit" and codebook is not None:
        for f in CODE_FIELDS:
            allowed = set(codebook.codes(f))
            bad = ~out[f].isin(allowed)
            if bad.any():
                i = _first(bad)
                raise SchemaError(
                    f"{source}: column {f!r} row {i}: {out[f].iloc[i]!r} is not a category of "
                    f"codebook {codebook.name} {codebook.version}"
                )
        check_versions(out, codebook, source)
    return out[list(cols) + [c for c in out.columns if c not in cols]]


def check_versions(df: pd.DataFrame, codebook: Codebook, source: str) -> None:
    """SchemaError unless every non-missing ``llm_version`` is a code of ``codebook``
    that belongs to the row's ``llm_product``.  Missing values are allowed: units coded
    with codebook 1.0 have no version."""
    if "llm_version" not in df.columns or df["llm_version"].isna().all():
        return
    if "llm_version" not in codebook.dimensions:
        raise SchemaError(
            f"{source}: column 'llm_version' is filled but codebook {codebook.name} "
            f"{codebook.version} has no llm_version dimension"
        )
    ver = df["llm_version"].astype("string")
    allowed = set(codebook.codes("llm_version"))
    bad = ver.notna() & ~ver.isin(allowed)
    if bad.any():
        i = _first(bad)
        raise SchemaError(
            f"{source}: column 'llm_version' row {i}: {ver.iloc[i]!r} is not a category of "
            f"codebook {codebook.name} {codebook.version}"
        )
    within = codebook.dimensions["llm_version"].within
    if within is None or within not in df.columns:
        return
    family = {c.code: c.family for c in codebook.dimensions["llm_version"].categories}
    fam = ver.map(family, na_action="ignore")
    parent = df[within].astype("string")
    wrong = (ver.notna() & fam.notna() & (fam != parent)).fillna(False)
    if wrong.any():
        i = _first(wrong)
        raise SchemaError(
            f"{source}: column 'llm_version' row {i}: {ver.iloc[i]!r} is a version of "
            f"{fam.iloc[i]!r}, not of the row's {within} {parent.iloc[i]!r}"
        )


def _first(mask: pd.Series) -> int:
    return int(mask.to_numpy().nonzero()[0][0])


def _to_utc(s: pd.Series, col: str, source: str) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    parsed = pd.to_datetime(s, utc=False, errors="coerce", format="ISO8601")
    bad = parsed.isna() & s.notna()
    if bad.any():
        i = _first(bad)
        raise SchemaError(f"{source}: column {col!r} row {i}: cannot parse {s.iloc[i]!r}")
    if getattr(parsed.dtype, "tz", None) is None:
        raise SchemaError(f"{source}: column {col!r} has timestamps without a time zone")
    return parsed.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
