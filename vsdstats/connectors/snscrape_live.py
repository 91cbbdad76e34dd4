"""Live collection through snscrape, where its scrapers still work."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

from vsdstats.connectors.records import Record


def snscrape_class(module: str, name: str, platform: str) -> Any:
    """``snscrape.modules.<module>.<name>``, imported on demand; RuntimeError ``live
    <platform> collection needs a working snscrape ...`` when that import fails."""
    try:
        return getattr(importlib.import_module(f"snscrape.modules.{module}"), name)
    except Exception as exc:  # ImportError, or snscrape broken on this Python
        raise RuntimeError(
            f"live {platform} collection needs a working snscrape "
            f"(pip install snscrape): import failed: {exc}"
        ) from exc


def snscrape_records(
    scraper: Any,
    to_record: Callable[[Any, int], Record],
    limit: int | None,
    failed: str,
    why: str,
) -> Iterator[Record]:
    """``to_record(item, i)`` for the first ``limit`` (all if None) items of a snscrape
    scraper, numbered from 1; an error while scraping becomes RuntimeError
    ``<failed> (<Type>: <msg>); <why>``."""
    try:
        for i, item in enumerate(scraper.get_items(), start=1):
            if limit is not None and i > limit:
                break
            yield to_record(item, i)
    except Exception as exc:
        raise RuntimeError(f"{failed} ({type(exc).__name__}: {exc}); {why}") from exc
