"""Binomial generalized linear mixed models through R (glmmTMB / lme4) or statsmodels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MixedLogitResult:
    pass


def mixed_logit(formula, data, engine="glmmTMB"):
    raise NotImplementedError
