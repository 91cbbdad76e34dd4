"""The base class of platform connectors."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vsdstats.connectors.records import Record, Source
from vsdstats.errors import VsdstatsError


@dataclass(frozen=True)
class Cursor:
    """Yielded by ``Connector.collect`` between records: the resume state (a JSON-able
    dict, e.g. ``{"after": "t3_abc"}``) valid once every record yielded before it is
    stored.  The framework saves it in the study and passes it back as ``state=``."""

    state: dict[str, Any] = field(default_factory=dict)


#: ``raw(label, body)``: called by a collector with each raw API response (``--keep-raw``).
RawSink = Callable[[str, bytes], None]


class NotCollectable(VsdstatsError, NotImplementedError):
    """This platform has no working live collection (yet)."""


class Connector:
    """Base class of platform connectors.

    Subclasses set ``name`` (the platform slug used in post tables), ``formats`` (the
    export formats ``read`` understands) and implement ``read``; they may implement
    ``sniff`` and ``collect`` (set ``can_collect = True``), or instead of ``collect`` name
    in ``live_module`` a module whose ``collect(query, since=, until=, limit=, ...)``
    does it.

    The live-collection hook (``vsdstats collect``)::

        collect(query, since=None, until=None, limit=None, *,
                community=None, state=None, raw=None) -> Iterator[Record | Cursor]

    ``community``: a subreddit, instance, channel... or None for the whole platform;
    ``state``: the dict of the last :class:`Cursor` stored for this (platform, query,
    community), or None on the first run: continue after it; ``raw``: None, or a
    :data:`RawSink` to hand every raw API response to (never a token response).
    Yield RawPost/Reject records and, after each page, ``Cursor(state)``; the framework
    stores the page's posts and then the cursor, so an interrupted run resumes after the
    last complete page (ingest drops re-read posts by id).  Credentials come from
    :func:`vsdstats.connectors.credentials.credential` (environment variable, else
    the user's ``credentials.toml``), listed in ``credentials``; honour the API's
    rate-limit headers (``Retry-After``, ``x-ratelimit-*``) with backoff.  Older
    collectors without the keyword arguments still work (``community`` then fails).
    """

    name: str = ""
    formats: tuple[str, ...] = ()
    can_collect: bool = False
    version: str = ""
    live_module: str = ""  # imported on the first call of ``collect``
    credentials: tuple[str, ...] = ()  # variables live collection reads (for --help)

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
        *,
        community: str | None = None,
        state: dict[str, Any] | None = None,
        raw: RawSink | None = None,
    ) -> Iterator[Record | Cursor]:
        """Live collection (where the platform allows it): by default handed to the
        ``collect`` function of ``live_module`` (see the class docstring)."""
        if not self.live_module or not self.can_collect:
            raise NotCollectable(f"{self.name}: live collection is not implemented yet")
        from importlib import import_module

        live = import_module(self.live_module)
        return call_collect(
            live.collect, query, since, until, limit, community=community, state=state, raw=raw
        )


def call_collect(
    fn: Callable[..., Iterator[Any]],
    query: str,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    **extra: Any,
) -> Iterator[Any]:
    """Call a collect function, passing only the keyword arguments it accepts (an old
    ``collect(query, since, until, limit)`` keeps working; a ``community`` it cannot
    take is an error rather than silently ignored)."""
    params = inspect.signature(fn).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in extra.items() if takes_all or k in params}
    if extra.get("community") is not None and "community" not in kwargs:
        raise NotCollectable("this collector takes no community; run without --community")
    return fn(query, since=since, until=until, limit=limit, **kwargs)
