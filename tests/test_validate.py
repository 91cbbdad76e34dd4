"""`vsdstats validate` and `vsdstats sample`."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.compare import run_validate
from vsdstats.validate.gold import read_imhi
from vsdstats.validate.sample import allocate, stratified_sample

CB = load_codebook()


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ------------------------------------------------------------------ DR.csv (real data)
@pytest.fixture(scope="module")
def dr(shared_dir):
    return shared_dir / "fixtures" / "corpora" / "DR.csv"


def test_dr_report(dr, tmp_path):
    raw = pd.read_csv(dr)
    imhi = read_imhi(raw, CB)
    n_ok = imhi.n_rows - len(imhi.unparsed)
    assert imhi.field == "condition:depressive" and n_ok > 0
    assert set(imhi.gold[imhi.field]) <= {"yes", "no"}
    assert imhi.posts["text"].str.len().gt(0).all()

    out = tmp_path / "dr.md"
    r = _run(
        "validate",
        str(dr),
        "baseline",
        "--no-baseline-gate",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(tmp_path / "dr.summary.csv")
    row = summary.set_index("field").loc["condition:depressive"]
    assert row["n"] == n_ok
    assert math.isfinite(row["cohen_kappa"]) and -1 <= row["cohen_kappa"] <= 1
    # the worked example's alpha with its seeded bootstrap interval (issue 13)
    alpha = row["krippendorff_alpha"]
    assert row["alpha_ci_low"] < alpha < row["alpha_ci_high"]
    assert row["alpha_ci_high"] - row["alpha_ci_low"] < 0.5
    md = out.read_text()
    assert "## Confusion: condition:depressive" in md and f"unparseable {len(imhi.unparsed)}" in md
    conf = pd.read_csv(tmp_path / "dr.confusion.csv")
    assert conf["n"].sum() == n_ok


def test_imhi_unparseable_rows_counted():
    df = pd.DataFrame(
        {
            "query": [
                'Consider this post: "I feel "low" and depressed." Question: Does the poster '
                "suffer from depression?",
                "garbage",
                'Consider this post: "fine day" Question: Does the poster suffer from depression?',
            ],
            "answer": ["Yes, the poster does.", "No.", "Maybe."],
        }
    )
    imhi = read_imhi(df, CB)
    assert imhi.posts["text"].tolist() == ['I feel "low" and depressed.']
    assert [r for r, _ in imhi.unparsed] == [2, 3]


# ------------------------------------------------------------------ synthetic gold/coded
def _gold_and_coded(tmp_path):
    gold = pd.DataFrame(
        {
            "post_id": ["1", "2", "3", "4", "5"],
            "text": ["t"] * 5,
            "relevant": ["yes", "yes", "no", "yes", None],
            "condition": ["depressive", "anxiety", None, "adhd", None],
            "sentiment": ["positive", "negative", None, "neutral", None],
        }
    )
    coded = pd.DataFrame(
        {
            "post_id": ["1", "1", "2", "9"],
            "unit_index": [1, 0, 0, 0],
            "condition": ["adhd", "depressive", "anxiety", "general"],
            "sentiment": ["negative", "positive", "positive", "neutral"],
        }
    )
    gold.to_csv(tmp_path / "gold.csv", index=False)
    study = tmp_path / "study"
    study.mkdir()
    coded.to_csv(study / "coded_units.csv", index=False)
    return tmp_path / "gold.csv", study


def test_validate_per_post_rule(tmp_path):
    gold, study = _gold_and_coded(tmp_path)
    v = run_validate(str(gold), str(study), fields=["relevant", "condition", "condition:adhd"])
    s = v.result.summary.set_index("field")
    assert v.n_posts == 4  # post 5 not coded by the human
    assert s.loc["relevant", "n"] == 4 and s.loc["relevant", "percent_agreement"] == 75.0
    # first unit (unit_index 0) of post 1 is depressive: posts 1, 2 agree; 4 has no units
    assert s.loc["condition", "n"] == 2 and s.loc["condition", "percent_agreement"] == 100.0
    # presence: post 1 has an adhd unit (gold: no), post 4 is adhd in gold (coded: no)
    assert s.loc["condition:adhd", "percent_agreement"] == 50.0


def test_validate_cli_prints_and_errors(tmp_path):
    gold, study = _gold_and_coded(tmp_path)
    r = _run("validate", str(gold), str(study))
    assert r.exit_code == 0 and "sentiment" in r.output and "condition" in r.output
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"post_id": ["1"], "relevant": ["perhaps"], "condition": ["adhd"]}).to_csv(
        bad, index=False
    )
    r = CliRunner().invoke(main, ["validate", str(bad), str(study)])
    assert r.exit_code == 2 and "'relevant' row 1" in r.output and "perhaps" in r.output
    r = CliRunner().invoke(main, ["validate", str(gold), str(tmp_path)])
    assert r.exit_code == 2 and "no coded_units.parquet or .csv" in r.output
    r = CliRunner().invoke(main, ["validate", "--gold", str(gold), "--coded", str(study)])
    assert r.exit_code == 0, r.output  # the old spelling, for one release
    assert "vsdstats validate compare: warning: --gold is deprecated" in r.stderr


# ------------------------------------------------------------------ sample
def test_allocate():
    assert allocate({"a": 80, "b": 15, "c": 5}, 10) == {"a": 8, "b": 1, "c": 1}
    assert allocate({"a": 80, "b": 15, "c": 5}, 2) == {"a": 1, "b": 1, "c": 0}
    assert allocate({"a": 3, "b": 1}, 10) == {"a": 3, "b": 1}
    assert sum(allocate({"a": 50, "b": 30, "c": 20}, 17).values()) == 17


def _posts(n=60):
    plats = ["reddit"] * 40 + ["x"] * 15 + ["bluesky"] * 5
    return pd.DataFrame(
        {
            "platform": plats[:n],
            "post_id": [f"p{i:03d}" for i in range(n)],
            "text": [f"synthetic post {i}" for i in range(n)],
        }
    )


def test_sample_strata_and_determinism(tmp_path):
    posts = _posts()
    a = stratified_sample(posts, 12, ["platform"], seed=7)
    b = stratified_sample(posts.sample(frac=1, random_state=3), 12, ["platform"], seed=7)
    c = stratified_sample(posts, 12, ["platform"], seed=8)
    assert a["post_id"].tolist() == b["post_id"].tolist()
    assert set(a["post_id"]) != set(c["post_id"])
    assert a["platform"].value_counts().to_dict() == {"reddit": 8, "x": 3, "bluesky": 1}
    assert a["post_id"].is_unique


def test_sample_cli_with_condition_from_units(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    posts = _posts()
    posts.to_csv(study / "posts.csv", index=False)
    units = pd.DataFrame(
        {"post_id": posts["post_id"][:30], "condition": ["adhd", "depressive"] * 15}
    )
    units.to_csv(study / "coded_units.csv", index=False)
    out = tmp_path / "sample"
    args = ["sample", str(study), "-n", "10", "--by", "platform,condition", "--seed", "1"]
    r = _run(*args, "--out", str(out))
    assert r.exit_code == 0, r.output
    sheet = pd.read_csv(out / "sheets" / "coder1.csv", keep_default_na=False, dtype=str)
    assert list(sheet.columns[:5]) == ["coder", "post_id", "platform", "text", "unit"]
    assert "stratum" not in sheet.columns and "pi" not in sheet.columns
    for c in (
        "relevant",
        "llm_product",
        "sentiment",
        "condition",
        "perspective",
        "value",
        "quote",
        "coder_notes",
    ):
        assert (sheet[c] == "").all()
    design = pd.read_csv(out / "design.csv", keep_default_na=False, dtype={"post_id": str})
    assert design["stratum"].nunique() == 5  # reddit|adhd, reddit|depressive, reddit|(no units)...
    assert set(design["post_id"]) == set(sheet["post_id"])
    readme = (out / "sheets" / "coder1.README.md").read_text()
    assert "`depressive`" in readme and "`emotional_support`" in readme
    r2 = _run(*args, "--out", str(tmp_path / "again"))
    assert r2.exit_code == 0
    for f in ("design.csv", "sheets/coder1.csv", "labelstudio/coder1.tasks.json"):
        assert (tmp_path / "again" / f).read_text() == (out / f).read_text()
    r3 = CliRunner().invoke(
        main,
        ["sample", str(study / "posts.csv"), "-n", "5", "--by", "language", "-o", str(out)],
    )
    assert r3.exit_code == 2 and "no column 'language'" in r3.output
