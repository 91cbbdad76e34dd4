"""Tests for weighted_log_odds (tidylo) and log_odds_dirichlet (Monroe et al. 2008).

References used: the base-R reference R/ref_tidylo.R (through rpy2 and Rscript), and
loop implementations of the published formulas written here independently.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vsdstats.stats import log_odds_dirichlet, weighted_log_odds

ROOT = Path(__file__).resolve().parents[1]
REF_R = ROOT / "R" / "ref_tidylo.R"


# ---------------------------------------------------------------- helpers


def _random_counts(seed: int, n_groups: int = 5, n_feat: int = 40, keep: float = 0.7):
    rng = np.random.default_rng(seed)
    g, f = np.meshgrid(np.arange(n_groups), np.arange(n_feat), indexing="ij")
    mask = rng.random(g.shape) < keep
    counts = rng.poisson(rng.gamma(1.0, 6.0, size=g.shape))
    df = pd.DataFrame(
        {
            "grp": [f"g{i}" for i in g[mask]],
            "feat": [f"w{j:03d}" for j in f[mask]],
            "n": counts[mask].astype(np.int64),
        }
    )
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="module")
def ref(r):
    r.source(str(REF_R))
    return r


def _r_log_odds(r, df: pd.DataFrame, uninformative: bool, unweighted: bool):
    import rpy2.robjects as ro

    rdf = ro.DataFrame(
        {
            "grp": ro.StrVector(df["grp"].astype(str).tolist()),
            "feat": ro.StrVector(df["feat"].astype(str).tolist()),
            "n": ro.IntVector(df["n"].astype(int).tolist()),
        }
    )
    res = r["ref_bind_log_odds"](
        rdf, "grp", "feat", "n", uninformative=uninformative, unweighted=unweighted
    )
    names = list(res.names)
    out = {
        k: np.asarray(res.rx2(k), dtype=float)
        for k in ("log_odds", "log_odds_weighted")
        if k in names
    }
    return names, out


def _loop_tidylo(rows, uninformative: bool):
    """tidylo's pseudo-count formula, row by row with plain dicts and math.log."""
    feat_total = defaultdict(float)
    for _, w, n in rows:
        feat_total[w] += n
    y = [n + (1.0 if uninformative else feat_total[w]) for _, w, n in rows]
    y_w, n_i = defaultdict(float), defaultdict(float)
    for (g, w, _), yy in zip(rows, y, strict=True):
        y_w[w] += yy
        n_i[g] += yy
    big_n = sum(y)
    out = []
    for (g, w, _), yy in zip(rows, y, strict=True):
        odds_g = yy / (n_i[g] - yy)
        odds_all = y_w[w] / (big_n - y_w[w])
        d = math.log(odds_g / odds_all)
        out.append((d, d / math.sqrt(1 / yy + 1 / y_w[w])))
    return out


# hypothesis: small complete-or-sparse count tables with every set and feature having
# at least two rows so that no odds are 0/0 (degenerate cases are tested separately)
@st.composite
def count_tables(draw, min_groups=2, max_groups=4):
    ng = draw(st.integers(min_groups, max_groups))
    nw = draw(st.integers(2, 6))
    cells = [(g, w) for g in range(ng) for w in range(nw)]
    keep = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    counts = draw(st.lists(st.integers(0, 40), min_size=len(cells), max_size=len(cells)))
    rows = [(f"g{g}", f"w{w}", c) for (g, w), k, c in zip(cells, keep, counts, strict=True) if k]
    df = pd.DataFrame(rows, columns=["grp", "feat", "n"])
    assume(len(df) > 0 and df["grp"].nunique() == ng)
    assume(df.groupby("grp").size().min() >= 2 and df["feat"].nunique() >= 2)
    assume(df["n"].sum() > 0)
    return df


# ---------------------------------------------------------------- R reference


