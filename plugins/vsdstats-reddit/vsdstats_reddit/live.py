"""Live collection through snscrape's Reddit scrapers (imported lazily).

snscrape's Reddit module queries the Pushshift API, which has been restricted to
Reddit-approved moderators since 2023: expect collection to fail with the scraper's
error unless you have access.  The item mapping is what this module guarantees.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from vsdstats.connectors import Record, Reject, snscrape_class, snscrape_records

from .things import BadThing, thing_to_post

SOURCE = "snscrape:reddit"
_THREAD_RE = re.compile(r"/comments/([a-z0-9]+)")


def _as_dict(item: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    return dict(vars(item))


def item_to_record(item: Any, line: int) -> Record:
    """A snscrape ``Submission``/``Comment`` (or an object with the same attributes)."""
    try:
        d = _as_dict(item)
    except TypeError:
        return Reject(SOURCE, line, f"not a snscrape item: {type(item).__name__}")
    date = d.get("date")
    url = d.get("url") if isinstance(d.get("url"), str) else ""
    path = re.sub(r"^https?://[^/]+", "", url)
    thing: dict[str, Any] = {
        "id": d.get("id"),
        "created_utc": date.timestamp() if isinstance(date, datetime) else date,
        "author": d.get("author"),
        "subreddit": d.get("subreddit"),
        "permalink": path or None,
    }
    if "title" in d:
        kind = "submission"
        thing.update(title=d.get("title"), selftext=d.get("selftext") or "")
    else:
        kind = "comment"
        thing.update(body=d.get("body"), parent_id=d.get("parentId"))
        m = _THREAD_RE.search(path)
        thing["link_id"] = f"t3_{m.group(1)}" if m else None
    try:
        post = thing_to_post(thing, SOURCE, line, kind)
    except BadThing as exc:
        return Reject(SOURCE, line, str(exc))
    post.source_file = None
    return post


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> Iterator[Record]:
    """Search Reddit submissions and comments matching ``query`` via snscrape."""
    search = snscrape_class("reddit", "RedditSearchScraper", "Reddit")
    scraper = search(
        query,
        before=int(until.timestamp()) if until else None,
        after=int(since.timestamp()) if since else None,
    )
    yield from snscrape_records(
        scraper,
        item_to_record,
        limit,
        "snscrape Reddit search failed",
        "the Pushshift API it uses is restricted since 2023",
    )
