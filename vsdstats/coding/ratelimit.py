"""Rate limits and retry delays for the coding engine.

Hand-rolled rather than aiolimiter/tenacity: the engine needs a token bucket that can
be *debited after the fact* (a request's real token count is known only from its
response), a pause shared by every worker after a 429, and a record of every retry;
each of those is a few lines here and awkward to bolt onto a general library.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Mapping


class TokenBucket:
    """A token bucket refilled at ``per_minute / 60`` per second, holding one minute's worth.

    ``acquire(n)`` waits until ``n`` tokens are available and takes them; ``debit(n)``
    takes (or, negative, returns) tokens without waiting, so the balance may go below
    zero and later acquirers wait for it to refill.
    """

    def __init__(self, per_minute: float, *, capacity: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("rate must be positive")
        self.rate = per_minute / 60.0
        self.capacity = capacity if capacity is not None else per_minute
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    async def acquire(self, n: float = 1.0) -> None:
        n = min(n, self.capacity)
        async with self._lock:  # FIFO: one waiter at a time
            while True:
                self._refill()
                if self.tokens >= n:
                    self.tokens -= n
                    return
                await asyncio.sleep((n - self.tokens) / self.rate)

    def debit(self, n: float) -> None:
        self._refill()
        self.tokens = min(self.capacity, self.tokens - n)


class Pause:
    """A moment before which no worker sends (set by Retry-After on a 429)."""

    def __init__(self) -> None:
        self.until = 0.0

    def extend(self, seconds: float) -> None:
        self.until = max(self.until, time.monotonic() + seconds)

    async def wait(self) -> None:
        while (left := self.until - time.monotonic()) > 0:
            await asyncio.sleep(left)


def backoff(attempt: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0.0, min(cap, base * 2.0**attempt))


def retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
