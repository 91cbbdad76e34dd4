"""Statistics for tidy coded tables: each function takes a tidy DataFrame (or a
contingency table) and returns tidy results.  Docstrings give formulas and references.
"""

from vsdstats.stats.agreement import AgreementResult, agreement
from vsdstats.stats.chisq import ChisqResult, cell_tests, chisq_independence
from vsdstats.stats.clustered import cell_tests_clustered, chisq_clustered
from vsdstats.stats.corrected import corrected_logit, corrected_means, corrected_proportions
from vsdstats.stats.crosstab import crosstab
from vsdstats.stats.glmm import MixedLogitResult, mixed_logit
from vsdstats.stats.logodds import log_odds_dirichlet, weighted_log_odds
from vsdstats.stats.means import group_means_ci, monthly, sentiment_score
from vsdstats.stats.pmi import delta_pmi, pmi

__all__ = [
    "AgreementResult",
    "ChisqResult",
    "MixedLogitResult",
    "agreement",
    "cell_tests",
    "cell_tests_clustered",
    "chisq_clustered",
    "chisq_independence",
    "corrected_logit",
    "corrected_means",
    "corrected_proportions",
    "crosstab",
    "delta_pmi",
    "group_means_ci",
    "log_odds_dirichlet",
    "mixed_logit",
    "monthly",
    "pmi",
    "sentiment_score",
    "weighted_log_odds",
]
