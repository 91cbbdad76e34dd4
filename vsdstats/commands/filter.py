"""``vsdstats filter``: keep posts that mention an LLM chatbot and a mental-health term."""

from __future__ import annotations

import click


@click.command("filter")
def filter_cmd() -> None:
    """Keep posts that mention an LLM chatbot and a mental-health term."""
    raise click.ClickException("not implemented yet")
