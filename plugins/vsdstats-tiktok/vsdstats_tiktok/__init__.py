"""vsdstats plugin: the ``tiktok`` platform connector."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import TikTokConnector

__version__ = dist_version("vsdstats-tiktok")  # the one version: pyproject.toml's
register_platforms = connector_plugin(TikTokConnector, version=__version__)

__all__ = ["TikTokConnector", "__version__", "register_platforms"]
