"""vsdstats platform plugin for X/Twitter (API v2 pages, twarc-flat, snscrape)."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import FLAT, SNSCRAPE, V2, XConnector

__version__ = dist_version("vsdstats-x")  # the one version: pyproject.toml's
register_platforms = connector_plugin(XConnector, version=__version__)

__all__ = ["FLAT", "SNSCRAPE", "V2", "XConnector", "__version__", "register_platforms"]
