"""Live collection with PRAW (Reddit's official API through the maintained client).

``collect(query, community=...)`` pages through ``/r/<community or all>/search``
(``sort=new``, the ``time_filter`` that covers ``since``), 100 submissions a page,
with ``after`` = the fullname of the last item; that fullname is the resume cursor
(``Cursor({"after": "t3_..."})``, yielded after each page; ``Cursor({})`` once the
listing ends).  ``since``/``until`` filter on ``created_utc`` (newest first, so the
first item older than ``since`` ends the search).  Items go through
:func:`vsdstats_reddit.things.thing_to_post`, as the API-listing files do.

Credentials (``vsdstats.connectors.credential``): REDDIT_CLIENT_ID,
REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT (an app of type "script" at
https://www.reddit.com/prefs/apps; read-only client-credentials grant, no password).
REDDIT_OAUTH_URL / REDDIT_URL point PRAW at another server (tests, proxies).

Rate limits: PRAW (prawcore's RateLimiter) reads ``x-ratelimit-remaining``,
``x-ratelimit-used`` and ``x-ratelimit-reset`` on every response and sleeps before
the next request to stay inside the window; an expired token (401) is refreshed and
the request retried by prawcore.  A 429 is raised by prawcore (TooManyRequests):
here it is retried after ``Retry-After`` seconds (else 2, 4, 8, ... s), up to
MAX_RETRIES times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from vsdstats.connectors import Cursor, RawSink, Record, Reject, credential

from .things import BadThing, thing_to_post

SOURCE = "collect:reddit"
PAGE = 100  # Reddit's largest listing page
MAX_RETRIES = 5
CREDENTIALS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")

#: time_filter values and the span each covers
_FILTERS = [
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
    ("month", timedelta(days=31)),
    ("year", timedelta(days=365)),
]


def time_filter(since: datetime | None, now: datetime | None = None) -> str:
    """The narrowest ``t=`` value of Reddit search that still covers ``since``."""
    if since is None:
        return "all"
    age = (now or datetime.now(timezone.utc)) - since
    for name, span in _FILTERS:
        if age <= span:
            return name
    return "all"


def make_reddit(raw: RawSink | None = None) -> Any:
    """A read-only ``praw.Reddit`` from the credentials (raw responses to ``raw``)."""
    import praw
    import requests

    session = requests.Session()
    if raw is not None:

        def keep(response: Any, *args: Any, **kwargs: Any) -> None:
            if "access_token" not in response.url:  # a token is a credential
                raw(response.request.path_url.split("?")[0].strip("/"), response.content)

        session.hooks["response"].append(keep)
    kwargs: dict[str, Any] = {}
    for var, key in (("REDDIT_OAUTH_URL", "oauth_url"), ("REDDIT_URL", "reddit_url")):
        if os.environ.get(var):
            kwargs[key] = os.environ[var]
    return praw.Reddit(
        client_id=credential("REDDIT_CLIENT_ID"),
        client_secret=credential("REDDIT_CLIENT_SECRET"),
        user_agent=credential("REDDIT_USER_AGENT"),
        check_for_updates=False,
        requestor_kwargs={"session": session},
        **kwargs,
    )


def praw_to_dict(item: Any) -> dict[str, Any]:
    """The API fields of a PRAW Submission/Comment (author and subreddit as names)."""
    d = {k: v for k, v in vars(item).items() if not k.startswith("_")}
    for key in ("author", "subreddit"):
        if d.get(key) is not None and not isinstance(d[key], str):
            d[key] = str(d[key])
    return d


def item_to_record(item: Any, line: int) -> Record:
    try:
        post = thing_to_post(praw_to_dict(item), SOURCE, line)
    except BadThing as exc:
        return Reject(SOURCE, line, str(exc))
    post.source_file = None
    return post


def _with_retries(fetch: Callable[[], Any], sleep: Callable[[float], None]) -> Any:
    from prawcore.exceptions import TooManyRequests

    for attempt in range(MAX_RETRIES + 1):
        try:
            return fetch()
        except TooManyRequests as exc:
            if attempt == MAX_RETRIES:
                raise RuntimeError(
                    f"Reddit kept answering 429 Too Many Requests ({MAX_RETRIES} retries)"
                ) from None
            try:
                wait = float(exc.retry_after) if exc.retry_after else 2.0 ** (attempt + 1)
            except ValueError:
                wait = 2.0 ** (attempt + 1)
            sleep(min(max(wait, 0.0), 600.0))
    raise AssertionError("unreachable")


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    community: str | None = None,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    reddit: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Record | Cursor]:
    """Search submissions matching ``query`` (see the module docstring)."""
    from praw.endpoints import API_PATH

    reddit = reddit if reddit is not None else make_reddit(raw)
    sub = reddit.subreddit(community or "all")
    url = API_PATH["search"].format(subreddit=sub)
    params: dict[str, Any] = {"q": query, "sort": "new", "t": time_filter(since), "limit": PAGE}
    if community:
        params["restrict_sr"] = "on"
    after = (state or {}).get("after")
    n = 0
    while True:
        page = dict(params, after=after) if after else dict(params)
        listing = _with_retries(lambda page=page: reddit.get(url, params=page), sleep)
        items = list(listing)
        for item in items:
            after = getattr(item, "name", None) or after
            created = getattr(item, "created_utc", None)
            if isinstance(created, (int, float)):
                if until is not None and created > until.timestamp():
                    continue
                if since is not None and created < since.timestamp():
                    yield Cursor({})  # older than since: this search is complete
                    return
            n += 1
            yield item_to_record(item, n)
            if limit is not None and n >= limit:
                yield Cursor({"after": after})
                return
        if not items or not getattr(listing, "after", None):
            yield Cursor({})
            return
        after = listing.after
        yield Cursor({"after": after})
