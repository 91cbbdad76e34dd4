"""Ingest bookkeeping: per-file reconciliation, the run report, progress and summary.

Every record a connector yields is counted once: ``read = kept + duplicates +
filtered_out + rejected`` per file and in total; ``dup_texts`` (kept posts whose text
was seen before) and ``urls_dropped`` are counted among the kept.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileCounts:
    """Reconciliation of one input file."""

    file: str
    format: str | None = None
    read: int = 0
    kept: int = 0
    duplicates: int = 0
    filtered_out: int = 0
    rejected: int = 0
    dup_texts: int = 0
    urls_dropped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    label: str = ""  # the path as the user gave it: console only, never stored

    @property
    def balanced(self) -> bool:
        return self.read == self.kept + self.duplicates + self.filtered_out + self.rejected

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in _COUNTS}
        return {"file": self.file, "format": self.format, **d, "reasons": dict(self.reasons)}


_COUNTS = ("read", "kept", "duplicates", "filtered_out", "rejected", "dup_texts", "urls_dropped")


@dataclass
class IngestReport:
    """What one ingest run read, kept and dropped, in total and per file."""

    platform: str
    out: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: str = ""
    finished_at: str = ""
    secret_id: str = ""
    relevance: bool = False
    files: list[FileCounts] = field(default_factory=list)
    posts_in_output: int = 0

    def _sum(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    read = property(lambda self: self._sum("read"))
    kept = property(lambda self: self._sum("kept"))
    duplicates = property(lambda self: self._sum("duplicates"))
    filtered_out = property(lambda self: self._sum("filtered_out"))
    rejected = property(lambda self: self._sum("rejected"))
    dup_texts = property(lambda self: self._sum("dup_texts"))
    urls_dropped = property(lambda self: self._sum("urls_dropped"))

    @property
    def reasons(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.reasons)
        return total

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files) and self.read == (
            self.kept + self.duplicates + self.filtered_out + self.rejected
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "platform": self.platform,
            "out": self.out,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "secret_id": self.secret_id,
            "relevance": self.relevance,
            "totals": {k: self._sum(k) for k in _COUNTS},
            "balanced": self.balanced,
            "posts_in_output": self.posts_in_output,
            "reasons": dict(self.reasons.most_common()),
            "files": [f.to_dict() for f in self.files],
        }


def print_summary(report: IngestReport, console: Any) -> None:
    """The reconciliation table (read = kept + duplicates + filtered out + rejected)."""
    from rich.table import Table

    cols = ("read", "kept", "duplicates", "filtered_out", "rejected", "dup_texts")
    t = Table(title=f"ingest {report.platform} -> {report.out}", title_justify="left")
    t.add_column("file", overflow="fold")
    t.add_column("format")
    for c in cols:
        t.add_column(c.replace("_", " "), justify="right")
    for f in report.files:
        t.add_row(f.label or f.file, f.format or "", *(f"{getattr(f, c):,}" for c in cols))
    t.add_row("total", "", *(f"{getattr(report, c):,}" for c in cols), style="bold")
    console.print(t)
    ok = "holds" if report.balanced else "DOES NOT HOLD"
    console.print(f"read = kept + duplicates + filtered out + rejected: {ok}")
    if report.urls_dropped:
        console.print(f"urls dropped (naming a user, no clean permalink): {report.urls_dropped:,}")
    console.print(f"posts in output: {report.posts_in_output:,}")
    reasons = report.reasons.most_common()
    if reasons:
        r = Table(title="reject reasons", title_justify="left")
        r.add_column("reason", overflow="fold")
        r.add_column("count", justify="right")
        for reason, n in reasons[:25]:
            r.add_row(reason, f"{n:,}")
        if len(reasons) > 25:
            r.add_row(f"... {len(reasons) - 25} more (see the report)", "")
        console.print(r)


class IngestProgress:
    """A rich progress bar on stderr (rows, rows/s, rejects), or nothing."""

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled and (console is not None or sys.stderr.isatty())
        self.console = console
        self._bar: Any = None
        self._task: Any = None
        self._rows = 0
        self._rejects = 0
        self._last = 0.0

    def __enter__(self) -> IngestProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                Progress,
                ProgressColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.text import Text

            class _Speed(ProgressColumn):
                def render(self, task: Any) -> Text:
                    return Text(f"{task.speed or 0:,.0f} rows/s")

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} rows"),
                _Speed(),
                TextColumn("{task.fields[rejects]:,} rejects"),
                TimeElapsedColumn(),
                console=self.console or Console(stderr=True),
                transient=False,
            )
            self._bar.__enter__()
        return self

    def start(self, name: str) -> None:
        if self._bar is not None:
            if self._task is not None:
                self._bar.update(self._task, completed=self._rows, rejects=self._rejects)
                self._bar.stop_task(self._task)
            self._rows = self._rejects = 0
            self._task = self._bar.add_task(name, total=None, rejects=0)

    def advance(self, rejected: bool = False) -> None:
        if self._bar is None:
            return
        self._rows += 1
        self._rejects += rejected
        now = time.monotonic()
        if now - self._last > 0.1:
            self._last = now
            self._bar.update(self._task, completed=self._rows, rejects=self._rejects)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            if self._task is not None:
                self._bar.update(self._task, completed=self._rows, rejects=self._rejects)
            self._bar.__exit__(None, None, None)
