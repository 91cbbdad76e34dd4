"""The base class of JSON platform connectors: a declarative ``formats`` table and a
per-value ``parse_value`` hook; detection, reading, BOMs, bad lines and cut
compressed streams are handled here (with :mod:`.readers` and :mod:`.guarded`).

A plugin declares its formats and how one JSON value becomes posts::

    class MyConnector(JsonConnector):
        name = "myforum"
        formats = (
            JsonFormat("myforum-api", head=(b'"myforum#post"',)),
            JsonFormat("myforum-dump", head=((b'"pid"', b'"ts"'),), lines=True),
        )

        def parse_value(self, value, file):
            yield RawPost(...)  # or a reject reason (str), or a Reject

After the class is created ``formats`` is the tuple of format names (what ingest and
``vsdstats plugins`` read) and ``format_table`` the table by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from vsdstats.connectors.base import Connector
from vsdstats.connectors.fields import check_format
from vsdstats.connectors.guarded import head_values, peek, read_guarded
from vsdstats.connectors.readers import iter_json_lines, iter_json_values, json_records
from vsdstats.connectors.records import RawPost, Record, Reject, Source

Parsed = RawPost | Reject | str  # a post, a reject, or a reject reason
Markers = tuple[bytes | tuple[bytes, ...], ...]


@dataclass(frozen=True)
class JsonFormat:
    """One row of a :class:`JsonConnector`'s ``formats`` table: the format ``name``, how
    to recognise it and which parser reads it.

    ``head``: how a file's first bytes are recognised: the file is of this format if
    any entry occurs in them (an entry that is a tuple of byte strings: all of them).
    ``match``: how one parsed JSON value is recognised (see
    :meth:`JsonConnector.classify`); tried on the values at the start of a file before
    ``head``.  ``parser``: the name of the connector method that reads a value of this
    format (signature of :meth:`JsonConnector.parse_value`).  ``lines``: the format is
    JSON lines only, streamed line by line (huge dumps) instead of read whole.
    """

    name: str
    head: Markers = ()
    match: Callable[[Any], bool] | None = None
    parser: str = "parse_value"
    lines: bool = False

    def in_head(self, head: bytes) -> bool:
        """Whether ``head`` shows one of the ``head`` markers."""
        return any(
            all(m in head for m in entry) if isinstance(entry, tuple) else entry in head
            for entry in self.head
        )


@dataclass
class JsonFile:
    """What :meth:`JsonConnector.parse_value` knows about the file being read."""

    name: str  # the source's name, for Rejects
    source: Source  # as given to ``read``
    format: str | None  # the format asked for; None: detect
    line: int = 0  # where the current value starts (1 for a file holding one document)
    state: dict[str, Any] = field(default_factory=dict)  # the connector's per-file state


def source_name(source: Source) -> str:
    """The name Rejects give ``source`` (see :func:`~vsdstats.connectors.io.open_source`)."""
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", "<stream>")


class JsonConnector(Connector):
    """A connector for JSON documents and JSON lines.

    Subclasses set ``name`` and ``formats`` (a tuple of :class:`JsonFormat` rows) and
    implement ``parse_value`` (or the parsers the table names).  Formats are tried in
    table order when sniffing or classifying, or in ``sniff_order`` if set.
    ``read_mode``:

    - ``"records"`` (default): the file is read whole (one document or JSON lines, a BOM
      and bad lines handled, see :func:`~vsdstats.connectors.readers.read_json_records`);
      records of a single document are numbered 1..n, a repeated post id and a value
      yielding nothing are Rejects, a parser error rejects that value only; an unknown
      format raises ValueError.
    - ``"values"``: every value's records are yielded as the parsers give them, at the
      value's line (the connector dedupes if it must); a reading or parser error ends
      the file with a Reject, as does an unknown format.  With ``format=None`` each
      value is classified on its own when ``mixed_formats``, else the format of the
      whole file is sniffed from its head.
    """

    format_table: ClassVar[Mapping[str, JsonFormat]] = {}
    sniff_order: ClassVar[tuple[str, ...]] = ()
    read_mode: ClassVar[str] = "records"
    mixed_formats: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("formats", ())
        if table and all(isinstance(row, JsonFormat) for row in table):
            cls.format_table = {row.name: row for row in table}
            cls.formats = tuple(cls.format_table)
        elif table and any(isinstance(row, JsonFormat) for row in table):
            raise TypeError(f"{cls.__name__}.formats mixes JsonFormat rows and names")
        unknown = set(cls.sniff_order) - set(cls.format_table)
        if unknown:
            raise TypeError(f"{cls.__name__}.sniff_order names unknown formats {sorted(unknown)}")
        if cls.read_mode not in ("records", "values"):
            raise TypeError(f"{cls.__name__}.read_mode must be 'records' or 'values'")

    # ------------------------------------------------------------ detection
    def classify(self, value: Any) -> str | None:
        """The format of one parsed JSON value: the first in the table whose ``match``
        accepts it, or None."""
        for spec in self._ordered():
            if spec.match is not None and spec.match(value):
                return spec.name
        return None

    def _ordered(self) -> list[JsonFormat]:
        return [self.format_table[f] for f in self.sniff_order or self.format_table]

    def _matches_values(self) -> bool:
        return type(self).classify is not JsonConnector.classify or any(
            spec.match is not None for spec in self.format_table.values()
        )

    def sniff(self, head: bytes) -> str | None:
        """The format of a file starting with ``head``: when the table has ``match``
        predicates, that of the first value among the first lines that parse (a bad
        first line hides nothing; values that parse but are not ours: None); else the
        first format whose markers are in ``head`` (:meth:`sniff_head`)."""
        if self._matches_values():
            values = head_values(head)
            for value in values:
                fmt = self.classify(value)
                if fmt is not None:
                    return fmt
            if values:
                return None
        return self.sniff_head(head)

    def sniff_head(self, head: bytes) -> str | None:
        """The first format in the table whose ``head`` markers occur in ``head``."""
        for spec in self._ordered():
            if spec.in_head(head):
                return spec.name
        return None

    # ------------------------------------------------------------ reading
    def parse_value(self, value: Any, file: JsonFile) -> Iterable[Parsed]:
        """Posts, Rejects and reject reasons for one JSON value of ``file`` (a document,
        or one line of a JSON-lines file)."""
        raise NotImplementedError

    def not_ours(self, value: Any) -> str:
        """The reject reason for a value :meth:`classify` does not know."""
        return f"not {self.name} data: a JSON {type(value).__name__} of no known format"

    def not_ours_head(self, head: bytes) -> str:
        """The reject reason for a file whose head :meth:`sniff` does not know."""
        return f"not a {self.name} file: none of the formats {', '.join(self.formats)}"

    def _parser(self, format: str | None) -> Callable[[Any, JsonFile], Iterable[Parsed]]:
        spec = self.format_table.get(format) if format is not None else None
        return getattr(self, spec.parser if spec is not None else "parse_value")

    def read(self, source: Source, format: str | None = None) -> Iterator[Record]:
        """Every record of ``source`` as a RawPost or a Reject; never raises on bad data
        (an unknown ``format`` is a ValueError in ``records`` mode)."""
        if self.read_mode == "records":
            check_format(self, format)
            file = JsonFile(source_name(source), source, format)
            parse = self._parser(format)

            def convert(value: Any, line: int) -> Iterable[Parsed]:
                file.line = line
                return parse(value, file)

            return json_records(source, convert)
        return read_guarded(source, partial(self._read_values, source=source, format=format))

    def _read_values(
        self, name: str, stream: BinaryIO, source: Source, format: str | None
    ) -> Iterator[Record]:
        if format is not None and format not in self.formats:
            yield Reject(name, 0, f"unknown format {format!r} ({self.name} reads {self.formats})")
            return
        if format is None and not self.mixed_formats:
            head, stream = peek(stream)
            format = self.sniff(head)
            if format is None:
                why = self.not_ours_head(head) if head.strip() else "empty file"
                yield Reject(name, 0, why)
                return
        file = JsonFile(name, source, format)
        spec = self.format_table.get(format) if format is not None else None
        lines = spec is not None and spec.lines
        values = iter_json_lines(stream, name) if lines else iter_json_values(stream, name)
        for item in values:
            if isinstance(item, Reject):
                yield item
                continue
            file.line, value = item
            fmt = format
            if self.mixed_formats:
                fmt = self.classify(value)
                if fmt is None:
                    yield Reject(name, file.line, self.not_ours(value))
                    continue
                if format is not None and fmt != format:
                    yield Reject(name, file.line, f"a {fmt} record, not {format}")
                    continue
            for out in self._parser(fmt)(value, file):
                yield Reject(name, file.line, out) if isinstance(out, str) else out
