"""Small-cell suppression for published count tables.

Rule (documented in paper/README.md): a count ``1 <= c < K`` is published as ``"<K"``
(primary suppression); 0 stays 0.  Within one list of counts whose total is published
(e.g. the conditions of table 1), a single suppressed count could be recovered by
subtracting the others from the total, so the next-smallest non-zero count is
suppressed too (complementary suppression).  If no such count exists, the total is
suppressed as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def suppress_mask(counts: Sequence[int], k: int) -> tuple[np.ndarray, bool]:
    """Cells to suppress (primary + complementary) and whether the total must be too."""
    c = np.asarray(counts, dtype=np.int64)
    mask = (c >= 1) & (c < k)
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


def shown(count: int, hidden: bool, k: int) -> str:
    """Published text of one count: '<K' (primary), 'suppressed' (complementary), digits."""
    if hidden:
        return f"<{k}" if 1 <= count < k else "suppressed"
    return str(int(count))
