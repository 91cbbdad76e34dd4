"""Ingest on the user's terminal: the progress bar and the summary table (rich)."""

from __future__ import annotations

import sys
import time
from typing import Any

from vsdstats.ingest.report import IngestReport


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
