"""mixed_logit: separation flags, the penalized (blme) refit, ref= levels, Holm p_value_adj.

References: blme::bglmer, glmmTMB after stats::relevel and stats::p.adjust, run by the
functions of R/ref_glmm.R on data R reads from CSV (not through our converter); event
counts per level from pandas.crosstab; hypothesis properties of the adjusted p-values.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.cli import main
from vsdstats.errors import InputError
from vsdstats.r.bridge import RWarning
from vsdstats.stats.glmm import (
    SeparationWarning,
    _parse_formula,
    _separation,
    adjusted_p,
    mixed_logit,
)

pytestmark = pytest.mark.needs_r

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "negative ~ condition + (1|platform) + (1|author)"
LEVELS = ["general", "depression", "anxiety", "adhd"]


def simulate(n: int = 1200, seed: int = 7, separate: str | None = "adhd", events=0):
    """Posts in 4 conditions (a Categorical, "general" first), 150 authors, 4 platforms;
    optionally a level whose response is all ``events`` (0: no events, 1: none)."""
    rng = np.random.default_rng(seed)
    cond = rng.choice(4, n, p=[0.45, 0.3, 0.2, 0.05])
    auth = rng.integers(0, 150, n)
    plat = rng.integers(0, 4, n)
    eta = -0.2 + np.array([0.0, 0.5, -0.3, 0.2])[cond] + rng.normal(0, 0.6, 150)[auth]
    eta += rng.normal(0, 0.3, 4)[plat]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    condition = np.asarray(LEVELS)[cond]
    if separate is not None:
        y[condition == separate] = events
    return pd.DataFrame(
        {
            "negative": y,
            "condition": pd.Categorical(condition, categories=LEVELS),
            "platform": [f"p{i}" for i in plat],
            "author": [f"a{i}" for i in auth],
        }
    )


@pytest.fixture(scope="module")
def separated() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return simulate(separate=None, seed=8)


@pytest.fixture(scope="module")
def ref_r(r):
    r(f'source("{(ROOT / "R" / "ref_glmm.R").as_posix()}")')
    return r


def _csv(df: pd.DataFrame, tmp_path: Path) -> str:
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return path.as_posix()


def _r_table(r, call: str) -> pd.DataFrame:
    res = r(call)
    return pd.DataFrame({n: list(res.rx2(n)) for n in res.names}).set_index("term")


def _fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RWarning)
        warnings.simplefilter("ignore", SeparationWarning)
        return mixed_logit(*args, **kw)


# --- separation flags ---------------------------------------------------------------


@pytest.mark.parametrize("engine", ["glmmTMB", "lme4", "statsmodels"])
def test_level_without_events_is_flagged_by_every_engine(separated, engine):
    counts = pd.crosstab(separated["condition"], separated["negative"])
    assert counts.loc["adhd", 1] == 0 and (counts.drop("adhd") > 0).all().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RWarning)
        with pytest.warns(SeparationWarning, match="conditionadhd") as caught:
            res = mixed_logit(FORMULA, separated, engine=engine)
    fx = res.fixed.set_index("term")
    assert res.separated == ["conditionadhd"]
    assert fx["separation"].dtype == bool
    assert "no events in level 'adhd' of condition" in fx.loc["conditionadhd", "separation_reason"]
    assert (fx.drop("conditionadhd")["separation_reason"] == "").all()
    assert any("conditionadhd" in w for w in res.warnings)
    assert sum(issubclass(w.category, SeparationWarning) for w in caught) == 1
    if engine != "statsmodels":  # ML: the estimate runs off (VB's prior keeps it finite)
        why = fx.loc["conditionadhd", "separation_reason"]
        assert "beyond +-10" in why or "> 100" in why
        assert (
            abs(fx.loc["conditionadhd", "estimate"]) > 10
            or fx.loc["conditionadhd", "std_error"] > 100
        )


def test_reference_level_without_non_events_flags_intercept_and_its_terms():
    d = simulate(separate="general", events=1, seed=9)
    assert (d.loc[d["condition"] == "general", "negative"] == 1).all()
    d = d.assign(condition=d["condition"].astype(str))  # sorted levels: adhd first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RWarning)
        with pytest.warns(SeparationWarning, match=r"\(Intercept\)"):
            res = mixed_logit(FORMULA, d, ref={"condition": "general"})
    fx = res.fixed.set_index("term")
    assert res.reference == {"condition": "general"}
    assert fx["separation"].all()
    assert all("no non-events in reference level 'general'" in w for w in fx["separation_reason"])


def test_clean_fit_has_no_flags(clean):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        res = _fit(FORMULA, clean)
    assert not res.fixed["separation"].any() and res.separated == []
    assert not any("separation" in w for w in res.warnings)


def test_threshold_rules():
    d = pd.DataFrame({"y": [0, 1, 0, 1], "x": [0.1, 0.2, 0.3, 0.4], "g": list("abab")})
    fixed = pd.DataFrame(
        {
            "term": ["(Intercept)", "a", "b", "c", "e"],
            "estimate": [0.0, 10.5, -9.9, 1.0, 0.0],
            "std_error": [1.0, 1.0, 99.0, 100.5, math.nan],
        }
    )
    flags, why = _separation(d, _parse_formula("y ~ x + (1|g)"), fixed)
    assert flags == [False, True, False, True, True]
    assert "beyond +-10" in why[1] and "> 100" in why[3] and "not finite" in why[4]
    assert why[0] == why[2] == ""


# --- the penalized refit ---------------------------------------------------------------


def test_penalized_refit_is_finite_and_matches_bglmer(separated, ref_r, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RWarning)
        with pytest.warns(SeparationWarning, match="refitted by penalized ML"):
            res = mixed_logit(FORMULA, separated, separation="penalize")
    assert res.penalized and res.engine == "blme" and res.unpenalized is not None
    assert res.unpenalized.engine == "glmmTMB" and not res.unpenalized.penalized
    fx = res.fixed.set_index("term")
    ml = res.unpenalized.fixed.set_index("term")
    assert ml.loc["conditionadhd", "std_error"] > 100
    assert np.isfinite(fx["estimate"]).all() and np.isfinite(fx["std_error"]).all()
    assert -10 < fx.loc["conditionadhd", "estimate"] < -1
    assert fx.loc["conditionadhd", "std_error"] < 5
    assert fx.loc["conditionadhd", "separation"]  # the flag still describes the ML fit
    assert "(ML fit, glmmTMB)" in fx.loc["conditionadhd", "separation_reason"]
    want = _r_table(
        ref_r,
        f"ref_bglmer('{_csv(separated, tmp_path)}', '{FORMULA}', 'condition', "
        f"c({', '.join(repr(x) for x in LEVELS)}))",
    )
    assert list(fx.index) == list(want.index)
    for col in ("estimate", "std_error", "p_value"):
        np.testing.assert_allclose(fx[col], want[col], rtol=1e-5, atol=1e-6, err_msg=col)
    # the unaffected terms barely move: a prior SD of 2.5 is weak next to these data
    for term in ("conditiondepression", "conditionanxiety"):
        assert abs(fx.loc[term, "estimate"] - ml.loc[term, "estimate"]) < 0.05


def test_penalized_fit_is_close_to_ml_without_separation(clean):
    ml = _fit(FORMULA, clean, engine="lme4").fixed.set_index("term")
    pen = _fit(FORMULA, clean, engine="blme")
    assert pen.penalized and not pen.fixed["separation"].any()
    fx = pen.fixed.set_index("term")
    for term in ml.index:
        assert (
            abs(fx.loc[term, "estimate"] - ml.loc[term, "estimate"])
            < 0.1 * ml.loc[term, "std_error"]
        ), term
        assert fx.loc[term, "std_error"] == pytest.approx(ml.loc[term, "std_error"], rel=0.03)
    # nothing separated: separation="penalize" keeps the ML fit
    same = _fit(FORMULA, clean, separation="penalize")
    assert not same.penalized and same.engine == "glmmTMB" and same.unpenalized is None


# --- ref= ------------------------------------------------------------------------------


def test_ref_matches_r_relevel(clean, ref_r, tmp_path):
    clean = clean.assign(condition=clean["condition"].astype(str))  # R sorts them too
    res = _fit(FORMULA, clean, ref={"condition": "depression"})
    assert res.reference == {"condition": "depression"}
    want = _r_table(
        ref_r, f"ref_relevel('{_csv(clean, tmp_path)}', '{FORMULA}', 'condition', 'depression')"
    )
    fx = res.fixed.set_index("term")
    assert list(fx.index) == list(want.index)
    assert list(fx.index) == [
        "(Intercept)",
        "conditionadhd",
        "conditionanxiety",
        "conditiongeneral",
    ]
    for col in ("estimate", "std_error", "p_value"):
        np.testing.assert_allclose(fx[col], want[col], rtol=1e-5, atol=1e-6, err_msg=col)
    default = _fit(FORMULA, clean)
    assert default.reference == {"condition": "adhd"}  # sorted levels: the first
    assert _fit(
        FORMULA, clean.assign(condition=pd.Categorical(clean["condition"], LEVELS))
    ).reference == {"condition": "general"}


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        ({"condition": "bipolar"}, "level 'bipolar' not found in column 'condition'"),
        ({"mood": "x"}, "column 'mood' is not in the formula"),
        ({"negative": "1"}, "column 'negative' is not a factor"),
        ("general", "ref must map a factor column"),
    ],
)
def test_ref_errors_name_the_column_and_level(clean, ref, needle):
    with pytest.raises(InputError, match=needle) as exc:
        mixed_logit(FORMULA, clean, ref=ref)
    assert "\n" not in str(exc.value)


# --- Holm-adjusted p-values ---------------------------------------------------------------


def test_holm_p_value_adj_matches_p_adjust(clean, ref_r):
    res = _fit(FORMULA, clean)
    fx = res.fixed
    assert math.isnan(fx["p_value_adj"].iloc[0]) and res.adjust == "holm"
    p = fx["p_value"].iloc[1:].tolist()
    want = list(ref_r["ref_holm"](ref_r["c"](*p)))
    np.testing.assert_allclose(fx["p_value_adj"].iloc[1:], want, rtol=1e-12)
    none = _fit(FORMULA, clean, adjust="none").fixed
    np.testing.assert_allclose(none["p_value_adj"].iloc[1:], none["p_value"].iloc[1:])
    with pytest.raises(InputError, match="adjust"):
        mixed_logit(FORMULA, clean, adjust="sidak")


@given(
    p=st.lists(st.floats(1e-12, 1.0), min_size=1, max_size=8),
    method=st.sampled_from(["holm", "bonferroni", "fdr_bh", "none"]),
)
def test_adjusted_p_properties(p, method):
    terms = ["(Intercept)", *[f"condition{i}" for i in range(len(p) - 1)], "x"]
    fixed = pd.DataFrame({"term": terms, "p_value": [0.5, *p]})
    adj = adjusted_p(fixed, method)
    assert math.isnan(adj[0])
    assert np.all(adj[1:] >= np.asarray(p) - 1e-15) and np.all(adj[1:] <= 1.0)
    if method == "holm":  # the smallest p is multiplied by the family size
        assert np.nanmin(adj) == pytest.approx(min(1.0, min(p) * len(p)))
    only = adjusted_p(fixed, method, "condition")
    assert math.isnan(only[-1]) and math.isnan(only[0])


# --- CLI -------------------------------------------------------------------------------


def test_cli_ref_separation_and_errors(separated, tmp_path):
    path = tmp_path / "s.csv"
    separated.to_csv(path, index=False)
    out = tmp_path / "fixed.csv"
    args = ["stats", "glmm", str(path), "--formula", FORMULA]
    r = CliRunner().invoke(
        main, [*args, "--ref", "condition=general", "--separation", "penalize", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    fx = pd.read_csv(out, keep_default_na=False).set_index("term")
    assert "conditiongeneral" not in fx.index and "conditionadhd" in fx.index
    assert str(fx.loc["conditionadhd", "separation"]) == "True"
    assert abs(float(fx.loc["conditionadhd", "estimate"])) < 10
    assert "p_value_adj" in fx.columns
    for bad, needle in [
        ("condition", "expected COLUMN=LEVEL"),
        ("condition=bipolar", "level 'bipolar' not found in column 'condition'"),
    ]:
        r = CliRunner().invoke(main, [*args, "--ref", bad])
        lines = [ln for ln in r.stderr.splitlines() if ": error: " in ln]
        assert r.exit_code == 2 and len(lines) == 1, r.output
        assert lines[0].startswith("vsdstats stats glmm: error: ") and needle in lines[0]


# --- calibration module ------------------------------------------------------------------


def test_calibration_table_has_rates():
    from vsdstats.stats.calibration import COLUMNS
    from vsdstats.stats.calibration import glmm as cal

    table = cal.run(reps=8, seed=3)
    assert list(table.columns) == COLUMNS and len(table) == 7
    assert table["value"].between(0, 1).all() and (table["reps"] == 8).all()
    cov = table[table["metric"].str.startswith("coverage")]
    assert len(cov) == 2 and (cov["value"] > 0).all()
    targets = table[table["target"] != ""]
    assert set(targets["target"]) == {">= 0.93", "<= 0.07"}
    assert targets["method"].str.contains("default").all()


@pytest.mark.slow
def test_calibration_glmm_coverage_is_near_nominal():
    from vsdstats.stats.calibration import glmm as cal

    hits, total = cal.null_replicates(40, seed=11)[f"{cal.GLMM} coverage"]
    assert total == 200  # 5 condition terms x 40 data sets
    # expect ~0.95; P(Binomial(200, 0.95) < 170) is about 1e-9
    assert hits / total >= 0.85, hits