@pytest.mark.needs_r
@pytest.mark.parametrize("uninformative", [False, True])
@pytest.mark.parametrize("unweighted", [False, True])
def test_matches_r_reference(ref, uninformative, unweighted):
    df = _random_counts(seed=11)
    names, want = _r_log_odds(ref, df, uninformative, unweighted)
    got = weighted_log_odds(df, "grp", "feat", "n", uninformative, unweighted)
    assert list(got.columns) == names  # same columns, same order as the R reference
    np.testing.assert_allclose(
        got["log_odds_weighted"], want["log_odds_weighted"], rtol=0, atol=1e-10
    )
    if unweighted:
        np.testing.assert_allclose(got["log_odds"], want["log_odds"], rtol=0, atol=1e-10)
    else:
        assert "log_odds" not in got.columns
    # the input rows come back unchanged
    pd.testing.assert_frame_equal(got[["grp", "feat", "n"]], df)


@pytest.mark.needs_r
@given(df=count_tables(), uninformative=st.booleans())
def test_matches_r_reference_hypothesis(ref, df, uninformative):
    _, want = _r_log_odds(ref, df, uninformative, True)
    got = weighted_log_odds(df, "grp", "feat", "n", uninformative, True)
    for col in ("log_odds", "log_odds_weighted"):
        np.testing.assert_allclose(got[col], want[col], rtol=0, atol=1e-10, equal_nan=True)


@pytest.mark.needs_r
def test_matches_r_on_degenerate_table(ref):
    # a set with a single row gives n_i - y_wi = 0: R and we both give inf, not an error
    df = pd.DataFrame({"grp": ["a", "a", "b"], "feat": ["x", "y", "x"], "n": [2, 3, 4]})
    _, want = _r_log_odds(ref, df, False, True)
    got = weighted_log_odds(df, "grp", "feat", "n", unweighted=True)
    assert np.isinf(want["log_odds"]).any()
    np.testing.assert_allclose(got["log_odds"], want["log_odds"], atol=1e-10, equal_nan=True)


@pytest.mark.needs_r
def test_rscript_cli(r, tmp_path):
    # r fixture: R must be there (fails under CI otherwise); the script must run alone
    rscript = shutil.which("Rscript")
    assert rscript is not None
    df = _random_counts(seed=3, n_groups=3, n_feat=15).rename(
        columns={"grp": "group", "feat": "feature"}
    )
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    df.to_csv(src, index=False)
    for flags, uninf in (([], False), (["TRUE", "TRUE"], True)):
        subprocess.run([rscript, str(REF_R), str(src), str(dst), *flags], check=True, timeout=120)
        res = pd.read_csv(dst)
        got = weighted_log_odds(df, "group", "feature", "n", uninformative=uninf)
        assert len(res) == len(df)
        np.testing.assert_allclose(
            res["log_odds_weighted"], got["log_odds_weighted"], rtol=1e-12, atol=1e-10
        )
        assert ("log_odds" in res.columns) == uninf


@pytest.mark.needs_r
def test_sourcing_does_not_run_cli(r):
    # sourcing must only define the function (the CLI is guarded by sys.nframe() == 0)
    r("rm(list = intersect(ls(), c('ref_bind_log_odds')))")
    r.source(str(REF_R))
    assert bool(r("exists('ref_bind_log_odds')")[0])
    assert not bool(r("exists('dat')")[0])


# ---------------------------------------------------------------- formula by hand


def test_hand_computed_uninformative():
    # set A: x=1, y=3; set B: x=2, y=2; alpha = 1 -> pseudo counts A: 2, 4; B: 3, 3
    df = pd.DataFrame({"s": ["A", "A", "B", "B"], "w": ["x", "y", "x", "y"], "n": [1, 3, 2, 2]})
    got = weighted_log_odds(df, "s", "w", "n", uninformative=True, unweighted=True)
    # y_x = 5, y_y = 7, n_A = 6, n_B = 6, N = 12
    d_ax = math.log((2 / 4) / (5 / 7))
    z_ax = d_ax / math.sqrt(1 / 2 + 1 / 5)
    d_by = math.log((3 / 3) / (7 / 5))
    z_by = d_by / math.sqrt(1 / 3 + 1 / 7)
    assert got["log_odds"].iloc[0] == pytest.approx(d_ax, abs=1e-12)
    assert got["log_odds_weighted"].iloc[0] == pytest.approx(z_ax, abs=1e-12)
    assert got["log_odds_weighted"].iloc[3] == pytest.approx(z_by, abs=1e-12)


