"""Pointwise mutual information of co-occurring codes."""

from __future__ import annotations


def pmi(df, a, b):
    raise NotImplementedError


def delta_pmi(df, a, b, by):
    raise NotImplementedError
