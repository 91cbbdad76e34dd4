"""Live collection through ``Mastodon.py`` (the maintained client of the Mastodon API).

``collect(query, community=...)``: a query ``#tag`` reads the hashtag timeline
(``GET /api/v1/timelines/tag/<tag>``, ``timeline_hashtag``), any other query the status
search (``GET /api/v2/search?type=statuses``, ``search_v2``), 40 statuses a page, newest
first, paged with ``max_id`` = the id of the last status read; that id is the resume
cursor (``Cursor({"max_id": "..."})`` after each page, ``Cursor({})`` once a page comes
back empty).  ``until`` is the first ``max_id`` (Mastodon.py turns a datetime into a
snowflake id); the first status older than ``since`` ends the collection.  Statuses map
through :mod:`vsdstats_mastodon.connector` as saved API responses do.

The instance: ``--community`` (``mastodon.social`` or an https URL), else
MASTODON_API_BASE_URL; the token: MASTODON_ACCESS_TOKEN (Preferences > Development >
New application, scope ``read``).  Both come through ``vsdstats.connectors.credential``.

Rate limits: ``ratelimit_method="wait"``: Mastodon.py reads ``X-RateLimit-Remaining``
/ ``X-RateLimit-Reset`` on every response and, on a 429, sleeps until the reset time
(else 2, 4, 8 ... s) and repeats the request itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from vsdstats.connectors import Cursor, RawSink, Record, Reject, credential
from vsdstats.connectors.credentials import CredentialError
from vsdstats.ingest.pipeline import IngestError

from .connector import _value

SOURCE = "collect:mastodon"
PAGE = 40  # the largest page of Mastodon's timelines and search
CREDENTIALS = ("MASTODON_ACCESS_TOKEN",)


def base_url(community: str | None) -> str:
    """The instance's API base URL: ``community`` or MASTODON_API_BASE_URL, with https://."""
    url = (community or credential("MASTODON_API_BASE_URL")).strip().rstrip("/")
    return url if url.startswith(("https://", "http://")) else f"https://{url}"


def make_client(community: str | None, raw: RawSink | None = None) -> Any:
    """A ``mastodon.Mastodon`` for the instance, waiting out rate limits itself."""
    import requests
    from mastodon import Mastodon

    session = requests.Session()
    if raw is not None:

        def keep(response: Any, *args: Any, **kwargs: Any) -> None:
            path = response.request.path_url.split("?")[0].strip("/")
            if "/instance" not in path:
                raw(path, response.content)

        session.hooks["response"].append(keep)
    return Mastodon(
        access_token=credential("MASTODON_ACCESS_TOKEN"),
        api_base_url=base_url(community),
        ratelimit_method="wait",
        session=session,
        user_agent="vsdstats (research collection; Mastodon.py)",
    )


def status_dicts(statuses: Any) -> list[dict[str, Any]]:
    """Mastodon.py's Status entities as the API's JSON objects (wire field names)."""
    return [json.loads(s.to_json(pretty=False))["_mastopy_data"] for s in statuses]


def _fetch(client: Any, query: str, max_id: Any, page: int) -> list[dict[str, Any]]:
    from mastodon import MastodonAPIError, MastodonError, MastodonUnauthorizedError

    try:
        if query.startswith("#"):
            got = client.timeline_hashtag(query[1:], max_id=max_id, limit=page)
        else:
            got = client.search_v2(
                query, resolve=False, result_type="statuses", max_id=max_id, limit=page
            ).statuses
    except MastodonUnauthorizedError as exc:
        raise CredentialError(
            f"Mastodon refused MASTODON_ACCESS_TOKEN ({exc.args[-1] if exc.args else exc})"
        ) from None
    except MastodonAPIError as exc:
        raise IngestError(
            f"Mastodon {client.api_base_url}: {' '.join(map(str, exc.args))}"
        ) from None
    except MastodonError as exc:
        raise IngestError(f"Mastodon {client.api_base_url}: {exc}") from None
    return status_dicts(got)


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    *,
    community: str | None = None,
    state: dict[str, Any] | None = None,
    raw: RawSink | None = None,
    client: Any = None,
) -> Iterator[Record | Cursor]:
    """Statuses for ``query`` (see the module docstring); the instance and token are
    checked before the first record is asked for."""
    query = query.strip()
    if query.startswith("#") and len(query) < 2:
        raise IngestError("mastodon: --query '#' names no hashtag")
    client = client if client is not None else make_client(community, raw)
    return _pages(client, query, since, until, limit, (state or {}).get("max_id") or until)


def _pages(
    client: Any,
    query: str,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    max_id: Any,
) -> Iterator[Record | Cursor]:
    n = 0
    while True:
        page = PAGE if limit is None else max(1, min(PAGE, limit - n))
        statuses = _fetch(client, query, max_id, page)
        if not statuses:
            yield Cursor({})  # exhausted: the next run starts from the newest
            return
        for s, out in zip(statuses, _value(statuses), strict=True):
            max_id = str(s.get("id"))
            n += 1
            if isinstance(out, str):
                yield Reject(SOURCE, n, out)
                continue
            if until is not None and out.created_at >= until:
                continue
            if since is not None and out.created_at < since:
                yield Cursor({})  # older than since: complete
                return
            out.source_file = None
            yield out
            if limit is not None and n >= limit:
                yield Cursor({"max_id": max_id})
                return
        yield Cursor({"max_id": max_id})
