"""Mastodon REST API bodies: statuses, lists of statuses, contexts and v2 searches.

Accepted JSON values: one status (``GET /api/v1/statuses/:id``), an array of statuses
(home/public/hashtag timelines, account statuses), a context
(``{ancestors, descendants}``) and a v2 search (``{accounts, statuses, hashtags}``:
accounts and hashtags are not posts and each becomes a Reject saying so).

A status's ``content`` is HTML and becomes plain text (line breaks kept, entities
decoded, mention links left as ``@user`` text for ingest to mask); a non-empty
``spoiler_text`` (content warning) is put before it, separated by a blank line.  A
status whose ``reblog`` is set is a boost, not a new post: a Reject "reblog (not a new
post)".  ``parent_id`` is ``in_reply_to_id``; ``thread_id`` is the root of the
conversation when the file shows it (a context's first ancestor, or a chain of replies
up to a status that replies to nothing), the status itself when it replies to nothing,
and empty for a reply whose root is not in the file.  ``url`` contains ``@user``, so
the account's ``acct``, ``username``, ``display_name`` and ``id`` and every mention's
``acct``, ``username`` and ``id`` are listed in ``identities``.

``community`` is the host of the instance the status was published on (the host of its
``uri``, else of its ``url``): boosted or federated copies keep their origin server.
An instance can be one person's server; ingest hashes a host that holds one of the
post's identities, and the trade-off is documented in :mod:`vsdstats.tables.models`.
``score`` is ``favourites_count`` and ``replies`` is ``replies_count``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from vsdstats.connectors import (
    CONVERT_ERRORS,
    JsonConnector,
    JsonFile,
    JsonFormat,
    RawPost,
    convert_or_reason,
    count,
    html_to_text,
    not_an_object,
    parse_time,
    require_str,
    some_keys,
)

PLATFORM = "mastodon"
API = "mastodon-api"
REBLOG = "reblog (not a new post)"
_SHORTCODE = re.compile(r":[A-Za-z0-9_]+:")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
Out = RawPost | str
_ERRORS = (*CONVERT_ERRORS, AttributeError)


class MastodonConnector(JsonConnector):
    """Reads Mastodon API statuses; collects live through Mastodon.py."""

    name = PLATFORM
    formats = (
        JsonFormat(
            API,
            head=(
                b'"ancestors"',
                (b'"content"', b'"spoiler_text"'),
                (b'"content"', b'"in_reply_to_id"'),
            ),
        ),
    )
    can_collect = True
    live_module = "vsdstats_mastodon.live"  # hashtag timeline or status search, Mastodon.py
    credentials = ("MASTODON_ACCESS_TOKEN",)

    def parse_value(self, value: Any, file: JsonFile) -> Iterator[Out]:
        return _value(value)


def _value(value: Any) -> Iterator[Out]:
    """Posts and reject reasons for one response body."""
    if isinstance(value, list):
        yield from _statuses(value)
    elif not isinstance(value, dict):
        yield f"not Mastodon API data: a JSON {type(value).__name__}"
    elif isinstance(value.get("ancestors"), list) and isinstance(value.get("descendants"), list):
        anc = value["ancestors"]
        first = anc[0] if anc and isinstance(anc[0], dict) else {}
        root = first.get("id") if first.get("in_reply_to_id") is None else None
        # without ancestors the focal status (not in the body) is the root
        yield from _statuses([*anc, *value["descendants"]], _str_id(root), not anc)
    elif isinstance(value.get("statuses"), list) and "accounts" in value:
        yield from _statuses(value["statuses"])
        for key in sorted(k for k, v in value.items() if k != "statuses" and isinstance(v, list)):
            for _ in value[key]:
                yield f"search result: {key.rstrip('s')}, not a post"
    elif isinstance(value.get("error"), str) and "id" not in value:
        yield f"Mastodon API error: {value['error']}"
    elif "content" in value and "id" in value:
        yield from _statuses([value])
    else:
        yield f"not Mastodon API data (no status, context or search; keys: {some_keys(value)})"


def _str_id(v: Any) -> str | None:
    if isinstance(v, bool) or v is None:
        return None
    return str(v) if isinstance(v, (str, int)) and str(v) else None


def _statuses(items: list[Any], root: str | None = None, focal: bool = False) -> Iterator[Out]:
    """Each status of one body, its thread root resolved within the body: a chain that
    leaves the body ends at ``root``, or at the status it leaves to if ``focal``."""
    parents = {
        _str_id(s.get("id")): _str_id(s.get("in_reply_to_id"))
        for s in items
        if isinstance(s, dict) and _str_id(s.get("id"))
    }
    for s in items:
        if not isinstance(s, dict):
            yield not_an_object("status", s)
        elif s.get("reblog") is not None:
            yield REBLOG
        else:
            yield _safe(s, _thread_root(_str_id(s.get("id")), parents, root, focal))


def _thread_root(
    sid: str | None, parents: dict[str | None, str | None], root: str | None, focal: bool
) -> str | None:
    """The top of ``sid``'s reply chain within the body (see :func:`_statuses`)."""
    seen: set[str] = set()
    cur = sid
    while cur is not None and cur not in seen:
        seen.add(cur)
        up = parents.get(cur)
        if up is None:
            return cur
        if up not in parents:
            return up if focal else root
        cur = up
    return root


