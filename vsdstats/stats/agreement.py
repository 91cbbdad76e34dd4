"""Agreement between human (gold) and LLM coding."""

from __future__ import annotations


def agreement(gold, coded):
    raise NotImplementedError
