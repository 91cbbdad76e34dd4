"""The pluggy hook a platform plugin implements, and its entry-point group.

A plugin is a distribution with an entry point in the group ``vsdstats.platforms``
pointing at a module that implements ``register_platforms``::

    from vsdstats.connectors import Connector, hookimpl

    class MyConnector(Connector):
        name = "myplatform"
        formats = ("myplatform-api-json",)
        ...

    @hookimpl
    def register_platforms(register):
        register(MyConnector())
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from vsdstats.connectors.base import Connector

ENTRY_POINT_GROUP = "vsdstats.platforms"


hookspec = pluggy.HookspecMarker("vsdstats")


hookimpl = pluggy.HookimplMarker("vsdstats")


class PlatformSpec:
    @hookspec
    def register_platforms(self, register: Callable[[Connector], None]) -> None:
        """Register one or more platform connectors by calling ``register(connector)``."""
