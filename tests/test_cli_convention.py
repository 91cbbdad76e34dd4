"""One CLI convention across every command (issue 9).

Walks the whole command tree (so a new command is checked without being listed here):
``--help`` works; a usage mistake and a missing input file each give exit 2 and one
line ``vsdstats <command>: error: ...``; outputs are ``-o/--out``; ``--codebook`` reads
the same everywhere; ``--input`` survives only as a hidden, deprecated spelling.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from vsdstats.cli import main


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


LEAVES = dict(_leaves(main))


def _one_error_line(result, path: tuple[str, ...]) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (path, result.exit_code, result.output)
    assert len(lines) == 1, (path, lines)
    assert lines[0].startswith(f"vsdstats {' '.join(path)}: error: "), (path, lines)
    assert "Traceback" not in result.output
    return lines[0]


def test_the_walk_finds_every_command():
    names = {" ".join(p) for p in LEAVES}
    assert {
        "ingest",
        "filter",
        "code",
        "validate compare",
        "sample",
        "paper",
        "stats chisq",
    } <= names
    assert len(names) >= 16


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_help_works(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: vsdstats {' '.join(path)}")


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_a_usage_mistake_is_one_line_and_exit_2(path):
    result = CliRunner().invoke(main, [*path, "--no-such-option"])
    line = _one_error_line(result, path)
    assert "--no-such-option" in line


OUTPUT_ARGUMENTS = {"dest"}  # codebook export DEST


def _path_arguments(cmd: click.Command) -> list[click.Argument]:
    args = [p for p in cmd.params if isinstance(p, click.Argument)]
    if not args or any(not isinstance(p.type, click.Path) for p in args):
        return []  # e.g. ingest PLATFORM FILES...: tested in test_cli_errors
    return [p for p in args if p.name not in OUTPUT_ARGUMENTS]


WITH_INPUT = sorted(p for p, cmd in LEAVES.items() if _path_arguments(cmd))


def test_inputs_are_positional():
    want = {
        ("code",),
        ("paper",),
        ("stats", "chisq"),
        ("stats", "agreement"),
        ("codebook", "check"),
    }
    assert want <= set(WITH_INPUT), want - set(WITH_INPUT)


@pytest.mark.parametrize("path", WITH_INPUT, ids=" ".join)
def test_a_missing_input_file_is_one_line_and_exit_2(path, tmp_path):
    cmd = LEAVES[path]
    args = [str(tmp_path / "no-such-file.csv") for _ in _path_arguments(cmd)]
    for p in cmd.params:  # everything else well-formed, so the missing file is the error
        if isinstance(p, click.Option) and p.name == "out":
            args += ["--out", str(tmp_path / "out.csv")]
        elif isinstance(p, click.Option) and p.required:
            args += [p.opts[0], "x"]
    line = _one_error_line(CliRunner().invoke(main, [*path, *args]), path)
    assert "no-such-file.csv" in line


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_options_follow_the_convention(path):
    cmd = LEAVES[path]
    for p in cmd.params:
        if not isinstance(p, click.Option):
            continue
        if p.name == "out":
            assert set(p.opts) == {"--out", "-o"}, (path, p.opts)
        if "--codebook" in p.opts:
            assert p.help and p.help.startswith("codebook TOML file"), (path, p.help)
        if "--input" in p.opts:
            assert p.hidden, (path, "--input is deprecated and hidden")
        if p.name == "seed":
            assert p.help, path


def test_deprecated_input_still_works_with_a_warning(tmp_path):
    posts = tmp_path / "posts.csv"
    posts.write_text("post_id,text\n1,hello\n")
    result = CliRunner().invoke(
        main, ["code", "--input", str(posts), "--out", str(tmp_path / "s"), "--baseline"]
    )
    assert result.exit_code == 0, result.output
    assert "vsdstats code: warning: --input is deprecated" in result.stderr
    both = CliRunner().invoke(main, ["code", str(posts), "--input", str(posts), "--baseline"])
    _one_error_line(both, ("code",))
