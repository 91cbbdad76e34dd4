"""Connector plumbing shared by the platform plugins (parsing helpers are in
:mod:`vsdstats.readers`): reading a source without raising, peeking at its head,
reject reasons for malformed records, and live collection through snscrape.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from vsdstats.platforms import Connector, Record, Reject, Source, TruncatedInput, open_source
from vsdstats.readers import SNIFF_LINES, loads, strip_bom

T = TypeVar("T")
CONVERT_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError)


def read_guarded(
    source: Source, read: Callable[[str, BinaryIO], Iterable[Record]]
) -> Iterator[Record]:
    """What ``read(name, stream)`` yields for the opened ``source`` (see :func:`open_source`);
    an error it raises ends the file with ``Reject(name, 0, "could not read: <Type>: <msg>")``,
    a truncated or corrupt compressed stream with ``Reject(name, last line + 1, detail)``.

    A stream opened here from a path is closed at the end; a stream passed in is not.
    """
    name, stream = open_source(source)
    last = 0  # the last line a record came from: a cut stream's reject comes after it
    try:
        for rec in read(name, stream):
            last = max(last, getattr(rec, "source_line", None) or getattr(rec, "line", 0) or 0)
            yield rec
    except TruncatedInput as exc:  # the incomplete last line and the rest are lost
        yield Reject(name, last + 1, exc.detail)
    except Exception as exc:  # never raise on bad data
        yield Reject(name, 0, f"could not read: {type(exc).__name__}: {exc}")
    finally:
        if isinstance(source, (str, Path)):
            stream.close()


class _Prefixed(io.RawIOBase):
    """``head`` followed by the rest of ``stream`` (which it does not close)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head, self._stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._head[: len(b)] if self._head else self._stream.read(len(b))
        self._head = self._head[len(data) :] if self._head else b""
        b[: len(data)] = data
        return len(data)


def unread(head: bytes, stream: BinaryIO) -> BinaryIO:
    """A buffered stream yielding ``head`` and then the rest of ``stream``."""
    return io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)  # type: ignore[return-value]


def peek(stream: BinaryIO, size: int = 1 << 16) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes of ``stream`` and a stream that still yields them."""
    head = stream.read(size)
    return head, unread(head, stream)


def head_values(head: bytes, limit: int = SNIFF_LINES) -> list[Any]:
    """JSON values at the start of a file, for ``sniff``: ``[document]`` when ``head`` is
    one whole document, else the values of those of its first ``limit`` non-blank lines
    that parse on their own (a truncated or garbled line, or the last line cut off by
    the head, is skipped).  A BOM is ignored; lone surrogates become U+FFFD."""
    head = strip_bom(head)
    try:
        return [loads(head)]
    except (ValueError, RecursionError):
        pass
    out = []
    for line in [ln for ln in head.split(b"\n") if ln.strip()][:limit]:
        try:
            out.append(loads(line))
        except (ValueError, RecursionError):
            continue
    return out


def check_format(connector: Connector, format: str | None) -> None:
    """ValueError ``<name>: unknown format ...`` unless ``format`` is None or one of
    ``connector.formats``."""
    if format is not None and format not in connector.formats:
        raise ValueError(f"{connector.name}: unknown format {format!r}; known: {connector.formats}")


def not_an_object(what: str, value: Any) -> str:
    """The reject reason for a JSON value that should have been an object."""
    return f"{what} is a JSON {type(value).__name__}, expected an object"


def some_keys(value: dict[Any, Any]) -> str:
    """The first six keys of an unrecognized object, sorted, for a reject reason."""
    return ", ".join(sorted(map(str, value))[:6])


def require_str(value: Any, field: str) -> str:
    """``value`` if it is a string, else TypeError ``<field> must be a string, got <type>``."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {type(value).__name__}")
    return value


def convert_or_reason(
    fn: Callable[..., T],
    *args: Any,
    what: str = "record",
    errors: tuple[type[Exception], ...] = CONVERT_ERRORS,
) -> T | str:
    """``fn(*args)``, or the reject reason ``bad <what>: <detail>`` when it raises one of
    ``errors`` (a KeyError reads ``missing field 'key'``); other errors propagate."""
    try:
        return fn(*args)
    except errors as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        return f"bad {what}: {detail}"


def snscrape_class(module: str, name: str, platform: str) -> Any:
    """``snscrape.modules.<module>.<name>``, imported on demand; RuntimeError ``live
    <platform> collection needs a working snscrape ...`` when that import fails."""
    try:
        return getattr(importlib.import_module(f"snscrape.modules.{module}"), name)
    except Exception as exc:  # ImportError, or snscrape broken on this Python
        raise RuntimeError(
            f"live {platform} collection needs a working snscrape "
            f"(pip install snscrape): import failed: {exc}"
        ) from exc


def snscrape_records(
    scraper: Any,
    to_record: Callable[[Any, int], Record],
    limit: int | None,
    failed: str,
    why: str,
) -> Iterator[Record]:
    """``to_record(item, i)`` for the first ``limit`` (all if None) items of a snscrape
    scraper, numbered from 1; an error while scraping becomes RuntimeError
    ``<failed> (<Type>: <msg>); <why>``."""
    try:
        for i, item in enumerate(scraper.get_items(), start=1):
            if limit is not None and i > limit:
                break
            yield to_record(item, i)
    except Exception as exc:
        raise RuntimeError(f"{failed} ({type(exc).__name__}: {exc}); {why}") from exc
