"""Human coding end to end (issue 13): blind sheets of `vsdstats sample` filled in by
three simulated coders of known accuracy (with missing codes), `validate import`,
`validate reliability` (alpha = the krippendorff package), a Label Studio export made
with the generated config round-tripping through `validate import`, and `validate
adjudicate` writing the gold table.  Synthetic posts and codes only."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import krippendorff
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.codes import import_codes
from vsdstats.validate.gold import ValidateError
from vsdstats.validate.labelstudio import label_config

CB = load_codebook()
CONDS = ["adhd", "anxiety", "depressive", "general"]
SENTS = ["positive", "neutral", "negative"]
ACCURACY = {"coder1": 0.95, "coder2": 0.8, "coder3": 0.6}
VOCAB = {v: float(i) for i, v in enumerate([*CONDS, *SENTS, "yes", "no"])}


def _run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r


def _truth(n=60, seed=0):
    rng = np.random.default_rng(seed)
    posts = pd.DataFrame(
        {
            "post_id": [f"h{i:03d}" for i in range(n)],
            "platform": "reddit",
            "text": [f"synthetic post {i}: the chatbot and my mood, entry {i}" for i in range(n)],
        }
    )
    truth = {
        p: {
            "relevant": "yes" if rng.random() < 0.8 else "no",
            "condition": rng.choice(CONDS),
            "sentiment": rng.choice(SENTS),
            "llm_product": "chatgpt",
            "perspective": "emotional_support",
            "value": "autonomy",
        }
        for p in posts["post_id"]
    }
    return posts, truth


def _fill(sheet: pd.DataFrame, truth, coder: str, rng, missing=0.1) -> pd.DataFrame:
    rows = []
    for r in sheet.to_dict("records"):
        if rng.random() < missing:
            rows.append(r)  # left empty: not coded
            continue
        t = truth[r["post_id"]]
        right = rng.random() < ACCURACY[coder]
        rel = t["relevant"] if right else ("no" if t["relevant"] == "yes" else "yes")
        r = {**r, "relevant": rel}
        if rel == "yes":
            for f in ("condition", "sentiment"):
                pool = CONDS if f == "condition" else SENTS
                r[f] = t[f] if rng.random() < ACCURACY[coder] else rng.choice(pool)
            r.update(
                llm_product="chatgpt",
                perspective="emotional_support",
                value="autonomy",
                quote=r["text"][:30],
            )
        rows.append(r)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def coded_sample(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("human")
    posts, truth = _truth()
    study = tmp / "study"
    study.mkdir()
    posts.to_csv(study / "posts.csv", index=False)
    out = tmp / "coding"
    r = _run("sample", study, "-n", 45, "--coders", 3, "--overlap", 30, "--seed", 2, "-o", out)
    assert r.exit_code == 0, r.output
    rng = np.random.default_rng(7)
    done = []
    for c in ACCURACY:
        sheet = pd.read_csv(out / "sheets" / f"{c}.csv", dtype=str, keep_default_na=False)
        path = tmp / f"{c}.done.csv"
        _fill(sheet, truth, c, rng).to_csv(path, index=False)
        done.append(path)
    return tmp, out, done, truth


def test_import_and_reliability_match_the_krippendorff_package(coded_sample):
    tmp, out, done, _ = coded_sample
    codes = tmp / "codes.csv"
    r = _run("validate", "import", *done, "--design", out / "design.csv", "-o", codes)
    assert r.exit_code == 0, r.output
    assert "not coded" in r.stderr  # missing codes are named, not dropped silently
    df = pd.read_csv(codes, dtype={"post_id": str})
    assert set(df["coder"]) == set(ACCURACY) and df["pi"].notna().all()
    rep = tmp / "rel.csv"
    r = _run("validate", "reliability", codes, "--n-boot", 300, "--seed", 1, "-o", rep)
    assert r.exit_code == 0, r.output
    rel = pd.read_csv(rep).set_index("field")
    # the reference: coders x posts matrices of the overlap posts (one unit per post)
    shared = df.groupby("post_id")["coder"].nunique()
    shared = shared[shared >= 2].index
    sub = df[df["post_id"].isin(shared)]
    for f, level in (("relevant", "nominal"), ("condition", "nominal"), ("sentiment", "nominal")):
        w = sub.pivot(index="coder", columns="post_id", values=f)
        x = w.apply(lambda s: s.map(VOCAB))
        ref = krippendorff.alpha(reliability_data=x.to_numpy(float), level_of_measurement=level)
        assert rel.loc[f, "krippendorff_alpha"] == pytest.approx(ref, abs=1e-12), f
        assert rel.loc[f, "alpha_ci_low"] < rel.loc[f, "alpha_ci_high"]
    score = sub.pivot(index="coder", columns="post_id", values="sentiment").apply(
        lambda s: s.map({"positive": 1.0, "neutral": 0.0, "negative": -1.0})
    )
    ref = krippendorff.alpha(
        reliability_data=score.to_numpy(float), level_of_measurement="interval"
    )
    assert rel.loc["sentiment (score)", "krippendorff_alpha"] == pytest.approx(ref, abs=1e-12)
    assert rel.loc["condition", "n_coders"] == 3 and np.isfinite(
        rel.loc["condition", "fleiss_kappa"]
    )


def test_unknown_label_is_one_line_with_file_and_row(coded_sample, tmp_path):
    _, out, done, _ = coded_sample
    bad = pd.read_csv(done[0], dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(bad["condition"] != "")[2])
    bad.loc[i, "condition"] = "depresive"
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    r = _run("validate", "import", p, "-o", tmp_path / "x.csv")
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1
    assert f"bad.csv row {i + 2}" in lines[0] and "'depresive'" in lines[0]
    assert "condition" in lines[0]
    other = pd.DataFrame({"post_id": ["zz"], "relevant": ["no"]})
    other.to_csv(tmp_path / "stray.csv", index=False)
    with pytest.raises(ValidateError, match="not in the design"):
        import_codes([tmp_path / "stray.csv"], CB, out / "design.csv")


def _config_controls(xml: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (toName, allowed values) of every control in a labelling config."""
    root = ET.fromstring(xml)
    out = {}
    for el in root.iter():
        if el.tag in ("Choices", "Labels", "TextArea"):
            vals = {c.get("value") for c in el if c.tag in ("Choice", "Label")}
            out[el.get("name")] = (el.get("toName"), vals, el.get("perRegion") == "true")
    return out


