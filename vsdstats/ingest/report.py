"""Ingest bookkeeping: per-file reconciliation and the run report (counts only; the
console lives in :mod:`vsdstats.ingest.console`).

Every record a connector yields is counted once: ``read = kept + duplicates +
filtered_out + rejected`` per file and in total; ``dup_texts`` (kept posts whose text
was seen before) and ``urls_dropped`` are counted among the kept."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from vsdstats.tally import Tally


@dataclass
class FileCounts(Tally):
    """Reconciliation of one input file (:meth:`merge` adds another's counts)."""

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

    def totals(self) -> FileCounts:
        """The counts of all files together."""
        total = FileCounts(file="")
        for f in self.files:
            total.merge(f)
        return total

    read = property(lambda self: self.totals().read)
    kept = property(lambda self: self.totals().kept)
    duplicates = property(lambda self: self.totals().duplicates)
    filtered_out = property(lambda self: self.totals().filtered_out)
    rejected = property(lambda self: self.totals().rejected)
    dup_texts = property(lambda self: self.totals().dup_texts)
    urls_dropped = property(lambda self: self.totals().urls_dropped)
    reasons = property(lambda self: self.totals().reasons)

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files) and self.totals().balanced

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "run_id": self.run_id,
            "platform": self.platform,
            "out": self.out,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "secret_id": self.secret_id,
            "relevance": self.relevance,
            "totals": {k: getattr(totals, k) for k in _COUNTS},
            "balanced": self.balanced,
            "posts_in_output": self.posts_in_output,
            "reasons": dict(totals.reasons.most_common()),
            "files": [f.to_dict() for f in self.files],
        }
