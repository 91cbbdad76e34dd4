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


# ------------------------------------------- rows dropped for missing values (issue 8 item 4)


def _with_missing(df: pd.DataFrame, col: str, rows: list[int]) -> pd.DataFrame:
    out = df.copy()
    out.loc[rows, col] = None
    return out


def test_chisq_reports_rows_dropped_for_missing(units_csv, tmp_path):
    _, df = units_csv
    df = _with_missing(_with_missing(df, "condition", [0, 5]), "sentiment", [5, 9, 11])
    path = tmp_path / "miss.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "chisq.csv"
    args = ["stats", "chisq", str(path), "--row", "condition", "--col", "sentiment"]
    r = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (
        f"vsdstats stats chisq: note: dropped 4 of {len(df)} rows with a missing condition "
        "or sentiment (condition: 2, sentiment: 3)"
    ) in r.stderr
    got = pd.read_csv(out)
    assert got["n_dropped_missing"].iloc[0] == 4
    complete = df.dropna(subset=["condition", "sentiment"])
    assert got["n"].iloc[0] == len(complete)
    ref = ss.chi2_contingency(
        pd.crosstab(complete.condition, complete.sentiment).to_numpy(), correction=False
    )
    assert got["statistic"].iloc[0] == pytest.approx(ref.statistic, rel=1e-12)


@pytest.mark.parametrize(
    ("command", "missing_col", "extra"),
    [
        ("crosstab", "condition", ["--row", "condition", "--col", "sentiment"]),
        ("logodds", "perspective", ["--group", "condition", "--feature", "perspective"]),
        ("pmi", "perspective", ["--a", "condition", "--b", "perspective"]),
        ("means", "sentiment", ["--by", "condition"]),
    ],
)
def test_stats_commands_report_dropped_rows(units_csv, tmp_path, command, missing_col, extra):
    _, df = units_csv
    df = _with_missing(df, missing_col, [1, 2, 3])
    path = tmp_path / "miss.csv"
    df.to_csv(path, index=False)
    r = CliRunner().invoke(main, ["stats", command, str(path), *extra])
    assert r.exit_code == 0, r.output
    assert f"vsdstats stats {command}: note: dropped 3 of {len(df)} rows with a missing" in (
        r.stderr
    )
    assert f"{missing_col}: 3" in r.stderr


def test_means_counts_missing_scores_per_group(units_csv, tmp_path):
    _, df = units_csv
    df = _with_missing(df, "sentiment", [0, 1, 2])
    path, out = tmp_path / "miss.csv", tmp_path / "means.csv"
    df.to_csv(path, index=False)
    r = CliRunner().invoke(main, ["stats", "means", str(path), "--by", "condition", "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out).set_index("condition")
    expect = df["sentiment"].isna().groupby(df["condition"]).sum()
    assert got["n_missing"].to_dict() == expect.to_dict()
    assert (got["n"] + got["n_missing"]).to_dict() == df.groupby("condition").size().to_dict()


def test_agreement_notes_items_not_compared(tmp_path):
    gold = pd.DataFrame({"post_id": ["p1", "p2", "p3"], "sentiment": ["positive", None, "neutral"]})
    coded = pd.DataFrame({"post_id": ["p1", "p2", "p4"], "sentiment": ["positive", "neutral", "x"]})
    gold.to_csv(tmp_path / "gold.csv", index=False)
    coded.to_csv(tmp_path / "coded.csv", index=False)
    r = CliRunner().invoke(
        main, ["stats", "agreement", str(tmp_path / "gold.csv"), str(tmp_path / "coded.csv")]
    )
    assert r.exit_code == 0, r.output
    # the gold sample is p1 and p3 (p2 has no gold label): p3 is labelled in gold only;
    # p2 and p4 are outside the sample, not disagreements (validate's rule, issue 13)
    assert "sentiment: compared 1 items; not compared: 1 labelled only in" in r.stderr
    assert ", 0 only in" in r.stderr and "2 coded items of" in r.stderr


# --------------------------------------------- output formats by extension (issue 8 item 15)


@pytest.mark.parametrize(
    ("ext", "read"),
    [
        (".csv", pd.read_csv),
        (".tsv", lambda p: pd.read_csv(p, sep="\t")),
        (".json", pd.read_json),
        (".jsonl", lambda p: pd.read_json(p, lines=True)),
        (".parquet", pd.read_parquet),
        (".xlsx", lambda p: pd.read_excel(p, engine="openpyxl")),
    ],
)
def test_out_writes_the_format_its_extension_names(units_csv, tmp_path, ext, read):
    path, df = units_csv
    out = tmp_path / f"table{ext}"
    args = ["stats", "crosstab", str(path), "--row", "condition", "--col", "sentiment"]
    r = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = read(out).set_index("condition")
    ref = pd.crosstab(df.condition, df.sentiment)
    assert got.loc[ref.index, list(ref.columns)].to_numpy().tolist() == ref.to_numpy().tolist()
    if ext == ".xlsx":
        assert out.read_bytes()[:2] == b"PK"  # a zip container, not CSV text


@pytest.mark.parametrize("name", ["table.txt", "table.xls", "table"])
def test_out_refuses_unknown_extensions(units_csv, tmp_path, name):
    path, _ = units_csv
    args = ["stats", "crosstab", str(path), "--row", "condition", "--col", "sentiment"]
    r = CliRunner().invoke(main, [*args, "-o", str(tmp_path / name)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vsdstats stats crosstab: error: ")
    assert ".csv" in lines[0] and ".xlsx" in lines[0] and ".md" in lines[0]
    assert not (tmp_path / name).exists()


# ------------------------------------------------ markdown is escaped (issue 8 item 14)


def test_markdown_output_escapes_html_and_markup(tmp_path):
    import markdown_it  # CommonMark renderer used only to check what a reader would see

    labels = ["<b>bold</b>", "a|b", "*em*", "[x](http://e.example)", "<10", "p_q"]
    df = pd.DataFrame({"condition": labels, "sentiment": ["positive"] * len(labels)})
    path, out = tmp_path / "t.csv", tmp_path / "t.md"
    df.to_csv(path, index=False)
    args = ["stats", "crosstab", str(path), "--row", "condition", "--col", "sentiment"]
    r = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert r.exit_code == 0, r.output
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(out.read_text())
    assert "<b>" not in html and "<em>" not in html and "<a " not in html
    assert html.count("<tr>") == 1 + len(labels)  # "a|b" did not split a cell
    for lab in ["&lt;b&gt;bold&lt;/b&gt;", "a|b", "*em*", "[x](http://e.example)", "&lt;10"]:
        assert f"<td>{lab}</td>" in html


def test_paper_markdown_tables_escape_html():
    import markdown_it

    from vsdstats.paper.render import PublishedTable, to_markdown

    frame = pd.DataFrame({"Group": ["<b>x</b>", "*y*"], "N": ["<10", "12"]})
    t = PublishedTable(name="t", caption="<i>cap</i>", frame=frame, notes=["<script>n</script>"])
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(to_markdown(t))
    for tag in ("<b>", "<i>", "<script>", "<em>"):
        assert tag not in html
    assert '<td style="text-align:right">&lt;10</td>' in html and "<td>*y*</td>" in html
