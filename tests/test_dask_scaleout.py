"""``filter --dask`` and ``ingest --dask`` on a LocalCluster of 2 worker processes: the
same outputs as a single-process run (byte for byte), exact reconciliation, exact
dedup across files, and no loss or double count when a worker is killed mid-task.

The inputs are synthetic (Pushshift-like comments written here) plus the shared X API
fixtures; line counts are checked against an independent count of the input bytes.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vsdstats.cli import main
from vsdstats.cluster import ClusterError, dask_client, parse_spec, spare_cores
from vsdstats.filter.parallel import filter_files_dask, plan, read_parts
from vsdstats.filter.relevance import RelevanceFilter
from vsdstats.filter.stream import filter_files
from vsdstats.ingest.parallel import ingest_files_dask
from vsdstats.ingest.pipeline import ingest_files
from vsdstats.tables.codebook import load_codebook

X = Path(__file__).resolve().parents[2] / "shared/fixtures/platforms/twitter_x_api_v2"
WORDS = "the a cat dog ChatGPT anxiety depression Claude game team therapy lol".split()


def _comment(i: int, rng_word: int) -> str:
    body = " ".join(WORDS[(i * 7 + k * rng_word) % len(WORDS)] for k in range(14))
    return json.dumps(
        {
            "id": f"c{i}",
            "author": f"user{i % 50}",
            "body": f"{body} u/someone{i % 9}",
            "created_utc": 1_700_000_000 + i,
            "subreddit": "test",
            "score": i % 11,
        }
    )


def _dump(path: Path, ids: range, *, bad_every: int = 0, blank_every: int = 0) -> int:
    """Comment lines for ``ids`` (some broken or blank); the number of lines written."""
    lines = []
    for i in ids:
        if bad_every and i % bad_every == 0:
            lines.append('{"id": "broken ChatGPT anxiety')
        elif blank_every and i % blank_every == 0:
            lines.append("")
        else:
            lines.append(_comment(i, 3 + i % 5))
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".zst":
        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        path.write_bytes(data)
    return data.count(b"\n")


@pytest.fixture(scope="module")
def client():
    with dask_client("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def rf() -> RelevanceFilter:
    return RelevanceFilter.from_codebook(load_codebook(None))


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> tuple[list[Path], int]:
    n = 0
    files = []
    where = tmp_path_factory.mktemp("dumps")
    for k, suffix in enumerate([".jsonl", ".jsonl", ".jsonl.zst"]):
        p = where / f"RC_{k}{suffix}"
        n += _dump(p, range(k * 8000, (k + 1) * 8000), bad_every=97, blank_every=89)
        files.append(p)
    return files, n


@pytest.mark.parametrize("pipelined", [None, False, True])
def test_filter_dask_equals_single_process(client, rf, dumps, tmp_path, pipelined) -> None:
    files, n_lines = dumps
    single = filter_files(files, tmp_path / "single.jsonl", rf)
    out = tmp_path / "parts"
    dist = filter_files_dask(client, files, out, rf, chunk_bytes=300_000, pipelined=pipelined)
    assert len(list(out.glob("part-*.parquet"))) > len(files)  # plain files were chunked
    table = read_parts(out)
    records = b"".join(r + b"\n" for r in table.column("record").to_pylist())
    assert records == (tmp_path / "single.jsonl").read_bytes()
    assert (out / "rejects.csv").read_bytes() == (
        tmp_path / "single.jsonl.rejects.csv"
    ).read_bytes()
    for name in ("read", "kept", "dropped", "rejected", "no_text"):
        assert getattr(dist, name) == getattr(single, name), name
    assert dist.read == n_lines and dist.balanced and dist.rejected > 0
    summary = json.loads((out / "counts.json").read_text())
    assert sum(t["read"] for t in summary["tasks"]) == n_lines
    assert not list(out.glob("tmp-*"))


def test_spare_cores_counts_worker_threads_against_cpus(client) -> None:
    """local:2 has two one-thread workers on this host: a CPU is spare only on a host
    with more than two usable ones."""
    assert spare_cores(client) is (len(os.sched_getaffinity(0)) > 2)


def test_filter_dask_tables(client, rf, tmp_path: Path) -> None:
    import pandas as pd

    paths = []
    for k in range(3):
        df = pd.DataFrame(
            {
                "post_id": [f"p{k}{i}" for i in range(50)],
                "text": [" ".join(WORDS[(i + j) % 12] for j in range(6)) for i in range(50)],
            }
        )
        paths.append(tmp_path / f"t{k}.parquet")
        df.to_parquet(paths[-1])
    single = filter_files(paths, tmp_path / "single.parquet", rf)
    dist = filter_files_dask(client, paths, tmp_path / "parts", rf)
    a = pq.read_table(tmp_path / "single.parquet").to_pandas()
    b = read_parts(tmp_path / "parts").to_pandas()
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert (dist.read, dist.kept) == (single.read, single.kept) == (150, len(a))


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    chunk=st.integers(1, 60),
    tail=st.booleans(),
)
def test_plan_cuts_at_line_starts(tmp_path_factory, lines, chunk, tail) -> None:
    """The pieces of a plain file tile it exactly, each starting at a line start."""
    p = tmp_path_factory.mktemp("plan") / "f.jsonl"
    data = b"\n".join(lines) + (b"\n" if tail and lines else b"")
    p.write_bytes(data)
    pieces = plan([p], chunk_bytes=chunk)
    if len(data) <= chunk:
        assert len(pieces) == 1 and pieces[0].end is None
        return
    assert pieces[0].start == 0 and pieces[-1].end == len(data)
    for a, b in itertools.pairwise(pieces):
        assert a.end == b.start and data[b.start - 1 : b.start] == b"\n"
    assert [x.chunk for x in pieces] == list(range(len(pieces)))


def _secret(tmp_path: Path) -> Path:
    key = tmp_path / "study.key"
    key.write_bytes(os.urandom(32))
    return key


def test_ingest_dask_equals_single_process(client, rf, tmp_path: Path) -> None:
    """Duplicates across files (ids repeated in a later file), rejects, relevance."""
    files = [X / "brexit.jsonl", X / "streaming_output_with_error.jsonl", X / "flat.jsonl"]
    files.append(tmp_path / "again.jsonl")
    files[-1].write_bytes((X / "flat.jsonl").read_bytes())  # every post a duplicate
    key = _secret(tmp_path)
    for relevance in (None, rf):
        a, b = tmp_path / f"single{relevance is None}", tmp_path / f"dask{relevance is None}"
        r1 = ingest_files("x", files, a, secret_file=key, relevance=relevance)
        r2 = ingest_files_dask(client, "x", files, b, secret_file=key, relevance=relevance)
        assert (a / "posts.parquet").read_bytes() == (b / "posts.parquet").read_bytes()
        assert (a / "rejects.csv").read_bytes() == (b / "rejects.csv").read_bytes()
        assert [f.to_dict() for f in r1.files] == [f.to_dict() for f in r2.files]
        assert r2.balanced and r2.duplicates >= 100 and r2.rejected >= 1
        assert not list(tmp_path.glob(".*parts-*"))
    # appending to an existing study dedups against its posts too
    r3 = ingest_files_dask(client, "x", files[:1], tmp_path / "daskTrue", secret_file=key)
    assert r3.kept == 0 and r3.duplicates == r3.read - r3.rejected


def test_ingest_reads_filter_dask_parts(client, rf, dumps, tmp_path: Path) -> None:
    """`ingest` takes the parts folder of `filter --dask` as one input: the same posts
    as ingesting the single-process filter's output, on one process and on Dask."""
    import pandas as pd

    from vsdstats.provenance import sha256_folder

    files, _ = dumps
    filter_files(files, tmp_path / "kept.jsonl", rf)
    parts = tmp_path / "parts"
    filter_files_dask(client, files, parts, rf, chunk_bytes=300_000)
    key = _secret(tmp_path)
    ref = ingest_files("reddit", [tmp_path / "kept.jsonl"], tmp_path / "a", secret_file=key)
    res = CliRunner().invoke(
        main,
        [
            "ingest",
            "reddit",
            str(parts),
            "--out",
            str(tmp_path / "b"),
            "--secret-file",
            str(key),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    got = json.loads((tmp_path / "b" / "ingest_report.json").read_text())["runs"][-1]["totals"]
    dist = ingest_files_dask(client, "reddit", [parts], tmp_path / "c", secret_file=key)
    n_kept = len((tmp_path / "kept.jsonl").read_bytes().splitlines())
    assert ref.read == got["read"] == dist.read == n_kept > 0

    def posts(study: str) -> pd.DataFrame:
        return pd.read_parquet(tmp_path / study / "posts.parquet").drop(columns="source_file")

    pd.testing.assert_frame_equal(posts("a"), posts("b"))
    pd.testing.assert_frame_equal(posts("a"), posts("c"))
    manifest = json.loads(next((tmp_path / "b" / "manifests").glob("ingest-*.json")).read_text())
    (entry,) = [i for i in manifest["inputs"] if i.get("role") == "input"]
    assert entry["sha256"] == sha256_folder(parts)[0]
    assert entry["files"] == len(list(parts.iterdir()))


def test_ingest_dask_refuses_other_secret(client, tmp_path: Path, monkeypatch) -> None:
    """The secret is never shipped: a worker that loads another one fails the run."""
    key = _secret(tmp_path)
    monkeypatch.setenv("VSDSTATS_SECRET", os.urandom(32).hex())
    from vsdstats.ingest.parallel import FileTask, normalize_file
    from vsdstats.ingest.secret import load_secret, secret_id

    other = secret_id(load_secret(key, None))
    task = FileTask(
        "x",
        str(X / "two_tweets.jsonl"),
        "f",
        None,
        str(tmp_path / "o"),
        None,
        other,
        str(tmp_path / "part.parquet"),
    )
    with pytest.raises(Exception, match="secret differs"):
        client.submit(normalize_file, task, pure=False).result()


def _kill_busy_worker(client, prefix: str, done: threading.Event, killed: list[int]) -> None:
    """SIGKILL the process of a worker while it runs a task whose key starts with prefix."""
    pids = client.run(os.getpid)
    while not done.is_set():
        for addr, keys in client.processing().items():
            if any(str(k).startswith(prefix) for k in keys) and addr in pids:
                time.sleep(0.05)
                os.kill(pids[addr], signal.SIGKILL)
                killed.append(pids[addr])
                return
        time.sleep(0.005)


@pytest.fixture()
def own_client():
    with dask_client("local:2") as c:
        yield c


def _with_kill(client, prefix: str, fn):
    done, killed = threading.Event(), []
    t = threading.Thread(target=_kill_busy_worker, args=(client, prefix, done, killed))
    t.start()
    try:
        return fn(), killed
    finally:
        done.set()
        t.join()


def test_filter_survives_a_killed_worker(own_client, rf, dumps, tmp_path: Path) -> None:
    files, n_lines = dumps
    single = filter_files(files, tmp_path / "single.jsonl", rf)
    out = tmp_path / "parts"
    dist, killed = _with_kill(
        own_client,
        "vsdstats-filter-",
        lambda: filter_files_dask(own_client, files, out, rf, chunk_bytes=150_000),
    )
    assert killed, "no worker was killed mid-task"
    assert killed[0] not in own_client.run(os.getpid).values()  # it really died
    records = b"".join(r + b"\n" for r in read_parts(out).column("record").to_pylist())
    assert records == (tmp_path / "single.jsonl").read_bytes()
    assert (dist.read, dist.kept, dist.rejected) == (n_lines, single.kept, single.rejected)
    assert (out / "rejects.csv").read_bytes() == (
        tmp_path / "single.jsonl.rejects.csv"
    ).read_bytes()
    assert not list(out.glob("tmp-*"))


def test_ingest_survives_a_killed_worker(own_client, tmp_path: Path) -> None:
    files = []
    for k in range(6):  # ids overlap between neighbouring files: cross-file duplicates
        files.append(tmp_path / f"RC_{k}.jsonl")
        _dump(files[-1], range(k * 1500, k * 1500 + 2000), bad_every=101)
    key = _secret(tmp_path)
    r1 = ingest_files("reddit", files, tmp_path / "a", secret_file=key)
    r2, killed = _with_kill(
        own_client,
        "vsdstats-ingest-",
        lambda: ingest_files_dask(own_client, "reddit", files, tmp_path / "b", secret_file=key),
    )
    assert killed, "no worker was killed mid-task"
    assert (tmp_path / "a/posts.parquet").read_bytes() == (
        tmp_path / "b/posts.parquet"
    ).read_bytes()
    assert [f.to_dict() for f in r1.files] == [f.to_dict() for f in r2.files]
    n_lines = sum(p.read_bytes().count(b"\n") for p in files)
    overlap = [i for k in range(1, 6) for i in range(k * 1500, k * 1500 + 500) if i % 101]
    assert r2.read == n_lines and r2.duplicates == len(overlap) and r2.balanced


def test_cli_filter_and_ingest_dask(dumps, tmp_path: Path) -> None:
    files, n_lines = dumps
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "filter",
            *map(str, files),
            "-o",
            str(tmp_path / "o"),
            "--dask",
            "local:2",
            "--chunk-size",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert f"read {n_lines}," in res.output
    single = runner.invoke(main, ["filter", *map(str, files), "-o", str(tmp_path / "s.jsonl")])
    assert single.output.split(";")[0] == res.output.split(";")[0]
    key = _secret(tmp_path)
    res = runner.invoke(
        main,
        [
            "ingest",
            "reddit",
            str(files[0]),
            "-o",
            str(tmp_path / "st"),
            "--secret-file",
            str(key),
            "--dask",
            "local:1",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    manifest = next((tmp_path / "st/manifests").glob("ingest-*.json"))
    assert json.loads(manifest.read_text())["settings"]["dask"] == "local:1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dask", "bogus"], "expected local:N or a scheduler address"),
        (["--dask", "local:0"], "at least 1 worker"),
        (["--dask", "tcp://127.0.0.1:9"], "cannot reach the scheduler"),
    ],
)
def test_cli_dask_errors_are_one_line(dumps, tmp_path: Path, args, message) -> None:
    import dask

    files, _ = dumps
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        res = CliRunner().invoke(main, ["filter", str(files[0]), "-o", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and message in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_parse_spec() -> None:
    assert parse_spec("local:3").workers == 3 and parse_spec("local").workers == 2
    assert parse_spec("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    with pytest.raises(ClusterError):
        parse_spec("10.0.0.1:8786")
