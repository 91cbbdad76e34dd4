"""The R package list (vsdstats/r/scripts/packages.txt) is exactly what the code uses.

The R libraries are found independently of the list: in the R scripts (``library()``,
``require()``, ``requireNamespace()``, ``pkg::``) with comments and strings stripped,
and in the R code that Python runs through rpy2 (string constants of the modules
that call ``r_eval``/``rpy2``, plus ``importr()`` calls).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import vsdstats.r
from vsdstats.r.packages import parse_packages, required_libraries, required_packages

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "vsdstats" / "r" / "scripts"

_LOAD = re.compile(
    r"\b(?:library|require|requireNamespace|loadNamespace)\(\s*['\"]?([A-Za-z][A-Za-z0-9.]*)"
)
_NS = re.compile(r"(?<![A-Za-z0-9._$@])([A-Za-z][A-Za-z0-9.]*):::?(?=[A-Za-z.`])")
_OPTIONAL = re.compile(r"requireNamespace\(\s*['\"]([A-Za-z][A-Za-z0-9.]*)['\"]")


def _strip_r_comments(code: str) -> str:
    """R code without ``#`` comments (a ``#`` inside a string literal is kept)."""
    out = []
    for line in code.splitlines():
        quote = None
        for i, ch in enumerate(line):
            if quote:
                if ch == quote and line[i - 1] != "\\":
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch == "#":
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def _libraries_in_r(code: str) -> set[str]:
    code = _strip_r_comments(code)
    return set(_LOAD.findall(code)) | set(_NS.findall(code))


def _r_code_from_python() -> tuple[set[str], str]:
    """Libraries the rpy2-using modules load, and their R code (joined)."""
    libs: set[str] = set()
    codes = []
    for path in sorted((ROOT / "vsdstats").rglob("*.py")):
        src = path.read_text(encoding="utf-8")
        if "rpy2" not in src and "r_eval" not in src:
            continue
        tree = ast.parse(src)
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "importr"
            ):
                libs.update(a.value for a in node.args if isinstance(a, ast.Constant))
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", "") == "_R_PACKAGE" for t in node.targets
            ):
                libs.update(ast.literal_eval(node.value).values())
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                codes.append(node.value)
    code = "\n".join(codes)
    return libs | _libraries_in_r(code), code


def _r_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SCRIPTS.glob("*.R")))


def test_scanners_see_the_obvious_cases():
    code = 'library(ggplot2)\nx <- scales::squish # jsonlite::fromJSON\ny <- "a#b"; z$w::q'
    assert _libraries_in_r(code) == {"ggplot2", "scales"}
    assert _libraries_in_r("if (requireNamespace('ragg', quietly = TRUE)) 1") == {"ragg"}


def test_package_list_is_exactly_what_is_used():
    r_sources = _r_sources()
    used_r = _libraries_in_r(r_sources)
    used_py, py_code = _r_code_from_python()
    used = (used_r | used_py) - {"base"}  # base is R itself (r-base-core, always there)
    # a library probed with requireNamespace("x") and only used behind that probe
    # (ragg for PNGs, with a cairo/png fallback) is optional: not installed.
    optional = set(_OPTIONAL.findall(_strip_r_comments(r_sources + "\n" + py_code)))
    optional -= set(_LOAD.findall(_strip_r_comments(r_sources).replace("requireNamespace", "")))
    listed = set(required_libraries())
    assert used - optional <= listed, f"used but not in packages.txt: {used - optional - listed}"
    assert listed <= used, f"in packages.txt but not used: {listed - used}"
    assert {"ggplot2", "ggalluvial", "glmmTMB", "lme4"} <= listed
    assert "dplyr" not in listed and "nloptr" not in listed


def test_required_packages_shape_and_reexport():
    pkgs = required_packages()
    assert vsdstats.r.required_packages is required_packages
    assert len({lib for _, lib in pkgs}) == len(pkgs), "a library listed twice"
    for deb, lib in pkgs:
        assert re.fullmatch(r"r-(base-core|cran-[a-z0-9.]+)", deb), deb
        if deb.startswith("r-cran-"):
            assert deb == "r-cran-" + lib.lower(), (deb, lib)


def test_parse_packages_comments_and_errors():
    assert parse_packages("# c\n\n a b # note\nc d\n") == [("a", "b"), ("c", "d")]
    with pytest.raises(ValueError, match="line 2"):
        parse_packages("a b\nlonely\n")


def test_install_script_reads_the_list():
    sh = (SCRIPTS / "install_r.sh").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in sh.splitlines())
    assert "packages.txt" in code
    assert not re.search(r"r-cran-", code), "install_r.sh hard-codes an r-cran package"
    for lib in required_libraries():
        # a Debian package such as poppler-utils is not the R library utils
        pattern = rf"(?<![\w-]){re.escape(lib)}(?![\w-])"
        assert not re.search(pattern, code), f"install_r.sh names {lib}"


def test_packages_module_does_not_import_rpy2():
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, vsdstats.r; vsdstats.r.required_packages(); "
            "print(any(m.startswith('rpy2') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_doctor_uses_the_list():
    src = (ROOT / "vsdstats" / "cli" / "doctor.py").read_text(encoding="utf-8")
    assert "required_libraries" in src and "need = [" not in src
