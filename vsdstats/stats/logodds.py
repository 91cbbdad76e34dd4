"""Weighted log-odds (tidylo) and the Monroe et al. (2008) informative-Dirichlet variant."""

from __future__ import annotations


def weighted_log_odds(df, group, feature, n, uninformative=False, unweighted=False):
    raise NotImplementedError


def log_odds_dirichlet(df, group, feature, n):
    raise NotImplementedError