def test_hand_computed_informative():
    # alpha_w = feature totals: x -> 3, y -> 5. pseudo A: 4, 8; B: 5, 7
    df = pd.DataFrame({"s": ["A", "A", "B", "B"], "w": ["x", "y", "x", "y"], "n": [1, 3, 2, 2]})
    got = weighted_log_odds(df, "s", "w", "n", unweighted=True)
    # y_x = 9, y_y = 15, n_A = 12, n_B = 12, N = 24
    d_ay = math.log(8 / 4) - math.log(15 / 9)
    assert got["log_odds"].iloc[1] == pytest.approx(d_ay, abs=1e-12)
    assert got["log_odds_weighted"].iloc[1] == pytest.approx(
        d_ay / math.sqrt(1 / 8 + 1 / 15), abs=1e-12
    )


@pytest.mark.parametrize("uninformative", [False, True])
def test_matches_loop_formula(uninformative):
    df = _random_counts(seed=5, n_groups=4, n_feat=25, keep=0.6)
    rows = list(df.itertuples(index=False, name=None))
    want = np.array(_loop_tidylo(rows, uninformative))
    got = weighted_log_odds(df, "grp", "feat", "n", uninformative, unweighted=True)
    np.testing.assert_allclose(got["log_odds"], want[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["log_odds_weighted"], want[:, 1], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- properties


@given(df=count_tables(), uninformative=st.booleans(), seed=st.integers(0, 2**16))
def test_row_order_invariant(df, uninformative, seed):
    a = weighted_log_odds(df, "grp", "feat", "n", uninformative, True)
    shuffled = df.sample(frac=1.0, random_state=seed)
    b = weighted_log_odds(shuffled, "grp", "feat", "n", uninformative, True)
    assert (b.index == shuffled.index).all()  # rows stay where they were given
    b = b.loc[a.index]
    for col in ("log_odds", "log_odds_weighted"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-12, atol=1e-12)


@given(
    counts=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=8),
    uninformative=st.booleans(),
)
def test_two_groups_swap_and_opposite_signs(counts, uninformative):
    """Two complete sets A and B.

    What holds for tidylo's whole-corpus comparison:
    * swapping A's and B's counts swaps the results (A gets B's value and vice versa);
    * per feature, A and B lie on opposite sides of the pooled odds, so the signs are
      opposite (delta_A * delta_B <= 0) -- but they are NOT exact negatives in general;
    * with equal counts in both sets every value is 0.
    """
    assume(sum(a + b for a, b in counts) > 0)
    nw = len(counts)
    feats = [f"w{i}" for i in range(nw)]
    n_a, n_b = [a for a, _ in counts], [b for _, b in counts]
    df = pd.DataFrame({"s": ["A"] * nw + ["B"] * nw, "w": feats * 2, "n": n_a + n_b})
    swapped = df.assign(n=n_b + n_a)
    r1 = weighted_log_odds(df, "s", "w", "n", uninformative, True)
    r2 = weighted_log_odds(swapped, "s", "w", "n", uninformative, True)
    z1 = r1["log_odds_weighted"].to_numpy().reshape(2, nw)
    z2 = r2["log_odds_weighted"].to_numpy().reshape(2, nw)
    np.testing.assert_allclose(z2[::-1], z1, atol=1e-12)
    d = r1["log_odds"].to_numpy().reshape(2, nw)
    finite = np.isfinite(d).all(axis=0)
    assert (d[0, finite] * d[1, finite] <= 1e-12).all()
    if sum(n_a) == 0:  # all-zero counts are an error (issue 8 item 12)
        return
    same = df.assign(n=n_a * 2)
    r3 = weighted_log_odds(same, "s", "w", "n", uninformative)
    fin = np.isfinite(r3["log_odds_weighted"])
    np.testing.assert_allclose(r3.loc[fin, "log_odds_weighted"], 0.0, atol=1e-12)


def test_not_antisymmetric_with_unequal_totals():
    # documents the difference from MCQ's group-vs-others: magnitudes differ
    df = pd.DataFrame({"s": ["A", "A", "B", "B"], "w": ["x", "y", "x", "y"], "n": [10, 2, 1, 30]})
    z = weighted_log_odds(df, "s", "w", "n")["log_odds_weighted"].to_numpy()
    assert z[0] > 0 > z[2]
    assert abs(z[0] + z[2]) > 0.1


def test_zero_rows_change_results():
    # the prior is added once per row present: a zero-count row changes every result
    df = pd.DataFrame({"s": ["A", "A", "B"], "w": ["x", "y", "x"], "n": [4, 6, 5]})
    full = pd.concat([df, pd.DataFrame({"s": ["B"], "w": ["y"], "n": [0]})], ignore_index=True)
    for uninf in (False, True):
        a = weighted_log_odds(df, "s", "w", "n", uninformative=uninf)["log_odds_weighted"]
        b = weighted_log_odds(full, "s", "w", "n", uninformative=uninf)["log_odds_weighted"]
        assert not np.allclose(a.to_numpy(), b.iloc[:3].to_numpy())


def test_does_not_mutate_and_keeps_index():
    df = _random_counts(seed=1, n_groups=3, n_feat=10)
    df.index = df.index + 100
    before = df.copy()
    out = weighted_log_odds(df, "grp", "feat", "n")
    pd.testing.assert_frame_equal(df, before)
    assert (out.index == df.index).all()
    assert list(out.columns) == [*df.columns, "log_odds_weighted"]


def test_large_input_is_vectorized():
    rng = np.random.default_rng(0)
    ng, nw = 20, 10_000
    df = pd.DataFrame(
        {
            "grp": np.repeat([f"g{i}" for i in range(ng)], nw),
            "feat": np.tile([f"w{j}" for j in range(nw)], ng),
            "n": rng.poisson(3.0, ng * nw) + 1,
        }
    )
    import time

    t0 = time.perf_counter()
    out = weighted_log_odds(df, "grp", "feat", "n")
    assert time.perf_counter() - t0 < 5.0  # generous; the benchmark measures properly
    assert np.isfinite(out["log_odds_weighted"]).all()


def test_missing_column_raises():
    df = pd.DataFrame({"s": ["A"], "w": ["x"], "n": [1]})
    with pytest.raises(KeyError, match="cnt"):
        weighted_log_odds(df, "s", "w", "cnt")


# ---------------------------------------------------------------- Monroe et al. 2008


def _loop_mcq(df, alpha0, prior=None):
    """MCQ (2008) eqs. (16)-(22), group vs all others, with plain Python loops."""
    y = defaultdict(float)
    groups, feats = [], []
    for g, w, n in df.itertuples(index=False, name=None):
        y[g, w] += n
        if g not in groups:
            groups.append(g)
        if w not in feats:
            feats.append(w)
    total_w = {w: sum(y[g, w] for g in groups) for w in feats}
    base = prior if prior is not None else total_w
    z = sum(base[w] for w in feats)
    alpha = {w: alpha0 * base[w] / z for w in feats}
    a0 = sum(alpha.values())
    res = {}
    for g in groups:
        n_i = sum(y[g, w] for w in feats)
        n_j = sum(y[h, w] for h in groups if h != g for w in feats)
        for w in feats:
            yi = y[g, w]
            yj = sum(y[h, w] for h in groups if h != g)
            d = math.log((yi + alpha[w]) / (n_i + a0 - yi - alpha[w])) - math.log(
                (yj + alpha[w]) / (n_j + a0 - yj - alpha[w])
            )
            v = 1 / (yi + alpha[w]) + 1 / (yj + alpha[w])
            res[g, w] = (d, v, d / math.sqrt(v))
    return res


@pytest.mark.parametrize("alpha0", [0.5, 500.0, 10_000.0])
def test_dirichlet_matches_loop(alpha0):
    df = _random_counts(seed=7, n_groups=4, n_feat=20, keep=0.6)
    want = _loop_mcq(df, alpha0)
    got = log_odds_dirichlet(df, "grp", "feat", "n", alpha0=alpha0)
    assert list(got.columns) == ["grp", "feat", "n", "delta", "variance", "zeta"]
    assert len(got) == df["grp"].nunique() * df["feat"].nunique()
    for row in got.itertuples(index=False):
        d, v, z = want[row.grp, row.feat]
        assert row.delta == pytest.approx(d, rel=1e-10, abs=1e-12)
        assert row.variance == pytest.approx(v, rel=1e-10)
        assert row.zeta == pytest.approx(z, rel=1e-10, abs=1e-12)


def test_dirichlet_user_prior():
    df = _random_counts(seed=8, n_groups=3, n_feat=12)
    feats = sorted(df["feat"].unique())
    background = {w: float(i + 1) for i, w in enumerate(feats)}
    want = _loop_mcq(df, 50.0, prior=background)
    got = log_odds_dirichlet(df, "grp", "feat", "n", prior=background, alpha0=50.0)
    for row in got.itertuples(index=False):
        assert row.zeta == pytest.approx(want[row.grp, row.feat][2], rel=1e-10, abs=1e-12)
    with pytest.raises(ValueError, match="prior lacks"):
        log_odds_dirichlet(df, "grp", "feat", "n", prior={feats[0]: 1.0})


def test_dirichlet_complete_flag_and_duplicates():
    df = pd.DataFrame({"g": ["A", "A", "B", "A"], "w": ["x", "y", "x", "x"], "n": [1, 2, 3, 4]})
    full = log_odds_dirichlet(df, "g", "w", "n")
    part = log_odds_dirichlet(df, "g", "w", "n", complete=False)
    assert len(full) == 4 and len(part) == 3
    assert full.set_index(["g", "w"]).loc[("A", "x"), "n"] == 5  # duplicates summed
    assert full.set_index(["g", "w"]).loc[("B", "y"), "n"] == 0
    # adding explicit zero rows does not change anything (unlike tidylo)
    z = pd.concat([df, pd.DataFrame({"g": ["B"], "w": ["y"], "n": [0]})], ignore_index=True)
    np.testing.assert_allclose(log_odds_dirichlet(z, "g", "w", "n")["zeta"], full["zeta"])


@given(df=count_tables(min_groups=2, max_groups=2), alpha0=st.floats(0.1, 1e4))
def test_dirichlet_two_groups_antisymmetric(df, alpha0):
    out = log_odds_dirichlet(df, "grp", "feat", "n", alpha0=alpha0)
    wide = out.pivot(index="feat", columns="grp", values="zeta")
    np.testing.assert_allclose(wide["g0"], -wide["g1"], rtol=1e-9, atol=1e-9)
    dw = out.pivot(index="feat", columns="grp", values="variance")
    np.testing.assert_allclose(dw["g0"], dw["g1"], rtol=1e-12)


def test_dirichlet_needs_two_groups():
    df = pd.DataFrame({"g": ["A", "A"], "w": ["x", "y"], "n": [1, 2]})
    with pytest.raises(ValueError, match="two groups"):
        log_odds_dirichlet(df, "g", "w", "n")


# --------------------------------------------------- counts must be valid (issue 8 item 12)

_GOOD = pd.DataFrame({"grp": ["a", "a", "b", "b"], "feat": ["x", "y", "x", "y"], "n": [4, 3, 2, 1]})


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (-1, "negative"),
        (np.nan, "missing"),
        (np.inf, "infinite"),
        (1.5, "whole number"),
        ("many", "not a number"),
    ],
)
@pytest.mark.parametrize("fn", [weighted_log_odds, log_odds_dirichlet])
def test_invalid_counts_raise(fn, bad, needle):
    df = _GOOD.astype({"n": object})
    df.loc[2, "n"] = bad
    with pytest.raises(ValueError, match=rf"count column 'n': the count at row 2.*{needle}"):
        fn(df, "grp", "feat", "n")


