"""``vsdstats ingest``: platform files to normalized, pseudonymized posts."""

from __future__ import annotations

import sys
from typing import Any

import click

from vsdstats.cli._common import codebook_option, dask_option, fail, relevance_option


def _relevance_filter(codebook_path: str | None) -> Any:
    try:
        from vsdstats.filter.relevance import RelevanceFilter
    except ImportError:
        fail(
            "--relevance needs the relevance filter (vsdstats.filter.relevance), which is not "
            "available in this installation; run without --relevance and use `vsdstats filter`"
        )
    from vsdstats.tables.codebook import CodebookError, load_codebook

    try:
        return RelevanceFilter.from_codebook(load_codebook(codebook_path))
    except (CodebookError, ValueError) as exc:
        fail(str(exc))


@click.command()
@click.argument("platform")
@click.argument("files", nargs=-1, required=True, type=click.Path())  # files checked by ingest
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(),
    help="study folder, or FILE.parquet, or FILE.duckdb (appended to and deduplicated against)",
)
@click.option("--format", "fmt", default=None, help="input format (default: detected)")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False),
    help="per-study secret (created if missing); default $VSDSTATS_SECRET or the "
    "study's key outside the study, ~/.config/vsdstats/secrets/<study id>.key "
    "($VSDSTATS_CONFIG_DIR moves it).  Back it up; never share it: it de-pseudonymizes "
    "the authors.",
)
@relevance_option
@codebook_option
@click.option("--strict", is_flag=True, help="exit with code 1 if any record was rejected")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@click.option(
    "--keep-file-names",
    is_flag=True,
    help="store input file names in the study (source_file, rejects, report); default: a "
    "keyed hash f_<12 hex>.<ext>, since file names can hold a handle",
)
@dask_option
def ingest(
    platform: str,
    files: tuple[str, ...],
    out: str,
    fmt: str | None,
    secret_file: str | None,
    relevance: bool,
    codebook_path: str | None,
    strict: bool,
    no_progress: bool,
    keep_file_names: bool,
    dask: str | None,
) -> None:
    """Read PLATFORM export FILES into normalized, pseudonymized posts.

    Authors become keyed pseudonyms, @mentions, e-mails and known identities are masked,
    posts are deduplicated by id and duplicate texts flagged.  Every record is accounted
    for: read = kept + duplicates + filtered out + rejected (printed, and in the report).

    With --dask, each file is read and normalized by a task on the cluster and the
    results are deduplicated and written here: the same output as without --dask.
    A folder written by `vsdstats filter --dask` is one input: its records are read
    in part order, the lines `filter` writes without --dask.

    The study names each input file by a keyed hash of its path unless --keep-file-names
    is given; the summary printed here shows the paths as you typed them.
    """
    from rich.console import Console

    from vsdstats.cluster import ClusterError
    from vsdstats.ingest.console import print_summary
    from vsdstats.ingest.pipeline import IngestError, ingest_files

    filt = _relevance_filter(codebook_path) if relevance else None
    tty = sys.stderr.isatty()
    console = Console(stderr=True, width=None if tty else 160)
    try:
        if dask:
            report = _ingest_dask(
                dask, platform, files, out, secret_file, filt, fmt, keep_file_names
            )
        else:
            report = ingest_files(
                platform,
                files,
                out,
                secret_file=secret_file,
                relevance=filt,
                format=fmt,
                progress=not no_progress and tty,
                console=console if tty else None,
                keep_file_names=keep_file_names,
            )
    except (IngestError, ClusterError) as exc:
        fail(str(exc))
        return
    except OSError as exc:  # e.g. the output folder is not writable
        fail(f"{exc.filename or out}: {exc.strerror or exc}", code=1)
        return
    print_summary(report, console)
    _manifest(report, files, out, fmt, relevance, codebook_path, keep_file_names, platform, dask)
    if strict and report.rejected:
        fail(f"--strict: {report.rejected:,} record(s) rejected (see the rejects)", code=1)


def _ingest_dask(
    spec: str,
    platform: str,
    files: tuple[str, ...],
    out: str,
    secret_file: str | None,
    filt: Any,
    fmt: str | None,
    keep_file_names: bool,
) -> Any:
    from vsdstats.cluster import dask_client
    from vsdstats.ingest.parallel import ingest_files_dask

    with dask_client(spec) as client:
        return ingest_files_dask(
            client,
            platform,
            files,
            out,
            secret_file=secret_file,
            relevance=filt,
            format=fmt,
            keep_file_names=keep_file_names,
        )


def _manifest(
    report: Any,
    files: tuple[str, ...],
    out: str,
    fmt: str | None,
    relevance: bool,
    codebook_path: str | None,
    keep_file_names: bool,
    platform: str,
    dask: str | None = None,
) -> None:
    """``STUDY/manifests/ingest-<UTC time>.json`` (:mod:`vsdstats.ingest.manifest`)."""
    from vsdstats.ingest.manifest import write_ingest_manifest
    from vsdstats.tables.codebook import default_codebook_path

    codebook = (codebook_path or default_codebook_path()) if relevance else None
    settings = {
        "platform": platform,
        "format": fmt,
        "relevance": relevance,
        "codebook": codebook_path,
        "keep_file_names": keep_file_names,
        "dask": dask,  # the output is the same without it
    }
    path = write_ingest_manifest(report, files, out, settings=settings, codebook=codebook)
    if path is not None:
        click.echo(f"wrote {path}", err=True)
