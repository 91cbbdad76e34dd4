"""The hand edit of docs/codebook-induction.md, as code (what you would do in a
spreadsheet and a text editor): merge "anxious" into anxiety and "cant sleep" into
insomnia, give social anxiety a category of its own, in mapping.csv and in the draft
codebook alike.

    python docs/examples/edit_induced.py INDUCED_FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import tomllib

from vsdstats.induce.draft import codebook_toml
from vsdstats.tables.codebook import load_codebook, parse_codebook

folder = Path(sys.argv[1])
m = pd.read_csv(folder / "mapping.csv")
m.loc[m["category"] == "anxious", "category"] = "anxiety"
m.loc[m["category"] == "cant_sleep", "category"] = "insomnia"
m.loc[m["normalized"] == "social anxiety", "category"] = "social_anxiety"
m.to_csv(folder / "mapping.csv", index=False)

draft = folder / "codebook-draft.toml"
data = tomllib.loads(draft.read_text(encoding="utf-8"))
data["codebook"]["version"] = "1.1.0-induced.1"
cats = data["dimensions"]["condition"]["categories"]
cats[:] = [c for c in cats if c["code"] not in ("anxious", "cant_sleep")]
for c in cats:
    if c["code"] == "anxiety":  # social anxiety moves out
        c["examples"] = [e for e in c["examples"] if e != "social anxiety"] + ["anxious"]
        c["terms"] = [t for t in c["terms"] if t != "social anxiety"] + ["anxious"]
        c["definition"] = "Anxiety and worry in general, named as such or misspelt."
    if c["code"] == "depressed":
        c["code"], c["label"] = "depression", "Depression"
m.loc[m["category"] == "depressed", "category"] = "depression"
m.to_csv(folder / "mapping.csv", index=False)
cats.append(
    {
        "code": "social_anxiety",
        "label": "Social anxiety",
        "definition": "Fear of social situations and of being judged by others.",
        "examples": ["social anxiety"],
    }
)
draft.write_text(codebook_toml(parse_codebook(data, source=str(draft))), encoding="utf-8")
print(f"{draft}: condition = {', '.join(load_codebook(draft).codes('condition'))}")
