"""One p-value column name everywhere: ``p_value`` (and ``p_value_adj``, ``log_p_value``,
``p_value_str``, ``simulated_p_value``) in every tidy result of vsdstats.stats, in the
paper's GLMM-vs-chi-square comparison and in the hand-off files R reads."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from vsdstats.paper.compare import chisq_vs_glmm
from vsdstats.paper.handoff import SCHEMA
from vsdstats.stats import cell_tests, chisq_independence
from vsdstats.stats.glmm import wald_table

ROOT = Path(__file__).resolve().parents[1]
#: the allowed names of columns holding p-values
ALLOWED = {"p_value", "p_value_adj", "log_p_value", "p_value_str", "simulated_p_value"}
#: a column that holds a p-value under some spelling: p, pval, pvalue, p_adj, log_p, ...
P_LIKE = re.compile(r"^(log_?|simulated_?)?p(_?val(ue)?)?(_(adj|str))?$")


def _p_columns(cols) -> set[str]:
    return {str(c) for c in cols if P_LIKE.match(str(c))}


def _tidy_frames() -> dict[str, pd.DataFrame]:
    m = np.array([[30, 10, 5], [10, 30, 8], [6, 9, 25]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = chisq_independence(m, simulate=True, seed=1, B=100)
    fixed = wald_table(["(Intercept)", "x"], np.array([0.1, 0.5]), np.array([0.2, 0.1]), 0.95)
    return {"tidy": res.tidy(), "cell_tests": cell_tests(res), "glmm fixed": fixed}


def test_pattern_catches_the_old_names():
    old = ["p", "pvalue", "p_adj", "log_pvalue", "pvalue_str", "simulated_pvalue", "pval"]
    assert _p_columns(old) == set(old) and not (set(old) & ALLOWED)
    assert _p_columns(ALLOWED) == ALLOWED
    assert not _p_columns(["pmi", "npmi", "perspective", "precision", "platform", "n"])


def test_stats_results_use_p_value():
    frames = _tidy_frames()
    for name, frame in frames.items():
        assert _p_columns(frame.columns) <= ALLOWED, (name, list(frame.columns))
    assert {"p_value", "p_value_adj"} <= set(frames["cell_tests"].columns)
    assert "p_value" in frames["glmm fixed"].columns
    assert {"p_value", "log_p_value"} <= set(frames["tidy"].columns)


def test_handoff_files_and_comparison_use_p_value():
    for name, cols in SCHEMA.items():
        assert _p_columns(cols) <= ALLOWED, (name, list(cols))
    assert "p_value_adj" in SCHEMA["residuals.csv"] and "p_value" in SCHEMA["glmm.csv"]
    cols = list(chisq_vs_glmm(SimpleNamespace(cells={}, glmm={})).columns)
    assert _p_columns(cols) == {"p_value_adj"}, cols


def test_r_scripts_read_p_value():
    """The R side of the hand-off names the same columns (no `$p`, `p_adj`, `pvalue`)."""
    for path in sorted((ROOT / "vsdstats" / "r" / "scripts").glob("*.R")):
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
        hits = re.findall(r"\$(p|p_adj|pvalue)\b|\b(p_adj|pvalue)\s*=", code)
        assert not hits, (path.name, hits)
