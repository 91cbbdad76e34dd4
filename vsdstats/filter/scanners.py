"""Finding candidate lines in a block of many JSON lines at once: Hyperscan where it
is installed (~2 GB/s), else ``bytes.find`` on a literal anchor of each term
(~20-50 MB/s).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from typing import Any

from vsdstats.filter.patterns import _bytes_alternation, _split_words, term_bytes_regex
from vsdstats.filter.terms import LISTS, Terms

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


class _HyperscanScanner:
    """Hyperscan block-mode databases: both lists together, and each list alone.

    Most blocks are scanned for the rarer list only (fewest matches so far; re-measured
    with both lists every ``RECALIBRATE_BYTES``), then the lines it hit are joined and
    scanned for the other list: far fewer Python callbacks than reporting every match.
    """

    RECALIBRATE_BYTES = 1 << 28  # scan for both lists again after this many bytes
    SMALL = 1 << 16  # blocks smaller than this are always scanned for both lists

    def __init__(self, both: Any, each: list[Any], n_llm: int) -> None:
        self.both = both
        self.each = each
        self.n_llm = n_llm
        self.hits = [0, 0]  # matches per list seen while calibrating (decayed)
        self.since = 0

    @classmethod
    def build(cls, terms: Terms) -> _HyperscanScanner | None:
        try:
            import hyperscan
        except ImportError:
            return None

        def compile_db(exprs: list[bytes]) -> Any:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(
                expressions=exprs,
                ids=list(range(len(exprs))),
                elements=len(exprs),
                flags=[hyperscan.HS_FLAG_CASELESS] * len(exprs),
            )
            return db

        cs = terms.case_sensitive
        lists = [
            [term_bytes_regex(t, cs, hyperscan=True) for t in getattr(terms, n)] for n in LISTS
        ]
        return cls(compile_db(lists[0] + lists[1]), [compile_db(x) for x in lists], len(lists[0]))

    def scan(self, data: Any) -> tuple[list[int], list[int]]:
        """End offsets of the matches of each list in ``data`` (a buffer)."""
        llm: list[int] = []
        mh: list[int] = []
        n = self.n_llm

        def on_match(id_: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            (llm if id_ < n else mh).append(to)

        self.both.scan(data, match_event_handler=on_match)
        return llm, mh

    def _ends(self, k: int, data: Any) -> list[int]:
        ends: list[int] = []

        def on_match(_id: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            ends.append(to)

        self.each[k].scan(data, match_event_handler=on_match)
        return ends

    def candidates(self, block: bytes, start: int, stop: int) -> list[tuple[int, int]]:
        """Spans of the lines in ``block[start:stop]`` with matches of both lists."""
        rfind, find = block.rfind, block.find
        region = memoryview(block)[start:stop]
        calibrate = self.since >= self.RECALIBRATE_BYTES or min(self.hits) < 100
        if calibrate or stop - start < self.SMALL:
            llm_ends, mh_ends = self.scan(region)
            if calibrate:
                self.hits = [len(llm_ends) + self.hits[0] // 2, len(mh_ends) + self.hits[1] // 2]
                self.since = 0
            if not llm_ends or not mh_ends:
                return []
            llm_lines = {rfind(b"\n", start, start + e) + 1 for e in llm_ends}
            mh_lines = {rfind(b"\n", start, start + e) + 1 for e in mh_ends}
            return [_span(find, s, start, stop) for s in sorted(llm_lines & mh_lines)]
        self.since += stop - start
        k = 0 if self.hits[0] <= self.hits[1] else 1
        ends = self._ends(k, region)
        if not ends:
            return []
        spans = [
            _span(find, s, start, stop)
            for s in sorted({rfind(b"\n", start, start + e) + 1 for e in ends})
        ]
        joined = b"\n".join(block[s:e] for s, e in spans)
        offsets = []
        pos = 0
        for s, e in spans:
            offsets.append(pos)
            pos += e - s + 1
        hit = {bisect_right(offsets, e - 1) - 1 for e in self._ends(1 - k, joined)}
        return [spans[i] for i in sorted(hit)]


def _span(find: Any, s: int, start: int, stop: int) -> tuple[int, int]:
    s = max(s, start)
    e = find(b"\n", s, stop)
    return s, stop if e < 0 else e


class _AnchorScanner:
    """Fallback block scanner without Hyperscan: ``bytes.find`` of each term's longest
    run of word characters (lowercased unless case-sensitive); terms without one are
    searched with their byte regex.  Finds a superset of the lines the terms match."""

    def __init__(self, terms: Terms) -> None:
        self.lists: list[tuple[list[bytes], list[bytes], re.Pattern[bytes] | None]] = []
        cs = terms.case_sensitive
        for name in LISTS:
            ci: set[bytes] = set()
            exact: set[bytes] = set()
            rest: list[str] = []
            for term in getattr(terms, name):
                runs = [
                    (run, word in cs)
                    for word in _split_words(term)
                    for run in re.findall(r"[A-Za-z0-9_]+", word)
                ]
                if not runs:
                    rest.append(term)
                    continue
                run, sensitive = max(runs, key=lambda r: len(r[0]))
                (exact if sensitive else ci).add(
                    run.encode() if sensitive else run.lower().encode()
                )
            rx = _bytes_alternation(rest, cs) if rest else None
            self.lists.append((_minimal(ci), _minimal(exact), rx))

    def scan(self, block: bytes) -> tuple[list[int], list[int]]:
        lowered = block.lower()
        out: list[list[int]] = []
        for ci, exact, rx in self.lists:
            hits: list[int] = []
            for hay, needles in ((lowered, ci), (block, exact)):
                for a in needles:
                    _find_all(hay, a, hits)
            if rx is not None:
                hits += [m.start() for m in rx.finditer(block)]
            out.append(hits)
        return out[0], out[1]


def _minimal(anchors: set[bytes]) -> list[bytes]:
    """Drop anchors that contain a shorter anchor (the shorter one finds their lines)."""
    keep = sorted(anchors, key=len)
    out: list[bytes] = []
    for a in keep:
        if not any(b in a for b in out):
            out.append(a)
    return out


def _find_all(hay: bytes, needle: bytes, hits: list[int]) -> None:
    """Append the first position of ``needle`` in every line of ``hay`` containing it."""
    find = hay.find
    i = find(needle)
    while i >= 0:
        hits.append(i)
        j = find(b"\n", i)
        if j < 0:
            return
        i = find(needle, j)
