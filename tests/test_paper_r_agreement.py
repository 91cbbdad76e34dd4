"""The paper job's statistics agree with R computed independently on the same corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vsdstats.paper.analyses import run_chisq
from vsdstats.paper.config import load_study
from vsdstats.paper.inputs import validate_units
from vsdstats.paper.run import build_handoff
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.tables.codebook import load_codebook

ROOT = Path(__file__).resolve().parents[1]
TESTS = [("condition", "sentiment"), ("condition", "perspective"), ("condition", "value")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path, Path]:
    tmp = tmp_path_factory.mktemp("ragree")
    df = simulate_corpus(n=6000, seed=21)
    csv = tmp / "units.csv"
    df.drop(columns=["quote", "created_at"]).to_csv(csv, index=False)
    handoff = build_handoff(df, tmp / "handoff", seed=1)
    return df, csv, handoff


def _levels(dim: str) -> str:
    return "c(" + ", ".join(f'"{c}"' for c in load_codebook().codes(dim)) + ")"


@pytest.mark.parametrize(("row", "col"), TESTS)
def test_chisq_matches_r_chisq_test(corpus, r, row: str, col: str) -> None:
    df, csv, handoff = corpus
    cb = load_codebook()
    res, _, _, _ = run_chisq(validate_units(df, cb, "t"), cb, load_study(), seed=1, notes=[])
    py = res[f"{row}_{col}"]
    out = r(
        f"""
        local({{
          d <- read.csv("{csv.as_posix()}", stringsAsFactors = FALSE)
          rl <- {_levels(row)}; cl <- {_levels(col)}
          tab <- table(factor(d${row}, levels = rl), factor(d${col}, levels = cl))
          tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
          ct <- suppressWarnings(chisq.test(tab, correct = FALSE))
          list(stat = unname(ct$statistic), stdres = as.vector(t(ct$stdres)),
               rows = rownames(tab), cols = colnames(tab))
        }})
        """
    )
    stat = float(out.rx2("stat")[0])
    stdres = np.array(out.rx2("stdres"))
    assert py.statistic == pytest.approx(stat, rel=1e-9)
    assert list(py.observed.index) == list(out.rx2("rows"))
    assert list(py.observed.columns) == list(out.rx2("cols"))
    np.testing.assert_allclose(py.adjusted_residuals.to_numpy().ravel(), stdres, rtol=1e-9)
    # the hand-off file carries the same residuals, in the same (codebook) order
    h = pd.read_csv(handoff / "residuals.csv")
    h = h[h["test"] == f"{row}_{col}"]
    shown = ~h["n_hidden"].to_numpy()  # cells under K: blank in the (published) hand-off
    assert h.loc[~shown, "adjusted_residual"].isna().all()
    np.testing.assert_allclose(h["adjusted_residual"].to_numpy()[shown], stdres[shown], rtol=1e-9)


@pytest.mark.parametrize("feature", ["perspective", "value"])
def test_logodds_matches_ref_tidylo(corpus, r, feature: str) -> None:
    _, csv, handoff = corpus
    out = r(
        f"""
        local({{
          source("{(ROOT / "R" / "ref_tidylo.R").as_posix()}", local = TRUE)
          d <- read.csv("{csv.as_posix()}", stringsAsFactors = FALSE)
          # the complete grid, zero counts included, as the paper's analysis uses
          counts <- as.data.frame(table(condition = d$condition, {feature} = d${feature}),
                                  responseName = "n", stringsAsFactors = FALSE)
          res <- ref_bind_log_odds(counts, "condition", "{feature}", "n")
          data.frame(condition = res$condition, feature = res${feature},
                     n = res$n, ref = res$log_odds_weighted)
        }})
        """
    )
    ref = pd.DataFrame({k: list(out.rx2(k)) for k in ("condition", "feature", "n", "ref")})
    h = pd.read_csv(handoff / "logodds.csv")
    h = h[h["dimension"] == feature]
    m = h.merge(ref, on=["condition", "feature"], how="outer", validate="one_to_one")
    assert len(m) == len(h) == len(ref)
    m = m[~m["n_hidden"]]  # features on fewer than K units: blank in the hand-off
    assert len(m) and (m["n_x"] == m["n_y"]).all()
    np.testing.assert_allclose(m["log_odds_weighted"], m["ref"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("outcome", ["negative", "positive"])
def test_glmm_matches_glmmtmb_in_r(corpus, r, outcome: str) -> None:
    _, csv, handoff = corpus
    out = r(
        f"""
        local({{
          d <- read.csv("{csv.as_posix()}", stringsAsFactors = FALSE)
          lv <- {_levels("condition")}
          d$condition <- factor(d$condition, levels = lv[lv %in% d$condition])
          d$y <- as.integer(d$sentiment == "{outcome}")
          fit <- glmmTMB::glmmTMB(y ~ condition + (1 | platform) + (1 | author), data = d,
                                  family = binomial)
          b <- glmmTMB::fixef(fit)$cond
          list(term = names(b), est = unname(b),
               se = unname(sqrt(diag(as.matrix(vcov(fit)$cond)))))
        }})
        """
    )
    ref = pd.DataFrame(
        {"term": list(out.rx2("term")), "est": list(out.rx2("est")), "se": list(out.rx2("se"))}
    )
    h = pd.read_csv(handoff / "glmm.csv")
    h = h[h["outcome"] == outcome].reset_index(drop=True)
    assert h["term"].tolist() == ref["term"].tolist()
    np.testing.assert_allclose(h["estimate"], ref["est"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(h["std_error"], ref["se"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(h["odds_ratio"], np.exp(ref["est"]), rtol=1e-3)
    assert (h["engine"] == "glmmTMB").all()
