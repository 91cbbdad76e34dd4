"""Pearson chi-square test of independence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ChisqResult:
    pass


def chisq_independence(table, simulate=None, seed=None) -> ChisqResult:
    raise NotImplementedError


def cell_tests(result: ChisqResult, method: str = "holm"):
    raise NotImplementedError
