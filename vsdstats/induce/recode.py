"""Apply a (hand-edited) mapping to a study's open labels: ``vsdstats recode``.

The study's raw open labels (``STUDY/open_labels.*``, from ``vsdstats code --open``,
or any LABELS table with ``post_id`` and ``unit_index``) are looked up in
``mapping.csv`` (``codebook induce``'s, edited or not): by ``(dimension, label)``,
else by ``(dimension, normalized label)`` when every mapping row with that normalized
form names the same category, so a new spelling variant of a mapped label is mapped
too.  A row with an empty ``category`` leaves its label unmapped on purpose.

Each recoded dimension D replaces the column D of ``coded_units`` (so ``export``,
``stats`` and ``paper`` read the induced categories as codes: give ``paper`` the edited
``codebook-draft.toml`` with ``--codebook``); the codebook's codes are kept in
``D_codebook`` (written once: a second recode keeps the original codes).  Units whose
label is unmapped, or that have no open label for D, get a missing D.

Agreement with the codebook (:func:`compare`): the contingency table of induced
category by codebook code over the units that have both, and the adjusted Rand index
(Hubert & Arabie 1985): ``ARI = (sum_ij C(n_ij,2) - E) / (0.5 (sum_i C(a_i,2) +
sum_j C(b_j,2)) - E)`` with ``E = sum_i C(a_i,2) sum_j C(b_j,2) / C(n,2)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vsdstats.induce.core import InductionError, normalize
from vsdstats.tables.study import StudyDir

#: Categories with fewer units than this are listed in the coverage report.
FEW_UNITS = 5
KEY = ["post_id", "unit_index"]


# ------------------------------------------------------------------ agreement
def _pairs(n: np.ndarray) -> float:
    n = np.asarray(n, dtype=float)
    return float((n * (n - 1) / 2).sum())


def adjusted_rand(a: Any, b: Any) -> float:
    """Adjusted Rand index of two labelings of the same items (module docstring); 1.0
    when both put everything in one group or each item in its own (no pairs to differ)."""
    table = pd.crosstab(pd.Series(list(a), name="a"), pd.Series(list(b), name="b")).to_numpy()
    n = table.sum()
    index = _pairs(table)
    rows, cols = _pairs(table.sum(axis=1)), _pairs(table.sum(axis=0))
    expected = rows * cols / _pairs(np.array([n])) if n > 1 else 0.0
    top = 0.5 * (rows + cols)
    if top == expected:
        return 1.0
    return (index - expected) / (top - expected)


@dataclass
class Comparison:
    """Induced categories against the codebook's codes on one dimension."""

    dimension: str
    units: int
    ari: float
    table: pd.DataFrame  # induced category x codebook code, unit counts

    def lines(self) -> list[str]:
        return [
            f"{self.dimension}: induced categories x codebook codes over {self.units} "
            f"unit(s): adjusted Rand index {self.ari:.3f}",
        ]


def compare(units: pd.DataFrame, dimension: str) -> Comparison:
    """:class:`Comparison` of ``units[dimension]`` (induced) with
    ``units[dimension + '_codebook']`` over units that have both."""
    ref = f"{dimension}_codebook"
    if ref not in units.columns or dimension not in units.columns:
        raise InductionError(
            f"no {dimension} and {ref} columns to compare (recode the study first: "
            f"vsdstats recode STUDY --mapping mapping.csv --dimension {dimension})"
        )
    both = units[[dimension, ref]].dropna()
    if both.empty:
        raise InductionError(f"no unit has both an induced {dimension} and a codebook code")
    table = pd.crosstab(
        both[dimension].astype(str).rename("induced"), both[ref].astype(str).rename("codebook")
    )
    return Comparison(dimension, len(both), adjusted_rand(both[dimension], both[ref]), table)


