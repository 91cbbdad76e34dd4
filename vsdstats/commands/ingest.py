"""``vsdstats ingest`` and ``vsdstats filter``: platform files to normalized posts."""

from __future__ import annotations

import click


@click.command()
def ingest() -> None:
    """Read platform exports into normalized, pseudonymized posts."""
    raise click.ClickException("not implemented yet")


@click.command("filter")
def filter_cmd() -> None:
    """Keep posts that mention an LLM chatbot and a mental-health term."""
    raise click.ClickException("not implemented yet")
