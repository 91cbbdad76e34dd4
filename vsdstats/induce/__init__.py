"""Codebook induction (issue 14): open labels -> categories, reproducibly.

- :mod:`vsdstats.induce.core`: read a LABELS table (one row per unit and dimension),
  normalize the labels, embed the distinct normalized labels (TF-IDF character n-grams
  offline, an OpenAI-compatible ``/v1/embeddings`` endpoint, or a local
  sentence-transformers model), cluster them (agglomerative, cosine distance) and write
  ``mapping.csv`` and ``codebook-draft.toml``;
- :mod:`vsdstats.induce.draft`: the draft codebook, written as TOML and read back with
  :func:`vsdstats.tables.codebook.load_codebook` (so it is always a valid codebook);
- :mod:`vsdstats.induce.recode`: apply a (hand-edited) mapping to a study's open labels.

Order independence: the distinct normalized labels are sorted (by code point) before
they are embedded and clustered, and categories are named and ordered from their
content (most frequent member, unit counts), never from the order rows arrived in;
the same labels in any row order give byte-identical outputs.
"""
