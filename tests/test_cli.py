"""The command line on small synthetic tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss
from click.testing import CliRunner

from vsdstats.cli import main


@pytest.fixture()
def units_csv(tmp_path):
    rng = np.random.default_rng(7)
    n = 600
    df = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n)],
            "condition": rng.choice(["adhd", "anxiety", "bipolar"], n),
            "sentiment": rng.choice(["positive", "neutral", "negative"], n),
            "perspective": rng.choice(["emotional_support", "dependency", "ethics"], n),
        }
    )
    p = tmp_path / "units.csv"
    df.to_csv(p, index=False)
    return p, df


def test_codebook_commands(tmp_path):
    r = CliRunner().invoke(main, ["codebook", "export", str(tmp_path / "cb.toml")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["codebook", "check", str(tmp_path / "cb.toml")])
    assert r.exit_code == 0 and "condition 11" in r.output
    (tmp_path / "bad.toml").write_text(
        (tmp_path / "cb.toml").read_text().replace("examples = ", "exemples = ", 1)
    )
    r = CliRunner().invoke(main, ["codebook", "check", str(tmp_path / "bad.toml")])
    assert r.exit_code == 2
    assert "bad.toml" in r.output and "dimensions.sentiment.categories[0].examples" in r.output


def test_chisq_command_matches_scipy(units_csv, tmp_path):
    path, df = units_csv
    out = tmp_path / "chisq.csv"
    r = CliRunner().invoke(
        main,
        ["stats", "chisq", str(path), "--row", "condition", "--col", "sentiment", "-o", str(out)],
    )
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out)
    ref = ss.chi2_contingency(pd.crosstab(df.condition, df.sentiment).to_numpy(), correction=False)
    assert got["statistic"].iloc[0] == pytest.approx(ref.statistic, rel=1e-12)
    assert got["dof"].iloc[0] == ref.dof


def test_missing_column_and_file_errors(units_csv, tmp_path):
    path, _ = units_csv
    r = CliRunner().invoke(
        main, ["stats", "chisq", str(path), "--row", "mood", "--col", "sentiment"]
    )
    assert r.exit_code == 2 and "no column(s) mood" in r.output
    r = CliRunner().invoke(
        main, ["stats", "crosstab", str(tmp_path / "x.csv"), "--row", "a", "--col", "b"]
    )
    assert r.exit_code == 2 and "no such file" in r.output


def test_logodds_counts_rows_when_no_n(units_csv, tmp_path):
    path, df = units_csv
    out = tmp_path / "lo.csv"
    r = CliRunner().invoke(
        main,
        [
            "stats",
            "logodds",
            str(path),
            "--group",
            "condition",
            "--feature",
            "perspective",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out)
    assert got["n"].sum() == len(df)
    assert np.isfinite(got["log_odds_weighted"]).all()