# ------------------------------------------------------------------ mapping
def read_mapping(path: str | Path) -> pd.DataFrame:
    """``mapping.csv`` as ``dimension, label, key, category`` (key: normalized label),
    or an InductionError naming the file, the row (1-based) and the column."""
    from vsdstats.tables.io import read_table

    p = Path(path)
    m = read_table(p)
    missing = [c for c in ("dimension", "label", "category") if c not in m.columns]
    if missing:
        raise InductionError(
            f"{p}: no column(s) {', '.join(missing)}; it has {', '.join(map(str, m.columns))}"
        )
    for col in ("dimension", "label"):
        bad = m[col].isna().to_numpy()
        if bad.any():
            raise InductionError(f"{p}: row {int(bad.nonzero()[0][0]) + 1}, column {col!r}: empty")
    cat = m["category"].astype("string").str.strip()
    cat = cat.where(cat != "", pd.NA)
    bad = cat.notna() & ~cat.str.fullmatch(r"[a-z][a-z0-9_]*").fillna(True)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InductionError(
            f"{p}: row {i + 1}, column 'category': {cat.iloc[i]!r} is not a code "
            "(lower-case letters, digits and _, starting with a letter)"
        )
    out = pd.DataFrame(
        {
            "dimension": m["dimension"].astype(str).str.strip(),
            "label": m["label"].astype(str),
            "category": cat,
        }
    )
    out["key"] = [normalize(s) for s in out["label"]]
    dup = out.duplicated(["dimension", "label"], keep=False)
    if dup.any():
        d = out[dup]
        clash = d.groupby(["dimension", "label"])["category"].nunique(dropna=False) > 1
        if clash.any():
            dim, lab = clash[clash].index[0]
            i = int(((out["dimension"] == dim) & (out["label"] == lab)).to_numpy().nonzero()[0][1])
            raise InductionError(
                f"{p}: row {i + 1}, column 'category': label {lab!r} ({dim}) is mapped "
                "twice to different categories"
            )
    return out.drop_duplicates(["dimension", "label"]).reset_index(drop=True)


def _lookup(mapping: pd.DataFrame) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any]]:
    exact = {
        (d, lab): c
        for d, lab, c in zip(
            mapping["dimension"], mapping["label"], mapping["category"], strict=True
        )
    }
    by_key: dict[tuple[str, str], set[Any]] = {}
    for d, k, c in zip(mapping["dimension"], mapping["key"], mapping["category"], strict=True):
        by_key.setdefault((d, k), set()).add(c)
    loose = {k: next(iter(v)) for k, v in by_key.items() if len(v) == 1}
    return exact, loose


# ------------------------------------------------------------------ recode
@dataclass
class Coverage:
    """What a recode covered on one dimension."""

    dimension: str
    units: int  # coded units in the study
    with_label: int  # units that have an open label for the dimension
    mapped: int  # units given a category
    unmapped_labels: dict[str, int]  # raw label -> units, for labels with no category
    categories: dict[str, int]  # category -> units
    few: dict[str, int] = field(default_factory=dict)  # categories under FEW_UNITS units
    comparison: Comparison | None = None

    def lines(self) -> list[str]:
        out = [
            f"{self.dimension}: {self.mapped} of {self.units} unit(s) mapped to "
            f"{len(self.categories)} categories ({self.with_label} with an open label; "
            f"{self.units - self.mapped} left missing)",
            f"{self.dimension}: {len(self.unmapped_labels)} raw label(s) unmapped "
            f"({sum(self.unmapped_labels.values())} unit(s))"
            + (
                ": " + ", ".join(f"{k!r} {v}" for k, v in list(self.unmapped_labels.items())[:10])
                if self.unmapped_labels
                else ""
            ),
        ]
        if self.few:
            out.append(
                f"{self.dimension}: {len(self.few)} categor(ies) with fewer than {FEW_UNITS} "
                "units: " + ", ".join(f"{k} {v}" for k, v in self.few.items())
            )
        if self.comparison is not None:
            out += self.comparison.lines()
        return out


def read_open_labels(study: Path, labels: str | Path | None = None) -> tuple[pd.DataFrame, Path]:
    """The study's open labels (or the LABELS table ``labels``) with ``post_id``,
    ``unit_index``, ``dimension``, ``label``."""
    from vsdstats.tables.io import read_table

    p = Path(labels) if labels is not None else StudyDir(study).table("open_labels")
    if p is None:
        raise InductionError(
            f"{study}: no open_labels.parquet or open_labels.csv (code the study with "
            f"vsdstats code --open, or give --labels FILE)"
        )
    df = read_table(p)
    missing = [c for c in (*KEY, "dimension", "label") if c not in df.columns]
    if missing:
        raise InductionError(f"{p}: no column(s) {', '.join(missing)}")
    df = df.assign(
        post_id=df["post_id"].astype("string"),
        unit_index=pd.to_numeric(df["unit_index"]).astype("Int64"),
        dimension=df["dimension"].astype("string"),
        label=df["label"].astype("string"),
    )
    dup = df.duplicated([*KEY, "dimension"])
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InductionError(
            f"{p}: row {i + 1}: a second label for unit ({df['post_id'].iloc[i]}, "
            f"{df['unit_index'].iloc[i]}) and dimension {df['dimension'].iloc[i]!r}"
        )
    return df, p


