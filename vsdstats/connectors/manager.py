"""Finding the installed platform plugins (entry points) and their connectors; a
broken plugin is skipped with one :class:`PluginWarning` and listed by
:func:`broken_plugins`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points

import pluggy

from vsdstats.connectors.base import Connector
from vsdstats.connectors.hookspecs import ENTRY_POINT_GROUP, PlatformSpec
from vsdstats.errors import EnvironmentProblem


class PluginError(EnvironmentProblem):
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
