"""Contingency tables from tidy rows, fast enough for millions of rows.

Each column is turned into integer category codes (one extra code for missing values) and
the table is ``np.bincount(row_code * (n_cols + 1) + col_code)``, computed block by block,
with the "missing" row and column cut off.  Object/str columns of repeated string objects
are coded by their object addresses first (see ``_object_pointer_codes``).
"""

from __future__ import annotations

import ctypes
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

__all__ = ["crosstab"]

# Below this many rows the pointer fast path is not worth its set-up cost.
_FAST_OBJECT_MIN_ROWS = 10_000
# With more distinct objects than this the pointer path falls back to pd.factorize.
_MAX_DISTINCT_OBJECTS = 50_000
# Rows per block when combining codes (keeps the temporaries in CPU cache).
_CHUNK = 1 << 16
# Factorize the two columns in threads (pandas' integer hash table releases the GIL).
_PARALLEL_MIN_ROWS = 1_000_000


def _sort_order(uniques: pd.Index) -> np.ndarray:
    """Positions that sort ``uniques``; incomparable mixes sort by (type name, str)."""
    try:
        return np.asarray(uniques.argsort(), dtype=np.intp)
    except TypeError:
        keys = [(type(v).__name__, str(v)) for v in uniques]
        return np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)


def _sorted_lut(vcodes: np.ndarray, uniques: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Look-up table from factorize codes to sorted category codes.

    ``lut[code]`` is the position of the value in the sorted categories; the extra last
    entry (reached by code ``-1``, i.e. missing) is ``len(uniques)``, the "missing" slot.
    ``vcodes`` maps raw codes to value codes (identity for plain factorize codes).
    """
    k = len(uniques)
    order = _sort_order(uniques) if k > 1 else np.arange(k, dtype=np.intp)
    rank = np.empty(k + 1, dtype=np.intp)
    rank[order] = np.arange(k, dtype=np.intp)
    rank[k] = k
    lut = np.empty(len(vcodes) + 1, dtype=np.intp)
    lut[:-1] = rank[vcodes]  # vcodes == -1 -> rank[-1] == k (missing)
    lut[-1] = k
    return lut, uniques[order]


# Perfect hashing of object pointers: sample size, largest table, multipliers to try.
_HASH_SAMPLE = 1 << 16
_HASH_MAX_BITS = 16
_HASH_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


def _hash_pointers(ptrs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Slot of every pointer under a perfect hash of the distinct pointers, or None.

    The distinct pointers of a sample (the first and an evenly strided ``_HASH_SAMPLE``
    rows) get a collision-free multiplicative hash ``slot = (p * A mod 2^64) >> (64 - b)``
    (Knuth 1998, TAOCP vol. 3, section 6.4).  Every row is then hashed block by block and
    *verified* (``slot_ptr[slot] == p``); any pointer outside the sample returns None so
    that the caller falls back to a full hash-table factorization.  Returns
    ``(slots, slot_ptr)`` with ``slot_ptr[s] == 0`` for unused slots.
    """
    n = len(ptrs)
    u = ptrs.view(np.uint64)
    step = max(1, n // _HASH_SAMPLE)
    distinct = pd.unique(np.concatenate([u[:_HASH_SAMPLE], u[::step]]))
    k = len(distinct)
    if k > (1 << (_HASH_MAX_BITS - 2)):
        return None
    found = None
    for bits in range(max(1, (2 * k - 1).bit_length()), _HASH_MAX_BITS + 1):
        shift = np.uint64(64 - bits)
        for mult in _HASH_MULTIPLIERS:
            slots = (distinct * np.uint64(mult)) >> shift
            if len(pd.unique(slots)) == k:
                found = bits, np.uint64(mult), shift, slots
                break
        if found is not None:
            break
    if found is None:
        return None
    bits, mult, shift, slots = found
    slot_ptr = np.zeros(1 << bits, dtype=np.uint64)
    slot_ptr[slots.astype(np.intp)] = distinct
    out = np.empty(n, dtype=np.uint64)
    check = np.empty(min(_CHUNK, n), dtype=np.uint64)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        h = out[start:stop]
        np.multiply(u[start:stop], mult, out=h)
        np.right_shift(h, shift, out=h)
        c = check[: stop - start]
        np.take(slot_ptr, h.view(np.intp), out=c)
        if not np.array_equal(c, u[start:stop]):
            return None
    return out.view(np.intp), slot_ptr.view(np.intp)


def _object_pointer_codes(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.Index] | None:
    """Factorize an object array by first factorizing the object *addresses*.

    Equal addresses are the same object, hence equal values, so coding the 8-byte
    pointers (a verified perfect hash, else pandas' integer hash table; no Python calls)
    and then factorizing only the few distinct objects by value gives exactly
    ``pd.factorize(arr)`` at a fraction of the cost when values repeat as shared objects
    (the usual case for categorical strings).  Returns ``(raw_codes, value_codes,
    uniques)`` with value code ``value_codes[raw]`` (``-1`` = missing), or None when
    there are too many distinct objects.  CPython only; ``arr`` must stay alive while
    the pointers are used.
    """
    arr = np.ascontiguousarray(arr, dtype=object)
    addr = arr.__array_interface__["data"][0]
    raw = (ctypes.c_char * arr.nbytes).from_address(addr)
    ptrs = np.frombuffer(raw, dtype=np.intp)
    hashed = _hash_pointers(ptrs)
    if hashed is not None:
        pcodes, pvalues = hashed
    else:
        pcodes, pvalues = pd.factorize(ptrs)
    del raw, ptrs
    used = np.flatnonzero(pvalues)  # slot pointers of 0 are unused hash slots
    if len(used) > _MAX_DISTINCT_OBJECTS:
        return None
    objs = np.empty(len(used), dtype=object)
    for i, p in enumerate(pvalues[used].tolist()):
        objs[i] = ctypes.cast(p, ctypes.py_object).value
    ucodes, uniques = pd.factorize(objs)  # by value; NA-like objects -> -1
    vcodes = np.full(len(pvalues), -1, dtype=np.intp)
    vcodes[used] = ucodes
    return pcodes, vcodes, pd.Index(uniques, dtype=object)


def _codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Raw integer codes, a look-up table and the ordered categories of one column.

    The category code of row ``k`` is ``lut[raw[k]]``; missing values map to
    ``len(categories)`` (raw code ``-1`` reads the look-up table's last entry).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat = s.array
        k = len(cat.categories)
        return np.asarray(cat.codes), np.arange(k + 1, dtype=np.intp), cat.categories
    is_python_str = isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "python"
    if (
        (s.dtype == object or is_python_str)
        and len(s) >= _FAST_OBJECT_MIN_ROWS
        and sys.implementation.name == "cpython"
    ):
        arr = s.to_numpy(dtype=object)
        fast = _object_pointer_codes(arr)
        if fast is not None:
            raw, vcodes, uniques = fast
            if is_python_str:
                uniques = pd.Index(uniques, dtype=s.dtype)
            lut, cats = _sorted_lut(vcodes, uniques)
            return raw, lut, cats
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    if not isinstance(uniques, pd.Index):
        uniques = pd.Index(uniques)
    lut, cats = _sorted_lut(np.arange(len(uniques), dtype=np.intp), uniques)
    return np.asarray(codes), lut, cats


def crosstab(df: pd.DataFrame, row: str, col: str, weights: str | None = None) -> pd.DataFrame:
    """Contingency table of two columns of a tidy data frame.

    ``table[i, j] = #{rows k : df[row][k] == r_i and df[col][k] == c_j}`` (or the sum of
    ``df[weights]`` over those rows).  Each column is factorized to integer codes and the
    table is ``np.bincount(row_code * n_cols + col_code)``, which is an order of
    magnitude faster than ``pd.crosstab`` on string columns.

    Categories: for a pandas ``Categorical`` column its category order is kept,
    including unused categories (all-zero rows/columns); otherwise the sorted unique
    non-missing values are used.  Rows with a missing value (NaN/None/NA) in ``row``
    or ``col`` (or in ``weights``) are dropped before counting.

    Parameters
    ----------
    df : DataFrame
        Tidy data, one row per unit.
    row, col : str
        Column names giving the table rows and columns.
    weights : str, optional
        Column of non-negative weights; the table then holds weighted counts (float64).

    Returns
    -------
    DataFrame
        Index = ``row`` categories (axis name ``row``), columns = ``col`` categories
        (axis name ``col``); int64 counts, or float64 with ``weights``.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.), section 2.1. Wiley.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    for name, what in ((row, "row"), (col, "col"), (weights, "weights")):
        if name is not None and name not in df.columns:
            raise KeyError(f"{what} column {name!r} not found in df (columns: {list(df.columns)})")

    if len(df) >= _PARALLEL_MIN_ROWS:
        with ThreadPoolExecutor(max_workers=2) as pool:
            (rraw, rlut, rcats), (craw, clut, ccats) = pool.map(_codes, [df[row], df[col]])
    else:
        rraw, rlut, rcats = _codes(df[row])
        craw, clut, ccats = _codes(df[col])
    w = None
    if weights is not None:
        w = pd.to_numeric(df[weights], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        w = np.where(np.isnan(w), 0.0, w)  # zero weight == row dropped
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError(f"weights column {weights!r} must be finite and non-negative")
    nr, nc = len(rcats), len(ccats)
    # Category codes run 0..nr (0..nc) with the last one meaning "missing"; count the
    # (nr + 1) x (nc + 1) table block by block and cut off the missing row/column.
    width = nc + 1
    size = (nr + 1) * width
    counts = np.zeros(size, dtype=np.float64 if w is not None else np.int64)
    n = len(rraw)
    chunk = min(_CHUNK, max(n, 1))
    rbuf = np.empty(chunk, dtype=np.intp)
    cbuf = np.empty(chunk, dtype=np.intp)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        m = stop - start
        rb, cb = rbuf[:m], cbuf[:m]
        np.take(rlut, rraw[start:stop], out=rb)
        np.take(clut, craw[start:stop], out=cb)
        rb *= width
        rb += cb
        wb = None if w is None else w[start:stop]
        counts += np.bincount(rb, weights=wb, minlength=size).astype(counts.dtype, copy=False)
    table = counts.reshape(nr + 1, width)[:nr, :nc]
    return pd.DataFrame(
        np.ascontiguousarray(table),
        index=pd.Index(rcats, name=row),
        columns=pd.Index(ccats, name=col),
    )