def recode_units(
    units: pd.DataFrame,
    labels: pd.DataFrame,
    mapping: pd.DataFrame,
    dimensions: list[str],
) -> tuple[pd.DataFrame, list[Coverage]]:
    """``units`` with each of ``dimensions`` recoded (module docstring), and coverage."""
    exact, loose = _lookup(mapping)
    out = units.copy()
    out["unit_index"] = pd.to_numeric(out["unit_index"]).astype("Int64")
    out["post_id"] = out["post_id"].astype("string")
    reports = []
    for dim in dimensions:
        lab = labels[labels["dimension"] == dim]
        cats = [
            exact.get((dim, str(s)), loose.get((dim, normalize(str(s))), pd.NA))
            for s in lab["label"]
        ]
        lab = lab.assign(category=pd.array(cats, dtype="string"))
        merged = out[KEY].merge(lab[[*KEY, "label", "category"]], on=KEY, how="left")
        ref = f"{dim}_codebook"
        if dim in out.columns and ref not in out.columns:
            out[ref] = out[dim].astype("string")
        out[dim] = merged["category"].to_numpy()
        out[dim] = out[dim].astype("string")
        # open labels of units that are not in coded_units count as neither
        known = lab.merge(out[KEY], on=KEY, how="inner")
        un = known[known["category"].isna()]["label"].value_counts()
        counts = out[dim].value_counts()
        cov = Coverage(
            dimension=dim,
            units=len(out),
            with_label=int(merged["label"].notna().sum()),
            mapped=int(out[dim].notna().sum()),
            unmapped_labels={str(k): int(v) for k, v in un.items()},
            categories={str(k): int(v) for k, v in counts.items()},
        )
        cov.few = {k: v for k, v in cov.categories.items() if v < FEW_UNITS}
        if ref in out.columns and out[[dim, ref]].dropna().shape[0]:
            cov.comparison = compare(out, dim)
        reports.append(cov)
    return out, reports


def write_units(study: Path, units: pd.DataFrame) -> list[Path]:
    """``STUDY/coded_units.parquet`` and ``.csv``, each replaced atomically."""
    written = []
    for ext in (".parquet", ".csv"):
        path = StudyDir(study).output("coded_units", ext)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        if ext == ".parquet":
            units.to_parquet(tmp, index=False)
        else:
            units.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
        written.append(path)
    return written


def check_codebook(mapping: pd.DataFrame, dims: list[str], codebook: Any, source: str) -> None:
    """InductionError unless every category of ``mapping`` on ``dims`` is a code of that
    dimension in ``codebook`` (``paper`` orders a dimension by its codebook codes and
    would leave out units of any other)."""
    for d in dims:
        if d not in codebook.dimensions:
            raise InductionError(f"{codebook.source}: no dimension {d!r} for {source}'s {d}")
        codes = set(codebook.codes(d))
        used = mapping[(mapping["dimension"] == d) & mapping["category"].notna()]
        bad = sorted(set(used["category"]) - codes)
        if bad:
            raise InductionError(
                f"{source}: categor(ies) {', '.join(bad)} of {d} are not codes of "
                f"{codebook.source} (add them there, or map their labels to its codes)"
            )


def recode_study(
    study: str | Path,
    mapping_path: str | Path,
    dimension: str | None = None,
    labels_path: str | Path | None = None,
    codebook_path: str | Path | None = None,
) -> tuple[list[Coverage], list[Path], list[Path]]:
    """Recode ``study`` in place: (coverage per dimension, files read, files written);
    with ``codebook_path`` the mapping's categories are checked against it first."""
    from vsdstats.tables.analysis_table import StudyFiles
    from vsdstats.tables.io import read_table

    root = Path(study)
    if not root.is_dir():
        raise InductionError(f"{root}: not a study folder")
    files = StudyFiles.of(root)
    mapping = read_mapping(mapping_path)
    labels, lpath = read_open_labels(root, labels_path)
    dims = sorted(mapping["dimension"].unique()) if dimension is None else [dimension]
    for d in dims:
        if d not in set(mapping["dimension"]):
            raise InductionError(f"{mapping_path}: no rows of dimension {d!r}")
        if d not in set(labels["dimension"]):
            raise InductionError(f"{lpath}: no open labels of dimension {d!r}")
    if codebook_path is not None:
        from vsdstats.tables.codebook import load_codebook

        check_codebook(mapping, dims, load_codebook(codebook_path), str(mapping_path))
    units = read_table(files.units)
    out, reports = recode_units(units, labels, mapping, dims)
    written = write_units(root, out)
    return reports, [files.units, Path(mapping_path), lpath], written
