"""vsdstats platform plugin for X/Twitter (API v2 pages, twarc-flat, snscrape)."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl

from .connector import FLAT, SNSCRAPE, V2, XConnector

__all__ = ["FLAT", "SNSCRAPE", "V2", "XConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the X connector."""
    register(XConnector())
