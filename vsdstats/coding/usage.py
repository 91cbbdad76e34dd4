"""What requests cost: the counters a coded text and a whole run both carry."""

from __future__ import annotations

from dataclasses import dataclass

from vsdstats.tally import Tally


@dataclass(kw_only=True)
class Usage(Tally):
    """Requests, retries, tokens and cost (None: unknown); summed by :meth:`Tally.merge`.

    Keyword-only, so a subclass keeps its own positional fields first."""

    requests: int = 0
    http_retries: int = 0
    validation_retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = 0.0


#: The fields of :class:`Usage`, in order.
USAGE_FIELDS = tuple(Usage.__dataclass_fields__)
