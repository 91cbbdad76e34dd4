"""``code --open`` -> ``codebook induce`` -> edit -> ``recode`` -> ``codebook compare``
(issue 14), on a SYNTHETIC study coded by the scripted local server through the real
instructor/openai client.  Coverage and agreement are checked against counts made here
with plain loops over the files, and the ARI against scikit-learn's."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_openai import B, FakeOpenAI
from sklearn.metrics import adjusted_rand_score

from vsdstats.cli import main
from vsdstats.coding.prompt import build_prompt
from vsdstats.coding.quotes import quote_in_text
from vsdstats.induce.core import normalize
from vsdstats.induce.recode import adjusted_rand
from vsdstats.tables.codebook import load_codebook

CB = load_codebook()
OPEN = ("condition", "perspective", "value")
SPEC = build_prompt(CB, OPEN)
#: synthetic topics: (codebook condition, open-label spellings the "model" uses)
TOPICS = [
    ("anxiety", ["anxiety", "Anxiety!", "anxeity", "anxiety attacks"]),
    ("anxiety", ["panic attacks", "panic attack", "Panic attacks."]),
    ("depressive", ["depression", "depresion", "Depression"]),
    ("adhd", ["adhd", "ADHD", "A.D.H.D."]),
    ("other", ["insomnia", "Insomnia", "insomnia!"]),
]


def _posts() -> pd.DataFrame:
    rows = []
    for i in range(40):
        t = i % len(TOPICS)
        rows.append(
            {
                "platform": "reddit",
                "post_id": f"s{i}",
                "author": f"a_{i:024x}",
                "created_at": f"2024-0{1 + i % 6}-1{i % 9}T10:00:00Z",
                "text": f"Synthetic post {i}: I talked to the chatbot about topic {t} "
                f"for a while and it helped me a bit, number {i}.",
            }
        )
    return pd.DataFrame(rows)


def _open_label(text: str, dim: str, unit: dict) -> str:
    i = int(text.split("post ", 1)[1].split(":", 1)[0])
    if dim == "condition":
        spellings = TOPICS[i % len(TOPICS)][1]
        return spellings[(i // len(TOPICS)) % len(spellings)]
    return unit[dim].replace("_", " ")


def _run(args: list, **env: str):
    r = CliRunner().invoke(main, [str(a) for a in args], env={"OPENAI_API_KEY": "sk-x", **env})
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r


@pytest.fixture
def study(tmp_path: Path) -> Path:
    posts = _posts()
    study = tmp_path / "study"
    study.mkdir()
    posts.to_csv(study / "posts.csv", index=False)
    with FakeOpenAI(render=SPEC.messages, open_label=_open_label) as srv:
        srv.add_texts(posts["text"])
        for i, text in enumerate(posts["text"]):
            code = TOPICS[i % len(TOPICS)][0]
            srv.script(text, [B("ok", units=[{**srv.unit, "condition": code, "quote": text[:70]}])])
        srv.script(posts["text"][39], ["not_relevant"])
        args = ["code", study / "posts.csv", "-o", study, "--model", "m"]
        _run([*args, "--base-url", srv.base_url, "--open", "--no-progress"])
    return study


def test_open_labels_stored_raw_with_verbatim_quotes(study: Path) -> None:
    labels = pd.read_csv(study / "open_labels.csv")
    units = pd.read_csv(study / "coded_units.csv")
    posts = pd.read_csv(study / "posts.csv").set_index("post_id")
    assert list(labels.columns) == [
        "post_id",
        "unit_index",
        "dimension",
        "label",
        "quote",
        "coder",
        "model",
    ]
    assert len(units) == 39 and len(labels) == 39 * len(OPEN)
    assert set(labels["dimension"]) == set(OPEN)
    cond = labels[labels["dimension"] == "condition"].set_index("post_id")["label"]
    assert cond["s0"] == "anxiety" and cond["s5"] == "Anxiety!" and cond["s3"] == "adhd"
    assert all(
        quote_in_text(q, posts.loc[p, "text"])
        for p, q in zip(labels["post_id"], labels["quote"], strict=True)
    )
    assert json.loads((study / "code_summary.json").read_text())["open_labels"] == 117


def test_induce_edit_recode_compare_export(study: Path, tmp_path: Path) -> None:
    ind = tmp_path / "induced"
    r = _run(["codebook", "induce", study / "open_labels.csv", "-o", ind, "-d", "condition"])
    assert "embedding calls 0" in r.stderr
    mapping = pd.read_csv(ind / "mapping.csv")
    cat = mapping.set_index("label")["category"]
    assert cat["anxiety"] == cat["Anxiety!"] == cat["anxeity"]
    assert cat["depression"] == cat["depresion"] and cat["ADHD"] == cat["A.D.H.D."] == "adhd"
    # hand edits: panic attacks join anxiety; insomnia! is left unmapped on purpose
    mapping.loc[mapping["normalized"] == "panic attack", "category"] = cat["anxiety"]
    mapping.loc[mapping["label"] == "insomnia!", "category"] = None
    mapping.to_csv(ind / "mapping.csv", index=False)
    r = _run(["recode", study, "--mapping", ind / "mapping.csv"])

    # independent count: plain loops over the open labels and the edited mapping
    edited = {
        (row["dimension"], row["label"]): row["category"]
        for row in pd.read_csv(ind / "mapping.csv").to_dict("records")
    }
    open_rows = pd.read_csv(study / "open_labels.csv").to_dict("records")
    expect_cat: dict[tuple[str, int], str] = {}
    unmapped: dict[str, int] = {}
    for row in open_rows:
        if row["dimension"] != "condition":
            continue
        c = edited.get(("condition", row["label"]))
        if isinstance(c, str):
            expect_cat[(row["post_id"], row["unit_index"])] = c
        else:
            unmapped[row["label"]] = unmapped.get(row["label"], 0) + 1
    report = json.loads((study / "recode_report.json").read_text())[0]
    assert report["dimension"] == "condition" and report["units"] == 39
    assert report["mapped"] == len(expect_cat) and report["unmapped_labels"] == unmapped
    assert unmapped == {"insomnia!": 2}
    assert f"{len(expect_cat)} of 39 unit(s) mapped" in r.stderr
    counts: dict[str, int] = {}
    for c in expect_cat.values():
        counts[c] = counts.get(c, 0) + 1
    assert report["categories"] == counts
    assert report["few_units"] == {k: v for k, v in counts.items() if v < 5}

    units = pd.read_parquet(study / "coded_units.parquet")
    got = {
        (p, int(i)): c
        for p, i, c in zip(units["post_id"], units["unit_index"], units["condition"], strict=True)
        if pd.notna(c)
    }
    assert got == expect_cat
    assert set(units["condition_codebook"]) == {"anxiety", "depressive", "adhd", "other"}
    # agreement: the ARI against scikit-learn's, on the units with both
    both = units.dropna(subset=["condition"])
    ref = adjusted_rand_score(both["condition_codebook"], both["condition"])
    assert report["ari_vs_codebook"] == pytest.approx(ref, abs=1e-6)
    assert ref == pytest.approx(1.0)  # panic and anxiety merged: the codebook's grouping
    r = _run(["codebook", "compare", study, "-d", "condition", "-o", tmp_path / "x.csv"])
    table = pd.read_csv(tmp_path / "x.csv").set_index("induced")
    assert int(table.to_numpy().sum()) == len(both)
    assert table.loc[cat["anxiety"], "anxiety"] == sum(
        1 for (p, _), c in expect_cat.items() if c == cat["anxiety"]
    )
    # a second recode keeps the original codebook codes
    _run(["recode", study, "--mapping", ind / "mapping.csv", "-d", "condition"])
    again = pd.read_parquet(study / "coded_units.parquet")
    assert (again["condition_codebook"] == units["condition_codebook"]).all()
    # export carries the induced codes (and the codebook's beside them)
    _run(["export", study, "-o", tmp_path / "units.parquet"])
    exp = pd.read_parquet(tmp_path / "units.parquet")
    assert set(exp["condition"].dropna()) == set(expect_cat.values())
    assert "condition_codebook" in exp.columns


def test_unedited_mapping_splits_panic_from_anxiety(study: Path, tmp_path: Path) -> None:
    ind = tmp_path / "induced"
    _run(["codebook", "induce", study / "open_labels.csv", "-o", ind, "-d", "condition"])
    _run(["recode", study, "--mapping", ind / "mapping.csv"])
    units = pd.read_parquet(study / "coded_units.parquet").dropna(subset=["condition"])
    ours = json.loads((study / "recode_report.json").read_text())[0]["ari_vs_codebook"]
    ref = adjusted_rand_score(units["condition_codebook"], units["condition"])
    assert ours == pytest.approx(ref, abs=1e-6) and ref < 1.0


@pytest.mark.parametrize("seed", range(5))
def test_adjusted_rand_matches_sklearn(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 60)
    b = np.where(rng.random(60) < 0.7, a, rng.integers(0, 5, 60))
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
    assert adjusted_rand(a, a) == 1.0


def test_recode_bad_mapping_is_one_line(study: Path, tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "dimension": ["condition"] * 2,
            "label": ["anxiety", "adhd"],
            "category": ["ok", "Not A Code"],
        }
    ).to_csv(bad, index=False)
    r = CliRunner().invoke(main, ["recode", str(study), "--mapping", str(bad)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"vsdstats recode: error: {bad}: row 2, column 'category': 'Not A Code' is not a "
        "code (lower-case letters, digits and _, starting with a letter)"
    ]


def test_open_needs_llm() -> None:
    r = CliRunner().invoke(main, ["code", "x.csv", "--baseline", "--open"])
    assert r.exit_code == 2


def test_closed_prompt_unchanged_by_open_support() -> None:
    """Without --open the prompt and schema are what they were (stored results stay
    valid): no open_labels field, no open section."""
    closed = build_prompt(CB)
    assert "open_labels" not in json.dumps(closed.response_model.model_json_schema())
    assert "# Open labels" not in closed.system and "# Open labels" in SPEC.system
    assert closed.prompt_hash != SPEC.prompt_hash
    assert normalize("Panic attacks.") == "panic attack"


def test_new_spelling_of_a_mapped_label_is_mapped() -> None:
    """Lookup by raw label, else by normalized label when that is unambiguous."""
    from vsdstats.induce.recode import read_mapping, recode_units

    units = pd.DataFrame(
        {"post_id": ["a", "b", "c", "d"], "unit_index": [0, 0, 0, 0], "condition": ["anxiety"] * 4}
    )
    labels = pd.DataFrame(
        {
            "post_id": ["a", "b", "c", "d"],
            "unit_index": [0, 0, 0, 0],
            "dimension": "condition",
            "label": ["anxiety", "ANXIETY!!", "panic", "Panic"],
        }
    )
    path = Path(tempfile.mkdtemp()) / "m.csv"
    pd.DataFrame(
        {
            "dimension": "condition",
            "label": ["anxiety", "Panic", "panic!"],
            "category": ["anxiety", "panic", "anxiety"],
        }
    ).to_csv(path, index=False)
    out, (cov,) = recode_units(units, labels, read_mapping(path), ["condition"])
    # "panic" normalizes like both "Panic" (panic) and "panic!" (anxiety): ambiguous
    assert list(out["condition"].astype(object).fillna("-")) == ["anxiety", "anxiety", "-", "panic"]
    assert cov.mapped == 3 and cov.unmapped_labels == {"panic": 1}
    assert list(out["condition_codebook"]) == ["anxiety"] * 4


@pytest.mark.needs_r
def test_worked_example_end_to_end(tmp_path: Path) -> None:
    """docs/codebook-induction.md: open_coded_study.py -> induce -> edit_induced.py ->
    recode -> paper --codebook draft; table5's mean sentiment of the split-off social
    anxiety category equals the mean computed here from the recoded units."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    ex = root / "docs" / "examples"
    study, ind, paper = tmp_path / "study", tmp_path / "induced", tmp_path / "paper"
    subprocess.run(
        [sys.executable, ex / "open_coded_study.py", study, "--n", "300"],
        check=True,
        capture_output=True,
    )
    _run(["codebook", "induce", study / "open_labels.csv", "-o", ind, "-d", "condition"])
    subprocess.run([sys.executable, ex / "edit_induced.py", ind], check=True, capture_output=True)
    draft = ind / "codebook-draft.toml"
    _run(["recode", study, "--mapping", ind / "mapping.csv", "--codebook", draft])
    _run(["paper", study, "-o", paper, "--codebook", draft])
    units = pd.read_parquet(study / "coded_units.parquet")
    assert set(units["condition"]) == set(load_codebook(draft).codes("condition"))
    social = units[units["condition"] == "social_anxiety"]["sentiment"]
    expect = social.map({"positive": 1, "neutral": 0, "negative": -1}).mean()
    t5 = pd.read_csv(paper / "tables" / "table5_means.csv")
    row = t5[(t5["By"] == "Condition") & (t5["Group"] == "Social anxiety")]
    assert len(row) == 1 and int(row["N"].iloc[0]) == len(social)
    assert float(row["Mean sentiment"].iloc[0]) == pytest.approx(expect, abs=5e-4)


def test_recode_checks_categories_against_the_codebook(study: Path, tmp_path: Path) -> None:
    """--codebook: a mapped category the draft lacks is a one-line error before writing."""
    ind = tmp_path / "induced"
    _run(["codebook", "induce", study / "open_labels.csv", "-o", ind, "-d", "condition"])
    mapping = pd.read_csv(ind / "mapping.csv")
    mapping.loc[mapping["label"] == "insomnia", "category"] = "sleep_problems"
    mapping.to_csv(ind / "mapping.csv", index=False)
    before = (study / "coded_units.parquet").read_bytes()
    args = ["recode", str(study), "--mapping", str(ind / "mapping.csv")]
    r = CliRunner().invoke(main, [*args, "--codebook", str(ind / "codebook-draft.toml")])
    assert r.exit_code == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "sleep_problems of condition are not codes of" in lines[0]
    assert (study / "coded_units.parquet").read_bytes() == before
