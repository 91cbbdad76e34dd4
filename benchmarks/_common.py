"""Helpers shared by the benchmarks: timing and ratio reports.

Every benchmark measures its baseline in the same run and reports a ratio, so the
numbers mean the same on any machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Report:
    name: str
    ours_s: float
    baseline_s: float | None
    target: str
    passed: bool
    detail: str = ""

    def line(self) -> str:
        status = "PASS" if self.passed else "MISS"
        base = f" baseline {self.baseline_s:.3f}s" if self.baseline_s is not None else ""
        ratio = (
            f" ratio {self.baseline_s / self.ours_s:.1f}x"
            if self.baseline_s is not None and self.ours_s > 0
            else ""
        )
        extra = f" ({self.detail})" if self.detail else ""
        head = f"[{status}] {self.name}: ours {self.ours_s:.3f}s"
        return f"{head}{base}{ratio}; target {self.target}{extra}"


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall-clock time of ``repeat`` calls (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def speedup(name: str, ours: float, baseline: float, at_least: float, detail: str = "") -> Report:
    """Report ``baseline / ours`` against a minimum speed-up."""
    return Report(name, ours, baseline, f">= {at_least:g}x", baseline / ours >= at_least, detail)


def within(name: str, seconds: float, limit: float, detail: str = "") -> Report:
    """Report an absolute time against a limit (for targets stated in seconds)."""
    return Report(name, seconds, None, f"<= {limit:g}s", seconds <= limit, detail)
