"""vsdstats plugin: the ``youtube`` platform connector."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import YouTubeConnector

__version__ = dist_version("vsdstats-youtube")  # the one version: pyproject.toml's
register_platforms = connector_plugin(YouTubeConnector, version=__version__)

__all__ = ["YouTubeConnector", "__version__", "register_platforms"]
