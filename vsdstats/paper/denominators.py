"""Which groups enter a comparison: the ``[denominators]`` section of an analysis file.

The original study compared only LLM families with at least 50 units and conditions
with at least 100, left its residual groups ("others", "none") out of the comparisons
and dropped the incomplete last month from its time series.  ``analysis/replication.toml``
states those rules; ``analysis/study.toml`` has no ``[denominators]`` section, so every
group enters (small groups are then only suppressed in what is published).

A comparison involving dimension ``d`` keeps the units whose ``d`` code is not in
``exclude[d]`` and whose ``d`` group has at least ``min_units[d]`` units in the whole
corpus (counted before any exclusion, as the original did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vsdstats.tables.codebook import Codebook


@dataclass(frozen=True)
class Dropped:
    """A group left out of the comparisons, and why."""

    dimension: str
    code: str
    n: int
    reason: str  #: "excluded" or "n < MIN"


@dataclass(frozen=True)
class Denominators:
    """The rules of ``[denominators]`` (empty = every group enters)."""

    min_units: dict[str, int] = field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.min_units or self.exclude)

    def dropped(self, df: pd.DataFrame, dim: str) -> list[Dropped]:
        """The groups of ``dim`` present in ``df`` that no comparison includes."""
        counts = df[dim].astype(str).value_counts()
        out = []
        gone = set(self.exclude.get(dim, ()))
        low = self.min_units.get(dim, 0)
        for code, n in counts.items():
            if code in gone:
                out.append(Dropped(dim, str(code), int(n), "excluded"))
            elif n < low:
                out.append(Dropped(dim, str(code), int(n), f"n < {low}"))
        return out

    def keep(self, df: pd.DataFrame, dims: list[str] | tuple[str, ...]) -> pd.DataFrame:
        """The units of ``df`` whose groups of every dimension in ``dims`` qualify."""
        mask = pd.Series(True, index=df.index)
        for dim in dict.fromkeys(dims):
            if dim not in self.min_units and dim not in self.exclude:
                continue
            bad = {d.code for d in self.dropped(df, dim)}
            mask &= ~df[dim].astype(str).isin(bad)
        return df.loc[mask]


def load_denominators(study: dict[str, Any], codebook: Codebook) -> Denominators:
    """``[denominators]`` of an analysis file; a bad key, dimension or code is a
    PaperError naming the file, the section and the key."""
    from vsdstats.paper.config import PaperError

    cfg = study.get("denominators", {})
    where = f"{study.get('_source', 'analysis file')}: [denominators]"
    if not isinstance(cfg, dict):
        raise PaperError(f"{where} must be a table")
    unknown = sorted(set(cfg) - {"min_units", "exclude"})
    if unknown:
        raise PaperError(f"{where} unknown key(s) {', '.join(unknown)} (min_units, exclude)")
    dims = set(codebook.dimensions) | {"platform"}
    min_units: dict[str, int] = {}
    for dim, v in dict(cfg.get("min_units", {})).items():
        if dim not in dims:
            raise PaperError(f"{where} min_units: {dim!r} is not a dimension")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise PaperError(f"{where} min_units.{dim} must be a whole number >= 0, not {v!r}")
        min_units[dim] = int(v)
    exclude: dict[str, tuple[str, ...]] = {}
    for dim, codes in dict(cfg.get("exclude", {})).items():
        if dim not in dims:
            raise PaperError(f"{where} exclude: {dim!r} is not a dimension")
        if isinstance(codes, str) or not all(isinstance(c, str) for c in codes):
            raise PaperError(f"{where} exclude.{dim} must be a list of codes")
        if dim in codebook.dimensions:
            bad = [c for c in codes if c not in set(codebook.codes(dim))]
            if bad:
                raise PaperError(
                    f"{where} exclude.{dim}: {', '.join(map(repr, bad))} not a code of "
                    f"codebook {codebook.name} {codebook.version}"
                )
        exclude[dim] = tuple(codes)
    return Denominators(min_units, exclude)


def incomplete_last_month(created_at: pd.Series) -> str | None:
    """The last calendar month (UTC, ``YYYY-MM``) when the data stop before its last day,
    i.e. the month was not fully observed; None when the data run to its end."""
    t = pd.to_datetime(created_at, utc=True).dropna()
    if not len(t):
        return None
    last = t.max()
    if last.normalize() < (last + pd.offsets.MonthEnd(0)).normalize():
        return last.strftime("%Y-%m")
    return None