def _ls_export(tasks, truth):
    """An export as Label Studio writes it (JSON export: tasks with ``annotations``,
    each with ``completed_by`` and ``result`` of labels regions and per-region choices
    sharing the region's ``id``)."""
    export = []
    for t_id, task in enumerate(tasks, start=1):
        text = task["data"]["text"]
        anns = []
        for a_id, who in enumerate((11, 12), start=1):
            t = truth[task["data"]["post_id"]]
            res = [
                {
                    "id": f"r{a_id}",
                    "type": "choices",
                    "from_name": "relevant",
                    "to_name": "text",
                    "origin": "manual",
                    "value": {"choices": [t["relevant"]]},
                }
            ]
            if t["relevant"] == "yes":
                span = {"start": 0, "end": 14, "text": text[:14]}
                res.append(
                    {
                        "id": f"reg{a_id}",
                        "type": "labels",
                        "from_name": "unit",
                        "to_name": "text",
                        "origin": "manual",
                        "value": {**span, "labels": ["unit"]},
                    }
                )
                for f in ("condition", "sentiment", "llm_product"):
                    v = t[f] if who == 11 else ("general" if f == "condition" else t[f])
                    res.append(
                        {
                            "id": f"reg{a_id}",
                            "type": "choices",
                            "from_name": f,
                            "to_name": "text",
                            "origin": "manual",
                            "value": {**span, "choices": [v]},
                        }
                    )
            anns.append(
                {
                    "id": 100 * t_id + a_id,
                    "completed_by": who,
                    "result": res,
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": "2026-12-01T10:00:00.000000Z",
                    "lead_time": 12.5,
                    "task": t_id,
                }
            )
        export.append(
            {"id": t_id, "data": task["data"], "annotations": anns, "predictions": [], "project": 1}
        )
    return export


