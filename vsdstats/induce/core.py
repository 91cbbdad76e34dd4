"""Induce categories from open labels: normalize, embed, cluster, write.

LABELS table (CSV, TSV, JSON lines or Parquet; what ``vsdstats code --open`` stores as
``STUDY/open_labels.*``): one row per unit and dimension, columns ``label`` (the raw
open label) and ``dimension`` (may be left out when ``--dimension`` names the one
dimension); ``post_id``, ``unit_index`` and ``quote`` are carried but not needed.

1. Normalize (:func:`normalize`): NFKC, case folding, apostrophes dropped, every other
   non-alphanumeric character a space, whitespace collapsed, runs of one-letter words
   joined (``A.D.H.D.`` -> ``adhd``), and a light English plural
   rule per word (``-ies`` -> ``-y``; a final ``s`` dropped unless the word ends in
   ``ss``, ``us``, ``is`` or ``ous``, or has 3 letters or fewer).
2. Embed the DISTINCT normalized labels of a dimension, sorted by code point:
   ``tfidf`` (default, offline): scikit-learn TF-IDF of character 1-3-grams within
   word boundaries (``char_wb``, sublinear tf, L2 rows), fitted on those labels; a URL:
   an OpenAI-compatible ``POST {URL}/embeddings`` (``encoding_format="float"``, batches
   of :data:`BATCH` inputs) through the openai client; a folder: a sentence-transformers
   model loaded from it (if that package is installed).
3. Cluster: scikit-learn ``AgglomerativeClustering`` on cosine distance
   (``1 - cos``) with the stated linkage, cut at ``threshold`` (default
   :data:`DEFAULT_THRESHOLD`) or into ``k`` clusters.  With ``average`` linkage two
   clusters merge while the mean cosine distance between their members is at most the
   threshold.  Or ``method="hdbscan"``: scikit-learn ``HDBSCAN`` (``min_cluster_size``)
   on the L2-normalized vectors (Euclidean distance there is ``sqrt(2 (1 - cos))``,
   monotone in cosine distance); each label it calls noise becomes a category of its
   own, so every label is mapped.
4. Name and order: a category's head is its member with the most units (ties: the
   one nearest the centre, then the shorter, then the smaller by code point); its
   code is the head as a slug (``[a-z][a-z0-9_]*``, a numeric suffix if two heads
   slug alike); categories are
   ordered by units (descending), then head.  ``similarity`` is the cosine similarity
   of a label's vector with its category's centre, the unit-count-weighted mean of the
   members' L2-normalized vectors (rounded to 4 decimals); ties in units go to the
   member nearest the centre.

Nothing here depends on the order of the rows (see :mod:`vsdstats.induce`).
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.errors import InputError

#: Cosine-distance cut of the dendrogram when neither k nor a threshold is given
#: (TF-IDF character n-grams: keeps "anxiety"/"anxeity" together, "anxiety"/"autism" apart).
DEFAULT_THRESHOLD = 0.6
LINKAGES = ("average", "complete", "single")
METHODS = ("agglomerative", "hdbscan")
#: Inputs per embeddings request.
BATCH = 256
MAPPING_COLUMNS = ("dimension", "label", "normalized", "count", "category", "similarity")
SIMILARITY_DECIMALS = 4
_APOSTROPHE = re.compile(r"['\u2018\u2019\u02bc`]")
_NON_WORD = re.compile(r"[\W_]+")


class InductionError(InputError):
    """The labels, the settings or the embedding endpoint cannot give an induction."""


# ------------------------------------------------------------------ normalize
def _lemma(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


def _join_letters(words: list[str]) -> list[str]:
    """Runs of 2+ one-letter words joined ("a d h d" from "A.D.H.D." -> "adhd")."""
    out: list[str] = []
    run: list[str] = []
    for w in [*words, ""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        out += ["".join(run)] if len(run) > 1 else run
        run = []
        if w:
            out.append(w)
    return out


def normalize(label: str) -> str:
    """The normalized form of an open label (module docstring, step 1); may be ''."""
    s = unicodedata.normalize("NFKC", label).casefold()
    s = _NON_WORD.sub(" ", _APOSTROPHE.sub("", s))
    return " ".join(_lemma(w) for w in _join_letters(s.split()))


def slug(text: str) -> str:
    """``text`` as a codebook code: ASCII letters, digits and ``_``, starting with a letter."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")[:40].strip("_")
    return s if s[:1].isalpha() else f"c_{s}".rstrip("_")


