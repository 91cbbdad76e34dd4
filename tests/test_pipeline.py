"""The whole pipeline on a synthetic Reddit dump: ingest -> code (offline baseline) ->
paper from the study folder.  Every post is accounted for at each step.
"""

from __future__ import annotations

import json
import random
import re

import pandas as pd
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.tables.study import StudyDir

LLMS = ["ChatGPT", "Claude", "Gemini", "Replika", "Copilot"]
CONDITIONS = ["my ADHD", "my anxiety", "depression", "being autistic", "bipolar disorder"]
TONES = [
    "It really helped me and I feel so much better now.",
    "Honestly it made things worse and I felt awful afterwards.",
    "I asked it a few questions about it yesterday evening.",
]


def _dump(path, n=600, seed=3):
    rng = random.Random(seed)
    with path.open("w") as f:
        for i in range(n):
            if i % 10 == 9:
                text = "Just a post about the weather and my garden this week."
            else:
                text = (
                    f"I have been using {rng.choice(LLMS)} to cope with "
                    f"{rng.choice(CONDITIONS)} lately. {rng.choice(TONES)} "
                    f"Thanks u/helper{i % 17} for the tip."
                )
            rec = {
                "id": f"k{i:05d}",
                "author": f"synthuser{i % 90}",
                "body": text,
                "created_utc": 1700000000 + i * 7200,
                "link_id": f"t3_s{i % 30}",
                "parent_id": f"t3_s{i % 30}",
                "subreddit": "synthetic",
                "permalink": f"/r/synthetic/comments/s{i % 30}/x/k{i:05d}/",
            }
            f.write(json.dumps(rec) + "\n")
        f.write('{"id": "broken", "body": \n')  # a truncated line: rejected, not lost


def test_ingest_code_paper(tmp_path, monkeypatch):
    monkeypatch.setenv("VSDSTATS_SECRET", (b"k" * 32).hex())
    dump = tmp_path / "RC_synthetic.jsonl"
    _dump(dump)
    study = tmp_path / "study"
    run = CliRunner().invoke

    r = run(main, ["ingest", "reddit", str(dump), "--out", str(study), "--no-progress"])
    assert r.exit_code == 0, r.output
    report = json.loads((study / "ingest_report.json").read_text())
    totals = report["runs"][-1]["totals"]
    assert totals["read"] == 601 and totals["kept"] == 600 and totals["rejected"] == 1

    code_args = [str(study), "--out", str(study), "--baseline", "--no-progress"]
    r = run(main, ["code", *code_args])
    assert r.exit_code == 0, r.output
    status = pd.read_parquet(study / "post_status.parquet")
    assert len(status) == 600  # every post ends in exactly one state
    assert set(status["status"]) <= {"coded", "not_relevant", "failed"}
    assert (status["status"] == "not_relevant").sum() >= 60  # the weather posts
    units = pd.read_parquet(study / "coded_units.parquet")
    assert len(units) >= (status["status"] == "coded").sum() > 0
    # StudyDir is the one place that knows these names: nothing else lands in the folder
    names = StudyDir(study)
    known = {names.posts, names.rejects, names.ingest_report, names.store}
    known |= {names.code_summary, names.study_id_file, names.study_id_file.parent}
    manifests = sorted(names.manifests.glob("*.json"))  # one per run of ingest and code
    assert sorted(p.name.split("-")[0] for p in manifests) == ["code", "ingest"]
    known |= {names.manifests, *manifests}
    known |= {
        names.output(t, e) for t in ("coded_units", "post_status") for e in (".parquet", ".csv")
    }
    found = {p for p in study.rglob("*") if not p.name.startswith("study.sqlite-")}
    assert found <= known, found - known
    # the key came from $VSDSTATS_SECRET: no study id was needed to name it
    assert known - found == {names.study_id_file, names.study_id_file.parent}
    assert names.table("coded_units") == names.output("coded_units", ".parquet")

    out = tmp_path / "paper"
    r = run(main, ["paper", str(study), "--out", str(out)])
    assert r.exit_code == 0, r.output
    t1 = pd.read_csv(out / "tables" / "table1_corpus.csv")
    assert {"table1_corpus", "table2_chisq", "table10_glmm"} <= {
        p.stem for p in (out / "tables").glob("*.tex")
    }
    assert len(t1) > 0
    published = "".join(p.read_text() for p in (out / "tables").iterdir())
    assert "synthuser" not in published and "helper1" not in published
    assert not re.search(r"a_[0-9a-f]{24}", published)  # no pseudonyms in published tables
    for ext in ("png", "pdf"):
        assert (out / "figures" / f"fig5_mean_sentiment.{ext}").stat().st_size > 1000
