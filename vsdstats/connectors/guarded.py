"""Reading a connector's source without raising, and peeking at its head to detect
the format (past bad first lines).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from vsdstats.connectors.io import TruncatedInput, open_source
from vsdstats.connectors.readers import SNIFF_LINES, loads, strip_bom
from vsdstats.connectors.records import Record, Reject, Source

T = TypeVar("T")


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