# ------------------------------------------------------------------ labels
def read_labels(path: str | Path, dimension: str | None = None) -> pd.DataFrame:
    """The LABELS table as ``dimension, label, normalized`` (+ its other columns), or an
    InductionError naming the file, the row (1-based data row) and the column."""
    from vsdstats.tables.io import read_table

    p = Path(path)
    df = read_table(p)
    if "label" not in df.columns:
        raise InductionError(
            f"{p}: no column 'label' (the raw open label); it has {', '.join(map(str, df.columns))}"
        )
    if "dimension" not in df.columns:
        if dimension is None:
            raise InductionError(
                f"{p}: no column 'dimension'; give --dimension to name the labels' dimension"
            )
        df = df.assign(dimension=dimension)
    for col in ("dimension", "label"):
        bad = df[col].isna().to_numpy() | (df[col].astype("string").str.strip() == "").to_numpy(
            na_value=True
        )
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise InductionError(f"{p}: row {i + 1}, column {col!r}: missing value")
    df = df.assign(
        dimension=df["dimension"].astype("string").str.strip(),
        label=df["label"].astype("string"),
    )
    bad_dim = ~df["dimension"].str.fullmatch(r"[a-z][a-z0-9_]*")
    if bad_dim.any():
        i = int(bad_dim.to_numpy().nonzero()[0][0])
        raise InductionError(
            f"{p}: row {i + 1}, column 'dimension': {df['dimension'].iloc[i]!r} is not a "
            "dimension name (lower-case letters, digits, _)"
        )
    if dimension is not None:
        df = df[df["dimension"] == dimension]
        if df.empty:
            raise InductionError(f"{p}: no rows of dimension {dimension!r}")
    norm = [normalize(s) for s in df["label"]]
    for i, (raw, n) in enumerate(zip(df["label"], norm, strict=True)):
        if not n:
            row = int(df.index[i]) + 1
            raise InductionError(
                f"{p}: row {row}, column 'label': {raw!r} has no letter or digit to cluster on"
            )
    return df.assign(normalized=pd.array(norm, dtype="string")).reset_index(drop=True)


# ------------------------------------------------------------------ embedders
@dataclass
class Cost:
    """What the embedding of one run took: requests, tokens (None: not reported), time."""

    calls: int = 0
    tokens: int | None = None
    seconds: float = 0.0

    def add_tokens(self, n: int | None) -> None:
        if n is not None:
            self.tokens = (self.tokens or 0) + int(n)

    def line(self) -> str:
        tok = "not reported" if self.tokens is None else f"{self.tokens:,}"
        return f"embedding calls {self.calls}, tokens {tok}, {self.seconds:.2f} s"


Embed = Callable[[list[str], Cost], np.ndarray]
#: How to install what induction needs beyond the base install.
INDUCE_EXTRA = "pip install 'vsdstats[induce]'"


def _need_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InductionError(
            f"codebook induction needs scikit-learn, which is not installed ({INDUCE_EXTRA})"
        ) from None


def tfidf_embed(texts: list[str], cost: Cost) -> np.ndarray:
    """TF-IDF character 1-3-grams (module docstring, step 2); no request."""
    _need_sklearn()
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    return vec.fit_transform(texts).toarray().astype(np.float64)


