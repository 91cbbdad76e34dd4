"""The VSD codebook: a versioned TOML file of dimensions and their categories.

``load_codebook()`` reads the default codebook shipped with vsdstats or a user's
copy, validates it and reports problems as ``CodebookError`` naming the file and
the offending key (e.g. ``dimensions.sentiment.categories[2].definition``).

Nested dimensions.  A dimension with ``within = "llm_product"`` (``llm_version``) is
coded inside another: each category may name its ``family`` (a code of that dimension)
and a unit's code must belong to the unit's family (:meth:`Codebook.check_within`);
categories without ``family`` (``unspecified``) go with every family.  ``released`` is
a version's first public release date.

The codebook is the one list of labels: the prompt, the response model, the table
checks, the baseline coder, the simulator and the analyses all take the codes from
here (:attr:`Codebook.unit_fields` lists the dimensions a unit is coded on).
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vsdstats.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Dimensions every codebook must define (the columns of a coded unit).
REQUIRED_DIMENSIONS = ("sentiment", "condition", "perspective", "value", "llm_product")
#: Dimensions a codebook may define (codebook 1.1: the model version); a unit is coded
#: on them when the codebook has them.
OPTIONAL_DIMENSIONS = ("llm_version",)
#: Order of the coded fields of a unit (llm_version, when present, after llm_product).
UNIT_FIELD_ORDER = ("llm_product", "llm_version", "sentiment", "condition", "perspective", "value")
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class CodebookError(InputError):
    """A codebook file is unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)
    terms: list[str] = Field(default_factory=list)
    family: str | None = None
    released: date | None = None

    @field_validator("examples", "terms")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("entries must not be blank")
        return v


class Dimension(_Strict):
    description: str = Field(min_length=1)
    categories: list[Category] = Field(min_length=2)
    within: str | None = None


class Relevance(_Strict):
    definition: str = Field(min_length=1)
    exclusions: list[str] = Field(default_factory=list)


class CodebookMeta(_Strict):
    name: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$")
    description: str = ""


class Codebook(_Strict):
    """A validated codebook.  ``dimensions`` maps a dimension name to its categories."""

    codebook: CodebookMeta
    relevance: Relevance
    dimensions: dict[str, Dimension]
    source: str = Field(default="<memory>", exclude=True)
    sha256: str = Field(default="", exclude=True)

    @property
    def version(self) -> str:
        return self.codebook.version

    @property
    def name(self) -> str:
        return self.codebook.name

    def codes(self, dimension: str) -> list[str]:
        """Category codes of one dimension, in codebook order."""
        try:
            return [c.code for c in self.dimensions[dimension].categories]
        except KeyError:
            raise KeyError(
                f"codebook {self.source} has no dimension {dimension!r}; "
                f"it has {sorted(self.dimensions)}"
            ) from None

    @property
    def unit_fields(self) -> tuple[str, ...]:
        """The dimensions a unit is coded on, in :data:`UNIT_FIELD_ORDER` (llm_version
        only when the codebook defines it)."""
        return tuple(d for d in UNIT_FIELD_ORDER if d in self.dimensions)

    def members(self, dimension: str, parent: str) -> list[str]:
        """Codes of nested ``dimension`` that go with ``parent`` (a code of the dimension
        it is ``within``): the parent's own categories, then those without a family."""
        cats = self.dimensions[dimension].categories
        return [c.code for c in cats if c.family == parent] + [
            c.code for c in cats if c.family is None
        ]

    def check_within(self, dimension: str, code: str, parent: str) -> str:
        """Return ``code`` if it belongs to ``parent`` (see :meth:`members`), else raise
        ValueError with a message a coder (or instructor's retry) can act on."""
        within = self.dimensions[dimension].within
        if within is None:
            return code
        family = self.category(dimension, code).family
        if family is None or family == parent:
            return code
        allowed = ", ".join(self.members(dimension, parent))
        raise ValueError(
            f"{dimension} {code!r} is a version of {within} {family!r}, not of {parent!r}: "
            f"with {within}={parent!r} use one of {allowed}, or correct {within} if the "
            f"post is about {family!r}"
        )

    @cached_property
    def _code_sets(self) -> dict[str, frozenset[str]]:
        return {d: frozenset(self.codes(d)) for d in self.dimensions}

    def check_label(self, dimension: str, label: str) -> str:
        """Return ``label`` if it is a category of ``dimension``, else raise ValueError."""
        if dimension not in self._code_sets:
            self.codes(dimension)
        if label not in self._code_sets[dimension]:
            raise ValueError(
                f"{dimension}: {label!r} is not a category of codebook {self.name} "
                f"{self.version} (allowed: {', '.join(self.codes(dimension))})"
            )
        return label

    def category(self, dimension: str, code: str) -> Category:
        for c in self.dimensions[dimension].categories:
            if c.code == code:
                return c
        raise KeyError(f"{dimension}: no category {code!r}")


