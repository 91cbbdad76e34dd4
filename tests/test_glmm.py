"""Tests for vsdstats.stats.glmm.mixed_logit.

References: glmmTMB and lme4::glmer fitted with R code written here on data R reads
from CSV (independent of our converter); planted effects of simulated data; the
documented behaviour of statsmodels' variational Bayes fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from vsdstats.r.bridge import RWarning
from vsdstats.stats.glmm import (
    ApproximateResultWarning,
    MixedLogitResult,
    SeparationWarning,
    mixed_logit,
)

pytestmark = pytest.mark.needs_r

FORMULA = "negative ~ condition + (1|platform) + (1|author)"
TRUTH = {"(Intercept)": -0.5, "conditionc1": 0.8, "conditionc2": -0.6}
SD_AUTHOR, SD_PLATFORM = 0.8, 0.5


def simulate(
    n: int = 4000,
    n_authors: int = 800,
    n_platforms: int = 6,
    seed: int = 1,
    effects=(0.0, 0.8, -0.6),
    intercept: float = -0.5,
) -> pd.DataFrame:
    """Posts with a 0/1 response, a 3-level condition and random platform/author intercepts."""
    rng = np.random.default_rng(seed)
    cond = rng.integers(0, len(effects), n)
    plat = rng.integers(0, n_platforms, n)
    auth = rng.integers(0, n_authors, n)
    eta = (
        intercept
        + np.asarray(effects)[cond]
        + rng.normal(0, SD_PLATFORM, n_platforms)[plat]
        + rng.normal(0, SD_AUTHOR, n_authors)[auth]
    )
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "negative": y,
            "condition": pd.Categorical.from_codes(cond, [f"c{i}" for i in range(len(effects))]),
            "platform": [f"p{i}" for i in plat],
            "author": [f"a{i:04d}" for i in auth],
        }
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def ours(data) -> dict[str, MixedLogitResult]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RWarning)  # a clean fit must not warn
        return {e: mixed_logit(FORMULA, data, engine=e) for e in ("glmmTMB", "lme4")}


@pytest.fixture(scope="module")
def reference(r, data, tmp_path_factory) -> dict[str, dict]:
    """The same model fitted directly in R, on the data read by R from a CSV file."""
    path = tmp_path_factory.mktemp("glmm") / "sim.csv"
    data.assign(negative=data["negative"].astype(int)).to_csv(path, index=False)
    res = r(
        f"""
        local({{
          suppressMessages({{library(glmmTMB); library(lme4)}})
          d <- read.csv("{path.as_posix()}", stringsAsFactors = FALSE)
          d$condition <- factor(d$condition, levels = c("c0", "c1", "c2"))
          f <- negative ~ condition + (1 | platform) + (1 | author)
          m1 <- glmmTMB(f, data = d, family = binomial)
          m2 <- glmer(f, data = d, family = binomial,
                      control = glmerControl(optimizer = "nloptwrap"))
          ci1 <- confint(m1, method = "Wald", parm = "beta_")
          vc2 <- as.data.frame(VarCorr(m2))
          list(
            tmb_beta = fixef(m1)$cond,
            tmb_se = sqrt(diag(vcov(m1)$cond)),
            tmb_p = summary(m1)$coefficients$cond[, "Pr(>|z|)"],
            tmb_lo = ci1[, 1], tmb_hi = ci1[, 2],
            tmb_var = c(platform = VarCorr(m1)$cond$platform[1, 1],
                        author = VarCorr(m1)$cond$author[1, 1]),
            tmb_ll = as.numeric(logLik(m1)), tmb_aic = AIC(m1),
            lme_beta = fixef(m2),
            lme_se = sqrt(diag(as.matrix(vcov(m2)))),
            lme_p = summary(m2)$coefficients[, "Pr(>|z|)"],
            lme_var = setNames(vc2$vcov, vc2$grp),
            lme_ll = as.numeric(logLik(m2)),
            ngroups = c(platform = length(unique(d$platform)),
                        author = length(unique(d$author))),
            nobs = nrow(d)
          )
        }})
        """
    )
    out = {}
    for name, vec in zip(res.names, res, strict=True):
        names = list(vec.names) if vec.names is not None and vec.names is not r("NULL") else None
        out[name] = dict(zip(names, vec, strict=True)) if names else list(vec)
    return out


def _fixed(res: MixedLogitResult, col: str) -> dict[str, float]:
    return dict(zip(res.fixed["term"], res.fixed[col], strict=True))


def _var(res: MixedLogitResult) -> dict[str, float]:
    return dict(zip(res.random["group"], res.random["variance"], strict=True))


# --- (1) against R directly -------------------------------------------------------


def test_glmmtmb_matches_r(ours, reference):
    res = ours["glmmTMB"]
    assert res.engine == "glmmTMB" and res.converged and not res.approximate
    assert list(res.fixed["term"]) == list(reference["tmb_beta"])
    for col, key, tol in [
        ("estimate", "tmb_beta", 1e-6),
        ("std_error", "tmb_se", 1e-6),
        ("ci_low", "tmb_lo", 1e-6),
        ("ci_high", "tmb_hi", 1e-6),
        ("p_value", "tmb_p", 1e-9),
    ]:
        got = _fixed(res, col)
        for term, want in reference[key].items():
            assert got[term] == pytest.approx(want, abs=tol), (col, term)
    for g, want in reference["tmb_var"].items():
        assert _var(res)[g] == pytest.approx(want, abs=1e-6)
    assert res.loglik == pytest.approx(reference["tmb_ll"][0], abs=1e-6)
    assert res.aic == pytest.approx(reference["tmb_aic"][0], abs=1e-6)
    assert res.n_obs == reference["nobs"][0]
    assert res.n_groups == {k: int(v) for k, v in reference["ngroups"].items()}


def test_lme4_nloptwrap_matches_r(ours, reference):
    res = ours["lme4"]
    assert res.engine == "lme4" and res.converged
    for col, key in [("estimate", "lme_beta"), ("std_error", "lme_se"), ("p_value", "lme_p")]:
        got = _fixed(res, col)
        for term, want in reference[key].items():
            assert got[term] == pytest.approx(want, abs=1e-6), (col, term)
    for g, want in reference["lme_var"].items():
        assert _var(res)[g] == pytest.approx(want, abs=1e-6)
    assert res.loglik == pytest.approx(reference["lme_ll"][0], abs=1e-6)


def test_engines_agree(ours):
    a, b = ours["glmmTMB"], ours["lme4"]
    ea, eb = _fixed(a, "estimate"), _fixed(b, "estimate")
    assert set(ea) == set(eb)
    for term in ea:
        assert ea[term] == pytest.approx(eb[term], abs=2e-3), term
    sa, sb = _fixed(a, "std_error"), _fixed(b, "std_error")
    for term in sa:
        assert sa[term] == pytest.approx(sb[term], rel=0.02), term
    for g, v in _var(a).items():
        assert v == pytest.approx(_var(b)[g], rel=0.02, abs=1e-3), g
    assert a.loglik == pytest.approx(b.loglik, abs=0.05)


def test_tidy_output_is_consistent(ours):
    res = ours["glmmTMB"]
    fx = res.fixed
    assert list(fx.columns) == [
        "term",
        "estimate",
        "std_error",
        "z",
        "p_value",
        "p_value_adj",
        "odds_ratio",
        "or_ci_low",
        "or_ci_high",
        "ci_low",
        "ci_high",
        "separation",
        "separation_reason",
    ]
    assert not fx["separation"].any() and (fx["separation_reason"] == "").all()
    np.testing.assert_allclose(fx["odds_ratio"], np.exp(fx["estimate"]))
    np.testing.assert_allclose(fx["or_ci_low"], np.exp(fx["ci_low"]))
    np.testing.assert_allclose(fx["z"], fx["estimate"] / fx["std_error"])
    assert list(res.random.columns) == ["group", "term", "variance", "sd"]
    np.testing.assert_allclose(res.random["sd"] ** 2, res.random["variance"])
    assert res.formula == FORMULA and res.warnings == []


# --- (2) planted effects -----------------------------------------------------------


def test_planted_effects_recovered(ours):
    for engine, res in ours.items():
        est, se = _fixed(res, "estimate"), _fixed(res, "std_error")
        for term, truth in TRUTH.items():
            assert abs(est[term] - truth) < 3 * se[term], (engine, term, est[term])
        assert np.sqrt(_var(res)["author"]) == pytest.approx(SD_AUTHOR, abs=0.2)
        assert 0 < np.sqrt(_var(res)["platform"]) < 1.5


@pytest.mark.slow
def test_wald_ci_coverage_sanity():
    covered = total = 0
    narrow = 0
    for seed in range(20):
        d = simulate(n=1500, n_authors=150, seed=100 + seed)
        res = mixed_logit(FORMULA, d)
        half = mixed_logit(FORMULA, d, conf=0.5) if seed < 3 else None
        fx = res.fixed.set_index("term")
        for term in ("conditionc1", "conditionc2"):
            total += 1
            covered += fx.loc[term, "ci_low"] <= TRUTH[term] <= fx.loc[term, "ci_high"]
        if half is not None:
            hx = half.fixed.set_index("term")
            ratio = (hx["ci_high"] - hx["ci_low"]) / (fx["ci_high"] - fx["ci_low"])
            narrow += bool(np.allclose(ratio, 0.6744897501960817 / 1.959963984540054))
    # 95% intervals: expect 38 of 40; P(Binomial(40, .95) <= 33) < 0.01
    assert covered >= 34, covered
    assert total == 40
    assert narrow == 3


# --- (3) statsmodels engine ----------------------------------------------------------


def test_statsmodels_engine_is_approximate_and_close():
    d = simulate(n=2000, n_authors=150, seed=3)
    with pytest.warns(ApproximateResultWarning, match="approximate"):
        sm = mixed_logit(FORMULA, d, engine="statsmodels")
    tmb = mixed_logit(FORMULA, d, engine="glmmTMB")
    assert sm.approximate and not tmb.approximate and sm.engine == "statsmodels"
    assert list(sm.fixed["term"]) == list(tmb.fixed["term"])
    es, et = _fixed(sm, "estimate"), _fixed(tmb, "estimate")
    for term in et:
        assert es[term] == pytest.approx(et[term], abs=0.05), term
    # the documented weakness: too-small standard error of the intercept
    assert _fixed(sm, "std_error")["(Intercept)"] < _fixed(tmb, "std_error")["(Intercept)"]
    assert np.sqrt(_var(sm)["author"]) == pytest.approx(np.sqrt(_var(tmb)["author"]), abs=0.2)
    assert sm.n_groups == tmb.n_groups and sm.n_obs == tmb.n_obs == 2000
    assert any("approximate" in w for w in sm.warnings)


def test_statsmodels_rejects_random_slopes():
    d = simulate(n=300, n_authors=30)
    with pytest.raises(NotImplementedError, match="random intercepts"):
        mixed_logit("negative ~ condition + (condition|platform)", d, engine="statsmodels")


# --- (4) input handling --------------------------------------------------------------


def test_missing_column_is_named(data):
    with pytest.raises(ValueError, match="'writer'"):
        mixed_logit("negative ~ condition + (1|writer)", data)


def test_non_binary_response_names_values(data):
    d = data.assign(negative=data["negative"].astype(int) + (data.index % 7 == 0))
    with pytest.raises(ValueError, match=r"binary.*\b2\b"):
        mixed_logit(FORMULA, d)
    d2 = data.assign(negative=np.where(data["negative"], "yes", "no"))
    with pytest.raises(ValueError, match="'no', 'yes'"):
        mixed_logit(FORMULA, d2)
    with pytest.raises(ValueError, match="only the value"):
        mixed_logit(FORMULA, data.assign(negative=1))


def test_bad_engine_formula_conf(data):
    with pytest.raises(ValueError, match="engine"):
        mixed_logit(FORMULA, data, engine="nlme")
    with pytest.raises(ValueError, match="random-effect"):
        mixed_logit("negative ~ condition", data)
    with pytest.raises(ValueError, match="conf"):
        mixed_logit(FORMULA, data, conf=95)
    with pytest.raises(ValueError, match="response"):
        mixed_logit("cbind(a, b) ~ condition + (1|platform)", data)


def test_na_rows_dropped_with_count(data, ours):
    d = data.copy()
    d["condition"] = d["condition"].astype(object)
    d.loc[[3, 10, 11], "condition"] = None
    d.loc[[11, 20], "author"] = None
    with pytest.warns(UserWarning, match=r"dropped 4 of 4000 rows"):
        res = mixed_logit(FORMULA, d)
    assert res.n_obs == 3996
    # dropped rows really are gone: estimates move, slightly
    assert not np.allclose(res.fixed["estimate"], ours["glmmTMB"].fixed["estimate"], atol=1e-9)


def test_only_formula_columns_reach_r_and_bool_equals_int(data, ours):
    d = data.assign(junk=[1j] * len(data), negative=data["negative"].astype(int))
    res = mixed_logit(FORMULA, d)  # a complex column cannot be converted to R
    np.testing.assert_allclose(res.fixed["estimate"], ours["glmmTMB"].fixed["estimate"], atol=1e-8)


def test_reference_level_is_first_category(data, ours):
    d = data.assign(condition=data["condition"].cat.reorder_categories(["c1", "c0", "c2"]))
    res = mixed_logit(FORMULA, d)
    assert list(res.fixed["term"]) == ["(Intercept)", "conditionc0", "conditionc2"]
    base = _fixed(ours["glmmTMB"], "estimate")
    est = _fixed(res, "estimate")
    assert est["conditionc0"] == pytest.approx(-base["conditionc1"], abs=1e-4)
    assert est["conditionc2"] == pytest.approx(base["conditionc2"] - base["conditionc1"], abs=1e-4)
    # strings: sorted unique levels, so "c0" is the reference again
    res_s = mixed_logit(FORMULA, data.assign(condition=data["condition"].astype(str)))
    assert list(res_s.fixed["term"]) == ["(Intercept)", "conditionc1", "conditionc2"]


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ a + (1|g)",
        "y ~ a * b + log(x) + (1 + x|g) + (1|h:k)",
        "y ~ I(x^2) + offset(log(n)) + (1 | g/h)",
        "y ~ `odd name` + (x || g)",
    ],
)
def test_formula_variables_match_r_all_vars(r, formula):
    from vsdstats.stats.glmm import _parse_formula

    want = list(r(f"all.vars(as.formula('{formula}'))"))
    assert sorted(_parse_formula(formula).variables) == sorted(want)


# --- (5) R warnings surface ------------------------------------------------------------


def _identical_platforms() -> pd.DataFrame:
    """Six platforms with identical data: the platform variance MLE is exactly 0."""
    rng = np.random.default_rng(5)
    base = pd.DataFrame({"y": rng.random(100) < 0.4, "x": rng.choice(["a", "b"], 100)})
    return pd.concat([base.assign(platform=f"p{i}") for i in range(6)], ignore_index=True)


def test_singular_fit_warning_surfaces(r, tmp_path):
    d = _identical_platforms()
    with pytest.warns(RWarning, match="singular"):
        res = mixed_logit("y ~ x + (1|platform)", d, engine="lme4")
    assert any("singular" in w for w in res.warnings)
    assert res.random["variance"].iloc[0] == pytest.approx(0, abs=1e-8)
    path = tmp_path / "s.csv"
    d.assign(y=d["y"].astype(int)).to_csv(path, index=False)
    singular = r(
        f"""suppressMessages(lme4::isSingular(lme4::glmer(y ~ x + (1 | platform),
              data = read.csv("{path.as_posix()}"), family = binomial,
              control = lme4::glmerControl(optimizer = "nloptwrap"))))"""
    )
    assert list(singular) == [True]


def test_glmmtmb_convergence_warning_and_flag(r, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.choice(["a", "b"], 300)
    d = pd.DataFrame(
        {"y": (x == "b").astype(int), "x": x, "g": rng.choice(list("abcdefghij"), 300)}
    )
    with pytest.warns(RWarning, match="convergence"):
        with pytest.warns(SeparationWarning, match=r"\(Intercept\).*xb"):
            res = mixed_logit("y ~ x + (1|g)", d)
    assert res.separated == ["(Intercept)", "xb"]
    path = tmp_path / "sep.csv"
    d.to_csv(path, index=False)
    ok = r(
        f"""suppressWarnings(local({{
              m <- glmmTMB::glmmTMB(y ~ x + (1 | g), data = read.csv("{path.as_posix()}"),
                                    family = binomial)
              m$fit$convergence == 0 && isTRUE(m$sdr$pdHess)
           }}))"""
    )
    assert res.converged is bool(ok[0]) is False