def _safe(s: dict[str, Any], thread: str | None) -> Out:
    return convert_or_reason(status_to_post, s, thread, what="status", errors=_ERRORS)


def name_variants(name: Any) -> set[str]:
    """A display name as given and without custom-emoji shortcodes and invisible marks."""
    if not isinstance(name, str) or not name.strip():
        return set()
    clean = _INVISIBLE.sub("", _SHORTCODE.sub("", name)).strip()
    return {name, clean} - {""}


def _account_ids(acc: Any) -> set[str]:
    if not isinstance(acc, dict):
        return set()
    out = {str(acc[k]) for k in ("acct", "username", "id") if isinstance(acc.get(k), (str, int))}
    return (out | name_variants(acc.get("display_name"))) - {""}


def instance_host(*urls: Any) -> str | None:
    """The host (lower case, no port) of the first of ``urls`` that is an http(s) URL."""
    for u in urls:
        if isinstance(u, str) and u.startswith(("https://", "http://")):
            try:
                host = urlsplit(u).hostname
            except ValueError:  # a malformed URL (bad port, brackets)
                continue
            if host:
                return host
    return None


def status_to_post(s: dict[str, Any], thread: str | None) -> RawPost:
    """One status (not a reblog) as a RawPost; ``thread`` is its resolved root."""
    sid = _str_id(s["id"])
    if sid is None:
        raise TypeError(f"id must be a string or integer, got {type(s['id']).__name__}")
    text = html_to_text(require_str(s["content"], "content"))
    spoiler = s.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    acc = s.get("account") if isinstance(s.get("account"), dict) else {}
    ids = _account_ids(acc)
    mentions = s.get("mentions")
    for m in mentions if isinstance(mentions, list) else []:
        ids |= _account_ids(m)
    lang, url = s.get("language"), s.get("url") or s.get("uri")
    acct = acc.get("acct")
    return RawPost(
        platform=PLATFORM,
        post_id=sid,
        created_at=parse_time(s.get("created_at"), field="created_at"),
        text=text,
        thread_id=thread,
        parent_id=_str_id(s.get("in_reply_to_id")),
        author_handle=acct if isinstance(acct, str) else None,
        author_id=_str_id(acc.get("id")),
        url=url if isinstance(url, str) else None,
        lang=lang if isinstance(lang, str) and lang else None,
        community=instance_host(s.get("uri"), s.get("url")),
        score=count(s.get("favourites_count")),
        replies=count(s.get("replies_count")),
        identities=ids,
        kind="reply" if s.get("in_reply_to_id") is not None else "post",
    )
