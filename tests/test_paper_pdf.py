"""`vsdstats paper --pdf`: manuscript.tex compiles with pdflatex; the PDF holds every
table's and figure's caption and the figures themselves; LaTeX errors and a missing
pdflatex are one-line errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from vsdstats.paper.config import PaperError
from vsdstats.paper.latex import (
    TEX_DEB_PACKAGES,
    LatexUnavailableError,
    compile_manuscript,
    first_error,
    require_pdflatex,
)
from vsdstats.testing import require

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC_LABEL = "SYNTHETIC DATA (simulated corpus)"


def _tool(name: str) -> str:
    exe = shutil.which(name)
    require(exe is not None, f"{name} is missing (bash R/install_r.sh installs it)")
    return str(exe)


def _text(pdf: Path, *args: str) -> str:
    out = subprocess.run(
        [_tool("pdftotext"), "-enc", "UTF-8", *args, str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _squash(text: str) -> str:
    """Whitespace and hyphens removed (TeX breaks and hyphenates at line ends)."""
    return re.sub(r"[\s\-\u2010\u2212]+", "", text)


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory) -> Path:
    _tool("pdflatex")
    from vsdstats.paper.run import run_paper

    out = tmp_path_factory.mktemp("paper_pdf") / "paper"
    run = run_paper(out=out, n=3000, seed=11, min_cell=10, pdf=True, log=lambda m: None)
    assert run.figure_error is None and run.pdf == out / "manuscript.pdf"
    return out


@pytest.mark.needs_r
def test_pdf_has_every_caption_and_figure(paper_pdf: Path) -> None:
    import json

    from vsdstats.paper.figures import FIGURES
    from vsdstats.paper.manuscript import figure_caption_text

    pdf = paper_pdf / "manuscript.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _text(pdf)
    flat = _squash(text)
    tables = sorted(paper_pdf.glob("tables/*.md"))
    assert len(tables) >= 5
    for md in tables:  # "**Table NAME.** caption" is the first line of every table
        first = md.read_text(encoding="utf-8").splitlines()[0]
        caption = first.split(".**", 1)[1].strip().replace("\\", "")
        assert _squash(caption) in flat, (md.stem, caption)
    for name in FIGURES:
        assert _squash(figure_caption_text(name)) in flat, name
    # the figures are in it (vector PDF: their text, e.g. the synthetic label of each)
    assert text.count(SYNTHETIC_LABEL) >= len(FIGURES)
    for axis in ("Odds ratio", "Weighted log-odds", "Mean sentiment"):
        assert axis in text, axis
    info = subprocess.run(
        [_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, timeout=60
    ).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= len(FIGURES) // 2 + len(tables)
    manifest = json.loads((paper_pdf / "manifest.json").read_text())
    assert manifest["tex"]["pdflatex"].startswith("pdfTeX")
    assert manifest["settings"]["pdf"] is True
    assert "manuscript.pdf" in {o["path"] for o in manifest["outputs"]}
    assert not (paper_pdf / "manuscript.log").exists()  # the compile left no debris
    assert not list(paper_pdf.glob("manuscript.aux"))


@pytest.mark.needs_r
def test_pdf_is_reproducible(paper_pdf: Path) -> None:
    """Recompiled (figures touched, as a new run rewrites them): the same bytes."""
    before = (paper_pdf / "manuscript.pdf").read_bytes()
    compile_manuscript(paper_pdf)
    assert (paper_pdf / "manuscript.pdf").read_bytes() == before


def test_latex_error_is_one_line_with_the_log(tmp_path: Path) -> None:
    _tool("pdflatex")
    (tmp_path / "manuscript.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nok\n\\undefinedmacro\n\\end{document}\n"
    )
    with pytest.raises(PaperError) as info:
        compile_manuscript(tmp_path)
    msg = str(info.value)
    assert "\n" not in msg
    assert "Undefined control sequence" in msg and "l.4" in msg, msg
    log = tmp_path / "manuscript.log"
    assert str(log) in msg and log.is_file()
    assert not (tmp_path / "manuscript.pdf").exists()
    assert not (tmp_path / "manuscript.aux").exists()  # compiled in a temp folder
    # a missing figure names the file
    (tmp_path / "manuscript.tex").write_text(
        "\\documentclass{article}\n\\usepackage{graphicx}\n\\begin{document}\n"
        "\\includegraphics{figures/nope.pdf}\n\\end{document}\n"
    )
    with pytest.raises(PaperError, match=r"nope\.pdf"):
        compile_manuscript(tmp_path)


def test_first_error():
    log = (
        "This is pdfTeX\n(./x.tex\n! LaTeX Error: File `booktabs.sty' not found.\n"
        "\nl.3 \\usepackage\n"
    )
    assert first_error(log) == "LaTeX Error: File `booktabs.sty' not found. (l.3 \\usepackage)"
    assert "no '!'" in first_error("")


def test_missing_pdflatex_names_the_debian_packages(monkeypatch):
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda n, *a, **k: None if n == "pdflatex" else which(n))
    with pytest.raises(LatexUnavailableError) as info:
        require_pdflatex()
    msg = str(info.value)
    assert "\n" not in msg
    for deb in ("texlive-latex-base", "texlive-latex-recommended", "lmodern"):
        assert deb in msg


@pytest.mark.needs_r
def test_cli_pdf_without_pdflatex_is_one_line_exit_2(monkeypatch, tmp_path):
    """Checked before the long steps: nothing but the error line."""
    from vsdstats.cli import main

    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda n, *a, **k: None if n == "pdflatex" else which(n))
    res = CliRunner().invoke(main, ["paper", "--pdf", "--n", "500", "-o", str(tmp_path / "p")])
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if not x.startswith("vsdstats paper: check")]
    assert len(lines) == 1 and "pdflatex" in lines[0] and "texlive-latex-recommended" in lines[0]
    assert not (tmp_path / "p" / "tables").exists()


def test_ci_installs_tex():
    """R/install_r.sh (run as root by tox and .ci/run) installs the TeX packages, so the
    compile test runs (never skips) in CI."""
    sh = (ROOT / "R" / "install_r.sh").read_text(encoding="utf-8")
    m = re.search(r"^BASE_DEB_PACKAGES=\(([^)]*)\)", sh, re.M)
    assert m is not None
    base = m.group(1).split()
    for deb in TEX_DEB_PACKAGES:
        assert deb in base, deb
    assert "bash R/install_r.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    tox = (ROOT / "tox.ini").read_text(encoding="utf-8")
    assert "vsdstats paper {posargs}" in tox  # so `tox -e paper -- --pdf` reaches --pdf
