"""vsdstats plugin: the ``youtube`` platform connector."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl
from vsdstats_youtube.connector import YouTubeConnector

__all__ = ["YouTubeConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the YouTube connector."""
    register(YouTubeConnector())
