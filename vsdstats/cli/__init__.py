"""The ``vsdstats`` command line: one module per command, loaded when it is used.

Errors: bad input (a usage mistake included) prints one line
``vsdstats <command>: error: ...`` and exits 2; an unexpected internal error prints one
line ending "run with --debug for the traceback" and exits 1 (``vsdstats --debug ...``
or VSDSTATS_DEBUG=1 shows the traceback).  Warnings and notes are one line each on
stderr.  Conventions shared by every command live in :mod:`vsdstats.cli._common`.
"""

from __future__ import annotations

import errno
import importlib
import sys
import traceback
import warnings
from typing import Any

import click

from vsdstats.cli._common import ARGV_META, command_path, message, one_line

#: name -> "module:attribute", in the order of the data flow (the order of --help).
COMMANDS: dict[str, str] = {
    "plugins": "vsdstats.cli.plugins:plugins",
    "new-plugin": "vsdstats.cli.plugins:new_plugin",
    "collect": "vsdstats.cli.collect:collect",
    "ingest": "vsdstats.cli.ingest:ingest",
    "filter": "vsdstats.cli.filter:filter_cmd",
    "codebook": "vsdstats.cli.codebook:codebook",
    "code": "vsdstats.cli.code:code_cmd",
    "recode": "vsdstats.cli.recode:recode",
    "sample": "vsdstats.cli.validate:sample",
    "validate": "vsdstats.cli.validate:validate",
    "export": "vsdstats.cli.export:export",
    "stats": "vsdstats.cli.stats:stats",
    "simulate": "vsdstats.cli.simulate:simulate",
    "paper": "vsdstats.cli.paper:paper",
    "doctor": "vsdstats.cli.doctor:doctor",
}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"{command_path()}: warning: {one_line(message)}", err=True)


def _failing_context(exc: BaseException, default: click.Context) -> click.Context:
    """The innermost click context on the traceback (the command that failed)."""
    found = default
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for value in list(frame.f_locals.values()):
            if isinstance(value, click.Context):
                found = value
    return found


class _OneLineUsage(click.UsageError):
    """A usage mistake shown as ``vsdstats <command>: error: ...`` (exit 2)."""

    def show(self, file: Any = None) -> None:
        where = command_path(self.ctx) if self.ctx is not None else "vsdstats"
        click.echo(
            f"{where}: error: {one_line(self.format_message())} (see {where} --help)", err=True
        )


class _Main(click.Group):
    """The root group: lazy subcommands, one-line errors, no traceback unless --debug."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV_META] = list(args)  # the command line, for vsdstats.provenance
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _OneLineUsage(exc.format_message(), exc.ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        from vsdstats.errors import InputError

        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except click.UsageError as exc:
                if isinstance(exc, _OneLineUsage):
                    raise
                raise _OneLineUsage(exc.format_message(), exc.ctx) from None
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except InputError as exc:  # bad input files, whatever command
                where = command_path(_failing_context(exc, ctx))
                click.echo(f"{where}: error: {message(exc)}", err=True)
                sys.exit(2)
            except Exception as exc:
                if ctx.params.get("debug") or (
                    isinstance(exc, OSError) and exc.errno == errno.EPIPE
                ):
                    raise
                where = command_path(_failing_context(exc, ctx))
                click.echo(
                    f"{where}: internal error: {type(exc).__name__}: {message(exc)} "
                    "(run with --debug for the traceback)",
                    err=True,
                )
                sys.exit(1)


@click.group(name="vsdstats", cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vsdstats", prog_name="vsdstats")
@click.option(
    "--debug",
    is_flag=True,
    envvar="VSDSTATS_DEBUG",
    help="show the Python traceback of an unexpected error",
)
def main(debug: bool) -> None:
    """vsdstats: VSD coding and statistics for social-media talk about LLM chatbots
    and mental health.  Every command has --help."""


if __name__ == "__main__":  # pragma: no cover
    main()
