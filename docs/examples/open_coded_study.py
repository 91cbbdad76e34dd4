"""Make the SYNTHETIC open-coded study of docs/codebook-induction.md.

    python docs/examples/open_coded_study.py STUDY [--n 600]

writes STUDY/posts.csv (synthetic posts, pseudonymous authors; no real post) and codes
it with ``vsdstats code --open`` against the scripted local OpenAI-compatible server of
the test suite (tests/fake_openai.py, started here on 127.0.0.1), through the real
instructor/openai client.  The "model" answers each post with codebook codes and with
open condition labels spelled the way people write them ("Anxiety!", "anxeity", "panic
attacks", "A.D.H.D.", ...), so the induction has spelling variants to merge and
distinctions the codebook does not make (panic and social anxiety inside anxiety,
insomnia and burnout inside other or general).  Run it from the repository root.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import B, FakeOpenAI  # noqa: E402

from vsdstats.coding.prompt import build_prompt  # noqa: E402
from vsdstats.tables.codebook import load_codebook  # noqa: E402

#: (codebook condition, P(positive), open condition spellings, weight)
TOPICS = [
    ("anxiety", 0.6, ["anxiety", "Anxiety!", "anxeity", "anxious"], 5),
    ("anxiety", 0.7, ["panic attacks", "panic attack", "Panic"], 3),
    ("anxiety", 0.4, ["social anxiety", "Social Anxiety"], 2),
    ("depressive", 0.3, ["depression", "depresion", "Depressed"], 4),
    ("adhd", 0.7, ["adhd", "ADHD", "A.D.H.D."], 3),
    ("other", 0.5, ["insomnia", "Insomnia", "cant sleep"], 2),
    ("general", 0.4, ["burnout", "burn out", "Burnout!"], 2),
]
PLATFORMS = ["reddit", "x", "youtube"]
PRODUCTS = ["chatgpt", "chatgpt", "claude", "gemini", "companion"]
PERSPECTIVES = ["emotional_support", "informational_support", "dependency", "ethics"]
VALUES = ["human_welfare", "autonomy", "privacy", "trust"]


def closed_unit(i: int) -> dict[str, str]:
    """Post i's codebook codes (seeded per post, so a rerun gives the same study)."""
    rng = random.Random(i)
    cond, p_pos, _, _ = TOPICS[plan(i)]
    u = rng.random()
    sentiment = "positive" if u < p_pos else ("neutral" if u < p_pos + 0.2 else "negative")
    return {
        "llm_product": rng.choice(PRODUCTS),
        "llm_version": "unspecified",
        "sentiment": sentiment,
        "condition": cond,
        "perspective": rng.choice(PERSPECTIVES),
        "value": rng.choice(VALUES),
    }


def posts(n: int) -> pd.DataFrame:
    """``n`` synthetic posts; post i is about topic ``plan(i)``."""
    rows = []
    for i in range(n):
        t = plan(i)
        rows.append(
            {
                "platform": PLATFORMS[i % 3],
                "post_id": f"syn{i:04d}",
                "author": f"a_{(i * 7919) % 100003:024x}",
                "created_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00Z",
                "text": f"Synthetic post {i}: I kept talking to the chatbot about topic {t} "
                f"and it changed how I cope, at least a little (case {i}).",
            }
        )
    return pd.DataFrame(rows)


def plan(i: int) -> int:
    cum = [k for k, (*_, w) in enumerate(TOPICS) for _ in range(w)]
    return cum[(i * 5) % len(cum)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study")
    ap.add_argument("--n", type=int, default=600)
    args = ap.parse_args()
    study = Path(args.study)
    study.mkdir(parents=True, exist_ok=True)
    df = posts(args.n)
    df.to_csv(study / "posts.csv", index=False)
    cb = load_codebook()
    spec = build_prompt(cb, ("condition", "perspective", "value"))

    def open_label(text: str, dim: str, unit: dict) -> str:
        i = int(text.split("post ", 1)[1].split(":", 1)[0])
        if dim != "condition":
            return unit[dim].replace("_", " ")
        spellings = TOPICS[plan(i)][2]
        return spellings[(i // 7) % len(spellings)]

    with FakeOpenAI(render=spec.messages, open_label=open_label) as srv:
        srv.add_texts(df["text"])
        for i, text in enumerate(df["text"]):
            srv.script(text, [B("ok", units=[{**closed_unit(i), "quote": text[:80]}])])
        cmd = [sys.executable, "-m", "vsdstats", "code", str(study / "posts.csv"), "-o", str(study)]
        cmd += ["--model", "fake-open-coder", "--base-url", srv.base_url, "--open"]
        env = {**os.environ, "OPENAI_API_KEY": "sk-local"}  # the local server checks none
        subprocess.run([*cmd, "--no-progress"], check=True, env=env)


if __name__ == "__main__":
    main()
