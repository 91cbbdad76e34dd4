"""Live collection through snscrape's Twitter search scraper (imported lazily).

X closed unauthenticated search in 2023, so snscrape's Twitter scrapers usually fail
at run time; the error is raised with a clear message.  The item mapping (the same as
for ``snscrape --jsonl`` lines) is what this module guarantees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from vsdstats.connectors import Record, Reject, snscrape_class, snscrape_records

from .tweets import BadTweet, snscrape_to_post

SOURCE = "snscrape:twitter"


def _as_dict(obj: Any) -> Any:
    """Fields of a snscrape item (dataclass or look-alike object), nested items too."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_as_dict(o) for o in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, (datetime, type)):
        return {k: _as_dict(v) for k, v in vars(obj).items()}
    return obj


def item_to_record(item: Any, line: int) -> Record:
    """A snscrape ``Tweet`` (or an object with the same attributes) as a RawPost."""
    try:
        post = snscrape_to_post(_as_dict(item), None, line)
    except BadTweet as exc:
        return Reject(SOURCE, line, str(exc))
    return post


def search_query(query: str, since: datetime | None, until: datetime | None) -> str:
    """``query`` with X's ``since_time:``/``until_time:`` operators (epoch seconds)."""
    parts = [query]
    if since is not None:
        parts.append(f"since_time:{int(since.timestamp())}")
    if until is not None:
        parts.append(f"until_time:{int(until.timestamp())}")
    return " ".join(parts)


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> Iterator[Record]:
    """Search tweets matching ``query`` via snscrape."""
    search = snscrape_class("twitter", "TwitterSearchScraper", "X")
    yield from snscrape_records(
        search(search_query(query, since, until)),
        item_to_record,
        limit,
        "snscrape X search failed",
        "X requires a login for search since 2023, which snscrape does not support",
    )
