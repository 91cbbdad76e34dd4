"""The base class of platform connectors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from vsdstats.connectors.records import Record, Source


class Connector:
    """Base class of platform connectors.

    Subclasses set ``name`` (the platform slug used in post tables), ``formats`` (the
    export formats ``read`` understands) and implement ``read``; they may implement
    ``sniff`` and ``collect`` (set ``can_collect = True``), or instead of ``collect`` name
    in ``live_module`` a module whose ``collect(query, since=, until=, limit=)`` does it.
    """

    name: str = ""
    formats: tuple[str, ...] = ()
    can_collect: bool = False
    version: str = ""
    live_module: str = ""  # imported on the first call of ``collect``

    def sniff(self, head: bytes) -> str | None:
        """Name of the format whose file starts with ``head``, or None if not ours."""
        return None

    def read(self, source: Source, format: str | None = None) -> Iterator[Record]:
        """Yield a RawPost or a Reject for every record in ``source``; never raise on bad data."""
        raise NotImplementedError

    def collect(
        self,
        query: str,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[Record]:
        """Live collection (where the platform allows it): by default handed to the
        ``collect`` function of ``live_module``."""
        if not self.live_module:
            raise NotImplementedError(f"{self.name}: live collection is not supported")
        from importlib import import_module

        live = import_module(self.live_module)
        return live.collect(query, since=since, until=until, limit=limit)
