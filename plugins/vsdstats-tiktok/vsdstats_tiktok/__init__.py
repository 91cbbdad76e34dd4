"""vsdstats plugin: the ``tiktok`` platform connector."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl
from vsdstats_tiktok.connector import TikTokConnector

__all__ = ["TikTokConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the TikTok connector."""
    register(TikTokConnector())
