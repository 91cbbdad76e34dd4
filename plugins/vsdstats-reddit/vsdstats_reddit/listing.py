"""Reddit API JSON: a ``Listing``, a thread page (list of two listings), or a bare thing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vsdstats.connectors import Record, Reject, loads

from .things import BadThing, thing_to_post

MORE_REASON = "more-children stub (not a post)"
_KINDS = {"t3": "submission", "t1": "comment"}
_MAX_DEPTH = 200  # Reddit nests at most ~10 levels per page; guards against hostile input


def api_value(value: Any, name: str, line: int) -> Iterator[Record]:
    """Every submission and comment in one Reddit API response (a file holds one, or
    one per line), walking nested ``replies`` listings depth-first."""
    empty = True
    for rec in _walk(value, name, line, 0):
        empty = False
        yield rec
    if empty:
        yield Reject(name, line, "Reddit API response without posts (empty listing)")


def _walk(value: Any, name: str, line: int, depth: int) -> Iterator[Record]:
    if depth > _MAX_DEPTH:
        yield Reject(name, line, "listing nested too deeply")
        return
    if isinstance(value, list):
        if not value:
            yield Reject(name, line, "empty JSON list (no Reddit listing)")
        for v in value:
            yield from _walk(v, name, line, depth + 1)
        return
    if not isinstance(value, dict):
        yield Reject(name, line, f"not a Reddit listing: a JSON {type(value).__name__}")
        return
    if isinstance(value.get("interactions"), list):
        yield from _cassette(value["interactions"], name, line, depth)
        return
    kind = value.get("kind")
    data = value.get("data")
    if kind == "Listing":
        children = data.get("children") if isinstance(data, dict) else None
        if not isinstance(children, list):
            yield Reject(name, line, "Listing without a data.children list")
            return
        for child in children:
            yield from _walk(child, name, line, depth + 1)
        return
    if kind == "more":
        yield Reject(name, line, MORE_REASON)
        return
    if not isinstance(kind, str) or kind not in _KINDS:
        what = f"kind {kind!r}" if isinstance(kind, str) else "no 'kind'"
        yield Reject(name, line, f"not a Reddit post or listing ({what})")
        return
    if not isinstance(data, dict):
        yield Reject(name, line, f"{kind} without a data object")
        return
    try:
        yield thing_to_post(data, name, line, _KINDS[kind])
    except BadThing as exc:
        yield Reject(name, line, f"{kind} {_id(data)}: {exc}")
    replies = data.get("replies")
    if replies not in (None, ""):
        yield from _walk(replies, name, line, depth + 1)


def _cassette(interactions: list[Any], name: str, line: int, depth: int) -> Iterator[Record]:
    """A betamax/VCR cassette (PRAW's test recordings): walk each response body."""
    for i, inter in enumerate(interactions, start=1):
        try:
            req, body = inter["request"], inter["response"]["body"]["string"]
            what = f"{req['method']} {str(req['uri']).split('?')[0]}"
        except (TypeError, KeyError):
            yield Reject(name, line, f"cassette interaction {i}: no request or response body")
            continue
        try:
            doc = loads(body) if isinstance(body, str) else None
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, (dict, list)) or (isinstance(doc, dict) and "kind" not in doc):
            yield Reject(name, line, f"cassette interaction {i} ({what}): no Reddit listing")
            continue
        yield from _walk(doc, name, line, depth + 1)


def _id(data: dict[str, Any]) -> str:
    v = data.get("id")
    return repr(v)[:40] if v is not None else "(no id)"
