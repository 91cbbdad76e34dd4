"""The pluggy hook a platform plugin implements, its entry-point group, and
:func:`connector_plugin`, which writes the hook implementation for a plugin.

A plugin is a distribution with an entry point in the group ``vsdstats.platforms``
pointing at a module that implements ``register_platforms``::

    from vsdstats.connectors import Connector, connector_plugin, dist_version

    class MyConnector(Connector):
        name = "myplatform"
        formats = ("myplatform-api-json",)
        ...

    __version__ = dist_version("vsdstats-myplatform")  # the version in pyproject.toml
    register_platforms = connector_plugin(MyConnector, version=__version__)

which is short for::

    @hookimpl
    def register_platforms(register):
        register(MyConnector())
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

import pluggy

from vsdstats.connectors.base import Connector

ENTRY_POINT_GROUP = "vsdstats.platforms"


hookspec = pluggy.HookspecMarker("vsdstats")


hookimpl = pluggy.HookimplMarker("vsdstats")


class PlatformSpec:
    @hookspec
    def register_platforms(self, register: Callable[[Connector], None]) -> None:
        """Register one or more platform connectors by calling ``register(connector)``."""


def dist_version(dist: str, default: str = "0.0.0") -> str:
    """The installed version of distribution ``dist`` (its ``pyproject.toml`` version),
    or ``default`` when it is not installed (a source tree on ``sys.path``)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return default


def connector_plugin(
    *connectors: Connector | type[Connector], version: str = ""
) -> Callable[[Callable[[Connector], None]], None]:
    """A ``register_platforms`` hook implementation registering ``connectors`` (classes
    are instantiated on each call); a connector without a ``version`` gets ``version``.
    Assign it in the module the entry point names: ``register_platforms = ...``."""
    if not connectors:
        raise TypeError("connector_plugin needs at least one connector")
    for c in connectors:
        if not (isinstance(c, Connector) or (isinstance(c, type) and issubclass(c, Connector))):
            raise TypeError(f"connector_plugin: {c!r} is not a Connector (class or instance)")

    @hookimpl
    def register_platforms(register: Callable[[Connector], None]) -> None:
        for c in connectors:
            conn = c() if isinstance(c, type) else c
            if version and not conn.version:
                conn.version = version
            register(conn)

    names = ", ".join(getattr(c, "__name__", type(c).__name__) for c in connectors)
    register_platforms.__doc__ = f"Register the {names} connector(s)."
    return register_platforms
