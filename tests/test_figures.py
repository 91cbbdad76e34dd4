"""R/figures.R: every figure from a hand-off folder, from Rscript and through rpy2, and
input validation against schema.json (errors name the file and the column)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.needs_r  # skips without R on a dev machine, fails under CI

SCRIPT = Path(__file__).resolve().parents[1] / "R" / "figures.R"
DPI = 300

#: The hand-off contract, as R/figures.R expects it (file -> ordered {column: R type}).
CONTRACT: dict[str, dict[str, str]] = {
    "labels.csv": {"dimension": "character", "code": "character", "label": "character",
                   "order": "integer"},
    "residuals.csv": {"test": "character", "row_var": "character", "col_var": "character",
                      "row": "character", "col": "character", "observed": "integer",
                      "expected": "double", "pearson_residual": "double",
                      "adjusted_residual": "double", "p_value_adj": "double",
                      "significant": "logical", "z": "double", "deff": "double",
                      "p_value_adj_naive": "double", "residual_method": "character",
                      "n_hidden": "logical"},
    "pmi.csv": {"value": "character", "perspective": "character", "n": "integer",
                "pmi": "double", "npmi": "double", "n_hidden": "logical"},
    "delta_pmi.csv": {"condition": "character", "value": "character",
                      "perspective": "character", "n_in": "integer", "n_out": "integer",
                      "delta_pmi": "double", "supported": "logical", "null_mean": "double",
                      "delta_pmi_centered": "double", "p_value": "double",
                      "p_value_adj": "double", "n_hidden": "logical"},
    "means.csv": {"by": "character", "group": "character", "n": "integer", "mean": "double",
                  "ci_low": "double", "ci_high": "double", "method": "character",
                  "flag": "character", "ci_low_naive": "double", "ci_high_naive": "double",
                  "n_shown": "character", "suppressed": "logical"},
    "monthly.csv": {"month": "Date", "n": "integer", "mean": "double", "ci_low": "double",
                    "ci_high": "double", "method": "character", "flag": "character",
                    "ci_low_naive": "double", "ci_high_naive": "double",
                    "suppressed": "logical", "n_hidden": "logical"},
    "monthly_conditions.csv": {"condition": "character", "rank": "integer", "month": "Date",
                               "n": "integer", "mean": "double", "ci_low": "double",
                               "ci_high": "double", "method": "character",
                               "flag": "character", "ci_low_naive": "double",
                               "ci_high_naive": "double", "suppressed": "logical"},
    "releases.csv": {"date": "Date", "label": "character"},
    "fingerprint.csv": {"llm_product": "character", "condition": "character",
                        "n": "integer", "share": "double", "adjusted_residual": "double",
                        "n_hidden": "logical"},
    "alluvial.csv": {"condition": "character", "sentiment": "character",
                     "perspective": "character", "value": "character", "n": "integer",
                     "suppressed": "logical"},
    "logodds.csv": {"condition": "character", "dimension": "character",
                    "feature": "character", "n": "integer", "log_odds_weighted": "double",
                    "rank": "integer", "zeta": "double", "p_value": "double",
                    "p_value_adj": "double", "n_hidden": "logical"},
    "glmm.csv": {"outcome": "character", "term": "character", "estimate": "double",
                 "std_error": "double", "odds_ratio": "double", "or_ci_low": "double",
                 "or_ci_high": "double", "p_value": "double", "engine": "character",
                 "p_value_adj": "double", "separation": "logical",
                 "reference": "character", "suppressed": "logical"},
    "groups.csv": {"dimension": "character", "code": "character", "n": "integer",
                   "n_shown": "character", "suppressed": "logical"},
    "run.csv": {"synthetic": "logical", "min_cell": "integer", "analysis": "character",
                "residual": "character", "residual_limit": "double",
                "dropped_month": "character"},
}  # fmt: skip

#: Figure -> size in inches (fixed in R/figures.R's vsd_figure_specs()): the printed size,
#: journal full width 17.5 cm = 6.9 in, column width 8.5 cm = 3.35 in.
FIGURES: dict[str, tuple[float, float]] = {
    "fig3_residuals_condition_sentiment": (3.35, 4.8),
    "fig3_residuals_condition_perspective": (6.9, 5.4),
    "fig3_residuals_condition_value": (6.9, 5.4),
    "fig4_npmi": (6.9, 5.8),
    "fig4_delta_pmi": (6.9, 7.8),
    "fig5_mean_sentiment": (3.35, 5.8),
    "fig6_monthly": (6.9, 4.2),
    "fig6_monthly_conditions": (6.9, 3.6),
    "fig7_fingerprint": (6.9, 5.6),
    "fig8_alluvial": (6.9, 5.6),
    "fig9_logodds": (6.9, 8.6),
    "fig10_forest": (6.9, 4.4),
}


def _synthetic_handoff(out: Path) -> Path:
    """A tiny hand-written hand-off folder following the contract (used only when
    vsdstats.paper.run.build_handoff is not available)."""
    T, F = "TRUE", "FALSE"
    rows: dict[str, list[tuple]] = {
        "labels.csv": [
            ("sentiment", "positive", "Positive", 1), ("sentiment", "negative", "Negative", 2),
            ("condition", "adhd", "ADHD", 1), ("condition", "bipolar", "Bipolar", 2),
            ("perspective", "ethics", "Ethics", 1),
            ("perspective", "dependency", "Dependency", 2),
            ("value", "privacy", "Privacy", 1), ("value", "trust", "Trust", 2),
            ("llm_product", "chatgpt", "ChatGPT/GPT", 1), ("llm_product", "claude", "Claude", 2),
            ("platform", "reddit", "Reddit", 1),
        ],
        "residuals.csv": [
            (t, "condition", c, r, k, 30, 25.0, z * 0.8, z, p, s, z / 1.2, 1.44, p,
             "cluster-robust", F)
            for t, c, ks in [
                ("condition_sentiment", "sentiment", ("positive", "negative")),
                ("condition_perspective", "perspective", ("ethics", "dependency")),
                ("condition_value", "value", ("privacy", "trust")),
            ]
            for r, k, z, p, s in [
                ("adhd", ks[0], 3.1, 0.004, T), ("adhd", ks[1], -3.1, 0.004, T),
                ("bipolar", ks[0], -0.5, 1.0, F), ("bipolar", ks[1], 0.5, 1.0, F),
            ]
        ],
        "pmi.csv": [
            ("privacy", "ethics", 40, 0.8, 0.3, F), ("privacy", "dependency", 5, -0.9, -0.2, T),
            ("trust", "ethics", 10, -0.4, -0.1, F), ("trust", "dependency", 45, 0.5, 0.2, F),
        ],
        "delta_pmi.csv": [
            (c, v, p, n, 45, d, T if n >= 30 else F, 0.05, d - 0.05, pv, pa, F)
            for c, sign, n in [("adhd", 1, 40), ("bipolar", -1, 20)]
            for v, p, d, pv, pa in [
                ("privacy", "ethics", 0.4, 0.002, 0.01), ("trust", "dependency", -0.3, 0.2, 0.6)
            ]
            for d in [sign * d]
        ]
        + [("adhd", "privacy", "dependency", 0, 5, "NA", F, "NA", "NA", "NA", "NA", F)],
        "means.csv": [
            ("condition", "adhd", 60, 0.3, 0.1, 0.5, "cluster-robust", "", 0.15, 0.45, "60", F),
            ("condition", "bipolar", 40, -0.2, -0.5, 0.1, "cluster-robust", "", -0.4, 0.0,
             "40", F),
            ("llm_product", "chatgpt", 90, 0.1, 0.0, 0.2, "cluster-robust", "", 0.05, 0.15,
             "90", F),
            ("llm_product", "claude", 1, 1.0, "NA", "NA", "cluster-robust", "n < 2", "NA", "NA",
             "<10", T),
        ],
        "monthly.csv": [
            ("2024-01-01", 40, 0.1, -0.1, 0.3, "cluster-robust", "", 0.0, 0.2, F, F),
            ("2024-02-01", 0, "NA", "NA", "NA", "cluster-robust", "no posts", "NA", "NA", F, F),
            ("2024-03-01", 60, 0.2, 0.0, 0.4, "cluster-robust", "", 0.1, 0.3, F, F),
        ],
        "monthly_conditions.csv": [
            (c, rk, m, n, mu, mu - 0.2, mu + 0.2, "cluster-robust", "", mu - 0.15, mu + 0.15, F)
            for c, rk in (("adhd", 1), ("bipolar", 2))
            for m, n, mu in (("2024-01-01", 20, 0.1), ("2024-02-01", 25, 0.2),
                             ("2024-03-01", 30, -0.1))
        ],
        "releases.csv": [("2024-02-15", "Model X")],
        "fingerprint.csv": [
            ("chatgpt", "adhd", 55, 0.61, 1.2, F), ("chatgpt", "bipolar", 35, 0.39, -1.2, F),
            ("claude", "adhd", 5, 0.5, -1.2, T), ("claude", "bipolar", 5, 0.5, 1.2, T),
        ],
        "alluvial.csv": [
            ("adhd", "positive", "ethics", "privacy", 30, F),
            ("adhd", "negative", "dependency", "trust", 20, F),
            ("bipolar", "negative", "ethics", "other (lumped)", 25, F),
        ],
        "logodds.csv": [
            (c, dim, f, 20, lo, rk, 2 * lo, p, 2 * p, F)
            for c in ("adhd", "bipolar")
            for dim, feats in [
                ("perspective", ("ethics", "dependency")), ("value", ("privacy", "trust"))
            ]
            for rk, f, lo, p in [(1, feats[0], 2.5, 0.001), (2, feats[1], -1.0, 0.3)]
        ],
        "glmm.csv": [
            (o, t, 0.2, 0.1, 1.22, 1.0, 1.49, 0.05, "glmmTMB", 0.1, F, "adhd", F)
            for o in ("negative", "positive")
            for t in ("(Intercept)", "conditionbipolar")
        ],
        "groups.csv": [
            ("sentiment", "positive", 30, "30", F), ("sentiment", "negative", 45, "45", F),
            ("condition", "adhd", 50, "50", F), ("condition", "bipolar", 25, "25", F),
            ("perspective", "ethics", 55, "55", F), ("perspective", "dependency", 20, "20", F),
            ("value", "privacy", 30, "30", F), ("value", "trust", 20, "20", F),
            ("llm_product", "chatgpt", 90, "suppressed", F),
            ("llm_product", "claude", 1, "<10", T), ("platform", "reddit", 75, "75", F),
        ],
        "run.csv": [(T, 10, "analysis/study.toml", "adjusted", "NA", "NA")],
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    for name, data in rows.items():
        pd.DataFrame(data, columns=list(CONTRACT[name])).to_csv(out / name, index=False)
    (out / "schema.json").write_text(json.dumps(CONTRACT, indent=2))
    return out


@pytest.fixture(scope="module")
def handoff(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handoff")
    try:
        from vsdstats.paper.run import build_handoff
    except ImportError:
        return _synthetic_handoff(out)
    from vsdstats.paper.simulate import simulate_corpus

    return Path(build_handoff(simulate_corpus(n=2000, seed=7), out))


@pytest.fixture(scope="module")
def rscript() -> str:
    exe = shutil.which("Rscript")
    assert exe is not None, "R is available (needs_r) but Rscript is not on PATH"
    return exe


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", head[16:24])


def _check_figures(out: Path, paths: list[str]) -> None:
    expected = {out / f"{n}.{ext}" for n in FIGURES for ext in ("pdf", "png")}
    assert {Path(p).resolve() for p in paths} == {p.resolve() for p in expected}
    for name, (w, h) in FIGURES.items():
        pdf, png = out / f"{name}.pdf", out / f"{name}.png"
        assert pdf.read_bytes()[:5] == b"%PDF-", name
        assert pdf.stat().st_size > 3000, f"{name}.pdf is nearly empty"
        assert png.stat().st_size > 15000, f"{name}.png is nearly empty"
        assert _png_size(png) == (round(w * DPI), round(h * DPI)), name


def test_handoff_schema_is_the_contract(handoff):
    schema = json.loads((handoff / "schema.json").read_text(encoding="utf-8"))
    for name, cols in CONTRACT.items():
        assert list(schema[name].items()) == list(cols.items()), name
        header = (handoff / name).read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == list(cols), name


def test_rscript_writes_every_figure(handoff, rscript, tmp_path):
    out = tmp_path / "figs"
    proc = subprocess.run(
        [rscript, str(SCRIPT), str(handoff), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    assert proc.returncode == 0, proc.stderr
    _check_figures(out, proc.stdout.split())


def _pdf_page_width_pt(pdf: Path) -> float:
    """The page width of a one-page PDF in points, from poppler's pdfinfo."""
    import re

    exe = shutil.which("pdfinfo")
    from vsdstats.testing import require

    require(exe is not None, "pdfinfo is missing (Debian poppler-utils; bash R/install_r.sh)")
    info = subprocess.run([str(exe), str(pdf)], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    return float(re.search(r"Page size:\s+([\d.]+) x", info.stdout).group(1))


def test_figures_are_drawn_at_their_declared_width(handoff, rscript, tmp_path):
    """Every figure at the journal width it is declared for (vsdstats.paper.figures
    figure_width: 8.5 cm column or 17.5 cm full width): PNG pixel width = width x 300
    dpi, PDF page width (pdfinfo) = width x 72 pt (R's pdf() rounds down to a point)."""
    from vsdstats.paper.figures import COLUMN_WIDTH_IN, FULL_WIDTH_IN, figure_width
    from vsdstats.paper.figures import FIGURES as PY_FIGURES

    out = tmp_path / "figs"
    proc = subprocess.run(
        [rscript, str(SCRIPT), str(handoff), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    widths = set()
    for name in PY_FIGURES:
        w = figure_width(name)
        widths.add(w)
        assert w in (COLUMN_WIDTH_IN, FULL_WIDTH_IN), name
        assert _png_size(out / f"{name}.png")[0] == round(w * DPI), name
        assert abs(_pdf_page_width_pt(out / f"{name}.pdf") - w * 72) < 1, name
    assert widths == {COLUMN_WIDTH_IN, FULL_WIDTH_IN}  # both journal widths are in use


def test_rscript_default_out_dir(rscript, tmp_path):
    """Without OUT_DIR the figures go to figures/ beside the hand-off folder."""
    src = _synthetic_handoff(tmp_path / "paper" / "handoff")
    proc = subprocess.run(
        [rscript, str(SCRIPT), str(src) + "/"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    _check_figures(tmp_path / "paper" / "figures", proc.stdout.split())


def test_rpy2_vsd_figures(handoff, r, tmp_path):
    r.source(str(SCRIPT))
    out = tmp_path / "rpy2"
    paths = [str(p) for p in r["vsd_figures"](str(handoff), str(out))]
    _check_figures(out, paths)
    # one figure function on its own returns a ggplot object that can be restyled
    h = r["vsd_read_handoff"](str(handoff))
    p = r["vsd_fig5_mean_sentiment"](h)
    assert "ggplot" in list(r["class"](p))


def _edit_csv(path: Path, fn) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def _edit_schema(folder: Path, fn) -> None:
    path = folder / "schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    fn(schema)
    path.write_text(json.dumps(schema))


def _set(df: pd.DataFrame, col: str, value: str) -> pd.DataFrame:
    df.loc[df.index[0], col] = value
    return df


def _retype(file: str, col: str, rtype: str):
    def fn(schema: dict) -> None:
        schema[file][col] = rtype

    return fn


def _drop_from_schema(file: str, col: str):
    def fn(schema: dict) -> None:
        del schema[file][col]

    return fn


#: (file, column, how the hand-off is broken)
BROKEN = {
    "non-integer count": (
        "means.csv", "n", lambda d: _edit_csv(d / "means.csv", lambda x: _set(x, "n", "1.5"))
    ),
    "text in a double column": (
        "pmi.csv", "npmi", lambda d: _edit_csv(d / "pmi.csv", lambda x: _set(x, "npmi", "high"))
    ),
    "bad logical": (
        "residuals.csv", "significant",
        lambda d: _edit_csv(d / "residuals.csv", lambda x: _set(x, "significant", "yes")),
    ),
    "bad date": (
        "releases.csv", "date",
        lambda d: _edit_csv(d / "releases.csv", lambda x: _set(x, "date", "2024-13-01")),
    ),
    "column missing from the file": (
        "fingerprint.csv", "share",
        lambda d: _edit_csv(d / "fingerprint.csv", lambda x: x.drop(columns="share")),
    ),
    "column missing everywhere": (
        "logodds.csv", "rank",
        lambda d: (
            _edit_csv(d / "logodds.csv", lambda x: x.drop(columns="rank")),
            _edit_schema(d, _drop_from_schema("logodds.csv", "rank")),
        ),
    ),
    "wrong type in schema.json": (
        "monthly.csv", "month",
        lambda d: _edit_schema(d, _retype("monthly.csv", "month", "character")),
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def r_figures(r):
    r.source(str(SCRIPT))
    return r


@pytest.mark.parametrize("case", list(BROKEN))
def test_invalid_handoff_names_file_and_column(case, handoff, r_figures, tmp_path):
    from rpy2.rinterface_lib.embedded import RRuntimeError

    file, col, breakit = BROKEN[case]
    bad = tmp_path / "handoff"
    shutil.copytree(handoff, bad)
    breakit(bad)
    with pytest.raises(RRuntimeError) as info:
        r_figures["vsd_figures"](str(bad), str(tmp_path / "out"))
    msg = str(info.value)
    assert file in msg and f"'{col}'" in msg, msg
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rscript_invalid_handoff_exits_nonzero(handoff, rscript, tmp_path):
    bad = tmp_path / "handoff"
    shutil.copytree(handoff, bad)
    _edit_csv(bad / "means.csv", lambda x: _set(x, "n", "many"))
    proc = subprocess.run(
        [rscript, str(SCRIPT), str(bad), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "means.csv" in proc.stderr and "'n'" in proc.stderr and "'many'" in proc.stderr


# ---------------------------------------------------------------------------
# The split: figures.R (driver) sources handoff.R, theme.R and one file per figure
# ---------------------------------------------------------------------------

SCRIPTS = SCRIPT.resolve().parent


def _r_parts(rscript: str) -> list[str]:
    proc = subprocess.run(
        [rscript, "--vanilla", "-e", f"source('{SCRIPT.as_posix()}'); writeLines(.vsd_parts)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_driver_sources_every_figure_file(rscript):
    parts = _r_parts(rscript)
    assert parts[:2] == ["handoff.R", "theme.R"]
    on_disk = {p.name for p in SCRIPTS.glob("fig*.R")} - {"figures.R"}
    assert set(parts[2:]) == on_disk and len(parts) == len(set(parts))


def test_one_figure_file_with_reader_and_theme_alone(handoff, rscript, tmp_path):
    """A figure file needs only handoff.R and theme.R (no driver) to draw its figure."""
    code = (
        f"d <- '{SCRIPTS.as_posix()}'\n"
        "for (f in c('handoff.R', 'theme.R', 'fig5_mean_sentiment.R')) source(file.path(d, f))\n"
        f"h <- vsd_read_handoff('{handoff.as_posix()}')\n"
        f"writeLines(vsd_save(vsd_fig5_mean_sentiment(h), '{tmp_path.as_posix()}', 'fig5', 9, 7))\n"
    )
    proc = subprocess.run(
        [rscript, "--vanilla", "-e", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert _png_size(tmp_path / "fig5.png") == (9 * DPI, 7 * DPI)


def test_driver_finds_its_files_from_anywhere(handoff, rscript, tmp_path):
    """A copy of the scripts folder elsewhere (as in an installed wheel), run by a relative
    path from another working directory and sourced from a third: the driver reads the
    files beside itself, not R/ of this checkout or the working directory."""
    copy = tmp_path / "site-packages" / "vsdstats" / "r" / "scripts"
    shutil.copytree(SCRIPTS, copy)
    work = tmp_path / "work"
    work.mkdir()
    rel = os.path.relpath(copy / "figures.R", work)
    proc = subprocess.run(
        [rscript, rel, str(handoff), str(tmp_path / "out")],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    _check_figures(tmp_path / "out", proc.stdout.split())
    # a missing part is named, with where it was looked for
    (copy / "fig7_fingerprint.R").unlink()
    proc = subprocess.run(
        [rscript, "--vanilla", "-e", f"source('{(copy / 'figures.R').as_posix()}')"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert f"{copy.as_posix()}/fig7_fingerprint.R is missing" in proc.stderr, proc.stderr


def test_figure_specs_match_python(r_figures):
    from vsdstats.paper.figures import FIGURES as PY_FIGURES
    from vsdstats.paper.figures import figure_width

    specs = list(r_figures["vsd_figure_specs"]())
    names = [str(s.rx2("name")[0]) for s in specs]
    assert names == list(FIGURES) == list(PY_FIGURES)
    # drawn at the journal width Python's manuscript expects: 17.5 cm or 8.5 cm
    for name, spec in zip(names, specs, strict=True):
        assert float(spec.rx2("width")[0]) == figure_width(name) == FIGURES[name][0], name
        assert round(figure_width(name) * 2.54, 1) in (17.5, 8.5)


# ---------------------------------------------------------------------------
# delta-PMI and log-odds columns: real values, and what fig4 / fig9 make of them
# ---------------------------------------------------------------------------


def _mcq_zeta(y, alpha0: float = 500.0):
    """Monroe, Colaresi & Quinn (2008) eqs. 16-22 from a condition x feature count
    matrix, written out here independently of vsdstats.stats.logodds."""
    import numpy as np

    y = np.asarray(y, dtype=float)
    alpha = alpha0 * y.sum(axis=0) / y.sum()
    out = np.empty_like(y)
    for i in range(y.shape[0]):
        yi, yj = y[i], y.sum(axis=0) - y[i]
        ni, nj = yi.sum(), yj.sum()
        delta = np.log((yi + alpha) / (ni + alpha0 - yi - alpha)) - np.log(
            (yj + alpha) / (nj + alpha0 - yj - alpha)
        )
        out[i] = delta / np.sqrt(1 / (yi + alpha) + 1 / (yj + alpha))
    return out


def test_handoff_delta_pmi_null_columns_are_real(handoff):
    import numpy as np

    d = pd.read_csv(handoff / "delta_pmi.csv")
    assert d["supported"].dtype == bool
    assert d["supported"].any() and not d["supported"].all()
    # the tiny condition (intellectual: 73 of 39,380 units, a handful here) has no support
    assert not d.loc[d["condition"] == "intellectual", "supported"].any()
    # cells under K (n_hidden) have blank numbers in the hand-off (published with paper/)
    hid = d["n_hidden"]
    assert d.loc[hid, ["n_in", "n_out", "delta_pmi", "p_value"]].isna().all().all()
    assert d.loc[~hid, ["n_in", "n_out"]].notna().all().all()
    d = d[~hid]
    sup, uns = d[d["supported"]], d[~d["supported"]]
    assert ((sup["n_in"] >= 30) & (sup["n_out"] >= 30)).all()
    assert ((uns["n_in"] < 30) | (uns["n_out"] < 30)).all()
    # supported cells are tested, the others are not
    assert uns[["p_value", "p_value_adj"]].isna().all().all()
    assert sup[["null_mean", "delta_pmi_centered", "p_value", "p_value_adj"]].notna().all().all()
    assert ((sup["p_value"] > 0) & (sup["p_value"] <= 1)).all()
    assert ((sup["p_value_adj"] > 0) & (sup["p_value_adj"] <= 1)).all()
    assert (sup["p_value_adj"] >= sup["p_value"] - 1e-12).all()  # maxT never below raw p
    assert sup["p_value"].nunique() > 1 and d["null_mean"].dropna().nunique() > 1
    ok = d["null_mean"].notna()
    np.testing.assert_allclose(
        d.loc[ok, "delta_pmi_centered"], d.loc[ok, "delta_pmi"] - d.loc[ok, "null_mean"]
    )
    # delta_pmi itself, recomputed from the counts of the simulated corpus:
    # log2(n_ab N / (n_a n_b)) inside the condition minus the same outside it
    from vsdstats.paper.simulate import simulate_corpus

    df = simulate_corpus(n=2000, seed=7)
    row = sup.iloc[0]

    def pmi_bits(s: pd.DataFrame) -> float:
        n_ab = ((s["value"] == row["value"]) & (s["perspective"] == row["perspective"])).sum()
        n_a = (s["value"] == row["value"]).sum()
        n_b = (s["perspective"] == row["perspective"]).sum()
        return float(np.log2(n_ab * len(s) / (n_a * n_b)))

    inside = df["condition"] == row["condition"]
    assert row["delta_pmi"] == pytest.approx(pmi_bits(df[inside]) - pmi_bits(df[~inside]))


def test_handoff_logodds_zeta_and_permutation_p(handoff):
    import numpy as np

    from vsdstats.paper.simulate import simulate_corpus

    lo = pd.read_csv(handoff / "logodds.csv")
    # features on fewer than K units (n_hidden) have blank numbers in the hand-off
    assert lo.loc[lo["n_hidden"], ["n", "log_odds_weighted", "zeta", "p_value"]].isna().all().all()
    lo = lo[~lo["n_hidden"]]
    df = simulate_corpus(n=2000, seed=7)
    for dim, part in lo.groupby("dimension"):
        y = pd.crosstab(df["condition"], df[dim])
        ref = pd.DataFrame(_mcq_zeta(y.to_numpy()), index=y.index, columns=y.columns)
        got = part[part["n"] > 0]  # features never coded in the corpus have no prior mass
        want = [ref.loc[c, f] for c, f in zip(got["condition"], got["feature"], strict=True)]
        np.testing.assert_allclose(got["zeta"], want, rtol=1e-10)
    assert lo["p_value"].notna().all() and lo["p_value"].nunique() > 10
    assert ((lo["p_value"] > 0) & (lo["p_value"] <= 1)).all()
    assert (lo["p_value_adj"] >= lo["p_value"] - 1e-12).all() and (lo["p_value_adj"] <= 1).all()


def _fig(r_figures, folder: Path, fun: str):
    h = r_figures["vsd_read_handoff"](str(folder))
    return r_figures[fun](h)


def test_fig4_npmi_and_delta_pmi_say_what_they_show(r_figures, tmp_path):
    """fig4_npmi is labelled NPMI; fig4_delta_pmi says delta-PMI (bits), greys the cells
    that are not `supported` and dots those with p_value_adj < 0.05 (the synthetic
    hand-off: adhd privacy x ethics is supported with p_value_adj 0.01, bipolar has
    n_in = 20 and is not supported)."""
    src = _synthetic_handoff(tmp_path / "handoff")
    get = r_figures("function(p, what) as.character(p$labels[[what]])")
    fill_name = r_figures(
        "function(p) as.character(ggplot2::ggplot_build(p)$plot$scales$get_scales('fill')$name)"
    )
    npmi = _fig(r_figures, src, "vsd_fig4_npmi")
    assert str(fill_name(npmi)[0]) == "NPMI"
    assert "NPMI" in str(get(npmi, "title")[0]) and "delta" not in str(get(npmi, "title")[0])
    dp = _fig(r_figures, src, "vsd_fig4_delta_pmi")
    assert str(fill_name(dp)[0]).startswith("delta-PMI (bits)")
    assert "delta-PMI (bits)" in str(get(dp, "caption")[0])
    layer = r_figures(
        "function(p, i) { d <- ggplot2::layer_data(p, i); "
        "data.frame(fill = as.character(d$fill), n = nrow(d)) }"
    )
    dots = layer(dp, 2)
    assert int(dots.rx2("n")[0]) == 1  # exactly the one supported cell with p_adj < 0.05
    shown = r_figures(
        "function(p) { d <- p$data; "
        "c(sum(!is.na(d$shown)), sum(d$condition == 'bipolar' & !is.na(d$shown)), "
        "sum(d$flag)) }"
    )(dp)
    assert list(shown) == [2, 0, 1]  # the two supported adhd cells coloured, bipolar grey


def test_fig9_says_not_a_z_score_and_stars_the_maxt_cells(r_figures, tmp_path):
    src = _synthetic_handoff(tmp_path / "handoff")
    p = _fig(r_figures, src, "vsd_fig9_logodds")
    x = str(r_figures("function(p) p$labels$x")(p)[0])
    assert "weighted log-odds (tidylo" in x.lower() and "not a z-score" in x
    stars = r_figures("function(p) sum(p$data$star == '*')")(p)[0]
    # rank-1 features have p_value_adj 0.002 (starred), rank-2 0.6 (not): 2 x 2 panels
    assert int(stars) == 4


# ---------------------------------------------------------------------------
# Small-cell suppression: the figures hide what the tables hide (decided in Python)
# ---------------------------------------------------------------------------


def _codes_in(r_figures, p, col: str) -> set[str]:
    vals = r_figures(f"function(p) as.character(unique(p$data${col}))")(p)
    return {str(v) for v in vals}


def test_figures_leave_out_suppressed_groups(r_figures, tmp_path):
    """Groups marked `suppressed` in groups.csv (or a file's own `suppressed` rows) are
    not drawn; a count table 1 hides is labelled 'n suppressed'."""
    src = _synthetic_handoff(tmp_path / "handoff")

    def mark(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[(df["dimension"] == "condition") & (df["code"] == "bipolar"), "suppressed"] = "TRUE"
        df.loc[(df["dimension"] == "condition") & (df["code"] == "adhd"), "n_shown"] = "suppressed"
        return df

    _edit_csv(src / "groups.csv", mark)
    _edit_csv(
        src / "glmm.csv",
        lambda d: d.assign(suppressed=d["term"].eq("conditionbipolar").map({True: "TRUE"})),
    )
    # means.csv: claude is `suppressed` (n = 1): not in fig5, chatgpt keeps its n
    p5 = _fig(r_figures, src, "vsd_fig5_mean_sentiment")
    assert _codes_in(r_figures, p5, "group") == {"chatgpt", "adhd", "bipolar"}
    labs = {str(v) for v in r_figures("function(p) as.character(p$data$lab)")(p5)}
    assert "ChatGPT/GPT (n = 90)" in labs and not any("Claude" in x for x in labs)
    # groups.csv: claude and bipolar are suppressed everywhere else
    p7 = _fig(r_figures, src, "vsd_fig7_fingerprint")
    assert _codes_in(r_figures, p7, "llm_product") == {"chatgpt"}
    assert _codes_in(r_figures, p7, "condition") == {"adhd"}
    for test in ("condition_sentiment", "condition_value"):
        p3 = r_figures["vsd_fig3_residuals"](r_figures["vsd_read_handoff"](str(src)), test)
        assert _codes_in(r_figures, p3, "row") == {"adhd"}
        cap = str(r_figures("function(p) p$labels$caption")(p3)[0])
        assert "1 condition with fewer than 10 units not shown" in cap
    p4 = _fig(r_figures, src, "vsd_fig4_delta_pmi")
    assert _codes_in(r_figures, p4, "condition") == {"adhd"}
    facets = {str(v) for v in r_figures("function(p) as.character(unique(p$data$facet))")(p4)}
    assert facets == {"ADHD (n suppressed)"}
    p9 = _fig(r_figures, src, "vsd_fig9_logodds")
    assert _codes_in(r_figures, p9, "condition") == {"adhd"}
    # the only GLMM term is suppressed: fig10 says there is nothing to draw
    p10 = _fig(r_figures, src, "vsd_fig10_forest")
    msg = r_figures("function(p) as.character(p$layers[[1]]$aes_params$label)")(p10)
    assert "outside suppressed conditions" in str(msg[0])


SYNTHETIC_LABEL = "SYNTHETIC DATA (simulated corpus)"


def _subtitles(r_figures, folder: Path) -> dict[str, str]:
    """Each figure of vsd_figure_specs() drawn from ``folder`` -> its subtitle ('' if none)."""
    get = r_figures(
        "function(dir) { h <- vsd_read_handoff(dir); s <- vsd_figure_specs(); "
        "out <- vapply(s, function(f) { st <- vsd_finish(f$fun(h), h)$labels$subtitle; "
        "if (is.null(st)) '' else st }, ''); names(out) <- vapply(s, `[[`, '', 'name'); out }"
    )
    res = get(str(folder))
    return dict(zip(res.names, (str(v) for v in res), strict=True))


def test_synthetic_corpus_is_labelled_on_every_figure(r_figures, tmp_path):
    src = _synthetic_handoff(tmp_path / "handoff")
    # one figure from an empty table (a placeholder) is labelled as well
    _edit_csv(src / "glmm.csv", lambda d: d.iloc[0:0])
    subs = _subtitles(r_figures, src)
    assert set(subs) == set(FIGURES)
    for name, sub in subs.items():
        assert sub.startswith(SYNTHETIC_LABEL), (name, sub)
    _edit_csv(src / "run.csv", lambda d: d.assign(synthetic="FALSE"))
    assert all(SYNTHETIC_LABEL not in s for s in _subtitles(r_figures, src).values())


def _layer(r_figures, p, geom: str):
    """layer_data of the first layer of p whose geom is ``geom`` (e.g. 'GeomRibbon')."""
    return r_figures(
        "function(p, cls) { i <- which(vapply(p$layers, function(l) inherits(l$geom, cls), "
        "logical(1))); stopifnot(length(i) > 0); ggplot2::layer_data(p, i[1]) }"
    )(p, geom)


def _col(frame, name: str) -> list[float]:
    return [float(v) for v in frame.rx2(name)]


def test_no_interval_outside_the_score_range(r_figures, handoff, tmp_path):
    """Means and monthly means are scores in [-1, 1]: their intervals stay inside it,
    in the hand-off and in fig5 / fig6 even when a hand-off interval reaches outside."""
    for name in ("means.csv", "monthly.csv"):
        d = pd.read_csv(handoff / name).dropna(subset=["ci_low"])
        assert d["ci_low"].ge(-1).all() and d["ci_high"].le(1).all(), name
        assert (d["ci_low"] <= d["mean"]).all() and (d["mean"] <= d["ci_high"]).all(), name
    src = _synthetic_handoff(tmp_path / "handoff")
    _edit_csv(
        src / "means.csv", lambda d: d.assign(ci_low=d["ci_low"].replace("0.1", "-1.4"))
    )  # adhd
    _edit_csv(
        src / "means.csv", lambda d: d.assign(ci_high=d["ci_high"].replace("0.2", "1.3"))
    )  # chatgpt
    _edit_csv(
        src / "monthly.csv",
        lambda d: d.assign(
            ci_low=d["ci_low"].replace("-0.1", "-1.5"), ci_high=d["ci_high"].replace("0.4", "1.2")
        ),
    )
    p5 = _fig(r_figures, src, "vsd_fig5_mean_sentiment")
    bars = _layer(r_figures, p5, "GeomErrorbarh")
    assert min(_col(bars, "xmin")) == -1 and max(_col(bars, "xmax")) == 1
    assert "cut at the score's range [-1, 1]" in str(
        r_figures("function(p) p$labels$caption")(p5)[0]
    )
    p6 = _fig(r_figures, src, "vsd_fig6_monthly")
    rib = _layer(r_figures, p6, "GeomRibbon")
    assert min(_col(rib, "ymin")) == -1 and max(_col(rib, "ymax")) == 1
    # untouched intervals are drawn as they are
    assert 0.5 in _col(bars, "xmax") and -0.5 in _col(bars, "xmin")


def test_residual_figures_share_one_colour_scale(r_figures, tmp_path):
    src = _synthetic_handoff(tmp_path / "handoff")

    def bump(d: pd.DataFrame) -> pd.DataFrame:
        d.loc[(d["test"] == "condition_value") & (d["row"] == "adhd"), "z"] = "-6.5"
        return d

    _edit_csv(src / "residuals.csv", bump)
    res = pd.read_csv(src / "residuals.csv")
    want = res["z"].abs().max()  # 6.5, in one of the three tests only
    limits = r_figures(
        "function(p) ggplot2::ggplot_build(p)$plot$scales$get_scales('fill')$get_limits()"
    )
    h = r_figures["vsd_read_handoff"](str(src))
    for test in ("condition_sentiment", "condition_perspective", "condition_value"):
        lim = [float(v) for v in limits(r_figures["vsd_fig3_residuals"](h, test))]
        assert lim == [-want, want], test


def test_forest_names_the_reference_and_marks_holm(r_figures, tmp_path):
    """fig10: the reference condition (glmm.csv `reference`) is named on the axis and
    drawn as a row at 1; filled points follow p_value_adj (Holm), not the raw p."""
    src = _synthetic_handoff(tmp_path / "handoff")

    def holm(d: pd.DataFrame) -> pd.DataFrame:
        # raw p 0.05 everywhere; Holm-adjusted 0.01 (negative) and 0.1 (positive)
        d.loc[d["outcome"] == "negative", "p_value_adj"] = "0.01"
        d["p_value"] = "0.001"
        return d

    _edit_csv(src / "glmm.csv", holm)
    p = _fig(r_figures, src, "vsd_fig10_forest")
    x = str(r_figures("function(p) p$labels$x")(p)[0])
    assert "reference condition: ADHD" in x
    data = r_figures(
        "function(p) data.frame(lab = as.character(p$data$lab), "
        "outcome = as.character(p$data$outcome), mark = p$data$mark, "
        "or = p$data$odds_ratio)"
    )(p)
    rows = list(
        zip(
            [str(v) for v in data.rx2("lab")],
            [str(v) for v in data.rx2("outcome")],
            [str(v) for v in data.rx2("mark")],
            [float(v) for v in data.rx2("or")],
            strict=True,
        )
    )
    assert ("Condition: ADHD (reference)", "Negative sentiment", "ref", 1.0) in rows
    marks = {(lab, out): m for lab, out, m, _ in rows if not lab.endswith("(reference)")}
    assert marks == {
        ("Condition: Bipolar", "Negative sentiment"): "sig",
        ("Condition: Bipolar", "Positive sentiment"): "ns",
    }
    legend = r_figures(
        "function(p) { s <- ggplot2::ggplot_build(p)$plot$scales$get_scales('shape'); "
        "as.character(s$get_labels()) }"
    )(p)
    assert "Holm-adjusted p < 0.05" in {str(v) for v in legend}


def test_fingerprint_bubbles_readable(r_figures, handoff):
    """fig7: every drawn bubble at least min_mm across, labelled with its count; hidden
    cells (n_hidden) unlabelled grey squares; suppressed families absent; a size legend."""
    fp = pd.read_csv(handoff / "fingerprint.csv")
    groups = pd.read_csv(handoff / "groups.csv")
    small = set(
        groups.loc[groups["suppressed"], "dimension"]
        + ":"
        + groups.loc[groups["suppressed"], "code"]
    )
    fp = fp[
        ~("llm_product:" + fp["llm_product"]).isin(small)
        & ~("condition:" + fp["condition"]).isin(small)
    ]
    p = _fig(r_figures, handoff, "vsd_fig7_fingerprint")
    bubbles = _layer(r_figures, p, "GeomPoint")  # first point layer: the hidden squares
    texts = _layer(r_figures, p, "GeomText")
    got = sorted(str(v) for v in texts.rx2("label"))
    want = sorted(f"{int(n):,}" for n in fp.loc[~fp["n_hidden"] & (fp["n"] > 0), "n"])
    assert got == want and len(want) > 5
    assert len(list(bubbles.rx2("x"))) == int(fp["n_hidden"].sum()) > 0
    sizes = r_figures(
        "function(p) { i <- which(vapply(p$layers, function(l) inherits(l$geom, 'GeomPoint'), "
        "logical(1))); ggplot2::layer_data(p, i[2])$size }"
    )(p)
    assert min(float(v) for v in sizes) >= 1.6 and max(float(v) for v in sizes) <= 9
    legend = r_figures(
        "function(p) { s <- ggplot2::ggplot_build(p)$plot$scales$get_scales('size'); "
        "c(s$guide, as.character(s$get_labels())) }"
    )(p)
    assert str(legend[0]) == "legend" and len(list(legend)) >= 3


def test_logodds_only_distinctive_bars_with_free_scales(r_figures, handoff):
    """fig9: bars are the `top` features with positive weighted log-odds and at least K
    units per condition and dimension (by rank), free x scales, stars not cut off."""
    top, k = 3, 10
    lo = pd.read_csv(handoff / "logodds.csv")
    groups = pd.read_csv(handoff / "groups.csv")
    small = set(groups.loc[groups["suppressed"], "code"])
    ok = lo[(lo["log_odds_weighted"] > 0) & (lo["n"] >= k) & ~lo["condition"].isin(small)]
    ok = ok[~ok["feature"].isin(small)].sort_values(["condition", "dimension", "rank"])
    want = ok.groupby(["condition", "dimension"]).head(top)
    p = _fig(r_figures, handoff, "vsd_fig9_logodds")
    data = r_figures(
        "function(p) { d <- p$data[!is.na(p$data$log_odds_weighted), ]; "
        "data.frame(c = d$condition, f = d$feature, lo = d$log_odds_weighted) }"
    )(p)
    got = sorted(zip([str(v) for v in data.rx2("c")], [str(v) for v in data.rx2("f")], strict=True))
    assert got == sorted(zip(want["condition"], want["feature"], strict=True))
    assert min(float(v) for v in data.rx2("lo")) > 0
    assert (lo["log_odds_weighted"] <= 0).any() and (lo["n"] < k).any()  # both were left out
    free = r_figures("function(p) unlist(p$facet$params$free)")(p)
    assert list(free) == [True, True]
    # each panel's x range reaches past its longest bar (room for the star)
    ranges = r_figures(
        "function(p) { b <- ggplot2::ggplot_build(p); d <- b$data[[2]]; "
        "vapply(seq_along(b$layout$panel_params), function(i) "
        "b$layout$panel_params[[i]]$x.range[2] / max(d$xmax[d$PANEL == i], na.rm = TRUE), 1) }"
    )(p)
    assert min(float(v) for v in ranges) > 1.15


# ---------------------------------------------------------------------------
# Every figure of a `vsdstats paper` run read back: its text (pdftotext) and PNG size
# ---------------------------------------------------------------------------

K = 10
#: the LLM family given fewer than K units (no model-release label of fig6 names it)
SMALL_FAMILY = "qwen"
#: axis titles each figure must show (R/fig*.R); fig8's axes are its four strata
AXES: dict[str, tuple[str, ...]] = {
    "fig3_residuals_condition_sentiment": ("Condition", "Sentiment"),
    "fig3_residuals_condition_perspective": ("Condition", "Perspective"),
    "fig3_residuals_condition_value": ("Condition", "Value"),
    "fig4_npmi": ("Value", "Perspective"),
    "fig4_delta_pmi": ("Value", "Perspective"),
    "fig5_mean_sentiment": ("Mean sentiment score",),
    "fig6_monthly": ("Month", "Units per month", "Mean sentiment"),
    "fig6_monthly_conditions": ("Month", "Units per month", "Mean sentiment", "largest conditions"),
    "fig7_fingerprint": ("LLM family", "Condition"),
    "fig8_alluvial": ("Units", "Condition", "Sentiment", "Perspective", "Value"),
    "fig9_logodds": ("Weighted log-odds",),
    "fig10_forest": ("Odds ratio",),
}
#: the dimensions whose categories (those with at least K units) each figure names
NAMED: dict[str, tuple[str, ...]] = {
    "fig3_residuals_condition_sentiment": ("condition", "sentiment"),
    "fig3_residuals_condition_perspective": ("condition", "perspective"),
    "fig3_residuals_condition_value": ("condition", "value"),
    "fig4_npmi": ("value", "perspective"),
    "fig5_mean_sentiment": ("condition", "llm_product"),
    "fig7_fingerprint": ("condition", "llm_product"),
    "fig10_forest": ("condition",),
}
#: smallest printed text: word boxes of at least 5.4 pt at the printed width (6 pt type)
MIN_TEXT_PT = 5.4


def _require_pdftotext() -> str:
    """pdftotext's path; missing, the test skips on a developer machine and FAILS under
    CI (vsdstats.testing.require)."""
    from vsdstats.testing import require

    exe = shutil.which("pdftotext")
    require(exe is not None, "pdftotext is missing (Debian poppler-utils; bash R/install_r.sh)")
    return str(exe)


@pytest.fixture(scope="module")
def pdftotext() -> str:
    return _require_pdftotext()


@pytest.fixture(scope="module")
def small_family_paper(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    """`vsdstats paper` on the simulated corpus with exactly one LLM family under K units
    (Qwen, 4 units), so table1 also hides the next-smallest family (complementary)."""
    from vsdstats.paper.run import run_paper
    from vsdstats.paper.simulate import simulate_corpus
    from vsdstats.tables.codebook import load_codebook

    df = simulate_corpus(n=3000, seed=11)
    orig = df["llm_product"].copy()
    counts = df["llm_product"].value_counts()
    rare = [f for f in counts.index if counts[f] < K]
    df["llm_product"] = df["llm_product"].where(~df["llm_product"].isin(rare), "other")
    df.loc[df.index[df["llm_product"] == "chatgpt"][:4], "llm_product"] = SMALL_FAMILY
    if "llm_version" in df.columns:  # codebook 1.1: a version belongs to its family
        df.loc[df["llm_product"] != orig, "llm_version"] = "unspecified"
    counts = df["llm_product"].value_counts()
    assert counts[SMALL_FAMILY] == 4 and (counts.drop(SMALL_FAMILY) >= K).all()
    assert set(load_codebook().codes("llm_product")) >= set(counts.index)
    tmp = tmp_path_factory.mktemp("small_family")
    path = tmp / "units.csv"
    df.assign(created_at=df["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
        path, index=False
    )
    run = run_paper(path, out=tmp / "paper", min_cell=K, log=lambda m: None)
    assert run.figure_error is None
    return df, run.out


def _pdf_text(exe: str, pdf: Path) -> str:
    out = subprocess.run(
        [exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    # R's PDF device writes minus signs as U+2212
    return out.stdout.replace("\u2212", "-")


def _flat(text: str) -> str:
    """Whitespace collapsed, so labels wrapped over lines read as one string."""
    return " ".join(text.split())


def _word_heights(exe: str, pdf: Path) -> tuple[float, list[float]]:
    """(page width, height of every word box) in points, from pdftotext -bbox."""
    import re

    out = subprocess.run(
        [exe, "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', out).group(1))
    boxes = re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', out)
    return width, [float(b) - float(a) for a, b in boxes]


def _labels(dim: str) -> dict[str, str]:
    from vsdstats.tables.codebook import load_codebook

    return {c.code: c.label for c in load_codebook().dimensions[dim].categories}


def test_every_figure_reads_back(pdftotext, small_family_paper):
    """From the PDF's text and the PNG: the synthetic label, labelled axes, the codebook
    labels of the groups shown, legible type at the printed width, the PNG's size."""
    df, out = small_family_paper
    for name, (w, h) in FIGURES.items():
        pdf, png = out / "figures" / f"{name}.pdf", out / "figures" / f"{name}.png"
        assert _png_size(png) == (round(w * DPI), round(h * DPI)), name
        text = _flat(_pdf_text(pdftotext, pdf))
        assert SYNTHETIC_LABEL in text, name
        for axis in AXES[name]:
            assert axis in text, (name, axis)
        for dim in NAMED.get(name, ()):
            counts = df[dim].value_counts()
            for code, label in _labels(dim).items():
                if counts.get(code, 0) >= K:
                    assert _flat(label) in text, (name, dim, label)
        page_w, heights = _word_heights(pdftotext, pdf)
        scale = w * 72 / page_w  # drawn at print size: 1
        assert scale == pytest.approx(1, abs=0.01), name
        # boxes taller than 30 pt are rotated words split by pdftotext, not type sizes
        assert min(x * scale for x in heights if x < 30) >= MIN_TEXT_PT, name


def test_no_figure_shows_what_the_tables_hide(pdftotext, small_family_paper):
    """Groups with fewer than K units (Qwen; small conditions) are named in no figure;
    the family table1 hides by complementary suppression is 'n suppressed' in fig5."""
    import re

    df, out = small_family_paper
    hidden = []
    for dim in ("llm_product", "condition"):
        counts = df[dim].value_counts()
        hidden += [lab for code, lab in _labels(dim).items() if 1 <= counts.get(code, 0) < K]
    assert "Qwen" in hidden
    texts = {n: _flat(_pdf_text(pdftotext, out / "figures" / f"{n}.pdf")) for n in FIGURES}
    for name, text in texts.items():
        for label in hidden:
            pattern = r"(?<![\w-])" + re.escape(_flat(label)) + r"(?![\w-])"
            assert not re.search(pattern, text), (name, label)
    t1 = pd.read_csv(out / "tables" / "table1_corpus.csv", dtype=str)
    fam = t1[t1["Section"] == "LLM family"]
    comp = fam.loc[fam["Units"] == "suppressed", "Category"].tolist()
    assert comp, "one family under K: table1 hides a second one"
    for label in comp:
        assert f"{label} (n suppressed)" in texts["fig5_mean_sentiment"], label
        assert not re.search(re.escape(label) + r" \(n = \d", texts["fig5_mean_sentiment"])
    # and every count fig5 prints is one table1 prints
    shown = dict(zip(fam["Category"], fam["Units"], strict=True))
    for label, n in re.findall(r"([A-Z][\w/ ]*?) \(n = ([\d,]+)\)", texts["fig5_mean_sentiment"]):
        if label in shown:
            assert shown[label] == n.replace(",", ""), label


def test_ci_installs_pdftotext():
    """The figure read-back needs pdftotext: R/install_r.sh (run by tox and .ci/run)
    installs Debian's poppler-utils."""
    sh = (SCRIPTS / "install_r.sh").read_text(encoding="utf-8")
    base = next(x for x in sh.splitlines() if x.startswith("BASE_DEB_PACKAGES="))
    assert "poppler-utils" in base.split("#")[0]
    ci = (SCRIPT.resolve().parents[3] / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash R/install_r.sh" in ci


def test_missing_pdftotext_fails_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="poppler-utils"):
        _require_pdftotext()
    monkeypatch.delenv("CI")
    monkeypatch.delenv("VSDSTATS_REQUIRE_R", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _require_pdftotext()
