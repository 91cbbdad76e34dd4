"""From a model's answer to a stored :class:`~vsdstats.coding.store.TextResult`: one path.

The engine (and so each ``--workers`` process, which runs the engine) and batch mode
both go through these functions, so an answer is judged the same way whichever route
it took:

- :func:`apply_extraction`: units and status from a validated extraction, every label
  checked against the codebook itself (not only by the response model, which may have
  been built from another codebook); a label outside it ends the text ``failed`` with
  reason ``label outside the codebook: ...``;
- :func:`apply_usage`: tokens and cost;
- :func:`response_record` and :func:`apply_responses`: what each request got back (raw
  text, returned model id, system fingerprint), kept with the result;
- :func:`short_message`: the one-line, bounded form of an error kept as a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vsdstats.coding.store import TextResult
from vsdstats.coding.usage import USAGE_FIELDS, Usage

if TYPE_CHECKING:
    from vsdstats.coding.pricing import Price
    from vsdstats.tables.codebook import Codebook

#: ``post_id`` of units before they are mapped to posts (results are per text).
PLACEHOLDER_POST_ID = "__text__"
MAX_MESSAGE = 600
_PYDANTIC_URL = re.compile(r"\s*For further information visit \S+")


def short_message(e: BaseException | str, limit: int = MAX_MESSAGE) -> str:
    """``e`` on one line, without pydantic's help links, at most ``limit`` characters."""
    s = " ".join(_PYDANTIC_URL.sub("", str(e)).split())
    return s[:limit] + ("..." if len(s) > limit else "")


def apply_extraction(
    r: TextResult,
    extraction: Any,
    *,
    codebook: Codebook,
    model: str | None,
    codebook_version: str,
) -> TextResult:
    """Fill ``r`` from a validated extraction: ``coded``/``not_relevant`` with its units,
    or ``failed`` if a label is not a category of ``codebook``."""
    from vsdstats.coding.response import extraction_to_units

    units = extraction_to_units(
        extraction,
        PLACEHOLDER_POST_ID,
        coder=r.coder,
        model=model,
        codebook_version=codebook_version,
    )
    try:
        for u in units:
            u.check(codebook)
    except ValueError as exc:
        r.status, r.units = "failed", []
        r.reason = f"label outside the codebook: {short_message(exc)}"
        return r
    r.units = [u.model_dump(exclude={"post_id"}) for u in units]
    for d, u in zip(r.units, getattr(extraction, "units", []), strict=True):
        labels = getattr(u, "open_labels", None)
        if labels is not None:  # code --open: the free-text labels, kept raw
            d["open_labels"] = labels.model_dump()
    r.status = "coded" if extraction.relevant else "not_relevant"
    r.reason = None
    return r


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def raw_text(completion: Any) -> str | None:
    """The text the model answered in ``completion`` (an openai ``ChatCompletion`` or its
    JSON): the message content, else its tool calls' arguments (one per line), else the
    refusal; None if there is no message."""
    choices = _get(completion, "choices") or []
    msg = _get(choices[0], "message") if choices else None
    if msg is None:
        return None
    content = _get(msg, "content")
    if content:
        return str(content)
    calls = _get(msg, "tool_calls") or []
    args = [_get(_get(c, "function") or {}, "arguments") for c in calls]
    if any(a is not None for a in args):
        return "\n".join(str(a) for a in args if a is not None)
    refusal = _get(msg, "refusal")
    return None if refusal is None else str(refusal)


def response_record(completion: Any) -> dict[str, Any]:
    """What one request got back: ``id``, ``model`` (the model id the API returned),
    ``system_fingerprint`` (None if the API sends none), ``finish_reason`` and ``raw``
    (:func:`raw_text`)."""
    choices = _get(completion, "choices") or []
    return {
        "id": _get(completion, "id"),
        "model": _get(completion, "model"),
        "system_fingerprint": _get(completion, "system_fingerprint"),
        "finish_reason": _get(choices[0], "finish_reason") if choices else None,
        "raw": raw_text(completion),
    }


def apply_responses(
    r: TextResult,
    records: list[dict[str, Any]],
    *,
    temperature: float | None,
    seed: int | None,
) -> TextResult:
    """Keep the sampling settings sent and every request's :func:`response_record` with
    ``r``; the last response's raw text, model id and fingerprint also go in their own
    fields."""
    r.temperature, r.seed = temperature, seed
    r.responses = list(records)
    if records:
        last = records[-1]
        r.raw_response = last["raw"]
        r.returned_model = last["model"]
        r.system_fingerprint = last["system_fingerprint"]
    return r


def usage_tokens(u: Any) -> tuple[int, int, int]:
    """(prompt, completion, cached) tokens of an openai ``usage`` object or its JSON."""
    if u is None:
        return 0, 0, 0
    cached = _get(_get(u, "prompt_tokens_details") or {}, "cached_tokens") or 0
    return int(_get(u, "prompt_tokens") or 0), int(_get(u, "completion_tokens") or 0), int(cached)


def apply_usage(
    r: TextResult,
    tokens: tuple[int, int, int],
    price: Price | None,
    factor: float = 1.0,
) -> TextResult:
    """Set ``r``'s tokens (prompt, completion, cached) and, with a price, its cost."""
    r.prompt_tokens, r.completion_tokens, r.cached_tokens = tokens
    if price is not None:
        r.cost_usd = price.cost(*tokens, factor)
    return r


@dataclass
class RunStats(Usage):
    """Counters of one run (texts actually sent, not those found in the store);
    :meth:`merge` adds another run's (e.g. a worker process's)."""

    NOT_SUMMED = frozenset({"elapsed_s"})

    texts: int = 0
    statuses: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def add(self, r: TextResult, *, count: bool = True) -> None:
        """Add a result's counters (``count=False``: its requests and tokens only)."""
        if count:
            self.texts += 1
            self.statuses[r.status] += 1
        self.merge(r, list(USAGE_FIELDS))
