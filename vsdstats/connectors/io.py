"""Opening a connector's source: paths, open streams, ``.gz`` and ``.zst`` (frame by
frame, so that a truncated or corrupt stream is a :class:`TruncatedInput` naming the
byte offset after the bytes before the damage), the folder of Parquet parts that
``vsdstats filter --dask`` writes (read as the NDJSON lines of its records), and
reading one without raising.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from vsdstats.connectors.records import Source
from vsdstats.errors import InputError


class TruncatedInput(InputError):
    """A compressed input that ends inside a frame (gzip member) or is corrupt.

    ``file`` names the input, ``offset`` is the compressed byte where the damage was
    found (the end of the file for a cut one), ``detail`` says what (without the name).
    """

    def __init__(self, file: str, offset: int, detail: str) -> None:
        super().__init__(f"{file}: {detail}")
        self.file, self.offset, self.detail = file, offset, detail


class _Frames(io.RawIOBase):
    """The decompressed bytes of a sequence of zstd frames or gzip members.

    Unlike zstandard's ``stream_reader`` (silent on a cut final frame) and ``GzipFile``
    (whose ``read()`` loses what it decoded before the error), everything decoded before
    the damage is returned first; the next read raises :class:`TruncatedInput`, as do
    all reads after it.
    """

    def __init__(self, raw: BinaryIO, name: str, kind: str) -> None:
        self._raw, self._name, self._kind = raw, name, kind
        self._dec: Any = None  # decoder of the current frame, None between frames
        self._start = 0  # compressed offset where the current frame starts
        self._pos = 0  # compressed bytes read from raw
        self._pending = b""  # compressed bytes read but not fed to a decoder yet
        self._feed = 1 << (10 if kind == "zstd" else 14)  # bytes fed per call
        self.piece = 1 << 22  # decoded bytes aimed at per decoder call
        self._out = memoryview(b"")
        self._error: TruncatedInput | None = None
        if kind == "zstd":
            import zstandard

            dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
            self._new: Callable[[], Any] = lambda: dctx.decompressobj(write_size=1 << 20)
            self._errors: tuple[type[Exception], ...] = (zstandard.ZstdError,)
        else:
            self._new = lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._errors = (zlib.error,)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()

    def readinto(self, b: Any) -> int:
        while not self._out:
            if self._error is not None:
                raise self._error
            try:
                out = self._decode()
            except TruncatedInput as exc:
                self._error = exc
                continue
            if out is None:
                return 0
            self._out = memoryview(out)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def chunks(self) -> Iterator[bytes]:
        """The decoded bytes as the decoder gives them (about :attr:`piece` bytes each,
        no copies); raises :class:`TruncatedInput` after the pieces before the damage."""
        if self._out:
            out, self._out = bytes(self._out), memoryview(b"")
            yield out
        while True:
            if self._error is not None:
                raise self._error
            try:
                out = self._decode()
            except TruncatedInput as exc:
                self._error = exc
                raise
            if out is None:
                return
            yield out

    def _fail(self, offset: int, what: str) -> TruncatedInput:
        unit = "gzip member" if self._kind == "gzip" else "zstd frame"
        return TruncatedInput(
            self._name, offset, f"{what} in the {unit} starting at byte {self._start}"
        )

    def _decode(self) -> bytes | None:
        """The next non-empty piece of output, or None at a clean end of the input."""
        while True:
            if not self._pending:
                self._pending = self._raw.read(1 << 18)
                self._pos += len(self._pending)
                if not self._pending:
                    if self._dec is not None:
                        raise self._fail(
                            self._pos, f"truncated compressed stream: it ends at byte {self._pos}"
                        )
                    return None
            if self._dec is None:
                if self._kind == "gzip":  # gzip allows zero padding after a member
                    self._pending = self._pending.lstrip(b"\0")
                    if not self._pending:
                        continue
                self._start = self._pos - len(self._pending)
                self._dec = self._new()
            feed, self._pending = self._pending[: self._feed], self._pending[self._feed :]
            at = self._pos - len(self._pending) - len(feed)
            try:
                if self._kind == "gzip":
                    out = self._dec.decompress(feed, self.piece)
                    if not self._dec.eof:  # at the end the rest is in unused_data (and,
                        # after an output-limited call, also still in unconsumed_tail)
                        self._pending = self._dec.unconsumed_tail + self._pending
                else:
                    out = self._dec.decompress(feed)
                    # zstd has no output limit: feed so that one call gives ~piece bytes
                    self._feed = max(256, min(1 << 20, (len(feed) * self.piece) // (len(out) + 1)))
            except self._errors as exc:
                raise self._fail(at, f"corrupt compressed data near byte {at} ({exc})") from None
            if self._dec.eof:
                self._pending = self._dec.unused_data + self._pending
                self._dec = None
            if out:
                return out


PARTS_GLOB = "part-*.parquet"


def is_parts_folder(path: str | Path) -> bool:
    """A folder written by ``vsdstats filter --dask``: ``counts.json`` and its parts."""
    p = Path(path)
    return p.is_dir() and (p / "counts.json").is_file() and any(p.glob(PARTS_GLOB))


class _Parts(io.RawIOBase):
    """The ``record`` column of a parts folder, part by part in name order, one line
    each: the lines a ``vsdstats filter`` run without ``--dask`` writes."""

    def __init__(self, folder: Path) -> None:
        import pyarrow.parquet as pq

        self._files = iter(sorted(folder.glob(PARTS_GLOB)))
        self._pq = pq
        self._batches: Iterator[Any] = iter(())
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes | None:
        while True:
            for batch in self._batches:
                records = batch.column(0).to_pylist()
                if records:
                    return b"\n".join(records) + b"\n"
            part = next(self._files, None)
            if part is None:
                return None
            self._batches = self._pq.ParquetFile(part).iter_batches(
                batch_size=8192, columns=["record"]
            )

    def readinto(self, b: Any) -> int:
        while not self._out:
            out = self._next()
            if out is None:
                return 0
            self._out = memoryview(out)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def open_source(source: Source) -> tuple[str, BinaryIO]:
    """``(name, binary stream)`` for a path or stream, decompressing ``.zst`` and ``.gz``.

    ``.zst`` is streamed with zstd's long window (``max_window_size=2**31``) as real
    monthly Reddit dumps need, never decompressed to disk.  Several frames (members)
    are read one after the other; a cut or corrupt one raises :class:`TruncatedInput`
    after everything decoded before it has been read (see :func:`read_prefix`).  A
    folder of ``vsdstats filter --dask`` parts reads as the lines of its records.
    """
    if not isinstance(source, (str, Path)):
        return getattr(source, "name", "<stream>"), source
    path = Path(source)
    if is_parts_folder(path):
        return str(path), io.BufferedReader(_Parts(path), buffer_size=1 << 20)  # type: ignore[return-value]
    raw = path.open("rb")
    kind = {".zst": "zstd", ".gz": "gzip"}.get(path.suffix)
    if kind is None:
        return str(path), raw
    frames = _Frames(raw, str(path), kind)  # buffered, it can iterate lines
    return str(path), io.BufferedReader(frames, buffer_size=1 << 20)  # type: ignore[return-value]


def read_chunks(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """``stream`` as pieces of about ``size`` bytes, for scanning whole blocks.

    A ``.zst``/``.gz`` stream from :func:`open_source` yields its decoder's pieces
    directly (no buffer copies); a cut or corrupt one raises :class:`TruncatedInput`
    after the pieces before the damage (their incomplete last line belongs to it).
    """
    frames = getattr(stream, "raw", None)
    if isinstance(frames, _Frames) and isinstance(stream, io.BufferedReader):
        frames.piece = max(1 << 16, min(size, 1 << 24))
        held = stream.read(len(stream.peek(0)))  # what the buffer already holds
        if held:
            yield held
        yield from frames.chunks()
        return
    read = getattr(stream, "read1", stream.read) if size < (1 << 20) else stream.read
    while chunk := read(size):
        yield chunk


def read_prefix(stream: BinaryIO, size: int = -1) -> tuple[bytes, TruncatedInput | None]:
    """``(data, None)``: up to ``size`` bytes of ``stream`` (all when negative); or, when
    the stream is truncated or corrupt, ``(what came before, cut after its last
    newline, the error)``: the incomplete last line belongs to the damage."""
    parts: list[bytes] = []
    n = 0
    read = getattr(stream, "read1", stream.read)
    try:
        while size < 0 or n < size:
            chunk = read(1 << 20 if size < 0 else min(1 << 20, size - n))
            if not chunk:
                break
            parts.append(chunk)
            n += len(chunk)
    except TruncatedInput as exc:
        data = b"".join(parts)
        return data[: data.rfind(b"\n") + 1], exc
    return b"".join(parts), None
