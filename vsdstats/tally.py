"""Counters that add up: one base for the bookkeeping dataclasses of ingest, filter and
coding (:class:`~vsdstats.ingest.report.FileCounts`,
:class:`~vsdstats.coding.results.RunStats`, ...).

A :class:`Tally` dataclass sums its counting fields with :meth:`Tally.merge`: ints
are added, ``Counter`` s updated, lists extended, and a ``float | None`` (a cost) is
added with ``None`` (unknown) winning.  Text fields, and the fields a class names in
``NOT_SUMMED``, are left alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from typing import Any, ClassVar


def plus(a: Any, b: Any) -> Any:
    """``a + b`` for one counting field (None: unknown, and stays unknown)."""
    return None if a is None or b is None else a + b


_COUNTING = ("int", "float", "Counter", "list")


def _type_name(t: Any) -> str:
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


class Tally:
    """Mix into a dataclass whose counters add up (see the module docstring)."""

    NOT_SUMMED: ClassVar[frozenset[str]] = frozenset()

    def counting_fields(self) -> list[str]:
        """The fields :meth:`merge` adds: those annotated int, float, Counter or list."""
        return [
            f.name
            for f in fields(self)  # type: ignore[arg-type]
            if f.name not in self.NOT_SUMMED and _type_name(f.type).startswith(_COUNTING)
        ]

    def merge(self, other: Any, names: list[str] | None = None) -> None:
        """Add ``other`` 's counters (all, or those in ``names``) to these, in place."""
        for name in names if names is not None else self.counting_fields():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(getattr(other, name))
            elif isinstance(mine, list):
                mine.extend(getattr(other, name))
            else:
                setattr(self, name, plus(mine, getattr(other, name)))
