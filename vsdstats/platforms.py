"""Deprecated: the plugin API moved to :mod:`vsdstats.connectors` (vsdstats 0.2).

``from vsdstats.platforms import Connector, hookimpl`` keeps working for one release
with a DeprecationWarning; import from ``vsdstats.connectors`` instead.  The entry-point
group is still ``vsdstats.platforms``.
"""

import warnings

from vsdstats.connectors import *  # noqa: F403
from vsdstats.connectors import __all__  # noqa: F401

warnings.warn(
    "vsdstats.platforms is deprecated: import from vsdstats.connectors",
    DeprecationWarning,
    stacklevel=2,
)
