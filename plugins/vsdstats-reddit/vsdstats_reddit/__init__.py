"""vsdstats platform plugin for Reddit (Pushshift/Arctic Shift dumps, API listings)."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import API, PUSHSHIFT, RedditConnector

__version__ = dist_version("vsdstats-reddit")  # the one version: pyproject.toml's
register_platforms = connector_plugin(RedditConnector, version=__version__)

__all__ = ["API", "PUSHSHIFT", "RedditConnector", "__version__", "register_platforms"]
