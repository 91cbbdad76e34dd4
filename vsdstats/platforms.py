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

import io
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, BinaryIO

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


class PluginWarning(UserWarning):
    """A plugin is broken and was skipped (the others still work)."""


@dataclass(frozen=True)
class Registered:
    connector: Connector
    plugin: str  # distribution name
    plugin_version: str


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be used: its entry point, distribution and why."""

    name: str  # entry point name
    value: str  # what it points at (module[:attr])
    plugin: str  # distribution name
    version: str
    reason: str  # one line, e.g. "ImportError: No module named 'x'"

    def message(self) -> str:
        return (
            f"plugin {self.name!r} ({self.value}, {self.plugin} {self.version}) failed to "
            f"load and is skipped: {self.reason}"
        )


_REPORTED: set[BrokenPlugin] = set()  # warned about already (once per process)


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {text}"


def _manager(broken: list[BrokenPlugin]) -> tuple[pluggy.PluginManager, dict[str, tuple[str, str]]]:
    """The plugins that import and register, with their entry point (name, value) by
    plugin name; one that fails is appended to ``broken`` instead."""
    pm = pluggy.PluginManager("vsdstats")
    pm.add_hookspecs(PlatformSpec)
    eps: dict[str, tuple[str, str]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else ep.name
        ver = ep.dist.version if ep.dist else ""
        name = f"{dist}=={ver}"
        try:  # a broken third-party plugin must not hide the others
            pm.register(ep.load(), name=name)
        except (Exception, SystemExit) as exc:
            broken.append(BrokenPlugin(ep.name, ep.value, dist, ver, _why(exc)))
            continue
        eps[name] = (ep.name, ep.value)
    return pm, eps


def load_plugins(
    extra_plugins: tuple[object, ...] = (),
) -> tuple[dict[str, Registered], list[BrokenPlugin]]:
    """``(connectors by platform name, broken plugins)``, entry points re-read on each
    call.  A plugin that fails to import, whose hook raises or that registers an invalid
    connector or a platform already taken is broken: skipped as a whole."""
    broken: list[BrokenPlugin] = []
    pm, eps = _manager(broken)
    for i, plug in enumerate(extra_plugins):
        pm.register(plug, name=f"{getattr(plug, '__name__', type(plug).__name__)}=={i}")
    out: dict[str, Registered] = {}
    for plugin in sorted(pm.get_plugins(), key=lambda p: pm.get_name(p) or ""):
        name = pm.get_name(plugin) or "?"
        dist, _, ver = name.partition("==")
        mine: dict[str, Registered] = {}

        def register(
            c: Connector, _dist: str = dist, _ver: str = ver, _mine: dict[str, Registered] = mine
        ) -> None:
            if not isinstance(c, Connector) or not c.name:
                raise PluginError(f"registered an invalid connector {c!r}")
            if c.name in out or c.name in _mine:
                taken = out[c.name].plugin if c.name in out else _dist
                raise PluginError(f"platform {c.name!r} is registered already (by {taken})")
            _mine[c.name] = Registered(c, _dist, _ver)

        hook = getattr(plugin, "register_platforms", None)
        try:
            if hook is not None:
                hook(register=register)
        except (Exception, SystemExit) as exc:
            ep_name, value = eps.get(name, (dist, dist))
            broken.append(BrokenPlugin(ep_name, value, dist, ver, _why(exc)))
            continue
        out.update(mine)
    return dict(sorted(out.items())), broken


def connectors(extra_plugins: tuple[object, ...] = ()) -> dict[str, Registered]:
    """All working connectors by platform name (entry points re-read on each call); each
    broken plugin is reported once per process as a :class:`PluginWarning`.

    ``extra_plugins`` are plugin objects (modules or instances with a
    ``register_platforms`` hookimpl) added without an entry point, e.g. in tests.
    """
    found, broken = load_plugins(extra_plugins)
    for b in broken:
        if b not in _REPORTED:
            _REPORTED.add(b)
            warnings.warn(b.message(), PluginWarning, stacklevel=2)
    return found


def broken_plugins() -> list[BrokenPlugin]:
    """The installed plugins that cannot be used, and why (see :func:`load_plugins`)."""
    return load_plugins()[1]


def get_connector(platform: str) -> Connector:
    """The connector for ``platform``; KeyError lists the installed ones."""
    found = connectors()
    if platform not in found:
        have = ", ".join(found) or "none (install the plugins under plugins/)"
        raise KeyError(f"no connector for platform {platform!r}; installed: {have}")
    return found[platform].connector


class TruncatedInput(ValueError):
    """A compressed input that ends inside a frame (gzip member) or is corrupt.

    ``file`` names the input, ``offset`` is the compressed byte where the damage was
    found (the end of the file for a cut one), ``detail`` says what (without the name).
    """

    def __init__(self, file: str, offset: int, detail: str) -> None:
        super().__init__(f"{file}: {detail}")
        self.file, self.offset, self.detail = file, offset, detail


class _Frames(io.RawIOBase):
    """The decompressed bytes of a sequence of zstd frames or gzip members.

    Unlike zstandard's ``stream_reader`` (silent on a cut final frame) and ``GzipFile``
    (whose ``read()`` loses what it decoded before the error), everything decoded before
    the damage is returned first; the next read raises :class:`TruncatedInput`, as do
    all reads after it.
    """

    def __init__(self, raw: BinaryIO, name: str, kind: str) -> None:
        self._raw, self._name, self._kind = raw, name, kind
        self._dec: Any = None  # decoder of the current frame, None between frames
        self._start = 0  # compressed offset where the current frame starts
        self._pos = 0  # compressed bytes read from raw
        self._pending = b""  # compressed bytes read but not fed to a decoder yet
        self._feed = 1 << (10 if kind == "zstd" else 14)  # bytes fed per call
        self._out = memoryview(b"")
        self._error: TruncatedInput | None = None
        if kind == "zstd":
            import zstandard

            dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
            self._new: Callable[[], Any] = dctx.decompressobj
            self._errors: tuple[type[Exception], ...] = (zstandard.ZstdError,)
        else:
            self._new = lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._errors = (zlib.error,)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()

    def readinto(self, b: Any) -> int:
        while not self._out:
            if self._error is not None:
                raise self._error
            try:
                out = self._decode()
            except TruncatedInput as exc:
                self._error = exc
                continue
            if out is None:
                return 0
            self._out = memoryview(out)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _fail(self, offset: int, what: str) -> TruncatedInput:
        unit = "gzip member" if self._kind == "gzip" else "zstd frame"
        return TruncatedInput(
            self._name, offset, f"{what} in the {unit} starting at byte {self._start}"
        )

    def _decode(self) -> bytes | None:
        """The next non-empty piece of output, or None at a clean end of the input."""
        while True:
            if not self._pending:
                self._pending = self._raw.read(1 << 18)
                self._pos += len(self._pending)
                if not self._pending:
                    if self._dec is not None:
                        raise self._fail(
                            self._pos, f"truncated compressed stream: it ends at byte {self._pos}"
                        )
                    return None
            if self._dec is None:
                if self._kind == "gzip":  # gzip allows zero padding after a member
                    self._pending = self._pending.lstrip(b"\0")
                    if not self._pending:
                        continue
                self._start = self._pos - len(self._pending)
                self._dec = self._new()
            feed, self._pending = self._pending[: self._feed], self._pending[self._feed :]
            at = self._pos - len(self._pending) - len(feed)
            try:
                if self._kind == "gzip":
                    out = self._dec.decompress(feed, 1 << 22)
                    self._pending = self._dec.unconsumed_tail + self._pending
                else:
                    out = self._dec.decompress(feed)
                    # zstd has no output limit: feed so that one call gives ~4 MiB
                    self._feed = max(256, min(1 << 18, (len(feed) << 22) // (len(out) + 1)))
            except self._errors as exc:
                raise self._fail(at, f"corrupt compressed data near byte {at} ({exc})") from None
            if self._dec.eof:
                self._pending = self._dec.unused_data + self._pending
                self._dec = None
            if out:
                return out


def open_source(source: Source) -> tuple[str, BinaryIO]:
    """``(name, binary stream)`` for a path or stream, decompressing ``.zst`` and ``.gz``.

    ``.zst`` is streamed with zstd's long window (``max_window_size=2**31``) as real
    monthly Reddit dumps need, never decompressed to disk.  Several frames (members)
    are read one after the other; a cut or corrupt one raises :class:`TruncatedInput`
    after everything decoded before it has been read (see :func:`read_prefix`).
    """
    if not isinstance(source, (str, Path)):
        return getattr(source, "name", "<stream>"), source
    path = Path(source)
    raw = path.open("rb")
    kind = {".zst": "zstd", ".gz": "gzip"}.get(path.suffix)
    if kind is None:
        return str(path), raw
    frames = _Frames(raw, str(path), kind)  # buffered, it can iterate lines
    return str(path), io.BufferedReader(frames, buffer_size=1 << 20)  # type: ignore[return-value]


def read_prefix(stream: BinaryIO, size: int = -1) -> tuple[bytes, TruncatedInput | None]:
    """``(data, None)``: up to ``size`` bytes of ``stream`` (all when negative); or, when
    the stream is truncated or corrupt, ``(what came before, cut after its last
    newline, the error)``: the incomplete last line belongs to the damage."""
    parts: list[bytes] = []
    n = 0
    read = getattr(stream, "read1", stream.read)
    try:
        while size < 0 or n < size:
            chunk = read(1 << 20 if size < 0 else min(1 << 20, size - n))
            if not chunk:
                break
            parts.append(chunk)
            n += len(chunk)
    except TruncatedInput as exc:
        data = b"".join(parts)
        return data[: data.rfind(b"\n") + 1], exc
    return b"".join(parts), None
