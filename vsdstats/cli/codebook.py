"""``vsdstats codebook show|check|export|induce``: the VSD codebook (induce: issue 14)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from vsdstats.cli._common import codebook_option, emit, fail, out_option, read


@click.group()
def codebook() -> None:
    """Show, check or copy the VSD codebook, or induce a draft one from open labels."""


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


@codebook.command("induce")
@click.argument("labels", metavar="LABELS", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="folder for mapping.csv and codebook-draft.toml",
)
@click.option("--dimension", "-d", default=None, help="only this dimension (or: the labels' one)")
@click.option("--k", "k", type=click.IntRange(1), default=None, help="number of categories")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 2),
    default=None,
    help="cosine distance at which the dendrogram is cut (default 0.6; not with --k)",
)
@click.option(
    "--embed",
    default="tfidf",
    show_default=True,
    help="tfidf (offline), an OpenAI-compatible base URL (http://127.0.0.1:11434/v1), "
    "or a sentence-transformers model folder",
)
@click.option("--embed-model", default=None, help="model to ask the embeddings URL for")
@click.option(
    "--api-key-env",
    default="OPENAI_API_KEY",
    show_default=True,
    help="environment variable with the embeddings API key (local servers need none)",
)
@click.option(
    "--linkage",
    type=click.Choice(["average", "complete", "single"]),
    default="average",
    show_default=True,
    help="agglomerative linkage (on cosine distance)",
)
@click.option(
    "--method",
    type=click.Choice(["agglomerative", "hdbscan"]),
    default="agglomerative",
    show_default=True,
    help="clustering: agglomerative (--k/--threshold, --linkage) or HDBSCAN",
)
@click.option(
    "--min-cluster-size",
    type=click.IntRange(2),
    default=2,
    show_default=True,
    help="--method hdbscan: smallest cluster (labels in none become categories alone)",
)
@click.option(
    "--name-with",
    "name_with",
    default=None,
    metavar="MODEL",
    help="ask this chat model (instructor) for each category's code, label and definition",
)
@click.option(
    "--name-base-url",
    default=None,
    help="--name-with: OpenAI-compatible chat endpoint (default: OpenAI)",
)
@click.option("--seed", type=int, default=None, help="--name-with: seed sent with each request")
@codebook_option
def codebook_induce(
    labels: str,
    out: str,
    dimension: str | None,
    k: int | None,
    threshold: float | None,
    embed: str,
    embed_model: str | None,
    api_key_env: str,
    linkage: str,
    method: str,
    min_cluster_size: int,
    name_with: str | None,
    name_base_url: str | None,
    seed: int | None,
    codebook_path: str | None,
) -> None:
    """Induce categories from LABELS (a table of raw open labels, one row per unit and
    dimension: columns dimension, label[, post_id, unit_index, quote]; what `vsdstats
    code --open` stores as STUDY/open_labels.csv).

    Labels are normalized, the distinct ones sorted and embedded, clustered
    (agglomerative on cosine distance, or HDBSCAN), and OUT/mapping.csv (label, normalized, count,
    category, similarity to the category centre) and OUT/codebook-draft.toml (the
    codebook with the induced dimension(s) in place of their own) are written.  The
    same labels in any order give the same files.  Prints what the embedding cost."""
    import time

    from vsdstats.induce.core import DEFAULT_THRESHOLD, embedder, induce, read_labels, write_outputs
    from vsdstats.tables.codebook import CodebookError

    if k is not None and threshold is not None:
        fail("give --k or --threshold, not both")
    t0 = time.perf_counter()
    df = read_labels(labels, dimension)
    res = induce(
        df,
        embedder(embed, embed_model, api_key_env),
        k=k,
        threshold=threshold,
        linkage=linkage,
        method=method,
        min_cluster_size=min_cluster_size,
    )
    settings = {
        "embed": embed if not embed.startswith("http") else f"url (model {embed_model})",
        "method": method,
    }
    naming = None
    if name_with is not None:
        from vsdstats.induce.core import Cost
        from vsdstats.induce.naming import name_categories
        from vsdstats.tables.codebook import load_codebook

        cb = load_codebook(codebook_path)
        desc = {d: cb.dimensions[d].description for d in cb.dimensions}
        naming = Cost()
        name_categories(
            res.dimensions,
            desc,
            model=name_with,
            base_url=name_base_url,
            api_key_env=api_key_env,
            seed=seed,
            cost=naming,
        )
        settings["names"] = f"proposed by {name_with} (temperature 0, seed {seed})"
    if method == "hdbscan":
        settings["min_cluster_size"] = str(min_cluster_size)
    else:
        settings["linkage"] = linkage
        cut = threshold if threshold is not None else DEFAULT_THRESHOLD
        settings["cut"] = f"k = {k}" if k is not None else f"threshold = {cut}"
    try:
        files = write_outputs(res, Path(out), base_codebook=codebook_path, settings=settings)
    except CodebookError as exc:
        fail(f"draft codebook does not validate: {exc}")
    for d in res.dimensions:
        click.echo(
            f"{d.dimension}: {d.rows} label rows, {d.distinct} distinct normalized labels "
            f"-> {len(d.categories)} categories",
            err=True,
        )
    if naming is not None:
        tok = "not reported" if naming.tokens is None else f"{naming.tokens:,}"
        click.echo(f"naming: {naming.calls} chat request(s), tokens {tok}", err=True)
    click.echo(
        f"cost: {res.cost.line()}; induction {time.perf_counter() - t0:.2f} s in all", err=True
    )
    click.echo(f"wrote {', '.join(map(str, files))}", err=True)


@codebook.command("compare")
@click.argument("study", metavar="STUDY", type=click.Path(exists=True))
@click.option("--dimension", "-d", required=True, help="the recoded dimension (e.g. condition)")
@out_option
def codebook_compare(study: str, dimension: str, out: str | None) -> None:
    """Cross-tabulate a recoded dimension's induced categories (column D) against the
    codebook's codes (column D_codebook, kept by `vsdstats recode`) over the units that
    have both: the contingency table (unit counts) and the adjusted Rand index, so
    you can see what the codebook lumps together or misses.  STUDY is a study folder or
    an exported analysis table."""
    from vsdstats.induce.recode import compare

    cmp = compare(read(study), dimension)
    for line in cmp.lines():
        click.echo(line, err=True)
    emit(cmp.table.reset_index(), out)
