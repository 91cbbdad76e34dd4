"""``vsdstats plugins`` (list installed platform connectors) and ``vsdstats new-plugin``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def plugin_rows() -> list[dict[str, Any]]:
    """One dict per installed connector: platform, plugin, version, formats,
    live_collection and error (None); then one per broken plugin, with platform None,
    ``entry_point`` and ``error`` the reason it cannot be used."""
    from vsdstats.connectors.manager import load_plugins

    found, broken = load_plugins()
    rows: list[dict[str, Any]] = [
        {
            "platform": name,
            "plugin": reg.plugin,
            "version": reg.plugin_version or reg.connector.version,
            "formats": list(reg.connector.formats),
            "live_collection": bool(reg.connector.can_collect),
            "error": None,
        }
        for name, reg in found.items()
    ]
    rows += [
        {
            "platform": None,
            "plugin": b.plugin,
            "version": b.version,
            "formats": [],
            "live_collection": False,
            "entry_point": f"{b.name} = {b.value}",
            "error": b.reason,
        }
        for b in broken
    ]
    return rows


def _install_hint() -> str:
    roots = [Path.cwd() / "plugins", Path(__file__).resolve().parents[2] / "plugins"]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found = sorted(p for p in root.glob("vsdstats-*") if (p / "pyproject.toml").is_file())
            if found:
                break
    if found:
        cmds = "\n".join(f"  pip install -e {_rel(p)}" for p in found)
        return f"Install the built-in ones with:\n{cmds}"
    return (
        "Install the built-in ones from a vsdstats checkout with e.g.\n"
        "  pip install -e plugins/vsdstats-reddit\n"
        "or scaffold your own with: vsdstats new-plugin NAME"
    )


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print machine-readable JSON")
def plugins(as_json: bool) -> None:
    """List installed platform plugins with versions and formats, and broken ones with
    the reason they cannot be used."""
    from vsdstats.connectors.manager import PluginError

    try:
        rows = plugin_rows()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    good = [r for r in rows if not r.get("error")]
    broken = [r for r in rows if r.get("error")]
    if not good:
        click.echo("No platform plugins installed.\n" + _install_hint())
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="vsdstats platform plugins")
        for col in ("platform", "plugin", "version", "formats", "live collection"):
            table.add_column(col)
        for r in good:
            table.add_row(
                r["platform"],
                r["plugin"],
                r["version"],
                ", ".join(r["formats"]),
                "yes" if r["live_collection"] else "no",
            )
        Console(width=120).print(table)
    for r in broken:  # plain lines: a reason is never cut by the table's wrapping
        click.echo(f"broken: {r['plugin']} {r['version']} ({r['entry_point']}): {r['error']}")


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="where to create vsdstats-NAME/ (default: ./plugins if it exists, else .)",
)
def new_plugin(name: str, directory: str | None) -> None:
    """Scaffold a new platform plugin package vsdstats-NAME (NAME: lowercase slug)."""
    from vsdstats.connectors.scaffold import ScaffoldError, scaffold

    try:
        target = scaffold(name, directory)
    except (ScaffoldError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {target}")
    click.echo(f"next: pip install -e {_rel(target)} && vsdstats plugins")
