"""Live collection through snscrape's Mastodon scrapers (optional: ``pip install
'vsdstats-mastodon[live]'``).

snscrape 0.7 can list an account's statuses (``MastodonProfileScraper``, query
``user@instance``) or one status and its thread (``MastodonTootScraper``, query = the
status URL); it has no search.  It parses the server-rendered pages of Mastodon before
4.0, so on most current instances it finds nothing or fails: that is reported as a
RuntimeError naming the cause, never as an empty result.  Boosts become Rejects
"reblog (not a new post)".  Toots carry no reply information, so ``parent_id`` and
``thread_id`` stay empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from vsdstats.connectors import RawPost, Record, Reject
from vsdstats_mastodon.connector import PLATFORM, REBLOG, instance_host, name_variants

LIVE_SOURCE = "<snscrape mastodon>"


def _snscrape() -> Any:
    try:
        import snscrape.modules.mastodon as sm
    except Exception as exc:  # missing, or broken on this Python
        raise RuntimeError(
            "mastodon live collection needs snscrape's Mastodon scraper "
            f"(pip install 'vsdstats-mastodon[live]'): import failed: {exc}"
        ) from exc
    return sm


def scraper_for(query: str, sm: Any) -> Any:
    """A profile scraper for ``user@instance`` (or ``@user@instance``), else a thread
    scraper for a status URL."""
    q = query.strip()
    if q.startswith(("http://", "https://")):
        return sm.MastodonTootScraper(q, mode=sm.MastodonTootScraperMode.THREAD)
    acct = q.lstrip("@")
    if acct.count("@") != 1 or not all(acct.split("@")):
        raise ValueError(f"mastodon query must be user@instance or a status URL, got {query!r}")
    return sm.MastodonProfileScraper("@" + acct)


def _user_ids(user: Any) -> set[str]:
    if user is None:
        return set()
    account = str(getattr(user, "account", "") or "")
    ids = {account, account.lstrip("@")} | name_variants(getattr(user, "displayName", None))
    bare = account.lstrip("@").split("@")[0]
    return (ids | {bare}) - {""}


def toot_to_post(toot: Any) -> RawPost:
    """A snscrape ``Toot`` as a RawPost (its account, display name and mentions as
    identities)."""
    date = toot.date if toot.date.tzinfo else toot.date.replace(tzinfo=timezone.utc)
    text = toot.text or ""
    if toot.spoilerText:
        text = f"{toot.spoilerText.strip()}\n\n{text}" if text else toot.spoilerText.strip()
    ids = _user_ids(toot.user)
    for u in toot.mentionedUsers or []:
        ids |= _user_ids(u)
    return RawPost(
        platform=PLATFORM,
        post_id=str(toot.id),
        created_at=date.astimezone(timezone.utc),
        text=text,
        author_handle=toot.user.account.lstrip("@") if toot.user else None,
        url=toot.url,
        community=instance_host(toot.url),
        identities=ids,
        kind="post",
    )


def collect(
    query: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    module: Any = None,
) -> Iterator[Record]:
    """Statuses for ``query`` (newest first), filtered to ``[since, until)``, at most
    ``limit`` posts.  ``module`` replaces ``snscrape.modules.mastodon`` (tests)."""
    sm = module if module is not None else _snscrape()
    scraper = scraper_for(query, sm)
    n = 0
    try:
        for i, item in enumerate(scraper.get_items(), start=1):
            if isinstance(item, sm.Boost):
                yield Reject(LIVE_SOURCE, i, REBLOG)
                continue
            post = toot_to_post(item)
            if until is not None and post.created_at >= until:
                continue
            if since is not None and post.created_at < since:
                continue  # not a break: pinned statuses come first on a profile
            post.source_line = i
            yield post
            n += 1
            if limit is not None and n >= limit:
                break
    except (AttributeError, TypeError, KeyError) as exc:
        raise RuntimeError(
            f"snscrape could not parse {query!r} ({type(exc).__name__}: {exc}); its Mastodon "
            "scraper reads the server-rendered pages of Mastodon < 4.0, which this instance "
            "probably no longer serves"
        ) from exc