def api_embedder(base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY") -> Embed:
    """Embeddings from an OpenAI-compatible endpoint through the openai client (the key,
    if any, from ``api_key_env``; local servers need none)."""

    def embed(texts: list[str], cost: Cost) -> np.ndarray:
        import openai

        client = openai.OpenAI(
            base_url=base_url,
            api_key=os.environ.get(api_key_env) or "not-needed",
            max_retries=2,
            timeout=120.0,
        )
        rows: list[list[float]] = []
        try:
            for i in range(0, len(texts), BATCH):
                chunk = texts[i : i + BATCH]
                resp = client.embeddings.create(model=model, input=chunk, encoding_format="float")
                cost.calls += 1
                usage = getattr(resp, "usage", None)
                cost.add_tokens(getattr(usage, "prompt_tokens", None) if usage else None)
                data = sorted(resp.data, key=lambda d: d.index)
                if len(data) != len(chunk):
                    raise InductionError(
                        f"{base_url}: {len(data)} embeddings for {len(chunk)} inputs"
                    )
                rows += [list(d.embedding) for d in data]
        except openai.OpenAIError as exc:
            msg = " ".join(str(exc).split())
            raise InductionError(f"{base_url}: embeddings request failed: {msg}") from None
        finally:
            client.close()
        return np.asarray(rows, dtype=np.float64)

    return embed


def local_embedder(path: str) -> Embed:
    """A sentence-transformers model from a local folder (no download)."""

    def embed(texts: list[str], cost: Cost) -> np.ndarray:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise InductionError(
                f"--embed {path}: a model folder needs the sentence-transformers package "
                "(not installed); use --embed tfidf or an embeddings URL"
            ) from None
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
        cost.calls += 1
        return np.asarray(model.encode(texts, batch_size=64), dtype=np.float64)

    return embed


def embedder(spec: str, model: str | None, api_key_env: str = "OPENAI_API_KEY") -> Embed:
    """``tfidf``, an ``http(s)://`` base URL (needs ``model``) or a model folder."""
    if spec == "tfidf":
        return tfidf_embed
    if spec.startswith(("http://", "https://")):
        if not model:
            raise InductionError(f"--embed {spec}: give --embed-model (the model to ask for)")
        return api_embedder(spec, model, api_key_env)
    if Path(spec).is_dir():
        return local_embedder(spec)
    raise InductionError(
        f"--embed {spec!r}: neither 'tfidf', an http(s):// URL, nor a model folder"
    )


# ------------------------------------------------------------------ cluster
def cluster(
    X: np.ndarray,
    *,
    k: int | None = None,
    threshold: float | None = None,
    linkage: str = "average",
    method: str = "agglomerative",
    min_cluster_size: int = 2,
) -> np.ndarray:
    """Cluster ids (arbitrary order) of the rows of ``X`` (L2-normalized; module doc,
    step 3)."""
    _need_sklearn()
    from sklearn.cluster import HDBSCAN, AgglomerativeClustering

    n = len(X)
    if method == "hdbscan":
        if n < 2:
            return np.zeros(n, dtype=int)
        ids = HDBSCAN(min_cluster_size=max(2, min_cluster_size), copy=True).fit(X).labels_
        noise = np.flatnonzero(ids < 0)
        ids = ids.copy()
        ids[noise] = ids.max() + 1 + np.arange(len(noise))  # each noise label alone
        return ids
    if k is not None and k > n:
        raise InductionError(f"--k {k}: only {n} distinct label(s) to cluster")
    if n == 1:
        return np.zeros(1, dtype=int)
    if k is not None:
        model = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage=linkage)
    else:
        model = AgglomerativeClustering(
            n_clusters=None,
            distance_threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            metric="cosine",
            linkage=linkage,
            compute_full_tree=True,
        )
    return model.fit(X).labels_


# ------------------------------------------------------------------ induce
@dataclass
class InducedCategory:
    """One induced category: its code and members (normalized label -> units)."""

    code: str
    head: str
    members: dict[str, int]
    similarity: dict[str, float] = field(default_factory=dict)  # member -> to the centre
    label: str | None = None  # proposed by --name-with (else the head, capitalized)
    definition: str | None = None  # proposed by --name-with (else a note to edit it)

    @property
    def units(self) -> int:
        return sum(self.members.values())

    def ranked(self) -> list[str]:
        """Members by units (descending), then similarity to the centre (descending),
        then shorter, then code point."""
        sim = self.similarity
        return sorted(self.members, key=lambda m: (-self.members[m], -sim.get(m, 0.0), len(m), m))


