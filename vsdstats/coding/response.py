"""Pydantic response models for LLM coding, generated from the codebook.

:func:`build_response_model` returns ``Extraction`` (``relevant: bool``, ``units:
list[Unit]``) whose ``Unit`` has one ``Literal`` field per coded dimension of the
codebook (:attr:`~vsdstats.tables.codebook.Codebook.unit_fields`: llm_product,
llm_version when the codebook has it, sentiment, condition, perspective, value; the
field description lists ``code: definition``) and a ``quote``.  Editing the codebook
therefore changes the models and their JSON schema.  Both models forbid extra fields.

Validation (messages are written for the model: instructor feeds them back on retry):

- every label must be a code of its dimension;
- a nested label must belong to its parent: ``llm_version`` must be a version of the
  unit's ``llm_product`` or a family-less code (``unspecified``, ``other_version``).  A
  mismatch is a validation error, not silently mapped to ``unspecified``: either the
  family or the version is wrong, the coder is told which codes fit the family and
  corrects one of them on retry, and a post whose coder never agrees with itself
  fails visibly instead of entering the tables with a guessed version;
- ``quote`` must have at least :data:`MIN_QUOTE_WORDS` words and -- when the validation
  context holds the post (``{"text": post_text}``) -- occur verbatim in the post after
  :func:`vsdstats.coding.quotes.normalize` (case-sensitive).  Without a context (and
  outside :func:`post_text_context`) the verbatim check is skipped (e.g. when
  re-reading stored JSON), so always pass one of them when validating model output;
- ``relevant=False`` requires no units and ``relevant=True`` at least one.

Open coding (``vsdstats code --open``, issue 14): with ``open_dimensions`` the ``Unit``
also has ``open_labels``, an ``OpenLabels`` object with one free-text field per named
dimension (the model's own short label, 1 to :data:`OPEN_MAX_CHARS` characters on one
line, not restricted to the codebook); the unit's verbatim ``quote`` supports both.

The post reaches the validators in one of two ways:

- pydantic's validation context, ``Model.model_validate_json(data, context={"text":
  post_text})`` (batch mode, tests), which instructor (>= 1.6; checked against 1.17) also
  forwards as ``create(..., context={"text": post_text})``.  But instructor then renders
  every message as a Jinja template on every call (the ~10 KB system prompt included),
  which costs more CPU than the rest of a request;
- :func:`post_text_context` (a :class:`contextvars.ContextVar`, so each asyncio task sees
  its own post), used by the engine: instructor is called *without* ``context=`` and does
  no templating, while validation -- and instructor's retries with the error fed back --
  is exactly the same.  An explicit validation context takes precedence.

:meth:`vsdstats.coding.prompt.PromptSpec.messages` escapes Jinja markers either way.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from vsdstats.coding.quotes import quote_in_text, word_count
from vsdstats.tables.codebook import UNIT_FIELD_ORDER, Codebook, parse_codebook
from vsdstats.tables.models import CodedUnit

__all__ = [
    "MIN_QUOTE_WORDS",
    "OPEN_MAX_CHARS",
    "UNIT_FIELDS",
    "ExtractionBase",
    "UnitBase",
    "build_response_model",
    "extraction_to_units",
    "post_text_context",
]

#: Minimum number of words in a quote (see :func:`vsdstats.coding.quotes.word_count`).
MIN_QUOTE_WORDS = 5
#: Longest open label (characters) a coder may give.
OPEN_MAX_CHARS = 80
#: Order of the coded fields in ``Unit`` (quote last: labels refer to the quoted passage);
#: a codebook without llm_version skips it (``Codebook.unit_fields``).
UNIT_FIELDS = UNIT_FIELD_ORDER


_POST_TEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vsdstats_post_text", default=None
)


@contextmanager
def post_text_context(text: str) -> Iterator[None]:
    """Within the block (in this task/thread only), validate quotes against ``text``.

    Used when validating without a pydantic context, e.g. inside instructor called
    without ``context=``; an explicit ``context={"text": ...}`` still wins.
    """
    token = _POST_TEXT.set(text)
    try:
        yield
    finally:
        _POST_TEXT.reset(token)


def _post_text(info: ValidationInfo) -> str | None:
    ctx = info.context
    if isinstance(ctx, dict) and isinstance(ctx.get("text"), str):
        return ctx["text"]
    return _POST_TEXT.get()


class UnitBase(BaseModel):
    """Common behaviour of generated ``Unit`` models: quote checks."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("quote", check_fields=False)
    @classmethod
    def _check_quote(cls, quote: str, info: ValidationInfo) -> str:
        n = word_count(quote)
        if n < MIN_QUOTE_WORDS:
            raise ValueError(
                f"quote has {n} word(s) but needs at least {MIN_QUOTE_WORDS}: copy a longer "
                "contiguous passage of the post, word for word, that shows this reported use"
            )
        text = _post_text(info)
        if text is not None and not quote_in_text(quote, text):
            hint = (
                " It matches only when ignoring case: keep the post's capitalisation exactly."
                if quote_in_text(quote, text, ignore_case=True)
                else ""
            )
            raise ValueError(
                f"quote is not a verbatim passage of the post: {quote[:200]!r}.{hint} Copy a "
                f"contiguous passage of at least {MIN_QUOTE_WORDS} words exactly as written "
                "in the post (no paraphrase, no spelling fixes, no translation, no joining of "
                "separate passages, no '...')"
            )
        return quote


