"""Group means of sentiment scores with t-based confidence intervals."""

from __future__ import annotations


def group_means_ci(df, by, score):
    raise NotImplementedError


def monthly(df, date, score):
    raise NotImplementedError
