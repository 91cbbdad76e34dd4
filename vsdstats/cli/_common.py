"""What every command shares: the error style, the input/output options, table I/O.

One error style: ``vsdstats <command>: error: <one line>`` on stderr and exit 2 for
bad input (:func:`fail`); notes and warnings are one line each.  One convention for
options: inputs are positional (an old ``--input`` still works, with a deprecation
warning), outputs are ``-o/--out``, ``--seed`` wherever randomness is involved, and
``--codebook`` is declared once (:data:`codebook_option`).  Heavy libraries (pandas,
the table readers) are imported inside the functions, so ``vsdstats --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    import pandas as pd


#: Where the root command keeps the arguments it was given (``click.Context.meta``, shared
#: by every nested context), for the command line in provenance manifests.
ARGV_META = "vsdstats.argv"


def command_path(ctx: click.Context | None = None) -> str:
    """'vsdstats stats chisq' for the current (or given) click context."""
    ctx = ctx if ctx is not None else click.get_current_context(silent=True)
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["vsdstats", *reversed(names)])


def one_line(msg: object) -> str:
    return " ".join(str(msg).split())


def message(exc: BaseException) -> str:
    """An exception's text; KeyError's without the quotes repr adds."""
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return one_line(exc.args[0])
    return one_line(exc) or type(exc).__name__


def fail(msg: object, code: int = 2) -> NoReturn:
    """Print ``vsdstats <command>: error: msg`` and exit (2: bad input)."""
    click.echo(f"{command_path()}: error: {one_line(msg)}", err=True)
    sys.exit(code)


def note(msg: object) -> None:
    click.echo(f"{command_path()}: note: {one_line(msg)}", err=True)


def warn(msg: object) -> None:
    click.echo(f"{command_path()}: warning: {one_line(msg)}", err=True)


def log(msg: str) -> None:
    """Progress and bookkeeping lines (stderr, as given)."""
    click.echo(msg, err=True)


@contextmanager
def bad_input(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the errors a computation raises on unusable data into a one-line exit 2."""
    from vsdstats.errors import VsdstatsError

    try:
        yield
    except (ValueError, KeyError, VsdstatsError, *extra) as exc:
        fail(message(exc))


# ----------------------------------------------------------------- options
def _check_out(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        from vsdstats.tables.io import TableError, check_writable

        try:
            check_writable(value)
        except TableError as exc:
            fail(str(exc))
    return value


#: ``-o/--out`` of the commands that print a result table or write it to a file.
out_option = click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False),
    callback=_check_out,
    help="write the result table here instead of printing it; the extension names the "
    "format: .csv .tsv .json .jsonl .parquet .md .xlsx",
)

#: ``--codebook``, the same everywhere.
#: ``--relevance/--no-relevance`` of the commands that write posts (ingest, collect)
relevance_option = click.option(
    "--relevance/--no-relevance",
    default=False,
    show_default=True,
    help="drop posts that do not match the codebook's relevance terms",
)
dask_option = click.option(
    "--dask",
    "dask",
    metavar="local:N|tcp://HOST:PORT",
    default=None,
    help="run on Dask distributed: local:N worker processes on this machine, or the "
    "scheduler address of an existing cluster (workers need vsdstats and the same paths)",
)
codebook_option = click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="codebook TOML file (default: the shipped VSD codebook; see `vsdstats codebook`)",
)


def seed_option(default: int | None, what: str) -> Callable[[Callable[..., Any]], Any]:
    """``--seed`` with its default shown (and recorded in the command's outputs)."""
    return click.option(
        "--seed",
        type=int,
        default=default,
        show_default=default is not None,
        help=f"seed of {what}",
    )


def positional_input(
    name: str,
    metavar: str,
    *,
    exists: bool = True,
    file_okay: bool = True,
    old: str = "--input",
    path: bool = True,
    optional: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """A positional input ``METAVAR`` (stored as ``name``); the old option spelling
    ``old`` still works for one release, with a deprecation warning.  ``path=False``
    takes any string (e.g. CODED, which may be the word ``baseline``); ``optional=True``
    lets it be left out (the command then has a default input)."""
    kind: click.ParamType = click.Path(exists=exists, file_okay=file_okay) if path else click.STRING
    hidden = f"_deprecated_{name}"

    def deco(f: Callable[..., Any]) -> Any:
        @functools.wraps(f)
        def wrapper(*args: Any, **kw: Any) -> Any:
            given = kw.pop(hidden, None)
            if given is not None:
                if kw.get(name) is not None:
                    fail(f"give {metavar} once: as an argument or (deprecated) {old}, not both")
                warn(f"{old} is deprecated: give {metavar} as an argument")
                kw[name] = given
            if kw.get(name) is None and not optional:
                fail(f"missing {metavar} (see {command_path()} --help)")
            return f(*args, **kw)

        wrapper = click.option(old, hidden, hidden=True, type=kind)(wrapper)
        shown = f"[{metavar}]" if optional else metavar
        return click.argument(name, metavar=shown, required=False, type=kind)(wrapper)

    return deco


# ----------------------------------------------------------------- tables
def read(path: str) -> pd.DataFrame:
    """A table (CSV, TSV, JSON lines, Parquet, a .duckdb file's ``units`` table) or a
    study folder's analysis table, or a one-line exit 2 naming the file."""
    from vsdstats.tables.analysis_table import read_units
    from vsdstats.tables.io import TableError

    try:
        return read_units(path)
    except TableError as exc:
        fail(str(exc))


def need(df: pd.DataFrame, source: str, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        fail(
            f"{source}: no column(s) {', '.join(missing)}; it has {', '.join(map(str, df.columns))}"
        )


def complete(df: pd.DataFrame, *cols: str) -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value in ``cols``, saying how many and why (stderr)."""
    cols = tuple(dict.fromkeys(cols))
    na = df.loc[:, list(cols)].isna()
    drop = na.any(axis=1).to_numpy()
    k = int(drop.sum())
    if k:
        per = ", ".join(f"{c}: {int(n)}" for c, n in na.sum().items() if n)
        note(f"dropped {k} of {len(df)} rows with a missing {' or '.join(cols)} ({per})")
        df = df.loc[~drop]
    return df, k


def emit(df: pd.DataFrame, out: str | None) -> None:
    """Write ``df`` to ``out`` (format from the extension), or print it."""
    import pandas as pd

    from vsdstats.tables.io import TableError, write_table

    if out:
        with bad_input(TableError):
            click.echo(f"wrote {write_table(df, out)}", err=True)
    else:
        with pd.option_context("display.max_rows", 200, "display.width", 160):
            click.echo(df.to_string(index=False))
