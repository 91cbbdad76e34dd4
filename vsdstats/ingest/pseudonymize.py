"""Pseudonymization of authors: a keyed hash (HMAC-SHA256) with a per-study secret.

The secret never appears in outputs; the same handle on the same platform maps to
the same pseudonym within a study and to unrelated pseudonyms across studies.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from vsdstats.tables.models import PSEUDONYM_PATTERN

_PSEUDONYM_RE = re.compile(PSEUDONYM_PATTERN)


def pseudonymize(handle: str, secret: bytes, platform: str = "") -> str:
    """Keyed pseudonym ``a_`` + 24 hex digits of HMAC-SHA256(secret, platform + NUL + handle).

    Handles are compared case-insensitively (lower-cased, leading '@' removed) since
    every platform here treats them so.
    """
    if len(secret) < 16:
        raise ValueError("pseudonymization secret must be at least 16 bytes")
    norm = handle.strip().lstrip("@").lower()
    mac = hmac.new(secret, f"{platform}\0{norm}".encode(), hashlib.sha256)
    return "a_" + mac.hexdigest()[:24]


def is_pseudonym(value: str) -> bool:
    """True when ``value`` has the shape of a pseudonym made by :func:`pseudonymize`."""
    return bool(_PSEUDONYM_RE.match(value))


def keyed_id(value: str, secret: bytes, platform: str = "") -> str:
    """Stable keyed stand-in ``h_`` + 24 hex digits for an id that would reveal a name
    (a post URL used as id); unrelated to the pseudonyms (a separate HMAC domain)."""
    if len(secret) < 16:
        raise ValueError("pseudonymization secret must be at least 16 bytes")
    mac = hmac.new(secret, f"id\0{platform}\0{value}".encode(errors="replace"), hashlib.sha256)
    return "h_" + mac.hexdigest()[:24]


_EXTS = frozenset(".json .jsonl .ndjson .csv .tsv .txt .toml .xml .html .parquet .duckdb".split())
_COMPRESSED = frozenset(".gz .zst .bz2 .xz .zip".split())


def file_label(path: str, secret: bytes) -> str:
    """``f_`` + 12 hex digits of a keyed hash of the absolute ``path``, plus its extensions
    (``.json``, ``.jsonl.zst``; known
    data and compression extensions only): what a study stores instead of a file name, which may
    hold a handle (``SomeHandle_timeline.json``).  Stable for a study's secret."""
    if len(secret) < 16:
        raise ValueError("pseudonymization secret must be at least 16 bytes")
    p = os.path.abspath(path)
    mac = hmac.new(secret, f"file\0{p}".encode(errors="replace"), hashlib.sha256)
    stem, ext = os.path.splitext(os.path.basename(p))
    exts = ext.lower() if ext.lower() in _EXTS | _COMPRESSED else ""
    if exts in _COMPRESSED and os.path.splitext(stem)[1].lower() in _EXTS:
        exts = os.path.splitext(stem)[1].lower() + exts
    return f"f_{mac.hexdigest()[:12]}{exts}"
