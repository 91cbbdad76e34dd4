"""vsdstats plugin: the ``bluesky`` platform connector."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl
from vsdstats_bluesky.connector import BlueskyConnector

__all__ = ["BlueskyConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the Bluesky connector."""
    register(BlueskyConnector())