@pytest.mark.parametrize("fn", [weighted_log_odds, log_odds_dirichlet])
def test_all_zero_counts_raise(fn):
    with pytest.raises(ValueError, match="all counts are zero"):
        fn(_GOOD.assign(n=0), "grp", "feat", "n")


@given(
    counts=st.lists(st.integers(0, 50), min_size=4, max_size=4),
    bad=st.sampled_from([-1, -7, np.nan, np.inf, -np.inf, 0.5, 2.25]),
    pos=st.integers(0, 3),
    method=st.sampled_from(["tidylo", "dirichlet"]),
)
def test_cli_rejects_invalid_counts(tmp_path_factory, counts, bad, pos, method):
    from click.testing import CliRunner

    from vsdstats.cli import main

    counts = [float(c) for c in counts]
    counts[pos] = bad
    p = tmp_path_factory.mktemp("lo") / "counts.csv"
    _GOOD.assign(n=counts).to_csv(p, index=False)
    args = ["stats", "logodds", str(p), "--group", "grp", "--feature", "feat", "--n", "n"]
    r = CliRunner().invoke(main, [*args, "--method", method])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("vsdstats stats logodds: error: count column 'n'")
    assert len(r.stderr.strip().splitlines()) == 1


# ------------------------------------- null distributions and the permutation test (issue 10)


