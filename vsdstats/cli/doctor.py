"""``vsdstats doctor``: is R, with the packages the figures and mixed models need, usable?"""

from __future__ import annotations

import sys

import click

import vsdstats
from vsdstats.cli._common import fail


@click.command()
def doctor() -> None:
    """Check that R, the R packages and rpy2 are installed and match."""
    from vsdstats.r.bridge import RUnavailableError, check_r

    click.echo(f"vsdstats {vsdstats.__version__}, Python {sys.version.split()[0]}")
    try:
        info = check_r()
    except RUnavailableError as exc:
        fail(str(exc))
    click.echo(f"R {info.r_version} at {info.r_home}, rpy2 {info.rpy2_version}: ok")
    import rpy2.robjects as ro

    from vsdstats.r.packages import required_libraries

    need = required_libraries()
    ok = ro.r["vapply"](
        ro.StrVector(need), ro.r["requireNamespace"], ro.r("logical(1)"), quietly=True
    )
    missing = [n for n, good in zip(need, ok, strict=True) if not good]
    if missing:
        fail(f"R packages missing: {', '.join(missing)}; run `bash R/install_r.sh` as root")
    click.echo(f"R packages: {', '.join(need)}: ok")
