"""The hand-off folder is published with paper/: it holds no count the tables suppress,
and the figures drawn from it are the same as from the full values (so they never used
what is hidden)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.needs_r

K = 10
#: file -> its count columns
COUNTS = {
    "residuals.csv": ("observed",),
    "pmi.csv": ("n",),
    "delta_pmi.csv": ("n_in", "n_out"),
    "means.csv": ("n",),
    "monthly.csv": ("n",),
    "monthly_conditions.csv": ("n",),
    "fingerprint.csv": ("n",),
    "logodds.csv": ("n",),
    "groups.csv": ("n",),
}


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[Path, Path]:
    """The hand-off of a small simulated corpus, as published and with nothing blanked
    (vsdstats.paper.handoff.blank_hidden bypassed), each with its figures."""
    import vsdstats.paper.handoff as H
    from vsdstats.paper.figures import run_figures
    from vsdstats.paper.run import build_handoff
    from vsdstats.paper.simulate import simulate_corpus

    base = tmp_path_factory.mktemp("suppression")
    df = simulate_corpus(n=2500, seed=5)
    pub = build_handoff(df, base / "pub" / "handoff", glmm=True, min_cell=K)
    keep = H.blank_hidden
    try:
        H.blank_hidden = lambda name, frame: frame
        full = build_handoff(df, base / "full" / "handoff", glmm=True, min_cell=K)
    finally:
        H.blank_hidden = keep
    run_figures(pub, base / "pub" / "figures")
    run_figures(full, base / "full" / "figures")
    return pub.parent, full.parent


def test_no_published_count_is_under_k(both) -> None:
    pub, full = both
    schema = json.loads((pub / "handoff" / "schema.json").read_text())
    assert set(COUNTS) <= set(schema)
    for name, cols in COUNTS.items():
        d = pd.read_csv(pub / "handoff" / name)
        f = pd.read_csv(full / "handoff" / name)
        for col in cols:
            v = d[col].dropna().to_numpy()
            assert not ((v >= 1) & (v < K)).any(), f"{name}: {col} holds a count under {K}"
            w = f[col].to_numpy()
            # the full file had such counts: the test would catch a leak
            if name in ("residuals.csv", "groups.csv", "fingerprint.csv"):
                assert ((w >= 1) & (w < K)).any(), name


def test_alluvial_flows_under_k_lie_inside_strata_of_k_or_more(both) -> None:
    """alluvial.csv is the one file whose rows (condition x sentiment x perspective x
    value combinations) may hold fewer than K units: the figure draws them as flows,
    never as numbers, inside strata that each hold at least K (smaller strata are
    lumped or suppressed); this is what its README entry says."""
    pub, _ = both
    d = pd.read_csv(pub / "handoff" / "alluvial.csv")
    shown = d[~d["suppressed"]]
    for ax in ("condition", "sentiment", "perspective", "value"):
        assert (shown.groupby(ax)["n"].sum() >= K).all(), ax
    assert d.loc[d["suppressed"], "n"].isna().all()


def test_hidden_rows_keep_no_statistic_that_would_give_their_count(both) -> None:
    from vsdstats.paper.handoff import HIDDEN_VALUES

    pub, _ = both
    for name, (flag, cols) in HIDDEN_VALUES.items():
        d = pd.read_csv(pub / "handoff" / name)
        hidden = d[flag].fillna(False).astype(bool)
        assert d.loc[hidden, list(cols)].isna().all().all(), name


def test_figures_are_the_same_with_or_without_the_hidden_values(both) -> None:
    from vsdstats.paper.figures import FIGURES

    pub, full = both
    import hashlib

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    differ = [
        name
        for name in FIGURES
        if digest(pub / "figures" / f"{name}.png") != digest(full / "figures" / f"{name}.png")
    ]
    assert differ == [], "these figures drew a hidden value"