class OpenLabelsBase(BaseModel):
    """Common behaviour of generated ``OpenLabels`` models: short one-line labels."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _check_label(cls, v: str, info: ValidationInfo) -> str:
        v = " ".join(str(v).split())
        if not v:
            raise ValueError(f"open label for {info.field_name} is empty: write a short label")
        if len(v) > OPEN_MAX_CHARS:
            raise ValueError(
                f"open label for {info.field_name} has {len(v)} characters: write at most "
                f"{OPEN_MAX_CHARS} (a few words naming it, not a sentence)"
            )
        return v


class ExtractionBase(BaseModel):
    """Common behaviour of generated ``Extraction`` models: relevant/units consistency."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _check_units(self) -> ExtractionBase:
        relevant: bool = self.relevant  # type: ignore[attr-defined]
        units: list[Any] = self.units  # type: ignore[attr-defined]
        if not relevant and units:
            raise ValueError(
                f"relevant is false but units has {len(units)} item(s): if the post states a "
                "direct relation between LLM use and mental health, set relevant to true; "
                "otherwise return units as an empty list []"
            )
        if relevant and not units:
            raise ValueError(
                "relevant is true but units is empty: add one unit per reported use of an LLM "
                "for mental health, each with a verbatim quote of at least "
                f"{MIN_QUOTE_WORDS} words, or set relevant to false if the post states no "
                "direct relation between LLM use and mental health"
            )
        return self


def _field_description(codebook: Codebook, dim: str) -> str:
    d = codebook.dimensions[dim]
    lines = [f"{d.description} One of:"]
    lines += [f"{c.code}: {c.definition}" for c in d.categories]
    return "\n".join(lines)


def _within_validator(codebook: Codebook) -> Any:
    """An after-validator: each nested label belongs to its parent's code."""
    nested = [
        (d, codebook.dimensions[d].within)
        for d in codebook.unit_fields
        if codebook.dimensions[d].within in codebook.unit_fields
    ]

    def check_within(self: BaseModel) -> BaseModel:
        for dim, parent in nested:
            codebook.check_within(dim, getattr(self, dim), getattr(self, str(parent)))
        return self

    return model_validator(mode="after")(check_within)


def _open_model(codebook: Codebook, dims: tuple[str, ...]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        d: (
            str,
            Field(
                description=(
                    f"Your own short label (1-5 words, the post's terms) for the {d} of "
                    f"this use: {codebook.dimensions[d].description} Not limited to the codes."
                )
            ),
        )
        for d in dims
    }
    return create_model(
        "OpenLabels",
        __base__=OpenLabelsBase,
        __doc__="Free-text labels of the unit, one per open-coded dimension.",
        **fields,
    )


def _build(codebook: Codebook, open_dims: tuple[str, ...] = ()) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for dim in codebook.unit_fields:
        codes = tuple(codebook.codes(dim))
        fields[dim] = (Literal[codes], Field(description=_field_description(codebook, dim)))
    if open_dims:
        fields["open_labels"] = (
            _open_model(codebook, open_dims),
            Field(description="Free-text labels of this use, in your own words."),
        )
    fields["quote"] = (
        str,
        Field(
            description=(
                f"A contiguous passage of at least {MIN_QUOTE_WORDS} words copied verbatim "
                "from the post that shows this reported use."
            )
        ),
    )
    unit = create_model(
        "Unit",
        __base__=UnitBase,
        __doc__="One reported use of an LLM for mental health in the post.",
        __validators__={"check_within": _within_validator(codebook)},
        **fields,
    )
    return create_model(
        "Extraction",
        __base__=ExtractionBase,
        __doc__=(
            "Coding of one post: whether it is relevant and, if so, one unit per reported use."
        ),
        relevant=(
            bool,
            Field(
                description=(
                    "True only if the post states a direct relation between LLM use and "
                    "mental health (causal, instrumental, experiential or evaluative)."
                )
            ),
        ),
        units=(
            list[unit],  # type: ignore[valid-type]
            Field(description="One item per reported use; empty when relevant is false."),
        ),
    )


@lru_cache(maxsize=16)
def _build_cached(key: str) -> type[BaseModel]:
    data = json.loads(key)
    cb = parse_codebook(data["cb"], source=data["source"])
    return _build(cb, tuple(data.get("open", ())))


def build_response_model(
    codebook: Codebook, open_dimensions: tuple[str, ...] = ()
) -> type[BaseModel]:
    """The ``Extraction`` model for ``codebook`` (cached per codebook content), with
    ``open_labels`` for ``open_dimensions`` when given (module docstring)."""
    for d in open_dimensions:
        if d not in codebook.unit_fields:
            raise ValueError(
                f"open dimension {d!r} is not a coded dimension of codebook {codebook.name} "
                f"(use {', '.join(codebook.unit_fields)})"
            )
    data: dict[str, Any] = {"cb": codebook.model_dump(mode="json"), "source": codebook.source}
    if open_dimensions:
        data["open"] = list(open_dimensions)
    return _build_cached(json.dumps(data, sort_keys=True))


def extraction_to_units(
    extraction: BaseModel,
    post_id: str,
    *,
    coder: str,
    model: str | None,
    codebook_version: str,
    text: str | None = None,
) -> list[CodedUnit]:
    """``CodedUnit`` rows (unit_index 0, 1, ...) for a validated extraction.

    With ``text`` the quotes are checked again against the post (ValueError naming the
    post and unit if one is not verbatim) -- useful when the extraction was validated
    without a context.
    """
    units = list(getattr(extraction, "units", []))
    out = []
    for i, u in enumerate(units):
        if text is not None and not quote_in_text(u.quote, text):
            raise ValueError(f"post {post_id}: units[{i}].quote is not verbatim in the post")
        out.append(
            CodedUnit(
                post_id=post_id,
                unit_index=i,
                **{
                    f: str(getattr(u, f))
                    for f in type(u).model_fields
                    if f not in ("quote", "open_labels")
                },
                quote=u.quote,
                coder=coder,
                model=model,
                codebook_version=codebook_version,
            )
        )
    return out
