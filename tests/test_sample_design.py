"""``vsdstats sample``: the design file and blind coder sheets (issue 13).

The sheets must not reveal a machine label, a stratum derived from one, or the
relevance decision; the design file keeps what they hide (pi, stratum, coders).
Synthetic posts and machine codes only.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.gold import SHEET_CODE_COLUMNS, ValidateError
from vsdstats.validate.sample import (
    SHEET_COLUMNS,
    assign_coders,
    blind_sheets,
    draw_design,
    stratified_sample,
)

CB = load_codebook()
CONDITIONS = ["adhd", "anxiety", "depressive"]


def _study(tmp_path, n: int = 80, seed: int = 0, labels_seed: int = 0):
    rng = np.random.default_rng(seed)
    posts = pd.DataFrame(
        {
            "post_id": [f"s{i:03d}" for i in range(n)],
            "platform": rng.choice(["reddit", "x", "bluesky"], n, p=[0.6, 0.3, 0.1]),
            "text": [f"synthetic post number {i} about a chatbot and my mood" for i in range(n)],
        }
    )
    lab = np.random.default_rng(labels_seed)
    coded = posts.sample(frac=0.7, random_state=labels_seed).sort_values("post_id")
    units = pd.DataFrame(
        {
            "post_id": coded["post_id"].to_numpy(),
            "unit_index": 0,
            "condition": lab.choice(CONDITIONS, len(coded)),
            "sentiment": lab.choice(["positive", "neutral", "negative"], len(coded)),
            "llm_product": "chatgpt",
            "perspective": "emotional_support",
            "value": "autonomy",
            "quote": [f"post number {int(p[1:])} about a chatbot" for p in coded["post_id"]],
        }
    )
    study = tmp_path / f"study{labels_seed}"
    study.mkdir()
    posts.to_csv(study / "posts.csv", index=False)
    units.to_csv(study / "coded_units.csv", index=False)
    return study, posts, units


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_design_inclusion_probabilities_and_coders(tmp_path):
    _, posts, units = _study(tmp_path)
    d = draw_design(posts, 30, ["platform", "condition"], 3, units=units, coders=3, overlap=9)
    des = d.design
    assert len(des) == 30 and des["post_id"].is_unique
    # pi = drawn / stratum size; the Horvitz-Thompson count 1/pi sums to the population
    assert np.allclose(des["pi"], des["n_drawn"] / des["stratum_size"])
    assert (1 / des["pi"]).sum() == pytest.approx(len(posts))
    # the strata recount by hand: condition of each post's unit, else "(no units)"
    cond = dict(zip(units["post_id"], units["condition"], strict=True))
    plat = dict(zip(posts["post_id"], posts["platform"], strict=True))
    want = Counter(f"{plat[p]}|{cond.get(p, '(no units)')}" for p in posts["post_id"])
    got = dict(zip(des["stratum"], des["stratum_size"], strict=False))
    assert got == {k: want[k] for k in got}
    # overlap posts are coded by all three, the rest by exactly one, balanced
    coders = des["coders"].str.split(";")
    assert (coders[des["overlap"] == "yes"].map(len) == 3).all()
    assert (des["overlap"] == "yes").sum() == 9
    single = Counter(c[0] for c in coders[des["overlap"] == "no"])
    assert sum(single.values()) == 21 and max(single.values()) - min(single.values()) <= 1
    # each coder's sheet holds exactly the posts the design gives them
    for name, sheet in d.sheets.items():
        mine = {p for p, c in zip(des["post_id"], coders, strict=True) if name in c}
        assert set(sheet["post_id"]) == mine and sheet["post_id"].is_unique
    assert d.params["population"] == len(posts) and d.params["overlap"] == 9


def test_no_sheet_column_or_value_leaks_machine_labels(tmp_path):
    _, posts, units = _study(tmp_path)
    d = draw_design(posts, 40, ["condition"], 5, units=units, coders=2, overlap=10)
    machine = set(units[["condition", "sentiment", "llm_product", "perspective", "value"]].stack())
    hidden = {"stratum", "pi", "overlap", "coders", "stratum_size", "n_drawn", "model"}
    for sheet in d.sheets.values():
        assert list(sheet.columns) == list(SHEET_COLUMNS)
        assert not hidden & set(sheet.columns)
        assert (sheet[list(SHEET_CODE_COLUMNS)] == "").all().all()
        # outside the post's own text, no cell holds a machine label or a stratum
        others = sheet.drop(columns=["text"]).astype(str).stack()
        assert not set(others) & (machine | set(d.design["stratum"]) | {"(no units)"})
    # the sheets do not depend on the strata: scrambling them changes nothing
    scrambled = d.design.assign(
        stratum=np.random.default_rng(1).permutation(d.design["stratum"].to_numpy()),
        pi=0.5,
    )
    again = blind_sheets(scrambled, posts, 5)
    for name in d.sheets:
        pd.testing.assert_frame_equal(again[name], d.sheets[name])


def test_cli_sheets_do_not_change_with_the_machine_labels(tmp_path):
    """Same posts, different machine codes, --by platform: byte-identical sheets and
    tasks (without --preannotate); the design file keeps pi for stats means --pi."""
    outs = []
    for labels_seed in (0, 1):
        study, *_ = _study(tmp_path, labels_seed=labels_seed)
        out = tmp_path / f"out{labels_seed}"
        r = _invoke(
            "sample", study, "-n", 24, "--coders", 3, "--overlap", 6, "--seed", 9, "-o", out
        )
        assert r.exit_code == 0, r.output
        outs.append(out)
    for f in (
        "sheets/coder1.csv",
        "sheets/coder3.csv",
        "labelstudio/coder2.tasks.json",
        "design.csv",
    ):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    tasks = json.loads((outs[0] / "labelstudio" / "coder1.tasks.json").read_text())
    assert all(set(t) == {"data"} and set(t["data"]) == {"post_id", "coder", "text"} for t in tasks)
    design = pd.read_csv(outs[0] / "design.csv")
    assert {"post_id", "pi", "stratum", "coders", "overlap"} <= set(design.columns)
    meta = json.loads((outs[0] / "design.json").read_text())
    assert meta["seed"] == 9 and meta["coders"] == ["coder1", "coder2", "coder3"]


def test_preannotate_puts_machine_codes_in_tasks_only(tmp_path):
    study, _, units = _study(tmp_path)
    out = tmp_path / "pre"
    r = _invoke("sample", study, "-n", 20, "--by", "condition", "--preannotate", "-o", out)
    assert r.exit_code == 0, r.output
    tasks = json.loads((out / "labelstudio" / "coder1.tasks.json").read_text())
    by_post = units.set_index("post_id")
    n_regions = 0
    for t in tasks:
        res = t["predictions"][0]["result"]
        pid = t["data"]["post_id"]
        rel = next(x for x in res if x["from_name"] == "relevant")["value"]["choices"]
        assert rel == (["yes"] if pid in by_post.index else ["no"])
        for x in res:
            if x["type"] == "labels":
                n_regions += 1
                v = x["value"]
                assert t["data"]["text"][v["start"] : v["end"]] == v["text"]
            if x["from_name"] == "condition":
                assert x["value"]["choices"] == [by_post.loc[pid, "condition"]]
    assert n_regions > 0
    sheet = pd.read_csv(out / "sheets" / "coder1.csv", keep_default_na=False)
    assert (sheet[list(SHEET_CODE_COLUMNS)] == "").all().all()


def test_bad_design_arguments_are_one_line_errors(tmp_path):
    _, posts, _ = _study(tmp_path)
    s = stratified_sample(posts, 10, ["platform"], 1)
    with pytest.raises(ValidateError, match="--overlap"):
        assign_coders(s, 2, 11, 1)
    with pytest.raises(ValidateError, match="--coders"):
        assign_coders(s, 0, 0, 1)
    study, *_ = _study(tmp_path, labels_seed=3)
    (tmp_path / "afile").write_text("x")
    r = _invoke("sample", study, "-n", 5, "-o", tmp_path / "afile")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    r = _invoke("sample", study, "-n", 5, "--coders", 2, "--overlap", 9, "-o", tmp_path / "o")
    assert r.exit_code == 2 and "--overlap" in r.stderr
