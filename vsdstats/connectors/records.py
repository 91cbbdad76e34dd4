"""What a connector yields: a :class:`RawPost` for every record it read, or a
:class:`Reject` saying why not.  Connectors never pseudonymize: ingest replaces
``author_handle``/``author_id`` by keyed pseudonyms and scrubs every string in
``identities`` out of text and URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO


@dataclass
class RawPost:
    """A post as read from a platform, before pseudonymization.

    ``author_handle``/``author_id`` and every string in ``identities`` (display names,
    user ids, DIDs of the author and of mentioned users) are raw and must never reach
    an output: ingest pseudonymizes the author and scrubs identities from text and url.
    ``community``, ``score`` and ``replies`` follow :mod:`vsdstats.tables.models` (which
    platform field each is); a community holding an identity becomes a keyed hash.
    """

    platform: str
    post_id: str
    created_at: datetime  # timezone-aware
    text: str
    thread_id: str | None = None
    parent_id: str | None = None
    author_handle: str | None = None
    author_id: str | None = None
    url: str | None = None
    lang: str | None = None
    community: str | None = None  # subreddit, the video's channel, instance host, ...
    score: int | None = None  # likes/upvotes as the platform counts them
    replies: int | None = None  # reply/comment count the platform reports
    source_file: str | None = None
    source_line: int | None = None
    identities: set[str] = field(default_factory=set)
    kind: str = "post"  # e.g. submission, comment, reply, video


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: where, and why."""

    source_file: str
    line: int
    reason: str


Record = RawPost | Reject


Source = str | Path | BinaryIO
