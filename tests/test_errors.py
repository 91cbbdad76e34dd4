"""Every error vsdstats raises on purpose derives from one base (issue 9)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import click

import vsdstats
from vsdstats.errors import VsdstatsError


def _error_classes():
    for info in pkgutil.walk_packages(vsdstats.__path__, "vsdstats."):
        if info.name in ("vsdstats.platforms", "vsdstats.__main__"):  # shim; runs the CLI
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Exception)
                and not issubclass(obj, Warning)
                and not issubclass(obj, click.ClickException)  # the CLI's usage signal
                and obj.__module__ == info.name
            ):
                yield info.name, name, obj


def test_every_domain_error_derives_from_vsdstats_error():
    found = list(_error_classes())
    assert len(found) >= 15  # the walk really saw the package's errors
    stray = [f"{m}.{n}" for m, n, cls in found if not issubclass(cls, VsdstatsError)]
    assert stray == []


def test_domain_errors_keep_their_standard_bases():
    from vsdstats.connectors.manager import PluginError
    from vsdstats.ingest.secret import SecretError
    from vsdstats.r.bridge import RUnavailableError
    from vsdstats.tables.io import TableError

    assert issubclass(TableError, ValueError) and issubclass(SecretError, ValueError)
    assert issubclass(PluginError, RuntimeError) and issubclass(RUnavailableError, RuntimeError)
