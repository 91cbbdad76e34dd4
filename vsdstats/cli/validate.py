"""``vsdstats validate`` and ``vsdstats sample``: options and printing over
:mod:`vsdstats.validate` (the per-post rule is in :mod:`vsdstats.validate.compare`)."""

from __future__ import annotations

import click

from vsdstats.cli._common import codebook_option, fail, positional_input, seed_option


class _DefaultCompare(click.Group):
    """``vsdstats validate GOLD CODED`` still means ``vsdstats validate compare``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["compare", *args]
        return super().parse_args(ctx, args)


@click.group("validate", cls=_DefaultCompare)
def validate() -> None:
    """Human coding: agreement with the machine (compare), importing completed sheets
    and Label Studio exports (import), inter-coder reliability (reliability) and
    adjudication into a gold table (adjudicate)."""


@validate.command("compare")
@positional_input("gold_path", "GOLD", old="--gold")
@positional_input("coded", "CODED", old="--coded", path=False)
@click.option(
    "--fields",
    default=None,
    help="comma list, e.g. condition,sentiment,relevant or "
    "condition:depressive (binary presence); default: fields in both",
)
@click.option("--on", default="post_id", show_default=True, help="post id column")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="REPORT.md (+ REPORT.*.csv)")
@codebook_option
@click.option(
    "--baseline-gate/--no-baseline-gate",
    default=True,
    show_default=True,
    help="with --coded baseline: require an LLM term (off: evaluate the condition detector)",
)
def compare(
    gold_path: str,
    coded: str,
    fields: str | None,
    on: str,
    out: str | None,
    codebook_path: str | None,
    baseline_gate: bool,
) -> None:
    """Agreement of CODED with human GOLD codes: kappa, alpha (bootstrap CI), per-category F1.

    Units are matched within posts (same condition and product, then quote overlap)
    before their labels are compared; -o also writes the unit-level agreement
    (REPORT.unit_summary.csv: unit counts, unmatched units, quote token F1, exact-span
    rate).  `vsdstats validate GOLD CODED` is short for `vsdstats validate compare`.

    GOLD: human codes (a table, e.g. a filled-in `vsdstats sample` sheet, or an IMHI
    file).  CODED: a coded-units table, a study folder with coded_units.{parquet,csv},
    or the word 'baseline' (the offline coder on GOLD's texts)."""
    import pandas as pd

    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.validate.compare import run_validate, write_validation
    from vsdstats.validate.gold import ValidateError

    flds = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    try:
        cb = load_codebook(codebook_path)
        v = run_validate(
            gold_path, coded, fields=flds, on=on, codebook=cb, baseline_gate=baseline_gate
        )
    except (ValidateError, CodebookError, KeyError, ValueError) as exc:
        fail(exc)
    if out:
        paths = write_validation(v, out)
        click.echo("wrote " + ", ".join(map(str, paths)), err=True)
    else:
        click.echo("\n".join(v.header))
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            click.echo(v.result.summary.to_string(index=False))


@validate.command("import")
@click.argument(
    "files",
    metavar="FILES...",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
)
@click.option(
    "--design",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="design.csv of `vsdstats sample` (adds pi and overlap; every post must be in it)",
)
@click.option(
    "--out", "-o", required=True, type=click.Path(dir_okay=False), help="codes table (.csv ...)"
)
@codebook_option
def import_(
    files: tuple[str, ...], design: str | None, out: str, codebook_path: str | None
) -> None:
    """Read completed coding sheets (CSV/TSV) and Label Studio JSON exports (several
    annotators per task) into one codes table, checking every label against the
    codebook (an unknown label is an error naming the file and row)."""
    from vsdstats.cli._common import note
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError, write_table
    from vsdstats.validate.codes import import_codes
    from vsdstats.validate.gold import ValidateError

    try:
        cb = load_codebook(codebook_path)
        r = import_codes(list(files), cb, design)
        path = write_table(r.codes, out)
    except (ValidateError, CodebookError, TableError) as exc:
        fail(exc)
    for src in sorted({u[0] for u in r.uncoded}):
        rows = [u[1] for u in r.uncoded if u[0] == src]
        note(
            f"{src}: {len(rows)} post(s) not coded (rows {', '.join(rows[:10])}"
            f"{', ...' if len(rows) > 10 else ''}); left out"
        )
    if r.skipped:
        note(f"{r.skipped} cancelled Label Studio annotation(s) left out")
    per = r.codes.groupby("coder")["post_id"].nunique() if len(r.codes) else {}
    click.echo(f"wrote {path} ({len(r.codes)} rows)", err=True)
    for c, n in dict(per).items():
        click.echo(f"  {c}: {n} posts", err=True)


@validate.command("reliability")
@click.argument("codes_path", metavar="CODES", type=click.Path(exists=True, dir_okay=False))
@click.option("--n-boot", type=int, default=1000, show_default=True, help="bootstrap replicates")
@seed_option(2026, "the bootstrap intervals")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="table (.csv ...)")
@codebook_option
def reliability_cmd(
    codes_path: str, n_boot: int, seed: int, out: str | None, codebook_path: str | None
) -> None:
    """Inter-coder reliability of the coders in CODES (from `validate import`) on the
    posts two or more coded: Krippendorff's alpha (nominal; interval for the sentiment
    score and the units per post) with a bootstrap CI, Cohen's kappa (2 coders),
    Fleiss' kappa (3+ coders, complete units)."""
    import pandas as pd

    from vsdstats.cli._common import note
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError, write_table
    from vsdstats.validate.codes import coder_reliability
    from vsdstats.validate.gold import ValidateError, read_gold_table

    try:
        cb = load_codebook(codebook_path)
        codes = read_gold_table(codes_path)
        for c in ("coder", "post_id", "unit_index", "relevant"):
            if c not in codes.columns:
                raise ValidateError(
                    f"{codes_path}: no column {c!r} (write it with validate import)"
                )
        codes = codes.assign(post_id=codes["post_id"].astype(str))
        res = coder_reliability(codes, cb, n_boot=n_boot, seed=seed)
    except (ValidateError, CodebookError, TableError, ValueError) as exc:
        fail(exc)
    note(f"{res.attrs['n_shared_posts']} posts coded by two or more coders")
    for r in res.itertuples(index=False):
        if r.note:
            note(f"{r.field}: {r.note}")
    if out:
        click.echo(f"wrote {write_table(res, out)}", err=True)
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            click.echo(res.to_string(index=False))


