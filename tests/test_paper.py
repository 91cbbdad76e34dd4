"""`vsdstats paper`: tables, hand-off files, figures, determinism, suppression, errors."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.paper.config import PaperError, load_study
from vsdstats.paper.figures import FIGURES
from vsdstats.paper.handoff import SCHEMA
from vsdstats.paper.inputs import load_units, validate_units
from vsdstats.paper.render import format_p, latex_escape
from vsdstats.paper.run import run_paper
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.paper.suppress import suppress_grid, suppress_mask
from vsdstats.tables.codebook import load_codebook

TABLES = ["table1_corpus", "table2_chisq", "table5_means", "table9_logodds", "table10_glmm"]
PSEUDONYM = re.compile(r"a_[0-9a-f]{24}")
N, K = 4000, 10

pytestmark = pytest.mark.needs_r


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("paper")
    one = run_paper(out=base / "one", n=N, seed=7, min_cell=K, log=lambda m: None)
    two = run_paper(out=base / "two", n=N, seed=7, min_cell=K, figures=False, log=lambda m: None)
    assert one.figure_error is None
    return one.out, two.out


def _files(root: Path, sub: str) -> list[str]:
    return sorted(p.name for p in (root / sub).iterdir())


def test_every_table_in_three_formats(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    for name in TABLES:
        for ext in ("csv", "tex", "md"):
            p = one / "tables" / f"{name}.{ext}"
            assert p.is_file() and p.stat().st_size > 100, p
    assert not (one / "tables" / "table11_agreement.csv").exists()  # only with --gold
    tex = (one / "manuscript.tex").read_text()
    for name in TABLES:
        assert f"\\input{{tables/{name}.tex}}" in tex
    for name in FIGURES:
        assert f"figures/{name}.pdf" in tex


def test_tables_and_handoff_byte_identical(runs: tuple[Path, Path]) -> None:
    one, two = runs
    assert _files(one, "tables") == _files(two, "tables")
    assert _files(one, "handoff") == _files(two, "handoff")
    for sub in ("tables", "handoff"):
        for name in _files(one, sub):
            assert (one / sub / name).read_bytes() == (two / sub / name).read_bytes(), name
    assert (one / "manuscript.tex").read_bytes() == (two / "manuscript.tex").read_bytes()
    assert "timings" not in (one / "README.md").read_text().split("## R warnings")[0].lower() or (
        "timings.txt" in (one / "README.md").read_text()
    )
    assert re.search(r"GLMMs.*\d+\.\d+ s", (one / "timings.txt").read_text())


def test_latex_has_booktabs_caption_label(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    for name in TABLES:
        tex = (one / "tables" / f"{name}.tex").read_text()
        for cmd in (
            "\\toprule",
            "\\midrule",
            "\\bottomrule",
            "\\caption{",
            f"\\label{{tab:{name}}}",
        ):
            assert cmd in tex, (name, cmd)
        ncol = len(pd.read_csv(one / "tables" / f"{name}.csv", nrows=0).columns)
        rows = [x for x in tex.split("\\midrule")[1].splitlines() if x.endswith("\\\\")]
        assert rows, name
        for row in rows:
            assert len(re.findall(r"(?<!\\)&", row)) == ncol - 1, (name, row)
            assert not re.search(r"(?<!\\)[_%#]", row), (name, row)
    assert latex_escape("a_b & 5% #1 <10") == r"a\_b \& 5\% \#1 \textless{}10"
    assert "SYNTHETIC" in (one / "tables" / "table1_corpus.tex").read_text()


def test_p_values_never_printed_as_zero(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    for name, col in (
        ("table2_chisq", "p"),
        ("table10_glmm", "p"),
        ("table9_logodds", "p (maxT, by author)"),
    ):
        ps = pd.read_csv(one / "tables" / f"{name}.csv", dtype=str)[col]
        for p in ps:
            assert p.strip() not in ("0", "0.0", "0.000", "0e+00"), (name, p)
            assert p.startswith("<") or float(p) > 0, (name, p)
    # exact reference for exp(-1200) from decimal arithmetic (no underflow there)
    assert format_p(0.0, log_p=-1200.0) == format(Decimal(-1200).exp(), ".2e")
    assert format_p(0.0, log_p=None) == "< 1e-300"
    assert latex_escape("1.42e-522") == "$1.42\\times10^{-522}$"


def test_small_counts_suppressed_and_not_recoverable(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    t1 = pd.read_csv(one / "tables" / "table1_corpus.csv", dtype=str)
    assert (t1["Units"] == f"<{K}").any()  # e.g. intellectual disability at n = 4000
    for section, rows in t1[t1["Section"] != "Total"].groupby("Section"):
        for col in ("Units", "Posts"):
            hidden = ~rows[col].str.fullmatch(r"\d+")
            assert hidden.sum() != 1, (section, col)  # one hidden cell = total minus the rest
            shown = rows.loc[~hidden, col].astype(int)
            assert ((shown == 0) | (shown >= K)).all(), (section, col)
    t5 = pd.read_csv(one / "tables" / "table5_means.csv", dtype=str)
    merged = t5.merge(t1, left_on="Group", right_on="Category")
    # the same counts are hidden wherever they reappear
    assert (merged["N"].str.fullmatch(r"\d+") == merged["Units"].str.fullmatch(r"\d+")).all()
    lo = pd.read_csv(one / "tables" / "table9_logodds.csv", dtype=str)
    assert lo["N"].map(lambda s: not s.isdigit() or int(s) == 0 or int(s) >= K).all()
    # the hand-off files (published with paper/) blank the counts the tables hide
    full = pd.read_csv(one / "handoff" / "means.csv")
    assert full["suppressed"].any() and full.loc[full["suppressed"], "n"].isna().all()
    assert not ((full["n"] >= 1) & (full["n"] < K)).any()


def test_suppress_mask_rules() -> None:
    mask, total = suppress_mask([50, 3, 0, 12, 40], 10)
    assert mask.tolist() == [False, True, False, True, False] and not total
    mask, total = suppress_mask([50, 3, 4, 40], 10)
    assert mask.tolist() == [False, True, True, False]
    mask, total = suppress_mask([0, 3, 0], 10)
    assert mask.tolist() == [False, True, False] and total


def test_suppress_grid_rules() -> None:
    import numpy as np

    # one small cell (3): its row and column each need a second hidden cell, and so do
    # the lines those land in (worked by hand)
    mask = suppress_grid(np.array([[50, 3, 20], [40, 30, 60]]), 10)
    assert mask.tolist() == [[False, True, True], [False, True, True]]
    # worked by hand, rows then columns, the smallest shown non-zero count first (a zero
    # only when a line has no other): 4 and 8 primary; rows add 30, 15; columns add 120,
    # 60, a zero of column 3 and 12; then row 3 (one hidden) adds its first zero
    big = np.array([[120, 4, 0, 30], [15, 60, 8, 90], [0, 0, 0, 12]])
    mask = suppress_grid(big, 10)
    assert mask.astype(int).tolist() == [[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 1]]
    for line in [*mask, *mask.T]:
        assert line.sum() != 1
    # a row whose total is not published (table1 hid it) must hide a cell, or its shown
    # cells would add up to that total
    mask = suppress_grid(np.array([[30, 40], [50, 60]]), 10, row_total_shown=[False, True])
    assert mask.all()
    assert not suppress_grid(np.array([[30, 40], [50, 60]]), 10).any()


def test_handoff_carries_the_tables_suppression(runs: tuple[Path, Path]) -> None:
    """groups.csv and means.csv say what table1 and table5 print; fingerprint.csv hides
    its cells so that no small one follows from table1's totals."""
    one, _ = runs
    t1 = pd.read_csv(one / "tables" / "table1_corpus.csv", dtype=str)
    t5 = pd.read_csv(one / "tables" / "table5_means.csv", dtype=str)
    labels = pd.read_csv(one / "handoff" / "labels.csv")
    groups = pd.read_csv(one / "handoff" / "groups.csv", dtype={"n_shown": str})
    label = {(r.dimension, r.code): r.label for r in labels.itertuples()}
    section = {"platform": "Platform", "condition": "Condition", "llm_product": "LLM family"}
    for dim, sec in section.items():
        units = t1[t1["Section"] == sec].set_index("Category")["Units"]
        g = groups[groups["dimension"] == dim]
        assert len(g) == len(units)
        for r in g.itertuples():
            assert units[label.get((dim, r.code), r.code)] == r.n_shown, (dim, r.code)
            # a suppressed group's count is blank in the hand-off, like table1's "<K"
            assert r.suppressed == pd.isna(r.n) and (r.suppressed or r.n == 0 or r.n >= K)
    assert groups["suppressed"].any()  # intellectual disability and others at n = 4000
    means = pd.read_csv(one / "handoff" / "means.csv", dtype={"n_shown": str})
    assert means["n_shown"].tolist() == t5["N"].tolist()
    assert (means["suppressed"] == means["n"].isna()).all()
    assert (t5.loc[means["suppressed"].to_numpy(), "Mean sentiment"] == "—").all()
    fp = pd.read_csv(one / "handoff" / "fingerprint.csv")
    shown_total = {
        dim: groups[groups["dimension"] == dim].set_index("code")["n_shown"].str.isdigit()
        for dim in ("llm_product", "condition")
    }
    assert fp["n_hidden"].any()
    assert (fp.loc[~fp["n_hidden"], "n"].eq(0) | fp.loc[~fp["n_hidden"], "n"].ge(K)).all()
    assert fp.loc[fp["n"].between(1, K - 1), "n_hidden"].all()
    for dim in ("llm_product", "condition"):
        for code, line in fp.groupby(dim):
            n_hid = int(line["n_hidden"].sum())
            if shown_total[dim][code]:
                assert n_hid != 1, (dim, code)  # total minus the shown cells
            elif line["n"].gt(0).any():
                assert n_hid >= 1, (dim, code)  # the shown cells would give the total
    # strata under K are lumped in the alluvial hand-off
    al = pd.read_csv(one / "handoff" / "alluvial.csv")
    for ax in ("condition", "sentiment", "perspective", "value"):
        tot = al.groupby(ax)["n"].sum()
        small = tot[(tot >= 1) & (tot < K)]
        assert set(small.index) <= {"other (lumped)"}, (ax, small)
        assert al.loc[al[ax].isin(small.index), "suppressed"].all()