@dataclass
class DimensionResult:
    dimension: str
    categories: list[InducedCategory]
    mapping: pd.DataFrame
    distinct: int
    rows: int


@dataclass
class Induction:
    """What :func:`induce` found, per dimension, and what the embedding cost."""

    dimensions: list[DimensionResult] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    seconds: float = 0.0

    @property
    def mapping(self) -> pd.DataFrame:
        return pd.concat([d.mapping for d in self.dimensions], ignore_index=True)


def _unit_rows(X: np.ndarray, labels: list[str]) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1)
    if (norms == 0).any() or not np.isfinite(X).all():
        i = int(np.flatnonzero((norms == 0) | ~np.isfinite(X).all(axis=1))[0])
        raise InductionError(f"the embedding of label {labels[i]!r} is zero or not finite")
    return X / norms[:, None]


def induce_dimension(
    df: pd.DataFrame,
    dimension: str,
    embed: Embed,
    cost: Cost,
    *,
    k: int | None = None,
    threshold: float | None = None,
    linkage: str = "average",
    method: str = "agglomerative",
    min_cluster_size: int = 2,
) -> DimensionResult:
    """Induce the categories of one dimension from its rows of ``df`` (read_labels)."""
    rows = df[df["dimension"] == dimension]
    counts = rows["normalized"].value_counts()
    labels = sorted(str(s) for s in counts.index)  # canonical order: code point
    n_units = np.array([int(counts[s]) for s in labels], dtype=float)
    t0 = time.perf_counter()
    X = embed(labels, cost)
    cost.seconds += time.perf_counter() - t0
    if X.shape[0] != len(labels):
        raise InductionError(f"{len(X)} embeddings for {len(labels)} labels")
    U = _unit_rows(X, labels)
    ids = cluster(
        U,
        k=k,
        threshold=threshold,
        linkage=linkage,
        method=method,
        min_cluster_size=min_cluster_size,
    )
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(ids):
        groups.setdefault(int(c), []).append(i)
    cats: list[tuple[InducedCategory, list[int]]] = []
    sim = np.zeros(len(labels))
    for idx in groups.values():
        w = n_units[idx]
        centre = (U[idx] * w[:, None]).sum(axis=0) / w.sum()
        centre /= np.linalg.norm(centre) or 1.0
        sim[idx] = np.minimum(U[idx] @ centre, 1.0).round(SIMILARITY_DECIMALS)
        cat = InducedCategory(
            code="",
            head="",
            members={labels[i]: int(n_units[i]) for i in idx},
            similarity={labels[i]: float(sim[i]) for i in idx},
        )
        cat.head = cat.ranked()[0]
        cats.append((cat, idx))
    cats.sort(key=lambda ci: (-ci[0].units, ci[0].head))
    used: set[str] = set()
    for cat, _ in cats:
        base = slug(cat.head)
        code, j = base, 2
        while code in used:
            code, j = f"{base}_{j}", j + 1
        used.add(code)
        cat.code = code
    code_of = {labels[i]: cat.code for cat, idx in cats for i in idx}
    pos = {cat.code: p for p, (cat, _) in enumerate(cats)}
    sim_of = {labels[i]: float(sim[i]) for i in range(len(labels))}
    raw = rows.groupby(["label", "normalized"], sort=False).size().reset_index(name="count")
    m = pd.DataFrame(
        {
            "dimension": dimension,
            "label": raw["label"].astype(str),
            "normalized": raw["normalized"].astype(str),
            "count": raw["count"].astype(int),
        }
    )
    m["category"] = m["normalized"].map(code_of)
    m["similarity"] = m["normalized"].map(sim_of)
    m["_pos"] = m["category"].map(pos)
    m = m.sort_values(["_pos", "normalized", "label"], kind="stable").drop(columns="_pos")
    return DimensionResult(
        dimension, [c for c, _ in cats], m.reset_index(drop=True), len(labels), len(rows)
    )