@validate.command("adjudicate")
@click.argument("codes_path", metavar="CODES", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--coded", default=None, help="machine-coded units (table or study) to adjudicate against too"
)
@click.option(
    "--decisions",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="the disagreement sheet with its decision column filled in",
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False),
    help="without --decisions: the disagreement sheet; with it: the gold table",
)
@click.option(
    "--design",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="design.csv of `vsdstats sample`: with --decisions, GOLD.methods.json records the "
    "design and the coders' reliability for the methods paragraph of `paper --gold`",
)
@codebook_option
def adjudicate_cmd(
    codes_path: str,
    coded: str | None,
    decisions: str | None,
    out: str,
    design: str | None,
    codebook_path: str | None,
) -> None:
    """Without --decisions: write the disagreements between coders (and with --coded,
    between them and the LLM) as a sheet with an empty decision column.  With
    --decisions: read the decisions back and write the gold table (post_id,
    unit_index, relevant, codes, quote, pi) that `validate`, `stats means --gold` and
    `paper --gold` read."""
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError, write_table
    from vsdstats.validate.codes import adjudicate, disagreements
    from vsdstats.validate.gold import ValidateError, read_coded, read_gold_table

    try:
        cb = load_codebook(codebook_path)
        codes = read_gold_table(codes_path)
        codes = codes.assign(post_id=codes["post_id"].astype(str))
        if decisions is None:
            llm = read_coded(coded) if coded else None
            table = disagreements(codes, cb, llm)
        else:
            dec = read_gold_table(decisions)
            table = adjudicate(codes, dec, cb, decisions)
        path = write_table(table, out)
        if decisions is not None:
            from vsdstats.validate.codes import coder_reliability
            from vsdstats.validate.methods import write_sidecar

            rel = coder_reliability(codes, cb) if codes["coder"].nunique() > 1 else None
            click.echo(f"wrote {write_sidecar(path, design, codes, rel)}", err=True)
    except (ValidateError, CodebookError, TableError) as exc:
        fail(exc)
    what = "disagreement(s)" if decisions is None else "gold rows"
    click.echo(f"wrote {path} ({len(table)} {what})", err=True)


@click.command("sample")
@click.argument("posts_path", metavar="POSTS")
@click.option("-n", "--n", "n", type=int, required=True, help="number of posts")
@click.option("--by", default="platform", show_default=True, help="strata, e.g. platform,condition")
@click.option("--coders", type=int, default=1, show_default=True, help="number of coders K")
@click.option(
    "--overlap",
    type=int,
    default=0,
    show_default=True,
    help="posts coded by every coder (a random subset of the sample, for reliability)",
)
@seed_option(1, "the sample, the overlap set and the sheets' order (kept in design.json)")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="folder: design.csv/json, sheets/CODER.csv, labelstudio/",
)
@click.option(
    "--units",
    "units_path",
    default=None,
    help="coded units for --by condition etc. (default: STUDY/coded_units.*)",
)
@click.option(
    "--preannotate",
    is_flag=True,
    help="Label Studio tasks carry the machine codes as predictions (sheets stay blind)",
)
@codebook_option
def sample(
    posts_path: str,
    n: int,
    by: str,
    coders: int,
    overlap: int,
    seed: int,
    out: str,
    units_path: str | None,
    preannotate: bool,
    codebook_path: str | None,
) -> None:
    """A stratified random sample of POSTS (table or study folder) as blind coding sheets.

    OUT/design.csv keeps each post's stratum, inclusion probability pi, overlap flag and
    coders; the sheets (OUT/sheets/CODER.csv and Label Studio tasks in OUT/labelstudio)
    show only the post: no machine label, stratum or relevance decision."""
    from vsdstats.tables.codebook import CodebookError, load_codebook
    from vsdstats.tables.io import TableError
    from vsdstats.validate.gold import ValidateError
    from vsdstats.validate.sample import draw_design, sample_source, write_sample

    by_cols = [b.strip() for b in by.split(",") if b.strip()]
    try:
        cb = load_codebook(codebook_path)
        posts, units, src = sample_source(posts_path, units_path)
        d = draw_design(
            posts, n, by_cols, seed, units=units, coders=coders, overlap=overlap, source=src
        )
        paths = write_sample(d, out, cb, units=units, preannotate=preannotate)
    except (ValidateError, CodebookError, TableError) as exc:
        fail(exc)
    click.echo(f"wrote {len(paths)} files to {out} ({len(d.design)} posts)", err=True)
    counts = d.design.groupby("stratum")["post_id"].size()
    click.echo(counts.rename("n").to_string(), err=True)
    if coders > 1 and d.params["overlap"] < 2:
        from vsdstats.cli._common import warn

        warn("fewer than 2 overlap posts: inter-coder agreement will be undefined")