def _grid(y: np.ndarray) -> pd.DataFrame:
    g, w = np.meshgrid(np.arange(y.shape[0]), np.arange(y.shape[1]), indexing="ij")
    return pd.DataFrame(
        {"grp": [f"g{i}" for i in g.ravel()], "feat": [f"w{j}" for j in w.ravel()], "n": y.ravel()}
    )


grids = st.integers(2, 4).flatmap(
    lambda ng: st.integers(2, 5).flatmap(
        lambda nw: st.lists(st.integers(0, 40), min_size=ng * nw, max_size=ng * nw).map(
            lambda v: np.array(v, dtype=np.int64).reshape(ng, nw)
        )
    )
)


@given(y=grids, alpha0=st.floats(0.5, 1e3))
def test_zeta_from_counts_equals_log_odds_dirichlet(y, alpha0):
    from vsdstats.stats.logodds import zeta_from_counts

    assume(y.sum() > 0 and (y.sum(axis=0) > 0).all())
    want = log_odds_dirichlet(_grid(y), "grp", "feat", "n", alpha0=alpha0)["zeta"].to_numpy()
    tot = y.sum(axis=0)
    got = zeta_from_counts(y, alpha0 * tot / tot.sum())
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-10, atol=1e-12, equal_nan=True)
    # vectorized over a leading axis: the same numbers for each stacked table
    np.testing.assert_allclose(zeta_from_counts(np.stack([y, y]), alpha0 * tot / tot.sum())[1], got)


