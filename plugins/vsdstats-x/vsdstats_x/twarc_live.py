"""Live collection from the X API v2 search through twarc (``twarc.client2.Twarc2``).

``collect(query)`` calls ``search_recent`` (the last 7 days; any access level), or
``search_all`` (the full archive; Pro/academic access) when ``--since`` is more than
7 days ago, with ``expansions=author_id`` and the user fields, 100 tweets a page;
twarc pages by ``next_token``.  Pages go through the plugin's API v2 page mapping
(:class:`vsdstats_x.connector._Reader`), as ``x-api-v2`` files do.  Cursor (after
every page): ``{"next_token": meta.next_token}``, passed back to twarc on a rerun;
``{}`` once the search ends.

Credential: X_BEARER_TOKEN (an app's bearer token, sent in the Authorization header,
never in a URL).  Rate limits are twarc's: on a 429 it sleeps until
``x-rate-limit-reset`` (at least 10 s, at most 15 min) and repeats the request; 5xx
are retried with growing waits.  Other HTTP errors (401, 403 for an endpoint the
access level does not include) end the run with a one-line error.

twarc has no base-URL setting: its endpoints are literal ``https://api.twitter.com``
URLs.  It talks through a ``requests`` session, so it honours ``HTTPS_PROXY`` and
``REQUESTS_CA_BUNDLE`` (the replay test uses both: a TLS proxy on 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from vsdstats.connectors import Cursor, RawPost, RawSink, Record, credential

from .connector import _Reader

SOURCE = "collect:x"
CREDENTIALS = ("X_BEARER_TOKEN",)
RECENT_DAYS = 7
TWEET_FIELDS = (
    "id,text,created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,lang,edit_history_tweet_ids"
)
USER_FIELDS = "id,username,name"


def make_twarc() -> Any:
    """A ``Twarc2`` with app (bearer token) auth and twarc's metadata wrapper off (a
    page is the API's response; ``--keep-raw`` gets it re-serialized, never a token)."""
    from twarc.client2 import Twarc2

    return Twarc2(bearer_token=credential("X_BEARER_TOKEN"), metadata=False)


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    twarc: Any = None,
    now: datetime | None = None,
) -> Iterator[Record | Cursor]:
    """Tweets matching ``query`` (see the module docstring)."""
    import json

    import requests

    from vsdstats.ingest.pipeline import IngestError

    tw = twarc if twarc is not None else make_twarc()
    old = since is not None and since < (now or datetime.now(timezone.utc)) - timedelta(
        days=RECENT_DAYS
    )
    search = tw.search_all if old else tw.search_recent
    kwargs: dict[str, Any] = {
        "start_time": since.astimezone(timezone.utc) if since else None,
        "end_time": until.astimezone(timezone.utc) if until else None,
        "max_results": 100,
        "expansions": "author_id,referenced_tweets.id",
        "tweet_fields": TWEET_FIELDS,
        "user_fields": USER_FIELDS,
    }
    token = (state or {}).get("next_token")
    if token:
        kwargs["next_token"] = token
    reader = _Reader(SOURCE)
    n = 0
    pages = search(query, **kwargs)
    try:
        for page in pages:
            if raw is not None:
                raw("search", json.dumps(page).encode())
            for rec in reader.page(page, n + 1):
                n += 1
                if isinstance(rec, RawPost):
                    rec.source_file = None
                yield rec
            meta = page.get("meta") if isinstance(page, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not token:
                break
            yield Cursor({"next_token": token})
            if limit is not None and n >= limit:
                return
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        hint = " (search_all needs Pro or academic access)" if old and status == 403 else ""
        raise IngestError(f"x: the API answered HTTP {status}{hint}") from None
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()
    yield Cursor({})
