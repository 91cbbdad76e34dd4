"""Aligning two codings for :mod:`vsdstats.stats.agreement`: Series or DataFrames joined
on an id (items coded on one side only counted), and the labels of each field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Coded fields compared by default when two DataFrames are given (those present in both).
DEFAULT_FIELDS: tuple[str, ...] = (
    "sentiment",
    "condition",
    "perspective",
    "value",
    "llm_product",
    "relevant",
)

#: Field name used when two Series / array-likes without a name are compared.
DEFAULT_FIELD = "label"


def sorted_labels(values: set[Any]) -> list[Any]:
    """Sort labels naturally if comparable, else by (type name, str)."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def as_series(x: Any, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, pd.DataFrame):
        raise TypeError(f"{name} is a DataFrame but the other input is not")
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (got shape {arr.shape})")
    return pd.Series(arr, dtype=object)


def align_series(gold: Any, coded: Any) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """Align two label vectors: Series by index, anything else by position."""
    both_series = isinstance(gold, pd.Series) and isinstance(coded, pd.Series)
    g = as_series(gold, "gold")
    c = as_series(coded, "coded")
    fld = DEFAULT_FIELD
    for s in (g, c):
        if isinstance(s.name, str) and s.name:
            fld = s.name
            break
    if both_series:
        for s, nm in ((g, "gold"), (c, "coded")):
            if not s.index.is_unique:
                raise ValueError(f"{nm} has a duplicated index; cannot align items")
        if g.index.equals(c.index):
            idx = g.index
        else:
            idx = g.index.union(c.index, sort=False)
        in_g = idx.isin(g.index)
        in_c = idx.isin(c.index)
        gv = g.reindex(idx).astype(object)
        cv = c.reindex(idx).astype(object)
        unmatched = pd.DataFrame(
            {
                "index": list(idx[in_g & ~in_c]) + list(idx[in_c & ~in_g]),
                "side": ["gold_only"] * int((in_g & ~in_c).sum())
                + ["coded_only"] * int((in_c & ~in_g).sum()),
            }
        )
    else:
        if len(g) != len(c):
            raise ValueError(
                f"gold and coded have different lengths ({len(g)} vs {len(c)}); pass "
                "indexed Series or DataFrames to align items by id"
            )
        gv = pd.Series(g.to_numpy(dtype=object), dtype=object)
        cv = pd.Series(c.to_numpy(dtype=object), dtype=object)
        empty = pd.Series(dtype=object)
        unmatched = pd.DataFrame({"index": empty, "side": empty.copy()})
    joined = pd.DataFrame({("gold", fld): gv.to_numpy(), ("coded", fld): cv.to_numpy()})
    return joined, fld, unmatched


def align_frames(
    gold: pd.DataFrame, coded: pd.DataFrame, on: str, fields: Sequence[str] | str | None
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Outer-join two tidy frames on ``on``; return labels, fields and unmatched keys."""
    for df, nm in ((gold, "gold"), (coded, "coded")):
        if on not in df.columns:
            raise KeyError(f"join column {on!r} not found in the {nm} DataFrame")
        keys = df[on]
        if keys.isna().any():
            raise ValueError(f"{nm} DataFrame has missing values in join column {on!r}")
        dup = keys[keys.duplicated()]
        if len(dup):
            raise ValueError(
                f"{nm} DataFrame has duplicated {on!r} values (one row per item expected), "
                f"e.g. {dup.iloc[0]!r}"
            )
    if fields is None:
        flds = [f for f in DEFAULT_FIELDS if f in gold.columns and f in coded.columns]
        if not flds:
            raise ValueError(
                f"the two DataFrames share none of the default fields {list(DEFAULT_FIELDS)}; "
                "pass fields="
            )
    else:
        flds = [fields] if isinstance(fields, str) else list(fields)
        if not flds:
            raise ValueError("fields is empty")
        for f in flds:
            if f == on:
                raise ValueError(f"field {f!r} is the join column")
            for df, nm in ((gold, "gold"), (coded, "coded")):
                if f not in df.columns:
                    raise KeyError(f"field {f!r} not found in the {nm} DataFrame")
    g_keys = pd.Index(gold[on])
    c_keys = pd.Index(coded[on])
    keys = g_keys.union(c_keys, sort=False)
    g = gold.set_index(on)[flds].reindex(keys).astype(object)
    c = coded.set_index(on)[flds].reindex(keys).astype(object)
    g.columns = pd.MultiIndex.from_product([["gold"], flds])
    c.columns = pd.MultiIndex.from_product([["coded"], flds])
    joined = pd.concat([g, c], axis=1).reset_index(drop=True)
    in_g = keys.isin(g_keys)
    in_c = keys.isin(c_keys)
    gold_only = list(keys[in_g & ~in_c])
    coded_only = list(keys[in_c & ~in_g])
    unmatched = pd.DataFrame(
        {
            on: pd.Series(gold_only + coded_only, dtype=object),
            "side": pd.Series(
                ["gold_only"] * len(gold_only) + ["coded_only"] * len(coded_only), dtype=object
            ),
        }
    )
    return joined, flds, unmatched


def field_labels(
    labels: Sequence[Any] | Mapping[str, Sequence[Any]] | None, fld: str
) -> list[Any] | None:
    if labels is None:
        return None
    if isinstance(labels, Mapping):
        if fld not in labels:
            return None
        labs = labels[fld]
    else:
        labs = labels
    if isinstance(labs, str):
        raise TypeError("labels must be a sequence of labels, not a string")
    out = [v for v in labs if not isna(v)]
    if len(set(out)) != len(out):
        raise ValueError(f"labels for field {fld!r} contain duplicates: {out!r}")
    return out


def isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