@given(y=grids)
def test_tidylo_from_counts_equals_weighted_log_odds_on_the_grid(y):
    from vsdstats.stats.logodds import tidylo_from_counts

    assume(y.sum() > 0)
    want = weighted_log_odds(_grid(y), "grp", "feat", "n")["log_odds_weighted"].to_numpy()
    np.testing.assert_allclose(tidylo_from_counts(y).ravel(), want, rtol=1e-10, equal_nan=True)


@pytest.mark.needs_r
def test_tidylo_from_counts_matches_r_reference(ref):
    from vsdstats.stats.logodds import tidylo_from_counts

    y = np.random.default_rng(4).poisson(20, (4, 7))
    _, want = _r_log_odds(ref, _grid(y), False, False)
    np.testing.assert_allclose(
        tidylo_from_counts(y).ravel(), want["log_odds_weighted"], rtol=0, atol=1e-10
    )


def test_tidylo_null_sd_is_far_below_one():
    # the study's condition sizes, multinomial null: tidylo's weighted log-odds spreads
    # far less than a z-score (SD 0.04-0.4), MCQ's zeta about 1 for the large conditions
    from vsdstats.stats.calibration.pmi import tidylo_null_sd

    sd = tidylo_null_sd(reps=60, seed=3).set_index("condition")
    assert sd["tidylo_null_sd"].max() < 0.5
    assert sd.loc["intellectual", "tidylo_null_sd"] < 0.1
    assert (sd["tidylo_null_sd"].diff().dropna() < 0.02).all()  # shrinks with the size
    assert 0.85 < sd.loc["general", "zeta_null_sd"] < 1.15
    assert sd.loc["intellectual", "zeta_null_sd"] < 0.6


