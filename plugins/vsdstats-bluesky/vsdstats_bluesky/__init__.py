"""vsdstats plugin: the ``bluesky`` platform connector."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import BlueskyConnector

__version__ = dist_version("vsdstats-bluesky")  # the one version: pyproject.toml's
register_platforms = connector_plugin(BlueskyConnector, version=__version__)

__all__ = ["BlueskyConnector", "__version__", "register_platforms"]
