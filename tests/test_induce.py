"""``vsdstats codebook induce`` (issue 14): open labels clustered into a draft codebook.

The embeddings test server (http.server on 127.0.0.1, reached by the real openai
client) returns vectors with a planted cluster structure: each label's vector is its
cluster's random centre plus small noise, and the label strings are random letters, so
only the vectors can tell the clusters apart.  The induced partition is compared with
the planted one by scikit-learn's adjusted Rand index (an independent reference).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from vsdstats.cli import main
from vsdstats.induce.core import induce, normalize, read_labels, tfidf_embed, write_outputs
from vsdstats.tables.codebook import load_codebook
from vsdstats.testing import ReplayHandler, replay_server

DIM = 32
N_CLUSTERS = 6
PER_CLUSTER = 9


def _planted() -> dict[str, int]:
    """label -> planted cluster: random lower-case words, no shared spelling per cluster."""
    rng = random.Random(14)
    out: dict[str, int] = {}
    while len(out) < N_CLUSTERS * PER_CLUSTER:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9)))
        if normalize(word) == word and word not in out:
            out[word] = len(out) % N_CLUSTERS
    return out


PLANTED = _planted()
#: orthonormal cluster centres (cosine 0 between clusters, about 0.85 within one)
CENTRES = np.linalg.qr(np.random.default_rng(7).normal(size=(DIM, N_CLUSTERS)))[0].T


def _vector(label: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big")
    noise = np.random.default_rng(seed).normal(scale=0.06, size=DIM)
    return (CENTRES[PLANTED[label]] + noise).tolist()


class _Embeddings(ReplayHandler):
    requests: ClassVar[list[dict]] = []
    agents: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, **body})
        type(self).agents.append(self.headers.get("User-Agent", ""))
        if not self.path.endswith("/embeddings"):
            self.send_json(404, {"error": {"message": "no route"}})
            return
        texts = body["input"]
        data = []
        for i, t in enumerate(texts):
            v = _vector(t)
            if body.get("encoding_format") == "base64":
                v = base64.b64encode(np.asarray(v, dtype=np.float32).tobytes()).decode()
            data.append({"object": "embedding", "index": i, "embedding": v})
        data.reverse()  # the client must order by index, not by position
        tokens = sum(len(t) for t in texts)
        self.send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _labels_table(labels: dict[str, int], reps: int = 2) -> pd.DataFrame:
    rows = []
    for j, lab in enumerate(sorted(labels)):
        for r in range(1 + j % reps):
            rows.append(
                {
                    "post_id": f"p{j}_{r}",
                    "unit_index": 0,
                    "dimension": "coping",
                    "label": lab,
                    "quote": "a synthetic quote of five words",
                }
            )
    return pd.DataFrame(rows)


def _run(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_planted_clusters_recovered_through_the_openai_client(tmp_path: Path) -> None:
    _Embeddings.requests, _Embeddings.agents = [], []
    labels = tmp_path / "labels.csv"
    _labels_table(PLANTED).to_csv(labels, index=False)
    out = tmp_path / "out"
    with replay_server(_Embeddings) as url:
        r = _run(
            ["codebook", "induce", labels, "-o", out, "--embed", f"{url}/v1", "--embed-model", "e"]
        )
    assert r.exit_code == 0, r.output
    m = pd.read_csv(out / "mapping.csv")
    m = m.drop_duplicates("normalized")
    assert len(m) == len(PLANTED)
    ari = adjusted_rand_score([PLANTED[s] for s in m["normalized"]], m["category"])
    assert ari >= 0.9, ari
    assert m["category"].nunique() == N_CLUSTERS
    # one request, through the real openai client, with the distinct labels sorted
    assert len(_Embeddings.requests) == 1
    assert _Embeddings.requests[0]["path"] == "/v1/embeddings"
    assert _Embeddings.requests[0]["input"] == sorted(PLANTED)
    assert _Embeddings.agents[0].startswith("OpenAI/Python")
    tokens = sum(len(s) for s in PLANTED)
    assert f"embedding calls 1, tokens {tokens:,}," in r.stderr
    # TF-IDF on the same random strings cannot see the planted structure
    tf = tmp_path / "tf"
    assert _run(["codebook", "induce", labels, "-o", tf]).exit_code == 0
    t = pd.read_csv(tf / "mapping.csv").drop_duplicates("normalized")
    assert adjusted_rand_score([PLANTED[s] for s in t["normalized"]], t["category"]) < 0.5


def test_planted_clusters_k_and_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--k gives exactly k categories; inputs beyond one batch are sent in several."""
    import vsdstats.induce.core as core

    monkeypatch.setattr(core, "BATCH", 10)
    _Embeddings.requests = []
    labels = tmp_path / "labels.parquet"
    _labels_table(PLANTED).to_parquet(labels)
    with replay_server(_Embeddings) as url:
        df = read_labels(labels)
        res = induce(df, core.api_embedder(f"{url}/v1", "e"), k=N_CLUSTERS)
    assert res.cost.calls == len(_Embeddings.requests) == -(-len(PLANTED) // 10)
    m = res.mapping.drop_duplicates("normalized")
    assert m["category"].nunique() == N_CLUSTERS
    assert adjusted_rand_score([PLANTED[s] for s in m["normalized"]], m["category"]) >= 0.9


def test_tfidf_groups_spelling_variants(tmp_path: Path) -> None:
    labels = [
        "anxiety",
        "Anxiety!",
        "anxeity",
        "ANXIETY ",
        "depression",
        "depresion",
        "Depression.",
        "autism",
        "autistic traits",
        "insomnia",
        "eating disorder",
        "eating disorders",
    ]
    df = pd.DataFrame({"dimension": "condition", "label": labels})
    p = tmp_path / "labels.jsonl"
    df.to_json(p, orient="records", lines=True)
    r = _run(["codebook", "induce", p, "-o", tmp_path / "o"])
    assert r.exit_code == 0, r.output
    m = pd.read_csv(tmp_path / "o" / "mapping.csv").set_index("label")
    cat = m["category"]
    assert cat["anxiety"] == cat["Anxiety!"] == cat["anxeity"] == cat["ANXIETY "] == "anxiety"
    assert cat["depression"] == cat["depresion"] == cat["Depression."] == "depression"
    assert cat["eating disorder"] == cat["eating disorders"]
    assert len({cat["anxiety"], cat["depression"], cat["autism"], cat["insomnia"]}) == 4
    assert m.loc["anxiety", "count"] == 1 and m.loc["anxiety", "normalized"] == "anxiety"
    assert (m["similarity"] <= 1).all() and (m["similarity"] > 0).all()
    # the draft is a valid codebook: condition replaced, the other dimensions kept
    cb = load_codebook(tmp_path / "o" / "codebook-draft.toml")
    assert cb.version == "1.1.0-induced"
    assert cb.codes("condition")[0] == "anxiety"  # 4 units, the largest
    assert set(cb.codes("condition")) == set(cat)
    anx = cb.category("condition", "anxiety")
    assert anx.examples[0] == "anxiety" and "anxeity" in anx.terms
    assert cb.codes("sentiment") == load_codebook().codes("sentiment")


def test_normalize() -> None:
    assert normalize("  Panic-Attacks!! ") == "panic attack"
    assert normalize("Can't sleep") == "cant sleep"
    assert normalize("ＡＮＸＩＥＴＹ") == "anxiety"
    assert normalize("stress") == "stress" and normalize("anxious") == "anxious"
    assert normalize("worries") == "worry"
    assert normalize("A.D.H.D. meds") == "adhd med" and normalize("I feel") == "i feel"
    assert normalize("...") == ""


_ROWS = _labels_table(
    {
        s: 0
        for s in [
            "anxiety",
            "anxeity",
            "social anxiety",
            "depression",
            "depresion",
            "feeling low",
            "adhd",
            "ADHD!",
            "insomnia",
            "cannot sleep",
            "lonely",
            "loneliness",
        ]
    },
    reps=3,
).to_dict("records")


def _induce_bytes(rows: list[dict], folder: Path) -> tuple[bytes, bytes]:
    p = folder / "labels.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    res = induce(read_labels(p), tfidf_embed)
    mapping, draft = write_outputs(res, folder / "out")
    return mapping.read_bytes(), draft.read_bytes()


_REFERENCE = _induce_bytes(_ROWS, Path(tempfile.mkdtemp(prefix="induce-ref-")))


@settings(max_examples=15)
@given(st.permutations(_ROWS))
def test_order_independent(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as d:
        assert _induce_bytes(rows, Path(d)) == _REFERENCE


def test_order_independent_planted(tmp_path: Path) -> None:
    rows = _labels_table(PLANTED).to_dict("records")
    outs = []
    with replay_server(_Embeddings) as url:
        for seed in (0, 1, 2):
            random.Random(seed).shuffle(rows)
            p = tmp_path / f"l{seed}.csv"
            pd.DataFrame(rows).to_csv(p, index=False)
            o = tmp_path / f"o{seed}"
            r = _run(
                ["codebook", "induce", p, "-o", o, "--embed", f"{url}/v1", "--embed-model", "e"]
            )
            assert r.exit_code == 0, r.output
            outs.append(
                ((o / "mapping.csv").read_bytes(), (o / "codebook-draft.toml").read_bytes())
            )
    assert outs[0] == outs[1] == outs[2]


def _one_line_error(r) -> str:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("vsdstats codebook induce: error: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("table", "args", "expect"),
    [
        ({"dimension": ["a", "a"], "text": ["x", "y"]}, [], "no column 'label'"),
        ({"label": ["x", "y"]}, [], "no column 'dimension'; give --dimension"),
        ({"dimension": ["a", "a", "a"], "label": ["x", "y", None]}, [], "row 3, column 'label'"),
        ({"dimension": ["a", None], "label": ["x", "y"]}, [], "row 2, column 'dimension'"),
        ({"dimension": ["a", "B c"], "label": ["x", "y"]}, [], "row 2, column 'dimension'"),
        ({"dimension": ["a", "a"], "label": ["x", "?!"]}, [], "row 2, column 'label': '?!'"),
        ({"dimension": ["a", "a"], "label": ["x", "y"]}, ["--dimension", "b"], "no rows of"),
        ({"dimension": ["a", "a"], "label": ["x", "y"]}, ["--k", "3"], "--k 3: only 2"),
        (
            {"dimension": ["a", "a"], "label": ["x", "y"]},
            ["--k", "2", "--threshold", "1"],
            "not both",
        ),
        ({"dimension": ["a", "a"], "label": ["x", "x!"]}, [], "at least 2"),
        (
            {"dimension": ["a", "a"], "label": ["x", "y"]},
            ["--embed", "nowhere"],
            "--embed 'nowhere'",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, table: dict, args: list, expect: str) -> None:
    p = tmp_path / "labels.csv"
    pd.DataFrame(table).to_csv(p, index=False)
    line = _one_line_error(_run(["codebook", "induce", p, "-o", tmp_path / "o", *args]))
    assert expect in line, line
    if "row" in expect or "column" in expect:
        assert str(p) in line


def test_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "labels.csv"
    pd.DataFrame({"dimension": ["a", "a"], "label": ["x", "y"]}).to_csv(p, index=False)
    with replay_server(_Embeddings) as url:
        pass  # closed: nothing listens there any more
    r = _run(["codebook", "induce", p, "-o", tmp_path / "o", "--embed", url, "--embed-model", "e"])
    assert "embeddings request failed" in _one_line_error(r)


def test_hdbscan_recovers_planted_clusters_and_is_order_independent(tmp_path: Path) -> None:
    rows = _labels_table(PLANTED).to_dict("records")
    outs = []
    with replay_server(_Embeddings) as url:
        for seed in (0, 1):
            random.Random(seed).shuffle(rows)
            p = tmp_path / f"l{seed}.csv"
            pd.DataFrame(rows).to_csv(p, index=False)
            o = tmp_path / f"o{seed}"
            args = ["codebook", "induce", p, "-o", o, "--embed", f"{url}/v1", "--embed-model", "e"]
            r = _run([*args, "--method", "hdbscan", "--min-cluster-size", "3"])
            assert r.exit_code == 0, r.output
            outs.append((o / "mapping.csv").read_bytes())
    assert outs[0] == outs[1]
    m = pd.read_csv(tmp_path / "o0" / "mapping.csv").drop_duplicates("normalized")
    assert adjusted_rand_score([PLANTED[s] for s in m["normalized"]], m["category"]) >= 0.9
    r = _run(["codebook", "induce", p, "-o", tmp_path / "x", "--method", "hdbscan", "--k", "3"])
    assert "not --k or --threshold" in _one_line_error(r)


def test_name_with_asks_the_chat_model_per_category(tmp_path: Path) -> None:
    """--name-with: one instructor request per category, through the real client to the
    scripted server; proposed codes, labels and definitions reach mapping.csv and the
    draft alike; a duplicate proposal gets _2; requests hold canonical content only."""
    from fake_openai import FakeOpenAI

    p = tmp_path / "labels.csv"
    pd.DataFrame(
        {"dimension": "condition", "label": ["anxiety", "anxeity", "insomnia", "Insomnia!", "adhd"]}
    ).to_csv(p, index=False)

    def namer(user: str) -> dict[str, str]:
        first = next(ln[2:].split(" (")[0] for ln in user.splitlines() if ln.startswith("- "))
        code = "sleep" if first == "insomnia" else "worry"  # adhd too: a duplicate
        return {"code": code, "label": code.title(), "definition": f"About {first}."}

    with FakeOpenAI(record=True, namer=namer) as srv:
        args = ["codebook", "induce", p, "-o", tmp_path / "o", "--name-with", "m"]
        r = _run([*args, "--name-base-url", srv.base_url, "--seed", "3"])
        bodies = srv.bodies()
    assert r.exit_code == 0, r.output
    assert "naming: 3 chat request(s)" in r.stderr
    assert len(bodies) == 3 and all(b["seed"] == 3 and b["temperature"] == 0 for b in bodies)
    # categories in order (units, then head): {anxeity, anxiety}, {insomnia}, {adhd}
    users = [b["messages"][-1]["content"] for b in bodies]
    assert users[0].endswith("Members:\n- anxeity (1)\n- anxiety (1)")
    assert users[1].endswith("Members:\n- insomnia (2)")
    assert users[2].endswith("Members:\n- adhd (1)")
    assert bodies[0]["tools"][0]["function"]["name"] == "CategoryName"
    m = pd.read_csv(tmp_path / "o" / "mapping.csv").set_index("label")["category"]
    assert m["insomnia"] == m["Insomnia!"] == "sleep"
    assert (m["anxiety"], m["anxeity"], m["adhd"]) == ("worry", "worry", "worry_2")
    cb = load_codebook(tmp_path / "o" / "codebook-draft.toml")
    assert set(cb.codes("condition")) == {"sleep", "worry", "worry_2"}
    assert cb.category("condition", "sleep").definition.startswith("About insomnia.")
    assert cb.category("condition", "sleep").label == "Sleep"


def test_name_with_invalid_proposals_is_one_line(tmp_path: Path) -> None:
    """A model that keeps proposing an invalid code: instructor retries (the error fed
    back), then a one-line error, and no output is written."""
    from fake_openai import FakeOpenAI

    p = tmp_path / "labels.csv"
    pd.DataFrame({"dimension": "c", "label": ["anxiety", "insomnia"]}).to_csv(p, index=False)
    bad = {"code": "Not A Code", "label": "x", "definition": "y"}
    with FakeOpenAI(namer=lambda user: bad) as srv:
        args = ["codebook", "induce", p, "-o", tmp_path / "o", "--name-with", "m"]
        r = _run([*args, "--name-base-url", srv.base_url])
        assert srv.total == 3  # the first try and instructor's 2 retries
    assert "naming request failed" in _one_line_error(r)
    assert not (tmp_path / "o" / "mapping.csv").exists()
