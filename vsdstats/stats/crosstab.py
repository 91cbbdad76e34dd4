"""Contingency tables from tidy rows."""

from __future__ import annotations

import pandas as pd


def crosstab(df: pd.DataFrame, row: str, col: str) -> pd.DataFrame:
    raise NotImplementedError
