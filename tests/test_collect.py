"""``vsdstats collect``: the framework (cursor store, checkpoints, resume, keep-raw,
credentials) with an in-process connector; the real clients are tested in the plugins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

from vsdstats.connectors import Connector, Cursor, RawPost, hookimpl
from vsdstats.connectors.base import NotCollectable, call_collect
from vsdstats.connectors.credentials import CredentialError, credential
from vsdstats.errors import InputError
from vsdstats.ingest.collect import collect, load_states, state_path
from vsdstats.tables.study import read_posts

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
PAGES = [[f"p{p}i{i}" for i in range(3)] for p in range(3)]  # 3 pages of 3 invented ids
SECRET = b"s" * 32


class Boom(RuntimeError):
    pass


class Paged(Connector):
    """Pages of synthetic posts with a cursor after each page; can fail on a page."""

    name = "pagedsynth"
    can_collect = True
    credentials = ("PAGED_TOKEN",)
    fail_on: int | None = None
    seen_states: ClassVar[list[Any]] = []

    def collect(
        self, query, since=None, until=None, limit=None, *, community=None, state=None, raw=None
    ) -> Iterator[Any]:
        Paged.seen_states.append(state)
        start = (state or {}).get("page", 0)
        for p in range(start, len(PAGES)):
            if p == Paged.fail_on:
                raise Boom("network down")
            if raw is not None:
                raw(f"page{p}", b'{"author": "Invented_Handle_9"}')
            for i, pid in enumerate(PAGES[p]):
                yield RawPost(
                    self.name,
                    pid,
                    T0 + timedelta(minutes=p * 3 + i),
                    f"invented text {pid} from @Invented_Handle_9",
                    author_handle="Invented_Handle_9",
                )
            yield Cursor({"page": p + 1})


class _Plugin:
    @hookimpl
    def register_platforms(self, register: Any) -> None:
        register(Paged())


PLUGINS = (_Plugin(),)


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("VSDSTATS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PAGED_TOKEN", "tok-123-secret")
    Paged.fail_on = None
    Paged.seen_states = []


def _collect(study, **kw):
    return collect("pagedsynth", "q", study, secret=SECRET, extra_plugins=PLUGINS, **kw)


def test_interrupted_collection_resumes_without_duplicates(tmp_path):
    study = tmp_path / "study"
    Paged.fail_on = 2
    with pytest.raises(Boom):
        _collect(study)
    posts = read_posts(study)
    assert sorted(posts["post_id"]) == sorted(PAGES[0] + PAGES[1])  # both complete pages
    (entry,) = load_states(study).values()
    assert entry["state"] == {"page": 2}
    Paged.fail_on = None
    report = _collect(study)
    assert Paged.seen_states == [None, {"page": 2}]
    posts = read_posts(study)
    assert sorted(posts["post_id"]) == sorted(pid for page in PAGES for pid in page)
    assert posts["post_id"].is_unique
    assert report.kept == 3 and report.posts_in_output == 9
    # a rerun after the end starts from the stored cursor: nothing new, nothing doubled
    _collect(study)
    assert len(read_posts(study)) == 9


def test_handles_and_credentials_stay_out_of_the_study(tmp_path):
    study = tmp_path / "study"
    _collect(study)
    for f in study.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"Invented_Handle_9" not in data, f
            assert b"tok-123-secret" not in data, f
    assert state_path(study).is_file()


def test_keep_raw_outside_the_study_only(tmp_path):
    study = tmp_path / "study"
    with pytest.raises(InputError, match="outside the study"):
        _collect(study, keep_raw=study / "raw")
    with pytest.warns(UserWarning, match="identities"):
        _collect(study, keep_raw=tmp_path / "raw")
    files = sorted((tmp_path / "raw").rglob("*.json"))
    assert len(files) == 3 and b"Invented_Handle_9" in files[0].read_bytes()


def test_missing_credential_is_one_line_naming_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PAGED_TOKEN")
    with pytest.raises(CredentialError) as exc:
        _collect(tmp_path / "study")
    assert "PAGED_TOKEN" in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "study").exists()  # nothing written before the check


def test_credential_from_the_config_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PAGED_TOKEN")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "credentials.toml").write_text('PAGED_TOKEN = "from-file"\n')
    assert credential("PAGED_TOKEN") == "from-file"


def test_old_collect_signature_still_works():
    def old(query, since=None, until=None, limit=None):
        return iter([query, limit])

    assert list(call_collect(old, "q", None, None, 5, community=None, state=None)) == ["q", 5]
    with pytest.raises(NotCollectable, match="community"):
        call_collect(old, "q", None, None, 5, community="r", state=None)


def test_collect_cli_on_a_platform_without_live_collection(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    args = ["collect", "social-listening", "-q", "x", "-o", str(tmp_path / "s")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert "social-listening: live collection is not implemented yet" in res.output


def test_an_empty_query_is_a_one_line_error_before_anything_else(tmp_path):
    from click.testing import CliRunner

    from vsdstats.cli import main

    res = CliRunner().invoke(
        main, ["collect", "reddit", "--query", " ", "--out", str(tmp_path / "s")]
    )
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "vsdstats collect: error: --query is empty: give the search text"
    ]
    assert not (tmp_path / "s").exists()
