"""``vsdstats simulate``: the SYNTHETIC replication corpus."""

from __future__ import annotations

import click

from vsdstats.cli._common import fail, seed_option


@click.command()
@click.option(
    "--n",
    "n",
    type=int,
    default=None,
    help="number of coded units  [default: 39380, the published number of condition units]",
)
@seed_option(2026, "the synthetic corpus (recorded in <stem>.planted.json)")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="output table")
def simulate(n: int | None, seed: int, out: str) -> None:
    """Write the SYNTHETIC replication corpus calibrated to the study's published
    label frequencies, plus <stem>.planted.json with every planted effect."""
    from vsdstats.paper.simulate import PUBLISHED_N, write_corpus

    n = PUBLISHED_N if n is None else n
    try:
        table, truth = write_corpus(out, n=n, seed=seed)
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"wrote {table} ({n} synthetic units) and {truth}")