def _units(seed: int, n: int = 600, clustered: bool = False) -> pd.DataFrame:
    from vsdstats.stats.calibration.scenarios_codes import coded_units, unclustered_codes

    make = coded_units if clustered else unclustered_codes
    kw = {"n_authors": n // 5} if clustered else {}
    return make(np.random.default_rng(seed), n=n, **kw)


def test_permutation_columns_and_statistic():
    from vsdstats.stats.logodds import log_odds_permutation

    units = _units(1)
    got = log_odds_permutation(units, "condition", "perspective", permutations=49, seed=2)
    assert list(got.columns) == [
        "condition", "perspective", "n", "zeta", "null_mean", "null_sd", "p_value", "p_value_adj"
    ]  # fmt: skip
    counts = units.groupby(["condition", "perspective"]).size().rename("n").reset_index()
    mcq = log_odds_dirichlet(counts, "condition", "perspective", "n")
    m = got.merge(mcq, on=["condition", "perspective"], suffixes=("", "_mcq"))
    assert len(m) == len(got)
    np.testing.assert_allclose(m["zeta"], m["zeta_mcq"], rtol=1e-10)
    assert (m["n"] == m["n_mcq"]).all()
    assert got["p_value"].between(1 / 50, 1).all()
    assert (got["p_value_adj"] >= got["p_value"] - 1e-12).all()  # maxT never below
    assert got.attrs["permutations"] == 49 and got.attrs["statistic"] == "zeta"
    t = log_odds_permutation(
        units, "condition", "perspective", statistic="log_odds_weighted", permutations=49, seed=2
    )
    # not a z-score: 35% of the units in the largest group gives SD ~ sqrt(.35 / 1.35)
    assert "log_odds_weighted" in t.columns and t["null_sd"].max() < 0.75
    again = log_odds_permutation(units, "condition", "perspective", permutations=49, seed=2)
    pd.testing.assert_frame_equal(got, again)


def test_permutation_finds_a_planted_effect():
    from vsdstats.stats.calibration.scenarios_codes import coded_units
    from vsdstats.stats.logodds import log_odds_permutation

    units = coded_units(np.random.default_rng(3), n=4000, effect=1.0)
    got = log_odds_permutation(
        units, "condition", "perspective", cluster="author", permutations=99, seed=1
    ).set_index(["condition", "perspective"])
    assert got.loc[("stress", "instrumental"), "p_value_adj"] < 0.05


def test_permutation_rule_has_its_level_on_the_unclustered_null():
    # per-cell p < 0.05 over 30 null data sets x the cells with >= 20 units: about 5%
    from vsdstats.stats.logodds import log_odds_permutation

    p = []
    for i in range(30):
        t = log_odds_permutation(
            _units(100 + i, n=3000), "condition", "perspective", permutations=99, seed=i
        )
        p.append(t.loc[t["n"] >= 20, "p_value"].to_numpy())
    rate = np.mean(np.concatenate(p) < 0.05)
    assert 0.03 < rate < 0.075


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"statistic": "z"}, "statistic"),
        ({"permutations": 0}, "permutations"),
        ({"alpha0": -1.0}, "alpha0"),
        ({"adjust": "sidak"}, "adjust"),
    ],
)
def test_permutation_bad_options(kw, match):
    from vsdstats.errors import InputError
    from vsdstats.stats.logodds import log_odds_permutation

    with pytest.raises(InputError, match=match):
        log_odds_permutation(_units(2, n=100), "condition", "perspective", **kw)


def test_calibration_module_runs():
    from vsdstats.stats.calibration import COLUMNS
    from vsdstats.stats.calibration import pmi as cal

    table = cal.run(reps=2, seed=1, B=19)
    assert list(table.columns) == COLUMNS
    assert set(table["check"]) == {cal.CHECK_PMI, cal.CHECK_LO}
    assert set(table["scenario"]) == set(cal._SCENARIOS)
    defaults = table[
        table["method"].str.contains("default") & (table["scenario"] == "clustered null")
    ]
    assert (defaults["target"] == "<= 0.07").all() and len(defaults) == 2
    assert table.loc[table["method"].str.startswith("naive"), "target"].eq("").all()
