"""vsdstats plugin: the ``mastodon`` platform connector."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl
from vsdstats_mastodon.connector import MastodonConnector

__all__ = ["MastodonConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the Mastodon connector."""
    register(MastodonConnector())
