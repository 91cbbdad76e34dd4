"""Bad input never gives a Python traceback: one line `vsdstats <command>: error: ...`, exit 2.

Runs the real ``vsdstats`` click group (``vsdstats.cli.main``) through click's CliRunner.
An exception escaping the command would show up as ``result.exception`` (not SystemExit).
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from vsdstats.cli import main
from vsdstats.paper.simulate import simulate_corpus


def _run(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args])


def _assert_one_line_error(r, command: str, *, only_line: bool = True) -> str:
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ": error: " in ln]
    assert len(errors) == 1, lines
    assert errors[0].startswith(f"vsdstats {command}: error: "), errors[0]
    assert errors[0] == lines[-1]
    if only_line:
        assert lines == errors, lines
    return errors[0]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------- stats chisq


@pytest.mark.parametrize(
    "body",
    [
        "condition,sentiment\na,positive\na,negative\n",  # 1 x 2
        "condition,sentiment\na,positive\n",  # 1 x 1
        "condition,sentiment\n",  # header only
        "condition,sentiment\na,positive\nb,positive\n",  # 2 x 1
    ],
    ids=["1xK", "1x1", "header-only", "Kx1"],
)
def test_chisq_degenerate_tables(tmp_path, body):
    p = _csv(tmp_path / "t.csv", body)
    r = _run(["stats", "chisq", p, "--row", "condition", "--col", "sentiment"])
    msg = _assert_one_line_error(r, "stats chisq")
    assert "2 rows and 2 columns" in msg or "2 non-empty" in msg


def test_means_score_not_sentiment(tmp_path):
    p = _csv(tmp_path / "m.csv", "g,x\na,foo\nb,bar\n")
    msg = _assert_one_line_error(
        _run(["stats", "means", p, "--by", "g", "--score", "x"]), "stats means"
    )
    assert "'x'" in msg and "foo" in msg


# -------------------------------------------------------------------- stats glmm


@pytest.fixture()
def glmm_csv(tmp_path):
    rng = np.random.default_rng(1)
    n = 80
    df = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "c": rng.choice(["a", "b"], n),
            "one": "x",
            "g": rng.choice(list("pqrs"), n),
            "k": np.zeros(n, dtype=int),
            "t": rng.integers(0, 3, n),
        }
    )
    p = tmp_path / "g.csv"
    df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize(
    ("formula", "needle"),
    [
        ("k ~ c + (1|g)", "only the value 0"),
        ("t ~ c + (1|g)", "binary"),
        ("y ~ zz + (1|g)", "zz"),
        ("y ~ c + (1|g", "parenthes"),
        ("y ~ c + 1|g)", "parenthes"),
        ("y ~ one + (1|g)", "2 or more levels"),
    ],
    ids=["constant", "non-binary", "unknown-column", "open-paren", "close-paren", "one-level"],
)
def test_glmm_bad_models(glmm_csv, formula, needle):
    r = _run(["stats", "glmm", glmm_csv, "--formula", formula])
    assert needle in _assert_one_line_error(r, "stats glmm")


def test_agreement_duplicate_ids(tmp_path):
    # several rows of a post are its units; the same unit twice is an error
    gold = _csv(
        tmp_path / "gold.csv", "post_id,unit_index,sentiment\np1,0,positive\np1,0,negative\n"
    )
    coded = _csv(tmp_path / "coded.csv", "post_id,sentiment\np1,positive\np2,negative\n")
    msg = _assert_one_line_error(_run(["stats", "agreement", gold, coded]), "stats agreement")
    assert "gold.csv" in msg and "duplicated" in msg


# ------------------------------------------------------------- codebook, paper


def test_codebook_check_deeply_nested_toml(tmp_path):
    p = _csv(tmp_path / "deep.toml", "a = " + "[" * 3000 + "]" * 3000 + "\n")
    msg = _assert_one_line_error(_run(["codebook", "check", p]), "codebook check")
    assert "deep.toml" in msg and "nested" in msg


@pytest.mark.parametrize("case", ["one-condition", "one-row"])
def test_paper_degenerate_input(tmp_path, case):
    df = simulate_corpus(n=200, seed=4)
    df = df.assign(condition=df["condition"].iloc[0]) if case == "one-condition" else df.head(1)
    p = tmp_path / "units.csv"
    df.to_csv(p, index=False)
    r = _run(["paper", p, "--out", tmp_path / "out"])
    msg = _assert_one_line_error(r, "paper", only_line=False)
    assert "column 'condition'" in msg and "at least 2" in msg
    assert "No objects to concatenate" not in r.output


# ------------------------------------------------------------- internal errors


def test_internal_error_one_line_and_debug(tmp_path, monkeypatch):
    import vsdstats.stats as vstats

    def boom(*a, **k):
        raise RuntimeError("something broke")

    monkeypatch.setattr(vstats, "crosstab", boom)
    p = _csv(tmp_path / "t.csv", "a,b\nx,y\nz,w\n")
    r = _run(["stats", "crosstab", p, "--row", "a", "--col", "b"])
    assert r.exit_code == 1 and not isinstance(r.exception, RuntimeError)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output
    assert lines[0].startswith("vsdstats stats crosstab: internal error: RuntimeError")
    assert "run with --debug for the traceback" in lines[0]
    r = _run(["--debug", "stats", "crosstab", p, "--row", "a", "--col", "b"])
    assert isinstance(r.exception, RuntimeError)  # --debug lets the traceback through


# ------------------------------------------------------------- random tables

_labels = st.sampled_from(["positive", "neutral", "negative", "x", "", "NA"])
_cells = st.one_of(_labels, st.integers(-3, 5).map(str), st.text(string.ascii_letters, max_size=3))


@given(
    rows=st.lists(st.tuples(_cells, _cells, _cells), min_size=0, max_size=8),
    which=st.sampled_from(["chisq", "means", "logodds", "logodds-n", "dirichlet-n"]),
)
def test_small_random_tables_never_traceback(tmp_path_factory, rows, which):
    p = tmp_path_factory.mktemp("rand") / "t.csv"
    pd.DataFrame(rows, columns=["a", "b", "n"]).to_csv(p, index=False)
    args = {
        "chisq": ["stats", "chisq", p, "--row", "a", "--col", "b"],
        "means": ["stats", "means", p, "--by", "a", "--score", "b"],
        "logodds": ["stats", "logodds", p, "--group", "a", "--feature", "b"],
        "logodds-n": ["stats", "logodds", p, "--group", "a", "--feature", "b", "--n", "n"],
        "dirichlet-n": [
            *["stats", "logodds", p, "--group", "a", "--feature", "b", "--n", "n"],
            *["--method", "dirichlet"],
        ],
    }[which]
    r = _run(args)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 2), r.output
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        errors = [ln for ln in r.stderr.splitlines() if ": error: " in ln]
        assert len(errors) == 1 and errors[0].startswith("vsdstats stats ")


def test_table_errors_from_any_command_are_one_line(tmp_path):
    """A TableError escaping a command (here: filter writing an unknown extension)."""
    p = _csv(tmp_path / "posts.csv", "post_id,text\np1,chatgpt helps my anxiety\n")
    r = _run(["filter", p, "-o", tmp_path / "kept.weird"])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ": error: " in ln]
    assert len(errors) == 1 and errors[0].startswith("vsdstats filter: error: ")
    assert ".csv" in errors[0]
