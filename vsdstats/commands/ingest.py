"""``vsdstats ingest``: platform files to normalized, pseudonymized posts."""

from __future__ import annotations

import click


@click.command()
def ingest() -> None:
    """Read platform exports into normalized, pseudonymized posts."""
    raise click.ClickException("not implemented yet")
