"""Sort an exception from instructor/openai into what the coding engine does next.

``transient`` (timeouts, dropped connections, 408/409/429/5xx: retried with backoff,
honouring ``Retry-After``), ``validation`` (the answer did not validate after
instructor's retries), ``refused`` (the model refused), ``fatal`` (any other HTTP
error, or output cut at max tokens).  Every failure keeps the tokens it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vsdstats.coding.ratelimit import retry_after
from vsdstats.coding.results import short_message


@dataclass
class Failure:
    """What the engine does next with a failed request."""

    kind: str  # transient | validation | refused | fatal
    reason: str
    wait: float | None = None
    usage: Any = None


def classify(exc: BaseException) -> Failure:
    """Sort an exception from instructor/openai into what the engine does next."""
    import openai

    usage = getattr(exc, "total_usage", None)
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    if _refused(exc):
        return Failure("refused", "refused", usage=usage)
    for e in chain:
        if isinstance(e, openai.APITimeoutError):
            dropped = _dropped(chain)  # aiohttp transport: a drop arrives as a timeout
            if dropped is not None:
                return Failure(
                    "transient", f"connection error: {short_message(dropped)}", usage=usage
                )
            return Failure("transient", "timeout", usage=usage)
        if isinstance(e, openai.APIConnectionError):
            return Failure("transient", f"connection error: {short_message(e)}", usage=usage)
        if isinstance(e, openai.APIStatusError):
            code = e.status_code
            wait = retry_after(e.response.headers) if e.response is not None else None
            reason = f"http {code}: {short_message(e)}"
            kind = "transient" if code in (408, 409, 429) or code >= 500 else "fatal"
            return Failure(kind, reason, wait=wait, usage=usage)
        if isinstance(e, AssertionError) and "Unable to generate a response" in str(e):
            return Failure("refused", "refused", usage=usage)
        if type(e).__name__ == "IncompleteOutputException":
            return Failure("fatal", "incomplete output (max tokens reached)", usage=usage)
    n = getattr(exc, "n_attempts", None)
    last = chain[1] if len(chain) > 1 else exc
    head = f"validation failed after {n} attempt(s)" if n else "validation failed"
    return Failure("validation", f"{head}: {short_message(last)}", usage=usage)


def _dropped(chain: list[BaseException]) -> BaseException | None:
    """An aiohttp connection error that is not a timeout (openai's aiohttp transport maps
    e.g. ``ServerDisconnectedError`` to ``httpx.ConnectTimeout``), else None."""
    for e in chain:
        if not type(e).__module__.startswith("aiohttp"):
            continue
        import aiohttp

        if isinstance(e, aiohttp.ClientConnectionError) and not isinstance(
            e, (aiohttp.ServerTimeoutError, TimeoutError)
        ):
            return e
    return None


def _refused(exc: BaseException) -> bool:
    comp = getattr(exc, "last_completion", None)
    try:
        return bool(comp.choices[0].message.refusal)  # type: ignore[union-attr]
    except (AttributeError, IndexError, TypeError):
        return False
