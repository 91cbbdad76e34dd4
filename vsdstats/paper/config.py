"""Locating the analysis definitions and R scripts (package data), and reading them.

They ship inside the package, so an installed wheel finds them: ``analysis/X`` is
``vsdstats/analysis/X`` and ``R/X`` is ``vsdstats/r/scripts/X`` (a checkout has the
root folders ``analysis/`` and ``R/`` as links to them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from vsdstats.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class PaperError(InputError):
    """The paper job cannot run: bad input, bad analysis file or a missing script."""


#: project folder -> where it lives inside the package
PACKAGE_DATA = {"analysis": ("analysis",), "R": ("r", "scripts")}


def project_candidates() -> list[Path]:
    """Where to look for analysis/ and R/: the installed package's data."""
    return [Path(__file__).resolve().parents[1]]


def find_project_file(rel: str) -> Path:
    """Path of ``rel`` (e.g. ``R/figures.R``) in the package data, or PaperError naming
    where it was looked for."""
    top, _, rest = rel.partition("/")
    tried = []
    for root in project_candidates():
        p = root.joinpath(*PACKAGE_DATA[top], rest)
        if p.is_file():
            return p
        tried.append(str(p))
    raise PaperError(f"{rel} missing: looked for {' and '.join(tried)}")


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # BOM skipped
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PaperError(f"{path}: cannot read analysis file: {exc}") from None


@dataclass(frozen=True)
class Release:
    date: date
    label: str


def shipped_analyses() -> list[str]:
    """Names of the analysis definitions shipped with the package (``study``, ...)."""
    root = project_candidates()[0].joinpath(*PACKAGE_DATA["analysis"])
    return sorted(p.stem for p in root.glob("*.toml") if p.stem != "releases")


def resolve_analysis(name_or_path: str | Path | None) -> Path:
    """``--analysis``: a TOML file, or the name of a shipped definition (``study``, the
    default; see :func:`shipped_analyses`); a PaperError names both options otherwise."""
    if name_or_path is None:
        return find_project_file("analysis/study.toml")
    p = Path(name_or_path)
    if p.is_file():
        return p
    names = shipped_analyses()
    if str(name_or_path) in names:
        return find_project_file(f"analysis/{name_or_path}.toml")
    raise PaperError(
        f"--analysis {name_or_path}: no such file, and not a shipped analysis ({', '.join(names)})"
    )


def load_study(path: str | Path | None = None) -> dict[str, Any]:
    """The analysis definitions: a TOML file or a shipped name (default: the shipped
    ``analysis/study.toml``; :func:`resolve_analysis`)."""
    p = resolve_analysis(path)
    data = _load_toml(p)
    for key in ("chisq", "means", "logodds", "pmi", "fingerprint", "alluvial", "glmm"):
        if key not in data:
            raise PaperError(f"{p}: missing section [{key}]")
    data["_source"] = str(p)
    return data


def load_releases(path: str | Path | None = None) -> list[Release]:
    """Model releases (default: analysis/releases.toml), sorted by date then label."""
    p = Path(path) if path is not None else find_project_file("analysis/releases.toml")
    data = _load_toml(p)
    out = []
    for i, item in enumerate(data.get("release", [])):
        try:
            d = item["date"]
            d = d if isinstance(d, date) else date.fromisoformat(str(d))
            label = str(item["label"]).strip()
        except (KeyError, ValueError, TypeError) as exc:
            raise PaperError(
                f"{p}: release[{i}] needs date = YYYY-MM-DD and label ({exc})"
            ) from None
        if not label:
            raise PaperError(f"{p}: release[{i}].label is empty")
        out.append(Release(d, label))
    return sorted(out, key=lambda r: (r.date, r.label))
