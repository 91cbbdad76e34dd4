"""Small-cell suppression for published count tables, and for the figures.

Rule (documented in paper/README.md): a count ``1 <= c < K`` is published as ``"<K"``
(primary suppression); 0 stays 0.  Within one list of counts whose total is published
(e.g. the conditions of table 1), a single suppressed count could be recovered by
subtracting the others from the total, so the next-smallest non-zero count is
suppressed too (complementary suppression).  If no such count exists, the total is
suppressed as well.

Figures follow the same rule (:func:`suppress_grid` extends it to the two-way LLM
family x condition counts that fig7 labels, whose row and column totals table 1
publishes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def small(counts: Sequence[int] | np.ndarray, k: int) -> np.ndarray:
    """Primary suppression: ``1 <= c < k`` (0 stays 0)."""
    c = np.asarray(counts, dtype=np.int64)
    return (c >= 1) & (c < k)


def suppress_mask(counts: Sequence[int], k: int) -> tuple[np.ndarray, bool]:
    """Cells to suppress (primary + complementary) and whether the total must be too."""
    c = np.asarray(counts, dtype=np.int64)
    mask = small(c, k)
    total_hidden = False
    if mask.sum() == 1:
        candidates = np.flatnonzero((c >= k) & ~mask)
        if len(candidates):
            # next-smallest count; ties broken by position (deterministic)
            j = candidates[np.lexsort((candidates, c[candidates]))[0]]
            mask[j] = True
        else:
            total_hidden = True
    return mask, total_hidden


def _hide_one(c: np.ndarray, mask: np.ndarray) -> int | None:
    """Index of the cell to hide next in one line: the smallest shown non-zero count,
    else (only zeros shown) the first shown zero; ties broken by position."""
    for pool in (np.flatnonzero(~mask & (c > 0)), np.flatnonzero(~mask)):
        if len(pool):
            return int(pool[np.lexsort((pool, c[pool]))[0]])
    return None


def suppress_grid(
    counts: np.ndarray,
    k: int,
    row_total_shown: Sequence[bool] | None = None,
    col_total_shown: Sequence[bool] | None = None,
) -> np.ndarray:
    """Cells of a two-way table of counts to hide (primary + complementary).

    Primary: ``1 <= c < k``.  Complementary, repeated over rows and columns until
    nothing changes: a line (row or column) whose total is published must not hide
    exactly one cell (it would be its total minus the others), so the smallest shown
    count of that line is hidden too; a line whose total is NOT published (hidden in
    table 1) must hide at least one non-zero cell if it has any, or its shown cells
    would add up to that total.  The hidden set only grows, so this ends.
    """
    c = np.asarray(counts, dtype=np.int64)
    mask = small(c, k)
    rows = np.ones(c.shape[0], bool) if row_total_shown is None else np.asarray(row_total_shown)
    cols = np.ones(c.shape[1], bool) if col_total_shown is None else np.asarray(col_total_shown)
    changed = True
    while changed:
        changed = False
        for axis, shown in ((0, rows), (1, cols)):
            for i in range(c.shape[axis]):
                line = c[i] if axis == 0 else c[:, i]
                m = mask[i] if axis == 0 else mask[:, i]
                need = (m.sum() == 1) if shown[i] else (m.sum() == 0 and (line > 0).any())
                if not need:
                    continue
                j = _hide_one(line, m)
                if j is None:
                    continue
                if axis == 0:
                    mask[i, j] = True
                else:
                    mask[j, i] = True
                changed = True
    return mask


def shown(count: int, hidden: bool, k: int) -> str:
    """Published text of one count: '<K' (primary), 'suppressed' (complementary), digits."""
    if hidden:
        return f"<{k}" if 1 <= count < k else "suppressed"
    return str(int(count))
