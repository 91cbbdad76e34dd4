"""chisq_clustered (Rao-Scott) against R survey::svychisq, and by its properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vsdstats.errors import InputError
from vsdstats.stats import cell_tests, chisq_clustered, chisq_independence, crosstab
from vsdstats.stats.clustered import cell_tests_clustered

REF = Path(__file__).resolve().parents[1] / "R" / "ref_survey.R"


def _clustered(seed: int, n_clusters: int = 60, per: int = 8, r: int = 3, c: int = 3):
    """Units nested in clusters with cluster-level tendencies (a clustered null)."""
    rng = np.random.default_rng(seed)
    rows, cols, cl = [], [], []
    for k in range(n_clusters):
        m = int(rng.integers(1, per * 2))
        pr = rng.dirichlet(np.ones(r) * 0.7)
        pc = rng.dirichlet(np.ones(c) * 0.7)
        rows += list(rng.choice(r, m, p=pr))
        cols += list(rng.choice(c, m, p=pc))
        cl += [f"a{k}"] * m
    return pd.DataFrame(
        {"row": [f"r{i}" for i in rows], "col": [f"c{j}" for j in cols], "author": cl}
    )


@pytest.mark.parametrize(("seed", "rows", "cols"), [(1, 3, 3), (2, 3, 3), (3, 3, 3), (5, 11, 13)])
def test_matches_r_survey_svychisq(r, seed, rows, cols):
    from rpy2 import robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    # 11 x 13: the cell index r * j overflowed int8 Categorical codes before (r * 12 > 127)
    units = _clustered(seed, n_clusters=200 if rows > 3 else 60, r=rows, c=cols)
    r["source"](str(REF))
    with localconverter(ro.default_converter + pandas2ri.converter):
        ref = ro.conversion.rpy2py(r["ref_svychisq"](units, "row", "col", "author"))
    got = chisq_clustered(units, "row", "col", "author").iloc[0]
    for ours, theirs in (("statistic", "statistic"), ("df1", "df1"), ("df2", "df2")):
        assert got[ours] == pytest.approx(float(ref[theirs].iloc[0]), rel=1e-9)
    assert got["p_value"] == pytest.approx(float(ref["p_value"].iloc[0]), rel=1e-8)


def test_the_naive_test_is_alongside():
    units = _clustered(4)
    got = chisq_clustered(units, "row", "col", "author").iloc[0]
    naive = chisq_independence(crosstab(units, "row", "col"))
    assert got["pearson_statistic"] == pytest.approx(naive.statistic)
    assert got["pearson_p_value"] == pytest.approx(naive.p_value)
    assert got["n"] == len(units) and got["n_clusters"] == units["author"].nunique()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 4))
def test_one_unit_per_cluster_has_design_effect_n_over_n_minus_1(seed, r, c):
    rng = np.random.default_rng(seed)
    n = 120
    units = pd.DataFrame(
        {"row": rng.integers(0, r, n), "col": rng.integers(0, c, n), "id": np.arange(n)}
    )
    got = chisq_clustered(units, "row", "col", "id").iloc[0]
    rr, cc = units["row"].nunique(), units["col"].nunique()
    if rr < 2 or cc < 2:
        return
    assert got["mean_deff"] == pytest.approx(n / (n - 1), rel=1e-9)
    assert got["df1"] == pytest.approx((rr - 1) * (cc - 1), rel=1e-9)


def test_duplicating_every_unit_in_its_cluster_doubles_the_design_effect():
    base = _clustered(5).assign(author=lambda d: [f"u{i}" for i in range(len(d))])
    twice = pd.concat([base, base], ignore_index=True)
    one = chisq_clustered(base, "row", "col", "author").iloc[0]
    two = chisq_clustered(twice, "row", "col", "author").iloc[0]
    assert two["mean_deff"] == pytest.approx(2 * one["mean_deff"], rel=1e-9)
    assert two["statistic"] == pytest.approx(one["statistic"], rel=1e-9)  # no new information


def test_missing_values_are_counted_and_bad_input_is_refused():
    units = _clustered(6)
    units.loc[:4, "author"] = None
    assert chisq_clustered(units, "row", "col", "author")["n_dropped_missing"].iloc[0] == 5
    with pytest.raises(InputError, match="no column"):
        chisq_clustered(units, "row", "nope", "author")
    with pytest.raises(InputError, match="at least 2 clusters"):
        chisq_clustered(units.assign(author="one"), "row", "col", "author")


def _clustered_null(seed, n_authors=300, n=1500, r=5, c=3, sd=0.7, stick=0.75):
    """No row x col association; authors have their own col tendency (logit SD ``sd``)
    and write ``stick`` of their units about one row (the issue's clustered null)."""
    rng = np.random.default_rng(seed)
    author = rng.integers(0, n_authors, n)
    home = rng.integers(0, r, n_authors)
    row = np.where(rng.random(n) < stick, home[author], rng.integers(0, r, n))
    p = np.exp(rng.normal(0, sd, (n_authors, c))[author])
    p /= p.sum(axis=1, keepdims=True)
    col = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return pd.DataFrame({"row": row, "col": col, "author": author})


def test_rao_scott_holds_its_level_on_a_clustered_null_where_pearson_does_not():
    reps = 400
    res = pd.concat(
        [chisq_clustered(_clustered_null(s), "row", "col", "author") for s in range(reps)]
    )
    rao_scott = float((res["p_value"] < 0.05).mean())
    naive = float((res["pearson_p_value"] < 0.05).mean())
    assert 0.02 <= rao_scott <= 0.09, rao_scott  # 0.05 +- 3.5 binomial SDs
    assert naive >= 0.12, naive  # the naive test over-rejects this null
    assert float(res["mean_deff"].mean()) > 1.2


def test_cli_stats_chisq_cluster(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    units = _clustered(7)
    units.loc[0, "author"] = None
    path = tmp_path / "u.csv"
    units.to_csv(path, index=False)
    out = tmp_path / "t.csv"
    args = ["stats", "chisq", str(path), "--row", "row", "--col", "col", "--cluster", "author"]
    res = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).iloc[0]
    want = chisq_clustered(units.dropna(), "row", "col", "author").iloc[0]
    assert got["statistic"] == pytest.approx(want["statistic"])
    assert got["n_dropped_missing"] == 1
    bad = CliRunner().invoke(main, [*args, "--simulate"])
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1
    res = CliRunner().invoke(main, [*args, "--bootstrap", "--B", "300", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).iloc[0]
    want = chisq_clustered(units.dropna(), "row", "col", "author", method="bootstrap", B=300)
    assert got["p_value"] == pytest.approx(want["p_value"].iloc[0]) and got["B"] == 300
    bad = CliRunner().invoke(main, [*args[:-2], "--bootstrap"])
    assert bad.exit_code != 0 and "--cluster" in bad.stderr
    res = CliRunner().invoke(main, [*args, "--cells", "-o", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    cells = pd.read_csv(tmp_path / "c.csv")
    want = cell_tests_clustered(units.dropna(), "row", "col", "author")
    np.testing.assert_allclose(cells["z"], want["z"])


def test_cell_tests_for_independent_units_approach_the_adjusted_residuals():
    rng = np.random.default_rng(11)
    n = 6000
    units = pd.DataFrame(
        {"row": rng.integers(0, 3, n), "col": rng.integers(0, 3, n), "id": np.arange(n)}
    )
    units.loc[units.index[:300], "col"] = 0  # some association, so residuals are not ~0
    got = cell_tests_clustered(units, "row", "col", "id")
    naive = cell_tests(chisq_independence(crosstab(units, "row", "col")))
    np.testing.assert_allclose(got["adjusted_residual"], naive["adjusted_residual"])
    np.testing.assert_allclose(got["z"], got["adjusted_residual"], rtol=0.1, atol=0.15)
    assert got["observed"].sum() == n


def test_cell_tests_duplicated_units_double_the_design_effect_and_keep_z():
    base = _clustered(8)
    twice = pd.concat([base, base], ignore_index=True)
    one = cell_tests_clustered(base, "row", "col", "author")
    two = cell_tests_clustered(twice, "row", "col", "author")
    np.testing.assert_allclose(two["z"], one["z"], rtol=1e-9)
    np.testing.assert_allclose(two["deff"], 2 * one["deff"], rtol=1e-9)


def test_holm_cell_tests_hold_the_familywise_level_on_the_clustered_null():
    reps = 300
    robust = naive = 0
    for s in range(reps):
        units = _clustered_null(s)
        robust += bool(cell_tests_clustered(units, "row", "col", "author")["significant"].any())
        naive += bool(
            cell_tests(chisq_independence(crosstab(units, "row", "col"), simulate=False))[
                "significant"
            ].any()
        )
    assert robust / reps <= 0.08, robust / reps
    assert naive / reps > robust / reps + 0.04, (naive / reps, robust / reps)


def test_bootstrap_for_independent_units_approaches_the_pearson_p_value():
    rng = np.random.default_rng(12)
    n = 3000
    units = pd.DataFrame(
        {"row": rng.integers(0, 3, n), "col": rng.integers(0, 3, n), "id": np.arange(n)}
    )
    units.loc[units.index[:60], "col"] = 0  # a modest association
    got = chisq_clustered(units, "row", "col", "id", method="bootstrap", B=4000).iloc[0]
    assert got["statistic"] == pytest.approx(got["pearson_statistic"])
    # Monte-Carlo se of p at B = 4000 is <= 0.008; allow the asymptotics some room too
    assert got["p_value"] == pytest.approx(got["pearson_p_value"], abs=0.03)
    assert got["B"] == 4000 and got["seed"] == 2026 and got["method"].startswith("cluster boot")


def test_bootstrap_is_seeded_and_agrees_with_rao_scott_on_clustered_data():
    units = _clustered_null(3)
    a = chisq_clustered(units, "row", "col", "author", method="bootstrap", seed=1)
    b = chisq_clustered(units, "row", "col", "author", method="bootstrap", seed=1)
    pd.testing.assert_frame_equal(a, b)
    ps = []
    for s in range(8):
        u = _clustered_null(100 + s)
        u.loc[u.index[:150], "col"] = 0  # some association so p-values spread out
        boot = chisq_clustered(u, "row", "col", "author", method="bootstrap", B=1000)
        rs = chisq_clustered(u, "row", "col", "author")
        ps.append((float(boot["p_value"].iloc[0]), float(rs["p_value"].iloc[0])))
    boot_p, rs_p = np.array(ps).T
    assert np.abs(np.log10(boot_p + 1e-3) - np.log10(rs_p + 1e-3)).max() < 0.5, ps
    with pytest.raises(InputError, match="method 'wald'"):
        chisq_clustered(units, "row", "col", "author", method="wald")


def test_bootstrap_holds_its_level_on_the_clustered_null():
    reps = 120
    rejections = sum(
        float(
            chisq_clustered(
                _clustered_null(s), "row", "col", "author", method="bootstrap", B=300, seed=s
            )["p_value"].iloc[0]
        )
        < 0.05
        for s in range(reps)
    )
    assert rejections / reps <= 0.11, rejections / reps  # 0.05 + ~3 binomial SDs


def test_an_empty_cell_gives_a_finite_test_with_a_note_where_svychisq_stops():
    """A cell without units (p_ij = 0) made the design-effect system singular (R's
    svychisq: "system is exactly singular"); the generalized inverse is used instead
    and said so; removing the empty cell's row gives the same test on the rest."""
    units = _clustered(7, n_clusters=80, r=3, c=3)
    # two small rows with units in one column only (as a rare condition has)
    extra = pd.DataFrame([("r3", "c0", "x1"), ("r4", "c0", "x2")], columns=["row", "col", "author"])
    units = pd.concat([units, extra], ignore_index=True)
    got = chisq_clustered(units, "row", "col", "author").iloc[0]
    assert np.isfinite(got["statistic"]) and 0 < got["p_value"] <= 1
    assert "generalized inverse" in got["note"]
    assert chisq_clustered(_clustered(7), "row", "col", "author").iloc[0]["note"] == ""
