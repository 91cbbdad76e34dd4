"""Packaging facts that keep the quick start true."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import click

from vsdstats.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_rpy2_pins_agree_between_pyproject_and_tox():
    extra = sorted(_pyproject()["project"]["optional-dependencies"]["r"])
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert sorted(tox["base"]["rpy2_pins"].split()) == extra
    assert all("==" in pin for pin in extra)


def test_layout_and_tox_envs():
    for d in ("vsdstats", "plugins", "analysis", "R", "paper", "tests", "benchmarks"):
        assert (ROOT / d).is_dir(), d
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    for env in ("testenv", "testenv:lint", "testenv:bench", "testenv:paper"):
        assert env in tox, env
    assert "install_r.sh" in tox["testenv"]["commands_pre"]
    assert _pyproject()["project"]["scripts"]["vsdstats"] == "vsdstats.cli:main"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help():
    paths = list(_commands(main))
    assert ("stats", "chisq") in paths and ("codebook", "check") in paths
    for path in [(), *paths]:
        out = subprocess.run(
            [sys.executable, "-m", "vsdstats", *path, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, (path, out.stderr)
        assert "Usage:" in out.stdout


def test_ci_script_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m tox -e paper" in readme
    assert "\npython3 -m tox\n" in readme
    assert "python3 -m tox          # the README's test command" in ci
    assert "VSDSTATS_REQUIRE_R=1" in ci


def test_test_only_libraries_stay_out_of_the_runtime_and_the_paper_job():
    project = _pyproject()["project"]
    runtime = " ".join(project["dependencies"])
    assert "pingouin" not in runtime  # a test reference only (issue 9)
    assert any(d.startswith("pingouin") for d in project["optional-dependencies"]["test"])
    imported = [
        p
        for p in (ROOT / "vsdstats").rglob("*.py")
        if "import pingouin" in p.read_text() or "from pingouin" in p.read_text()
    ]
    assert imported == []
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert tox["testenv:paper"]["extras"].strip() == ""  # tox -e paper: no test extra


def test_the_old_plugin_api_module_still_works_with_a_deprecation_warning():
    warned = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import vsdstats.platforms"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert warned.returncode != 0 and "import from vsdstats.connectors" in warned.stderr
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import vsdstats.platforms as old, vsdstats.connectors as new\n"
        "assert old.hookimpl is new.hookimpl and old.RawPost is new.RawPost"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
