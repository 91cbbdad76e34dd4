"""``vsdstats filter``: options and printing over :mod:`vsdstats.filter.stream`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from vsdstats.cli._common import codebook_option, dask_option, fail
from vsdstats.filter import DEFAULT_FIELDS


def _split_fields(values: Sequence[str]) -> tuple[str, ...]:
    out = tuple(f.strip() for v in values for f in v.split(",") if f.strip())
    return out or DEFAULT_FIELDS


@click.command("filter")
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False), metavar="INPUT...")
@click.option(
    "--out",
    "-o",
    type=click.Path(),
    help="kept lines (.jsonl, or .zst compressed) or rows (.parquet/.csv for tables); "
    "with --dask a folder of Parquet parts",
)
@click.option(
    "--terms",
    "terms_path",
    type=click.Path(dir_okay=False),
    help="TOML term file extending (or, with replace = true, replacing) the codebook terms",
)
@codebook_option
@click.option(
    "--field",
    "fields",
    multiple=True,
    help=f"text field(s) to check, repeatable or comma-separated; dotted paths reach into "
    f"objects [default: {','.join(DEFAULT_FIELDS)}]",
)
@click.option(
    "--export-terms",
    type=click.Path(dir_okay=False),
    help="write the effective term lists as an editable term file and exit",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "hyperscan", "re"]),
    default="auto",
    show_default=True,
    help="byte pre-filter engine (auto: Hyperscan when installed)",
)
@dask_option
@click.option(
    "--chunk-size",
    "chunk_mb",
    type=click.IntRange(1),
    default=256,
    show_default=True,
    help="with --dask: MB per task of an uncompressed NDJSON file (a .zst/.gz is one task)",
)
@click.option("--force", is_flag=True, help="overwrite OUT (or the --export-terms file)")
def filter_cmd(
    inputs: tuple[str, ...],
    out: str | None,
    terms_path: str | None,
    codebook_path: str | None,
    fields: tuple[str, ...],
    export_terms: str | None,
    engine: str,
    dask: str | None,
    chunk_mb: int,
    force: bool,
) -> None:
    """Keep posts that mention an LLM chatbot and a mental-health term.

    INPUT... are NDJSON dumps (.jsonl/.ndjson/.json, optionally .zst or .gz) or posts
    tables (.parquet/.csv/.tsv).  Counts of lines read, kept, dropped and rejected are
    printed; rejected lines (unparseable candidates) go to OUT.rejects.csv.

    With --dask, every file (and every --chunk-size of an uncompressed one) is a task on
    the cluster: OUT is a folder of Parquet parts (part-FILE-CHUNK.parquet: source_file,
    record), OUT/rejects.csv and OUT/counts.json; the records of the parts in name order
    are the lines a run without --dask writes.
    """
    from vsdstats.cluster import ClusterError
    from vsdstats.filter.relevance import RelevanceFilter
    from vsdstats.filter.stream import FilterError, filter_files, is_table, rejects_path
    from vsdstats.filter.terms import TermFileError, terms_toml
    from vsdstats.tables.codebook import CodebookError, load_codebook

    try:
        rf = RelevanceFilter.from_codebook(load_codebook(codebook_path), terms_path)
    except (CodebookError, TermFileError, ValueError) as exc:
        fail(exc)
    if export_terms:
        dest = Path(export_terms)
        if dest.exists() and not force:
            fail(f"{dest} exists (use --force to overwrite)")
        dest.write_text(terms_toml(rf.terms), encoding="utf-8")
        click.echo(f"wrote {dest}", err=True)
        if not inputs:
            return
    if not inputs:
        fail("give at least one INPUT (or --export-terms FILE)")
    missing = [p for p in inputs if not Path(p).is_file()]
    if missing:
        fail(f"{missing[0]}: no such file")
    if not out:
        fail("--out is required")
    if Path(out).exists() and not force and not _empty_dir(out):
        fail(f"{out} exists (use --force to overwrite)")
    if dask and Path(out).is_file():
        fail(f"{out}: with --dask, -o is a folder (of Parquet parts), not a file")
    if not dask and Path(out).is_dir():
        fail(f"{out} is a folder; -o is a file (a folder of parts with --dask)")
    try:
        if dask:
            counts = _filter_dask(dask, inputs, out, rf, _split_fields(fields), engine, chunk_mb)
        else:
            counts = filter_files(inputs, out, rf, _split_fields(fields), engine=engine)
    except (FilterError, ClusterError) as exc:
        fail(exc)
    except RuntimeError as exc:  # e.g. the pre-filter engine cannot start
        fail(exc, 1)
    msg = f"{counts.summary()}; wrote {out}"
    if dask:
        extra = "" if is_table(inputs[0]) else ", rejects.csv"
        msg += f"{os.sep} (Parquet parts, counts.json{extra})"
    elif not is_table(inputs[0]):
        msg += f" and {rejects_path(out)}"
    click.echo(msg, err=True)
    for damage in counts.damaged:  # what came before the damage is in OUT
        click.echo(f"vsdstats filter: error: {damage}", err=True)
    if counts.damaged:
        sys.exit(1)
    if not counts.balanced:  # pragma: no cover - a bug, never bad input
        click.echo("vsdstats filter: warning: counts do not add up", err=True)
        sys.exit(1)


def _empty_dir(path: str) -> bool:
    p = Path(path)
    return p.is_dir() and not any(p.iterdir())


def _filter_dask(
    spec: str,
    inputs: Sequence[str],
    out: str,
    rf: Any,
    fields: tuple[str, ...],
    engine: str,
    chunk_mb: int,
) -> Any:
    from vsdstats.cluster import dask_client
    from vsdstats.filter.parallel import filter_files_dask

    with dask_client(spec) as client:
        return filter_files_dask(
            client, inputs, out, rf, fields, engine=engine, chunk_bytes=chunk_mb << 20
        )