def test_run_csv_says_synthetic_only_for_the_simulated_corpus(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    from vsdstats.paper.run import build_handoff

    one, _ = runs
    run = pd.read_csv(one / "handoff" / "run.csv", keep_default_na=False)
    assert run[["synthetic", "min_cell"]].to_dict("records") == [{"synthetic": True, "min_cell": K}]
    assert run.loc[0, "analysis"] == "analysis/study.toml" and run.loc[0, "residual"] == "adjusted"
    assert "every figure says so on itself" in (one / "README.md").read_text()
    real = simulate_corpus(n=300, seed=5).assign(coder="gpt-4o-mini")
    out = build_handoff(real, tmp_path / "h", glmm=False, min_cell=5)
    got = pd.read_csv(out / "run.csv")[["synthetic", "min_cell"]].to_dict("records")
    assert got == [{"synthetic": False, "min_cell": 5}]


def test_no_pseudonym_in_published_output(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    texts = [p.read_text() for p in (one / "tables").iterdir()]
    texts += [(one / "README.md").read_text(), (one / "manuscript.tex").read_text()]
    for t in texts:
        assert not PSEUDONYM.search(t)


def test_handoff_follows_schema(runs: tuple[Path, Path], r) -> None:
    one, _ = runs
    schema = json.loads((one / "handoff" / "schema.json").read_text())
    assert schema == SCHEMA
    for name, cols in schema.items():
        raw = (one / "handoff" / name).read_bytes()
        assert b"\r\n" not in raw
        assert raw.decode("utf-8").split("\n")[0] == ",".join(cols)
    # R reads every file with colClasses from schema.json, types intact
    ok = r(
        f"""
        local({{
          h <- "{(one / "handoff").as_posix()}"
          s <- jsonlite::fromJSON(file.path(h, "schema.json"))
          all(vapply(names(s), function(f) {{
            cls <- unlist(s[[f]])
            d <- read.csv(file.path(h, f), colClasses = cls, na.strings = "NA")
            got <- vapply(d, function(x) class(x)[1], "")
            want <- ifelse(cls == "double", "numeric", cls)
            identical(unname(got), unname(want)) && identical(names(d), names(cls))
          }}, logical(1)))
        }})
        """
    )
    assert bool(ok[0])
    res = pd.read_csv(one / "handoff" / "residuals.csv")
    # cells under K units (n_hidden) have no residual, test or significance in the hand-off
    assert set(res["significant"].dropna().unique()) <= {True, False}
    assert res.loc[res["n_hidden"], ["observed", "z", "significant"]].isna().all().all()
    assert res.loc[~res["n_hidden"], "significant"].notna().all()
    assert set(res["test"]) == {t["name"] for t in load_study()["chisq"]["tests"]}
    assert set(res["test"]) >= {"condition_sentiment", "llm_sentiment"}


def test_figures_written_by_r(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    assert Path("R/figures.R").is_file() or (Path(__file__).parents[1] / "R/figures.R").is_file()
    for name in FIGURES:
        pdf = one / "figures" / f"{name}.pdf"
        png = one / "figures" / f"{name}.png"
        assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 3000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, name


def test_readme_compares_glmm_with_chisq(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    readme = (one / "README.md").read_text()
    assert "treated every post as independent" in readme
    assert "--min-cell" in readme and "SYNTHETIC" in readme
    for name in TABLES + list(FIGURES):
        assert f"`{name}`" in readme
    glmm = pd.read_csv(one / "handoff" / "glmm.csv")
    res = pd.read_csv(one / "handoff" / "residuals.csv")
    cs = res[(res["test"] == "condition_sentiment") & (res["col"] == "positive")]
    cs = cs[~cs["n_hidden"]]  # cells under K: no residual test in the hand-off
    fx = glmm[glmm["outcome"] == "positive"].set_index("term")
    expect = [
        c.row
        for c in cs.itertuples()
        if c.significant
        and f"condition{c.row}" in fx.index
        and fx.loc[f"condition{c.row}", "p_value_adj"] >= 0.05
        and not fx.loc[f"condition{c.row}", "separation"]
    ]
    line = next(x for x in readme.splitlines() if x.startswith("Significant residual but GLMM"))
    for cond in expect:
        assert f"{cond} (positive)" in line


def test_user_input_file_and_gold(tmp_path: Path) -> None:
    df = simulate_corpus(n=1500, seed=3)
    units = tmp_path / "units.csv"
    df.assign(created_at=df["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        units, index=False
    )
    gold = df[["post_id", "unit_index", "sentiment"]].copy()
    gold.loc[gold.index[:150], "sentiment"] = "neutral"
    gold_p = tmp_path / "gold.csv"
    gold.to_csv(gold_p, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "paper",
            "--input",
            str(units),
            "--gold",
            str(gold_p),
            "--out",
            str(out),
            "--min-cell",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    t11 = pd.read_csv(out / "tables" / "table11_agreement.csv")
    assert t11.loc[0, "Field"] == "sentiment" and t11.loc[0, "N"] == 1500
    assert 0.5 < t11.loc[0, "Cohen's kappa"] < 1.0
    t1 = pd.read_csv(out / "tables" / "table1_corpus.csv", dtype=str)
    assert t1.iloc[-1]["Units"] == "1500"
    assert "--input is deprecated" in result.output  # the old spelling still works, warned
    assert f"vsdstats paper {units}" in (out / "README.md").read_text()  # recorded positional
    assert "statistics" in (out / "timings.txt").read_text()


def test_study_folder_joins_posts(tmp_path: Path) -> None:
    df = simulate_corpus(n=300, seed=4)
    df.drop(columns=["platform", "author", "created_at"]).to_csv(
        tmp_path / "coded_units.csv", index=False
    )
    posts = df.drop_duplicates("post_id")[["post_id", "platform", "author", "created_at"]]
    posts.assign(created_at=posts["created_at"].astype(str)).to_csv(
        tmp_path / "posts.csv", index=False
    )
    units, source = load_units(tmp_path, load_codebook())
    assert "posts.csv" in source and len(units) == 300
    assert (units["author"].to_numpy() == df["author"].to_numpy()).all()
    (tmp_path / "posts.csv").write_text("post_id,platform,author,created_at\n")
    with pytest.raises(PaperError, match=r"post_id not in posts\.csv"):
        load_units(tmp_path, load_codebook())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns=["sentiment"]), "missing required column(s) sentiment"),
        (lambda d: d.assign(condition="hysteria"), "column 'condition' row 0: value 'hysteria'"),
        (lambda d: d.assign(author="@someone"), "column 'author' row 0 is not a pseudonym"),
        (lambda d: d.assign(created_at="yesterday"), "column 'created_at' row 0"),
    ],
)
def test_bad_input_clear_error(tmp_path: Path, mutate, message: str) -> None:
    bad = tmp_path / "bad.csv"
    mutate(simulate_corpus(n=200, seed=1)).to_csv(bad, index=False)
    result = CliRunner().invoke(main, ["paper", "--input", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert str(bad) in result.output and message in result.output
    assert "Traceback" not in result.output


def test_missing_r_exit_2_without_traceback(tmp_path: Path, monkeypatch) -> None:
    from vsdstats.r import bridge as rbridge

    def no_r():
        raise rbridge.RUnavailableError("R is not installed (no Rscript on PATH).")

    monkeypatch.setattr(rbridge, "check_r", no_r)
    result = CliRunner().invoke(main, ["paper", "--n", "500", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "bash R/install_r.sh" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_missing_figures_script_is_reported(tmp_path: Path, monkeypatch) -> None:
    from vsdstats.paper import config, figures

    monkeypatch.setattr(config, "project_candidates", lambda: [tmp_path])
    with pytest.raises(PaperError, match=r"R/figures\.R missing"):
        figures.run_figures(tmp_path, tmp_path / "figs")


def test_help_documents_min_cell() -> None:
    result = CliRunner().invoke(main, ["paper", "--help"])
    assert result.exit_code == 0
    assert "--min-cell" in result.output and "<K" in result.output


# ---------------------------------------------------------------------------
# delta-PMI, log-odds: the permutation columns reach table9, the hand-off and README
# ---------------------------------------------------------------------------


def test_table9_not_a_z_score_with_zeta_and_maxt_p(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    t9 = pd.read_csv(one / "tables" / "table9_logodds.csv", dtype=str)
    assert list(t9.columns[-3:]) == [
        "Weighted log-odds (tidylo)",
        "MCQ zeta",
        "p (maxT, by author)",
    ]
    md = (one / "tables" / "table9_logodds.md").read_text()
    assert md.startswith("**Table table9_logodds.** Weighted log-odds (tidylo; not a z-score)")
    assert "NOT a z-score" in md and "Monroe, Colaresi & Quinn" in md
    assert "1000 permutations, seed 2026" in md and "authors" in md
    # the printed zeta and p are the hand-off's, row for row
    lo = pd.read_csv(one / "handoff" / "logodds.csv")
    top = lo[lo["rank"] <= 3].reset_index(drop=True)
    assert len(top) == len(t9)
    shown = ~top["n_hidden"].to_numpy()  # features on fewer than K units: blank hand-off row
    assert t9.loc[shown, "MCQ zeta"].tolist() == [f"{z:.2f}" for z in top.loc[shown, "zeta"]]
    assert t9.loc[shown, "p (maxT, by author)"].tolist() == [
        format_p(p) for p in top.loc[shown, "p_value_adj"]
    ]
    # the planted effect (ADHD: instrumental support) is beyond every permutation (raw p
    # at its floor 1/(B+1)); the maxT adjustment over all cells raises it
    adhd = top[(top["condition"] == "adhd") & (top["feature"] == "instrumental_support")]
    assert adhd["zeta"].iloc[0] > 3 and adhd["p_value"].iloc[0] == pytest.approx(1 / 1001)
    assert adhd["p_value_adj"].iloc[0] > adhd["p_value"].iloc[0]
    t = top[shown]
    assert t["p_value_adj"].nunique() > 3 and (t["p_value_adj"] >= t["p_value"]).all()


def test_handoff_delta_pmi_permutation_columns(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    d = pd.read_csv(one / "handoff" / "delta_pmi.csv")
    assert d["supported"].dtype == bool and d["supported"].any()
    assert not d.loc[d["condition"].isin(["intellectual", "conduct"]), "supported"].any()
    sup = d[d["supported"]]
    assert sup["p_value"].between(0, 1, inclusive="right").all()
    assert (sup["p_value_adj"] >= sup["p_value"]).all() and (sup["p_value_adj"] <= 1).all()
    assert sup["p_value"].nunique() > 5
    assert d.loc[~d["supported"], "p_value"].isna().all()
    # the bias of small conditions: the null mean over their observed pairs is positive
    bias = d.groupby("condition")["null_mean"].mean()
    assert bias["eating"] > bias["general"] + 0.1


def test_readme_describes_delta_pmi_and_log_odds(runs: tuple[Path, Path]) -> None:
    one, _ = runs
    readme = (one / "README.md").read_text()
    sec = readme.split("## Co-occurrence (delta-PMI)")[1].split("\n## ")[0]
    assert "delta-PMI(a,b|c) = PMI_c(a,b) - PMI_rest(a,b)" in sec and "in bits" in sec
    assert "condition labels shuffled across authors" in sec
    assert "1000 permutations, seed 2026" in sec
    assert "at least 30 units inside the condition" in sec and "`supported`" in sec
    assert "maxT" in sec and "Westfall & Young" in sec
    assert "NOT z-scores" in sec and "null SD is far below 1" in sec and "MCQ's zeta" in sec
    d = pd.read_csv(one / "handoff" / "delta_pmi.csv")
    assert f"{int(d['supported'].sum())} of {len(d)} cells are supported" in sec
    # the measured null SD of tidylo's statistic is quoted, and it is far below 1
    m = re.search(r"their SD is median ([0-9.]+) \(([0-9.]+) to ([0-9.]+)\)", sec)
    assert m and float(m.group(3)) < 0.7, sec


def test_permutation_settings_from_study_toml() -> None:
    from vsdstats.paper.analyses import permutation_settings, run_logodds, run_pmi
    from vsdstats.paper.config import load_study

    study = load_study()
    df = simulate_corpus(n=300, seed=2)
    pp = permutation_settings(study, "pmi", df)
    assert (pp.permutations, pp.seed, pp.cluster, pp.min_support) == (1000, 2026, "author", 30)
    bad = {**study, "pmi": {**study["pmi"], "permutations": -1}}
    with pytest.raises(PaperError, match=r"\[pmi\] permutations must be a whole number >= 0"):
        permutation_settings(bad, "pmi", df)
    bad = {**study, "logodds": {**study["logodds"], "cluster": "handle"}}
    with pytest.raises(PaperError, match=r"\[logodds\] cluster: column 'handle'"):
        permutation_settings(bad, "logodds", df)
    # permutations = 0: the hand-off columns stay (schema fixed), with NA p-values
    cb = load_codebook()
    units = validate_units(df, cb, "simulated corpus")
    off = {
        **study,
        "pmi": {**study["pmi"], "permutations": 0},
        "logodds": {**study["logodds"], "permutations": 0},
    }
    _, d = run_pmi(units, cb, off)
    # n_hidden (small-cell suppression) is added by the hand-off writer
    assert list(d.columns) == [c for c in SCHEMA["delta_pmi.csv"] if c != "n_hidden"]
    assert d["p_value"].isna().all() and d["supported"].dtype == bool
    lo = run_logodds(units, cb, off)
    assert set(SCHEMA["logodds.csv"]) - {"n_hidden"} <= set(lo.columns)
    assert lo["p_value_adj"].isna().all() and lo["zeta"].notna().any()


def test_default_n_is_the_published_total(tmp_path: Path, monkeypatch) -> None:
    from vsdstats.paper import run as run_mod
    from vsdstats.paper.simulate import PUBLISHED_N

    assert run_mod.DEFAULT_N == PUBLISHED_N == 39_380
    seen: list[tuple[int, str]] = []
    monkeypatch.setattr(run_mod, "run_paper", lambda **kw: seen.append((kw["n"], kw["command"])))
    for args in ([], ["--n", "500"]):
        result = CliRunner().invoke(main, ["paper", "--out", str(tmp_path), *args])
        assert result.exit_code == 0, result.output
    assert seen == [
        (39_380, f"vsdstats paper --out {tmp_path}"),
        (500, f"vsdstats paper --out {tmp_path} --n 500"),
    ]
    help_text = CliRunner().invoke(main, ["paper", "--help"]).output
    assert "39380" in help_text
