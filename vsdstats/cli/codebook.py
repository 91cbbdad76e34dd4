"""``vsdstats codebook show|check|export``: the VSD codebook."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from vsdstats.cli._common import codebook_option, fail


@click.group()
def codebook() -> None:
    """Show, check or copy the VSD codebook."""


@codebook.command("show")
@codebook_option
@click.option("--dimension", "-d", help="only this dimension (e.g. perspective)")
def codebook_show(codebook_path: str | None, dimension: str | None) -> None:
    """List dimensions and categories with their definitions."""
    from vsdstats.tables.codebook import CodebookError, load_codebook

    try:
        cb = load_codebook(codebook_path)
    except CodebookError as exc:
        fail(str(exc))
    click.echo(f"{cb.name} {cb.version}  ({cb.source})")
    for name, dim in cb.dimensions.items():
        if dimension and name != dimension:
            continue
        click.echo(f"\n[{name}] {dim.description}")
        for c in dim.categories:
            click.echo(f"  {c.code:<24} {c.definition}")
    if dimension and dimension not in cb.dimensions:
        fail(f"no dimension {dimension!r}; have {', '.join(cb.dimensions)}")


@codebook.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def codebook_check(path: str) -> None:
    """Validate a codebook file; errors name the file and the offending key."""
    from vsdstats.tables.codebook import CodebookError, load_codebook

    try:
        cb = load_codebook(path)
    except CodebookError as exc:
        fail(str(exc))
    sizes = ", ".join(f"{d} {len(cb.codes(d))}" for d in cb.dimensions)
    click.echo(f"{path}: ok ({cb.name} {cb.version}: {sizes})")


@codebook.command("export")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="overwrite an existing file")
def codebook_export(dest: str, force: bool) -> None:
    """Copy the shipped codebook to DEST for editing."""
    from vsdstats.tables.codebook import default_codebook_path

    d = Path(dest)
    if d.exists() and not force:
        fail(f"{d} exists (use --force to overwrite)")
    shutil.copyfile(default_codebook_path(), d)
    click.echo(f"wrote {d}")
