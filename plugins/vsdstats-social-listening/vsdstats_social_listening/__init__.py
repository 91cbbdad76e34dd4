"""vsdstats platform plugin for social-listening exports (Brandwatch-style CSV/JSONL)."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import CSV, JSONL, SocialListeningConnector

__version__ = dist_version("vsdstats-social-listening")  # the one version: pyproject.toml's
register_platforms = connector_plugin(SocialListeningConnector, version=__version__)

__all__ = ["CSV", "JSONL", "SocialListeningConnector", "__version__", "register_platforms"]