def induce(
    df: pd.DataFrame,
    embed: Embed,
    *,
    k: int | None = None,
    threshold: float | None = None,
    linkage: str = "average",
    method: str = "agglomerative",
    min_cluster_size: int = 2,
) -> Induction:
    """Induce every dimension of ``df`` (sorted by name)."""
    if method not in METHODS:
        raise InductionError(f"--method {method!r}: use one of {', '.join(METHODS)}")
    if method == "hdbscan" and (k is not None or threshold is not None):
        raise InductionError("--method hdbscan takes --min-cluster-size, not --k or --threshold")
    if linkage not in LINKAGES:
        raise InductionError(f"--linkage {linkage!r}: use one of {', '.join(LINKAGES)}")
    if k is not None and threshold is not None:
        raise InductionError("give --k or --threshold, not both")
    t0 = time.perf_counter()
    res = Induction()
    for dim in sorted(df["dimension"].unique()):
        res.dimensions.append(
            induce_dimension(
                df,
                str(dim),
                embed,
                res.cost,
                k=k,
                threshold=threshold,
                linkage=linkage,
                method=method,
                min_cluster_size=min_cluster_size,
            )
        )
    res.seconds = time.perf_counter() - t0
    return res


# ------------------------------------------------------------------ outputs
def draft_dimension(d: DimensionResult, description: str | None = None) -> Any:
    """The codebook :class:`~vsdstats.tables.codebook.Dimension` of an induced dimension:
    each category's 3 most frequent members as examples, up to 10 as terms."""
    from vsdstats.tables.codebook import Category, Dimension

    if len(d.categories) < 2:
        raise InductionError(
            f"dimension {d.dimension!r}: {len(d.categories)} category induced from "
            f"{d.distinct} distinct label(s); a codebook dimension needs at least 2 "
            "(lower --threshold or give --k)"
        )
    cats = []
    for c in d.categories:
        ranked = c.ranked()
        note = (
            f"Induced from {len(c.members)} open label(s), {c.units} unit(s): "
            f"{', '.join(ranked[:5])}."
        )
        cats.append(
            Category(
                code=c.code,
                label=c.label or c.head[:1].upper() + c.head[1:],
                definition=f"{c.definition} ({note})"
                if c.definition
                else f"{note} Edit this definition.",
                examples=ranked[:3],
                terms=ranked[:10],
            )
        )
    desc = description or f"Categories induced from open labels of {d.dimension}."
    return Dimension(description=desc, categories=cats)


def write_outputs(
    res: Induction,
    out: Path,
    *,
    base_codebook: str | None = None,
    settings: dict[str, Any] | None = None,
) -> list[Path]:
    """``out/mapping.csv`` and ``out/codebook-draft.toml`` (the base codebook with each
    induced dimension replacing, or added beside, its own; validated on write)."""
    from vsdstats.induce.draft import with_dimension, write_draft
    from vsdstats.tables.codebook import load_codebook

    out.mkdir(parents=True, exist_ok=True)
    mapping = out / "mapping.csv"
    res.mapping.loc[:, list(MAPPING_COLUMNS)].to_csv(mapping, index=False, lineterminator="\n")
    cb = load_codebook(base_codebook)
    version = f"{cb.version.split('+')[0].split('-')[0]}-induced"
    for d in res.dimensions:
        old = cb.dimensions.get(d.dimension)
        desc = old.description if old is not None else None
        cb = with_dimension(cb, d.dimension, draft_dimension(d, desc), version)
    header = [
        "Draft codebook from `vsdstats codebook induce` (issue 14): edit labels,",
        "definitions and examples, merge or split categories (and mapping.csv with them),",
        "then `vsdstats recode STUDY --mapping mapping.csv`.",
        *(f"{k} = {v}" for k, v in (settings or {}).items()),
        "induced dimension(s): " + ", ".join(d.dimension for d in res.dimensions),
    ]
    draft = out / "codebook-draft.toml"
    write_draft(cb, draft, header)
    return [mapping, draft]
