"""vsdstats plugin: the ``mastodon`` platform connector."""

from __future__ import annotations

from vsdstats.connectors import connector_plugin, dist_version

from .connector import MastodonConnector

__version__ = dist_version("vsdstats-mastodon")  # the one version: pyproject.toml's
register_platforms = connector_plugin(MastodonConnector, version=__version__)

__all__ = ["MastodonConnector", "__version__", "register_platforms"]
