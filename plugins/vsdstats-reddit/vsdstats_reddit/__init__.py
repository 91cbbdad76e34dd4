"""vsdstats platform plugin for Reddit (Pushshift/Arctic Shift dumps, API listings)."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl

from .connector import API, PUSHSHIFT, RedditConnector

__all__ = ["API", "PUSHSHIFT", "RedditConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the Reddit connector."""
    register(RedditConnector())