def default_codebook_path() -> Path:
    """Path of the codebook shipped with vsdstats."""
    return Path(str(resources.files("vsdstats") / "data" / "codebook.toml"))


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_codebook(data: dict[str, Any], source: str = "<memory>", sha256: str = "") -> Codebook:
    """Validate an already-parsed codebook mapping."""
    try:
        cb = Codebook.model_validate({**data, "source": source, "sha256": sha256})
    except ValidationError as exc:
        problems = "; ".join(f"key `{_loc(e['loc'])}`: {e['msg']}" for e in exc.errors())
        raise CodebookError(f"{source}: invalid codebook: {problems}") from None
    missing = [d for d in REQUIRED_DIMENSIONS if d not in cb.dimensions]
    if missing:
        raise CodebookError(
            f"{source}: invalid codebook: key `dimensions` lacks required dimension(s) "
            f"{', '.join(missing)}"
        )
    for name, dim in cb.dimensions.items():
        seen: dict[str, int] = {}
        for i, cat in enumerate(dim.categories):
            if cat.code in seen:
                raise CodebookError(
                    f"{source}: invalid codebook: key `dimensions.{name}.categories[{i}].code`: "
                    f"duplicate code {cat.code!r} (first at categories[{seen[cat.code]}])"
                )
            seen[cat.code] = i
        _check_within(cb, name, dim, source)
    return cb


def _check_within(cb: Codebook, name: str, dim: Dimension, source: str) -> None:
    """``within`` names another dimension and every ``family`` is one of its codes."""
    bad = f"{source}: invalid codebook: key `dimensions.{name}"
    if dim.within is None:
        for i, cat in enumerate(dim.categories):
            if cat.family is not None:
                raise CodebookError(
                    f"{bad}.categories[{i}].family`: the dimension has no `within` "
                    "naming the dimension whose codes `family` refers to"
                )
        return
    if dim.within == name or dim.within not in cb.dimensions:
        raise CodebookError(
            f"{bad}.within`: {dim.within!r} is not another dimension of the codebook"
        )
    parents = {c.code for c in cb.dimensions[dim.within].categories}
    for i, cat in enumerate(dim.categories):
        if cat.family is not None and cat.family not in parents:
            raise CodebookError(
                f"{bad}.categories[{i}].family`: {cat.family!r} is not a code of "
                f"{dim.within} ({', '.join(sorted(parents))})"
            )
    if all(cat.family is not None for cat in dim.categories):
        raise CodebookError(
            f"{bad}.categories`: a dimension `within` another needs a category without "
            "`family` (such as unspecified) for codes that have none of their own"
        )


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook TOML file (default: the shipped codebook)."""
    p = Path(path) if path is not None else default_codebook_path()
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CodebookError(f"{p}: cannot read codebook: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))  # a BOM is not TOML
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{p}: codebook is not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CodebookError(f"{p}: TOML syntax error: {exc}") from None
    except RecursionError:
        raise CodebookError(
            f"{p}: TOML nested too deeply (arrays or inline tables inside each other); "
            "a codebook needs only a few levels"
        ) from None
    return parse_codebook(data, source=str(p), sha256=hashlib.sha256(raw).hexdigest())
