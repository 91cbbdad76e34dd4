"""Fixtures shared by the tests of the built-in plugins (``plugins/vsdstats-*/tests``),
which the main suite runs too (``testpaths`` in the root ``pyproject.toml``).

A test module sets ``CONNECTOR`` (the connector under test) and, to use ``sample``,
``SAMPLES`` (its sample folder below ``shared_dir``).  The fixtures are module- or
session-scoped, so hypothesis tests may take them too.  ``shared_dir`` is ../shared
beside the checkout (real sample files, never copied into the repository): missing,
it skips a test on a developer machine and fails it when CI or VSDSTATS_REQUIRE_R is
set.  The hypothesis profiles are those of ``tests/conftest.py`` (``ci`` under CI).
"""

from __future__ import annotations

import os as _os
import tempfile as _tempfile

# study secrets live in the user's config folder (vsdstats.tables.study.config_dir):
# keep the tests' keys out of the real one (subprocesses inherit this)
_os.environ.setdefault("VSDSTATS_CONFIG_DIR", _tempfile.mkdtemp(prefix="vsdstats-config-"))

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vsdstats.connectors.records import RawPost, Record, Reject
from vsdstats.testing import load_hypothesis_profiles
from vsdstats.testing import shared_dir as find_shared

Split = tuple[list[RawPost], list[Reject]]

load_hypothesis_profiles()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (see the module docstring)."""
    return find_shared(Path(__file__).parents[1])


def _split(records: list[Record]) -> Split:
    posts = [r for r in records if isinstance(r, RawPost)]
    rejects = [r for r in records if isinstance(r, Reject)]
    assert len(posts) + len(rejects) == len(records)
    return posts, rejects


@pytest.fixture(scope="session")
def split() -> Callable[[list[Record]], Split]:
    """``split(records) -> (posts, rejects)``, asserting nothing else was yielded."""
    return _split


@pytest.fixture(scope="module")
def read_bytes(request: pytest.FixtureRequest) -> Callable[..., Split]:
    """``read_bytes(data, name="mem.json", format=None) -> (posts, rejects)``: what the
    module's ``CONNECTOR`` reads from ``data`` as a stream called ``name``."""
    connector = request.module.CONNECTOR

    def read(data: bytes, name: str = "mem.json", format: str | None = None) -> Split:
        stream = io.BytesIO(data)
        stream.name = name
        return _split(list(connector.read(stream, format)))

    return read


@pytest.fixture(scope="module")
def sample(request: pytest.FixtureRequest) -> Callable[[Path, str], Split]:
    """``sample(shared_dir, rel) -> (posts, rejects)`` for ``shared_dir/SAMPLES/rel``."""
    connector, folder = request.module.CONNECTOR, request.module.SAMPLES
    return lambda shared_dir, rel: _split(list(connector.read(shared_dir / folder / rel)))


@pytest.fixture(scope="module")
def other_platforms(
    request: pytest.FixtureRequest,
) -> Callable[[Path, tuple[str, ...]], Iterator[tuple[str, list[Reject]]]]:
    """``other_platforms(shared_dir, rels)``: ``(rel, rejects)`` for each file of another
    platform under ``shared_dir/fixtures/platforms``, after asserting that ``CONNECTOR``
    read no post and at least one Reject from it."""
    connector = request.module.CONNECTOR

    def read(shared_dir: Path, rels: tuple[str, ...]) -> Iterator[tuple[str, list[Reject]]]:
        base = shared_dir / "fixtures/platforms"
        for rel in rels:
            posts, rejects = _split(list(connector.read(base / rel)))
            assert posts == [] and rejects, rel
            yield rel, rejects

    return read
