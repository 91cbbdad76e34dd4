"""``vsdstats new-plugin``: the scaffold installs (offline, into a temporary target),
shows up in ``vsdstats plugins --json`` and its own tests pass; ``vsdstats plugins``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.connectors.scaffold import ScaffoldError, check_name, default_dir, scaffold


def _env(site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["PIP_NO_INDEX"] = "1"  # never reach a package index
    env.pop("PYTHONHASHSEED", None)
    return env


def test_scaffold_installs_lists_and_passes_its_tests(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["new-plugin", "demoforum", "--dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    pkg = tmp_path / "vsdstats-demoforum"
    assert (pkg / "samples" / "sample.jsonl").is_file()
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run(
        [*pip, "--no-index", "--quiet", "--target", str(site), str(pkg)],
        capture_output=True,
        text=True,
        env=_env(site),
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "vsdstats", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=_env(site),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["platform"]: r for r in json.loads(proc.stdout)}
    assert rows["demoforum"]["plugin"] == "vsdstats-demoforum"
    assert rows["demoforum"]["version"] == "0.1.0"
    assert rows["demoforum"]["formats"] == ["demoforum-jsonl"]
    assert rows["demoforum"]["live_collection"] is False
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=pkg,
        capture_output=True,
        text=True,
        env=_env(site),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout


@pytest.mark.parametrize("bad", ["Demo", "1demo", "my forum", "demo-", "a--b", "x" * 41, ""])
def test_bad_names_are_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="lowercase slug"):
        check_name(bad)
    res = CliRunner().invoke(main, ["new-plugin", bad or "''", "--dir", str(tmp_path)])
    assert res.exit_code != 0 and "lowercase slug" in res.output
    assert not any(tmp_path.iterdir())


def test_refuses_to_overwrite_and_default_dir(tmp_path: Path) -> None:
    assert check_name("my-forum") == "my-forum"
    first = scaffold("my-forum", tmp_path)
    assert (first / "vsdstats_my_forum" / "__init__.py").is_file()
    assert 'my-forum = "vsdstats_my_forum"' in (first / "pyproject.toml").read_text()
    init = (first / "vsdstats_my_forum" / "__init__.py").read_text()
    assert "class MyForumConnector(JsonConnector):" in init
    assert "register_platforms = connector_plugin(MyForumConnector" in init
    assert "@hookimpl" not in init and "0.1.0" not in init  # one version: pyproject.toml's
    assert 'version = "0.1.0"' in (first / "pyproject.toml").read_text()
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold("my-forum", tmp_path)
    assert default_dir(tmp_path) == tmp_path
    (tmp_path / "plugins").mkdir()
    assert default_dir(tmp_path) == tmp_path / "plugins"


def test_plugins_command_lists_connectors(monkeypatch) -> None:
    import vsdstats.cli.plugins as cmd

    row = {
        "platform": "demo",
        "plugin": "vsdstats-demo",
        "version": "1.2.3",
        "formats": ["demo-jsonl", "demo-api"],
        "live_collection": True,
    }
    monkeypatch.setattr(cmd, "plugin_rows", lambda: [row])
    res = CliRunner().invoke(main, ["plugins"])
    assert res.exit_code == 0
    assert "vsdstats-demo" in res.output and "1.2.3" in res.output and "yes" in res.output
    res = CliRunner().invoke(main, ["plugins", "--json"])
    assert json.loads(res.output) == [row]
    monkeypatch.setattr(cmd, "plugin_rows", lambda: [])
    res = CliRunner().invoke(main, ["plugins"])
    assert res.exit_code == 0
    assert "No platform plugins installed" in res.output and "pip install -e" in res.output
