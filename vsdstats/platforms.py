"""Platform connectors as pluggy plugins.

A plugin is a distribution with an entry point in the group ``vsdstats.platforms``
pointing at a module that implements the ``register_platforms`` hook::

    from vsdstats.platforms import Connector, hookimpl

    class MyConnector(Connector):
        name = "myplatform"
        formats = ("myplatform-api-json",)
        ...

    @hookimpl
    def register_platforms(register):
        register(MyConnector())

A connector turns platform files (or live collection) into :class:`RawPost` records
or :class:`Reject` records.  Connectors never pseudonymize: the ingest step owns the
per-study secret, replaces ``author_handle``/``author_id`` by keyed pseudonyms, and
scrubs every string in ``identities`` (and @mentions) out of text and URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import BinaryIO

import pluggy

ENTRY_POINT_GROUP = "vsdstats.platforms"
hookspec = pluggy.HookspecMarker("vsdstats")
hookimpl = pluggy.HookimplMarker("vsdstats")


@dataclass
class RawPost:
    """A post as read from a platform, before pseudonymization.

    ``author_handle``/``author_id`` and every string in ``identities`` (display names,
    user ids, DIDs of the author and of mentioned users) are raw and must never reach
    an output: ingest pseudonymizes the author and scrubs identities from text and url.
    """

    platform: str
    post_id: str
    created_at: datetime  # timezone-aware
    text: str
    thread_id: str | None = None
    parent_id: str | None = None
    author_handle: str | None = None
    author_id: str | None = None
    url: str | None = None
    lang: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    identities: set[str] = field(default_factory=set)
    kind: str = "post"  # e.g. submission, comment, reply, video


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: where, and why."""

    source_file: str
    line: int
    reason: str


Record = RawPost | Reject
Source = str | Path | BinaryIO


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


class PlatformSpec:
    @hookspec
    def register_platforms(self, register: Callable[[Connector], None]) -> None:
        """Register one or more platform connectors by calling ``register(connector)``."""


class PluginError(RuntimeError):
    """A plugin failed to load or registered something invalid."""


@dataclass(frozen=True)
class Registered:
    connector: Connector
    plugin: str  # distribution name
    plugin_version: str


def _manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vsdstats")
    pm.add_hookspecs(PlatformSpec)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            mod = ep.load()
        except Exception as exc:  # a broken third-party plugin must not hide the others
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        dist = ep.dist.name if ep.dist else ep.name
        ver = ep.dist.version if ep.dist else ""
        pm.register(mod, name=f"{dist}=={ver}")
    return pm


def connectors(extra_plugins: tuple[object, ...] = ()) -> dict[str, Registered]:
    """All installed connectors by platform name (entry points re-read on each call).

    ``extra_plugins`` are plugin objects (modules or instances with a
    ``register_platforms`` hookimpl) added without an entry point, e.g. in tests.
    """
    pm = _manager()
    for i, plug in enumerate(extra_plugins):
        pm.register(plug, name=f"{getattr(plug, '__name__', type(plug).__name__)}=={i}")
    out: dict[str, Registered] = {}
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or "?"
        dist, _, ver = name.partition("==")

        def register(c: Connector, _dist: str = dist, _ver: str = ver) -> None:
            if not isinstance(c, Connector) or not c.name:
                raise PluginError(f"plugin {_dist} registered an invalid connector {c!r}")
            if c.name in out:
                raise PluginError(
                    f"platform {c.name!r} registered twice ({out[c.name].plugin} and {_dist})"
                )
            out[c.name] = Registered(c, _dist, _ver)

        hook = getattr(plugin, "register_platforms", None)
        if hook is not None:
            hook(register=register)
    return dict(sorted(out.items()))


def get_connector(platform: str) -> Connector:
    """The connector for ``platform``; KeyError lists the installed ones."""
    found = connectors()
    if platform not in found:
        have = ", ".join(found) or "none (install the plugins under plugins/)"
        raise KeyError(f"no connector for platform {platform!r}; installed: {have}")
    return found[platform].connector


def open_source(source: Source) -> tuple[str, BinaryIO]:
    """``(name, binary stream)`` for a path or stream, decompressing ``.zst`` and ``.gz``.

    ``.zst`` is streamed with zstd's long window (``max_window_size=2**31``) as real
    monthly Reddit dumps need, never decompressed to disk.
    """
    if not isinstance(source, (str, Path)):
        return getattr(source, "name", "<stream>"), source
    path = Path(source)
    raw = path.open("rb")
    if path.suffix == ".zst":
        import io

        import zstandard

        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        reader = dctx.stream_reader(raw, read_size=1 << 20, closefd=True)
        # zstandard's reader cannot iterate lines; buffered, it can (iter_json_lines)
        return str(path), io.BufferedReader(reader, buffer_size=1 << 20)  # type: ignore[arg-type]
    if path.suffix == ".gz":
        import gzip

        raw.close()  # GzipFile(fileobj=...) would never close it; opened by name, it does
        return str(path), gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return str(path), raw