def test_label_studio_export_round_trips(coded_sample, tmp_path):
    _, out, _, truth = coded_sample
    xml = (out / "labelstudio" / "config.xml").read_text()
    assert xml == label_config(CB)
    controls = _config_controls(xml)
    assert controls["condition"][1] == set(CB.codes("condition")) and controls["condition"][2]
    assert not controls["relevant"][2] and controls["unit"][1] == {"unit"}
    tasks = json.loads((out / "labelstudio" / "coder1.tasks.json").read_text())
    export = _ls_export(tasks, truth)
    # every result the export holds is one the generated config can make
    for task in export:
        for ann in task["annotations"]:
            for res in ann["result"]:
                to, values, _ = controls[res["from_name"]]
                assert res["to_name"] == to
                got = res["value"].get("choices") or res["value"].get("labels")
                assert set(got) <= values
    p = tmp_path / "export.json"
    p.write_text(json.dumps(export))
    r = _run("validate", "import", p, "-o", tmp_path / "ls.csv")
    assert r.exit_code == 0, r.output
    codes = pd.read_csv(tmp_path / "ls.csv", dtype={"post_id": str})
    assert set(codes["coder"]) == {"annotator11", "annotator12"}
    for row in codes.itertuples():
        t = truth[row.post_id]
        assert row.relevant == t["relevant"]
        if t["relevant"] == "yes":
            want = t["condition"] if row.coder == "annotator11" else "general"
            assert row.condition == want and row.sentiment == t["sentiment"]
            assert (
                row.quote
                == next(x for x in tasks if x["data"]["post_id"] == row.post_id)["data"]["text"][
                    :14
                ]
            )
    assert len(codes) == 2 * len(tasks)
    # an unknown code in an export names the file, task and annotation
    export[0]["annotations"][0]["result"].append(
        {
            "id": "regX",
            "type": "choices",
            "from_name": "sentiment",
            "to_name": "text",
            "value": {"choices": ["ecstatic"]},
        }
    )
    p.write_text(json.dumps(export))
    r = _run("validate", "import", p, "-o", tmp_path / "ls2.csv")
    assert r.exit_code == 2 and "task 1" in r.stderr and "'ecstatic'" in r.stderr


def test_adjudicate_writes_disagreements_and_reads_decisions(coded_sample, tmp_path):
    _, out, done, truth = coded_sample
    codes = tmp_path / "codes.csv"
    assert (
        _run("validate", "import", *done, "--design", out / "design.csv", "-o", codes).exit_code
        == 0
    )
    sheet = tmp_path / "dis.csv"
    r = _run("validate", "adjudicate", codes, "-o", sheet)
    assert r.exit_code == 0, r.output
    dis = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert len(dis) > 0 and (dis["decision"] == "").all()
    # without decisions the gold cannot be written: a one-line error names a post
    r = _run("validate", "adjudicate", codes, "--decisions", sheet, "-o", tmp_path / "g.csv")
    assert r.exit_code == 2 and "no decision" in r.stderr, r.output
    # the adjudicator decides by the truth
    for i, row in dis.iterrows():
        t = truth[row["post_id"]]
        dis.loc[i, "decision"] = (
            t[row["field"]] if t["relevant"] == "yes" or row["field"] == "relevant" else "none"
        )
    dis.to_csv(sheet, index=False)
    gold = tmp_path / "gold.csv"
    r = _run(
        "validate",
        "adjudicate",
        codes,
        "--decisions",
        sheet,
        "--design",
        out / "design.csv",
        "-o",
        gold,
    )
    assert r.exit_code == 0, r.output
    # the sidecar the methods paragraph of paper --gold reads: design, coders, alpha
    meta = json.loads((tmp_path / "gold.methods.json").read_text())
    assert meta["design"]["overlap"] == 30 and set(meta["coders"]) == set(ACCURACY)
    assert {r["field"] for r in meta["reliability"]} >= {"relevant", "condition"}
    g = pd.read_csv(gold, dtype={"post_id": str})
    assert (
        g["pi"].notna().all()
        and g["post_id"].nunique()
        == len(g[g["relevant"] == "no"]) + g.loc[g["relevant"] == "yes", "post_id"].nunique()
    )
    coded_by_all = pd.read_csv(codes, dtype={"post_id": str})["post_id"].unique()
    assert set(g["post_id"]) == set(coded_by_all)
    # adjudicated by the truth: the gold equals the truth where it decided
    decided = set(dis["post_id"])
    for row in g[g["post_id"].isin(decided) & (g["relevant"] == "yes")].itertuples():
        assert row.condition == truth[row.post_id]["condition"]
