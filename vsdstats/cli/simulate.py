"""``vsdstats simulate``: the SYNTHETIC replication corpus."""

from __future__ import annotations

import click

from vsdstats.cli._common import fail, seed_option


@click.command()
@click.option("--n", "n", type=int, default=40_000, show_default=True, help="number of coded units")
@seed_option(2026, "the synthetic corpus (recorded in <stem>.planted.json)")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="output table")
def simulate(n: int, seed: int, out: str) -> None:
    """Write the SYNTHETIC replication corpus calibrated to the study's published
    label frequencies, plus <stem>.planted.json with every planted effect."""
    from vsdstats.paper.simulate import write_corpus

    try:
        table, truth = write_corpus(out, n=n, seed=seed)
    except ValueError as exc:
        fail(str(exc))
    click.echo(f"wrote {table} ({n} synthetic units) and {truth}")
