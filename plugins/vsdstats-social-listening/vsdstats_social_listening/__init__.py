"""vsdstats platform plugin for social-listening exports (Brandwatch-style CSV/JSONL)."""

from __future__ import annotations

from collections.abc import Callable

from vsdstats.connectors import Connector, hookimpl

from .connector import CSV, JSONL, SocialListeningConnector

__all__ = ["CSV", "JSONL", "SocialListeningConnector", "register_platforms"]
__version__ = "0.1.0"


@hookimpl
def register_platforms(register: Callable[[Connector], None]) -> None:
    """Register the social-listening connector."""
    register(SocialListeningConnector())
