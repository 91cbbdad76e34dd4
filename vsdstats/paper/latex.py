"""``vsdstats paper --pdf``: OUT/manuscript.tex compiled to OUT/manuscript.pdf by pdflatex.

The manuscript, its tables and figures are copied into a temporary folder and compiled
there (non-interactive, ``-halt-on-error``; twice, or once by latexmk when installed, so
cross-references settle), so a failed run leaves no auxiliary files in OUT.  The build
is reproducible: ``SOURCE_DATE_EPOCH`` (0 unless set) fixes the PDF's dates and ID.  A failed
compile leaves its log as OUT/manuscript.log.

Needs TeX Live from Debian: texlive-latex-base (pdflatex, graphicx, longtable),
texlive-latex-recommended (booktabs) and lmodern (the Latin Modern fonts of T1 text);
``R/install_r.sh`` installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from vsdstats.paper.config import PaperError

#: the Debian packages that make ``manuscript.tex`` compile
TEX_DEB_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "lmodern")
_INSTALL = "apt-get install -y --no-install-recommends " + " ".join(TEX_DEB_PACKAGES)
TIMEOUT_S = 300


class LatexUnavailableError(PaperError):
    """pdflatex is not on PATH."""


def require_pdflatex() -> str:
    """pdflatex's path, or LatexUnavailableError naming the Debian packages."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise LatexUnavailableError(
            "--pdf needs pdflatex, which is not on PATH; install TeX Live from Debian "
            f"packages ({_INSTALL}, as root; or bash R/install_r.sh)"
        )
    return exe


def tex_version() -> str | None:
    """The first line of ``pdflatex --version`` (e.g. 'pdfTeX 3.141592653-2.6-1.40.24
    (TeX Live 2022/Debian)'), or None without pdflatex."""
    exe = shutil.which("pdflatex")
    if exe is None:
        return None
    try:
        res = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    first = res.stdout.splitlines()[:1]
    return first[0].strip() if res.returncode == 0 and first else None


def first_error(log: str) -> str:
    """The first LaTeX error of a log: its '! ...' line, with the 'l.N ...' line that
    follows it (where TeX stopped) when there is one."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((x.strip() for x in lines[i + 1 : i + 12] if x.startswith("l.")), "")
            return f"{line[1:].strip()}" + (f" ({where})" if where else "")
    return "no '!' error line in the log"


def compile_manuscript(out: Path, name: str = "manuscript") -> Path:
    """Compile ``out/NAME.tex`` (with ``out/tables`` and ``out/figures``) to
    ``out/NAME.pdf``; PaperError naming the first LaTeX error and the log (kept as
    ``out/NAME.log``) when it does not compile, LatexUnavailableError without pdflatex."""
    exe = require_pdflatex()
    tex = out / f"{name}.tex"
    if not tex.is_file():
        raise PaperError(f"{tex}: missing (write the manuscript first)")
    log_keep = out / f"{name}.log"
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
        "FORCE_SOURCE_DATE": "1",
        "max_print_line": "1000",  # log lines unbroken, so the error line is whole
    }
    with tempfile.TemporaryDirectory(prefix="vsdstats-latex-") as tmp:
        work = Path(tmp)
        shutil.copy2(tex, work / tex.name)
        for sub in ("tables", "figures"):
            if (out / sub).is_dir():
                shutil.copytree(out / sub, work / sub)
        opts = ["-interaction=nonstopmode", "-halt-on-error"]  # errors as '! ...' lines
        latexmk = shutil.which("latexmk")
        if latexmk:
            runs = [[latexmk, "-pdf", "-quiet", f"-pdflatex={exe} {' '.join(opts)} %O %S"]]
        else:
            runs = [[exe, *opts, tex.name]] * 2
        for cmd in runs:
            try:
                proc = subprocess.run(
                    [*cmd, tex.name] if latexmk else cmd,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=TIMEOUT_S,
                )
            except subprocess.TimeoutExpired:
                raise PaperError(f"{tex}: pdflatex ran for more than {TIMEOUT_S} s") from None
            if proc.returncode != 0:
                log = work / f"{name}.log"
                text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
                log_keep.write_text(text or proc.stdout.decode(errors="replace"), encoding="utf-8")
                raise PaperError(f"{tex} does not compile: {first_error(text)}; see {log_keep}")
        pdf = out / f"{name}.pdf"
        shutil.copy2(work / f"{name}.pdf", pdf)
    log_keep.unlink(missing_ok=True)  # a failed run's log, now stale
    return pdf
