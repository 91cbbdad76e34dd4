"""vsdstats: VSD coding and statistics for social-media talk about LLM chatbots and mental
health."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata on first use (importing
    importlib.metadata costs the command line's start-up more than all of click)."""
    if name != "__version__":
        raise AttributeError(f"module 'vsdstats' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("vsdstats")
    except PackageNotFoundError:  # running from a source tree that is not installed
        v = "0.0.0+unknown"
    globals()["__version__"] = v
    return v
