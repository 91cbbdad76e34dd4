"""The R libraries vsdstats needs, read from the one list ``scripts/packages.txt``.

Pure Python (no rpy2): ``vsdstats doctor`` and the tests use it, ``install_r.sh``
reads the same file.
"""

from __future__ import annotations

from importlib import resources

#: File name of the list, next to the R scripts (package data).
PACKAGES_FILE = "packages.txt"


def parse_packages(text: str) -> list[tuple[str, str]]:
    """``(debian_package, r_library)`` per non-comment line of a packages.txt text.

    ``#`` starts a comment; blank lines are skipped; a line must hold exactly two
    fields (ValueError naming the line otherwise)."""
    out: list[tuple[str, str]] = []
    for no, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(
                f"{PACKAGES_FILE} line {no}: expected 'DEBIAN-PACKAGE R-LIBRARY', got {line!r}"
            )
        out.append((fields[0], fields[1]))
    return out


def required_packages() -> list[tuple[str, str]]:
    """``(debian_package, r_library)`` for every R library vsdstats uses, in file order."""
    text = (
        resources.files("vsdstats.r").joinpath("scripts").joinpath(PACKAGES_FILE).read_text("utf-8")
    )
    return parse_packages(text)


def required_libraries() -> list[str]:
    """The R library names of :func:`required_packages`, in file order."""
    return [lib for _, lib in required_packages()]
