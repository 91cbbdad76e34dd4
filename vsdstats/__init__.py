"""vsdstats: VSD coding and statistics for social-media talk about LLM chatbots and mental
health."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vsdstats")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
