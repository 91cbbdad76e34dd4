"""``vsdstats paper``: regenerate the manuscript's tables and figures."""

from __future__ import annotations

import click


@click.command()
def paper() -> None:
    """Regenerate paper/ tables and figures (the job `tox -e paper` runs)."""
    raise click.ClickException("not implemented yet")
