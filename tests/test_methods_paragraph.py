"""``paper --gold`` writes a methods paragraph on human validation into paper/README.md
(issue 13): the sample design and coders (from GOLD.methods.json, which `validate
adjudicate --design` writes), the coders' alpha with its interval, and the LLM's F1 per
dimension against the gold -- checked against sklearn and the reliability table, not
against our own text.  Synthetic corpus only."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from vsdstats.paper.run import run_paper
from vsdstats.paper.simulate import simulate_corpus
from vsdstats.stats.agreement import reliability
from vsdstats.tables.codebook import load_codebook
from vsdstats.validate.methods import write_sidecar
from vsdstats.validate.sample import draw_design, write_sample

CB = load_codebook()


def test_paper_gold_states_design_coders_alpha_and_f1(tmp_path):
    units = simulate_corpus(n=1500, seed=3)
    rng = np.random.default_rng(3)
    flip = rng.random(len(units)) < 0.2
    coded = units.assign(sentiment=units["sentiment"].where(~flip, "neutral"))
    posts = units.drop_duplicates("post_id")[["post_id", "platform"]].assign(text="t")
    d = draw_design(posts, 150, ["platform"], 4, coders=3, overlap=40)
    write_sample(d, tmp_path / "coding", CB)
    pi = d.design.set_index("post_id")["pi"]
    gold = units[units["post_id"].isin(pi.index)][
        ["post_id", "unit_index", "sentiment", "condition"]
    ].assign(pi=lambda g: g["post_id"].map(pi))
    gold_p = tmp_path / "gold.csv"
    gold.to_csv(gold_p, index=False)
    # three coders on the overlap posts: their reliability goes into the sidecar
    overlap = d.design.loc[d.design["overlap"] == "yes", "post_id"]
    truth = gold.drop_duplicates("post_id").set_index("post_id")["sentiment"]
    codes = pd.DataFrame(
        [
            {
                "coder": c,
                "post_id": p,
                "unit_key": p,
                "relevant": "yes",
                "sentiment": truth[p] if rng.random() < 0.85 else "negative",
            }
            for c in ("coder1", "coder2", "coder3")
            for p in overlap
        ]
    )
    rel = reliability(codes, ["sentiment"], n_boot=200, seed=1)
    write_sidecar(gold_p, tmp_path / "coding" / "design.csv", codes, rel)
    units_p = tmp_path / "units.csv"
    coded.assign(created_at=coded["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        units_p, index=False
    )
    out = tmp_path / "paper"
    run_paper(units_p, out, gold=gold_p, min_cell=5, figures=False, log=lambda _m: None)
    readme = (out / "README.md").read_text()
    sec = readme.split("## Human validation (methods paragraph)")[1].split("\n## ")[0]
    assert "stratified random sample (strata: platform;" in sec
    assert f"150 of the {posts.shape[0]} posts (seed 4)" in sec
    assert "3 coders coded the posts blind" in sec and "40 posts were coded by all" in sec
    r = rel.iloc[0]
    want = f"sentiment {r.krippendorff_alpha:.2f} [{r.alpha_ci_low:.2f}, {r.alpha_ci_high:.2f}]"
    assert want in sec
    key = ["post_id", "unit_index"]
    j = gold.merge(coded[[*key, "sentiment", "condition"]], on=key, suffixes=("_g", "_c"))
    for f in ("sentiment", "condition"):
        f1 = f1_score(j[f"{f}_g"], j[f"{f}_c"], average="macro", zero_division=0)
        assert f"{f} macro-F1 {f1:.2f}" in sec, (f, f1, sec)


def test_without_a_sidecar_the_paragraph_says_what_it_cannot_state(tmp_path):
    units = simulate_corpus(n=600, seed=4)
    gold = units.sample(60, random_state=1)[["post_id", "unit_index", "sentiment"]]
    gold_p = tmp_path / "g.csv"
    gold.assign(pi=60 / len(units)).to_csv(gold_p, index=False)
    units_p = tmp_path / "u.csv"
    units.assign(created_at=units["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        units_p, index=False
    )
    run_paper(units_p, tmp_path / "p", gold=gold_p, min_cell=5, figures=False, log=lambda _m: None)
    readme = (tmp_path / "p" / "README.md").read_text()
    assert "with equal inclusion probabilities" in readme
    assert "g.methods.json" in readme and "not stated here" in readme
    assert "sentiment macro-F1 1.00" in readme  # the gold is the coding itself
