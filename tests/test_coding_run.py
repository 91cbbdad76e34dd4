"""coding.run.code_study as library code: the route, the reconciliation, what is stored."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

from vsdstats.coding.run import CodeSettings, code_study
from vsdstats.errors import InputError
from vsdstats.tables.study import StudyDir

TEXTS = [
    "ChatGPT helped me with my anxiety last night, I feel better.",
    "Claude made my depression worse, honestly.",
    "Nice weather in the garden today.",
    "",
    "ChatGPT helped me with my anxiety last night, I feel better.",  # a duplicate text
]


def _posts(tmp_path):
    p = tmp_path / "posts.csv"
    pd.DataFrame({"post_id": [f"p{i}" for i in range(len(TEXTS))], "text": TEXTS}).to_csv(
        p, index=False
    )
    return p


def test_baseline_run_reconciles_with_an_independent_count(tmp_path):
    out = tmp_path / "study"
    seen = []
    outcome = code_study(_posts(tmp_path), out, CodeSettings(baseline=True), log=seen.append)
    s = outcome.summary
    assert s["posts_in"] == len(TEXTS)
    assert s["coded"] + s["not_relevant"] + s["failed"] == len(TEXTS) and s["reconciles"]
    assert s["distinct_texts"] == len(set(TEXTS))
    assert s["texts_sent"] == len(set(TEXTS) - {""})  # the blank text is not coded
    study = StudyDir(out)
    assert study.code_summary in outcome.written
    assert json.loads(study.code_summary.read_text()) == s
    status = pd.read_parquet(study.output("post_status", ".parquet"))
    assert len(status) == len(TEXTS)
    p0, p4 = status.set_index("post_id").loc[["p0", "p4"], "status"]
    assert p0 == p4  # one text, one result, mapped to both posts

    again = code_study(_posts(tmp_path), out, CodeSettings(baseline=True)).summary
    assert again["texts_sent"] == 0 and again["texts_already_done"] == s["texts_sent"]


def test_the_run_record_holds_no_key_and_a_redacted_url(tmp_path, monkeypatch):
    settings = CodeSettings(model="m", base_url="https://user:pw@example.org/v1", api_key_env="K")
    rec = settings.recorded()
    assert "api_key_env" not in rec and "pw" not in json.dumps(rec)
    code_study(_posts(tmp_path), tmp_path / "s", CodeSettings(baseline=True))
    con = sqlite3.connect(StudyDir(tmp_path / "s").store)
    (stored,) = con.execute("SELECT settings FROM runs").fetchone()
    assert json.loads(stored)["baseline"] is True


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (CodeSettings(), "--model is required"),
        (CodeSettings(baseline=True, batch=True), "exclude each other"),
        (CodeSettings(baseline=True, workers=2), "--workers > 1"),
    ],
)
def test_settings_that_cannot_go_together_are_input_errors(tmp_path, settings, message):
    with pytest.raises(InputError, match=message):
        code_study(_posts(tmp_path), tmp_path / "s", settings)
    assert not (tmp_path / "s").exists()  # refused before anything is written


def test_a_file_input_needs_an_out_folder(tmp_path):
    with pytest.raises(InputError, match="--out STUDY is required"):
        code_study(_posts(tmp_path), None, CodeSettings(baseline=True))


def test_a_missing_key_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(InputError, match=r"\$NO_SUCH_KEY_VAR"):
        code_study(
            _posts(tmp_path), tmp_path / "s", CodeSettings(model="m", api_key_env="NO_SUCH_KEY_VAR")
        )
