"""``vsdstats plugins`` and ``vsdstats new-plugin``."""

from __future__ import annotations

import click


@click.command()
def plugins() -> None:
    """List installed platform plugins with versions and formats."""
    raise click.ClickException("not implemented yet")


@click.command("new-plugin")
def new_plugin() -> None:
    """Scaffold a new platform plugin package."""
    raise click.ClickException("not implemented yet")
