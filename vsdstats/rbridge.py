"""The bridge to R through rpy2: availability checks and column-wise data frames.

rpy2 is imported lazily so that the pure-Python parts of vsdstats work without R.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

# rpy2 releases that are known to work with a given R minor version range.
# rpy2 >= 3.6.7 / the 3.6.9 metapackage reference R_ParentEnv, added in R 4.5.
_RPY2_MAX_FOR_OLD_R = (3, 6, 6)


class RUnavailableError(RuntimeError):
    """R or rpy2 is missing or the two do not match."""


@dataclass(frozen=True)
class RInfo:
    r_version: str
    rpy2_version: str
    r_home: str


def _rscript_version() -> str | None:
    exe = shutil.which("Rscript")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "--vanilla", "-e", "cat(paste(R.version$major, R.version$minor, sep='.'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or None


def _vtuple(v: str) -> tuple[int, ...]:
    parts = []
    for p in v.split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@cache
def check_r() -> RInfo:
    """Check that R is installed, rpy2 imports, and their versions match.

    Raises RUnavailableError with a message telling how to fix it.
    """
    rver = _rscript_version()
    if rver is None:
        raise RUnavailableError(
            "R is not installed (no Rscript on PATH). On Debian/Ubuntu run "
            "`bash R/install_r.sh` as root (it apt-get installs r-base-core and the "
            "R packages vsdstats needs)."
        )
    try:
        from importlib.metadata import version as _pkg_version

        rpy2_ver = _pkg_version("rpy2-rinterface")
    except Exception:  # noqa: BLE001 - any metadata problem means "not installed"
        try:
            from importlib.metadata import version as _pkg_version

            rpy2_ver = _pkg_version("rpy2")
        except Exception:  # noqa: BLE001
            raise RUnavailableError(
                f"R {rver} is installed but rpy2 is not. Install the pinned build: "
                "pip install 'vsdstats[r]' (rpy2-rinterface==3.6.5, rpy2-robjects==3.6.6)."
            ) from None
    if _vtuple(rver) < (4, 5) and _vtuple(rpy2_ver) > _RPY2_MAX_FOR_OLD_R:
        raise RUnavailableError(
            f"rpy2 {rpy2_ver} needs R >= 4.5 but R {rver} is installed "
            "(it fails with 'undefined symbol: R_ParentEnv'). Install "
            "rpy2-rinterface==3.6.5 and rpy2-robjects==3.6.6 (or rpy2==3.5.17)."
        )
    try:
        import rpy2.rinterface_lib.callbacks  # noqa: F401
        import rpy2.robjects as ro
    except Exception as exc:  # noqa: BLE001 - report any import failure clearly
        raise RUnavailableError(
            f"rpy2 {rpy2_ver} failed to load R {rver}: {exc}. If the message mentions an "
            "undefined symbol, the rpy2 build does not match this R; reinstall "
            "rpy2-rinterface==3.6.5 and rpy2-robjects==3.6.6 with --no-binary."
        ) from exc
    embedded = ".".join(str(x) for x in ro.r("c(R.version$major, R.version$minor)"))
    if embedded != rver:
        raise RUnavailableError(
            f"rpy2 embeds R {embedded} but Rscript on PATH is R {rver}; set R_HOME to one R."
        )
    return RInfo(r_version=rver, rpy2_version=rpy2_ver, r_home=str(ro.r("R.home()")[0]))


def r_available() -> bool:
    """True when check_r() succeeds."""
    try:
        check_r()
    except RUnavailableError:
        return False
    return True
