"""The analysis table (vsdstats export; a study folder or .duckdb as INPUT of stats and
paper), on a study built by the real ingest of shared sample files of four platforms and
synthetic coded units written here (no post text from ../shared is copied anywhere)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.connectors.manager import get_connector
from vsdstats.connectors.records import RawPost
from vsdstats.ingest.pipeline import ingest_files
from vsdstats.paper.inputs import load_units
from vsdstats.tables.analysis_table import export_study, study_table
from vsdstats.tables.codebook import load_codebook
from vsdstats.tables.io import R_TYPES, read_table, schema_path
from vsdstats.tables.models import ANALYSIS_COLUMNS, CODED_UNIT_COLUMNS
from vsdstats.tables.study import ADDED_COLUMNS, read_posts
from vsdstats.testing import require

ROOT = Path(__file__).resolve().parents[1]
SECRET = bytes(range(40, 72))
SAMPLES = {  # platform -> sample files (relative to fixtures/platforms)
    "reddit": ["reddit_pushshift/test_submissions.json", "reddit_pushshift/test_comments.json"],
    "mastodon": ["mastodon/_extracted_bodies/test_entity_searchv2__body02.json"],
    "x": ["twitter_x_api_v2/search_tweets_query.json"],
    "bluesky": ["bluesky/_extracted_bodies/f_search__body00.json"],
}
CONDITIONS = ["depression", "anxiety", "adhd", "general"]


def _handles(files: dict[str, list[Path]]) -> set[str]:
    """Every author handle and id the connectors saw (at least 4 characters)."""
    out = set()
    for platform, paths in files.items():
        conn = get_connector(platform)
        for f in paths:
            for rec in conn.read(f):
                if isinstance(rec, RawPost):
                    out |= {v for v in (rec.author_handle, rec.author_id) if v and len(v) >= 4}
    return out - {"[deleted]", "deleted"}


def _units(posts: pd.DataFrame, codebook, seed: int = 5) -> pd.DataFrame:
    """Synthetic coded units: 0-2 per post, labels drawn from the codebook."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in posts["post_id"]:
        for k in range(int(rng.integers(0, 3))):
            family = str(rng.choice(codebook.codes("llm_product")))
            rows.append(
                {
                    "post_id": pid,
                    "unit_index": k,
                    "llm_product": family,
                    "llm_version": str(rng.choice(codebook.members("llm_version", family))),
                    "sentiment": str(rng.choice(codebook.codes("sentiment"))),
                    "condition": str(
                        rng.choice([c for c in CONDITIONS if c in codebook.codes("condition")])
                    ),
                    "perspective": str(rng.choice(codebook.codes("perspective"))),
                    "value": str(rng.choice(codebook.codes("value"))),
                    "quote": f"synthetic quote {len(rows)}, with a comma\nand a newline",
                    "coder": "simulated",
                    "model": None,
                    "codebook_version": codebook.version,
                }
            )
    return pd.DataFrame(rows, columns=list(CODED_UNIT_COLUMNS))


@pytest.fixture(scope="module")
def study(tmp_path_factory, shared_dir) -> dict:
    """A study folder: real ingest of the samples, then synthetic coded units."""
    root = tmp_path_factory.mktemp("analysis")
    folder = root / "study"
    base = shared_dir / "fixtures" / "platforms"
    files = {p: [base / f for f in fs] for p, fs in SAMPLES.items()}
    for platform, paths in files.items():
        ingest_files(platform, paths, folder, secret=SECRET)
    posts = read_posts(folder)
    cb = load_codebook()
    units = _units(posts, cb)
    units.to_parquet(folder / "coded_units.parquet", index=False)
    return {"root": root, "folder": folder, "posts": posts, "n_units": len(units),
            "handles": _handles(files)}  # fmt: skip


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _export(study: dict, name: str) -> Path:
    out = study["root"] / name
    if not out.exists():
        r = _run("export", str(study["folder"]), "-o", str(out))
        assert r.exit_code == 0, r.output
    return out


def test_the_study_has_posts_of_every_platform(study):
    assert set(study["posts"]["platform"]) == set(SAMPLES)
    assert study["n_units"] > 50 and len(study["handles"]) > 20


@pytest.mark.parametrize("name", ["units.parquet", "units.csv", "units.duckdb"])
def test_one_row_per_coded_unit_with_documented_columns(study, name):
    out = _export(study, name)
    df = read_table(out)
    # the units counted independently: the rows of coded_units.parquet's metadata
    assert len(df) == pq.ParquetFile(study["folder"] / "coded_units.parquet").metadata.num_rows
    assert len(df) == study["n_units"]
    assert list(df.columns) == list(ANALYSIS_COLUMNS)
    want = {c: ("Int64" if t == "Int64" else t) for c, t in ANALYSIS_COLUMNS.items()}
    assert {c: str(df[c].dtype) for c in df.columns} == want


def test_each_unit_carries_its_own_posts_fields(study):
    df = read_table(_export(study, "units.parquet"))
    posts = study["posts"].set_index("post_id")
    for c in ("platform", "author", "created_at", "community", "score", "replies", "lang"):
        expect = posts[c].reindex(df["post_id"]).reset_index(drop=True)
        pd.testing.assert_series_equal(df[c], expect.astype(df[c].dtype), check_names=False)
    # the columns the issue is about are filled where the platforms give them
    by = df.groupby("platform")
    assert by["community"].count()["reddit"] == by.size()["reddit"]  # subreddits
    assert by["community"].count()["mastodon"] > 0 and by["community"].count()["x"] == 0
    assert by["lang"].count()["x"] == by.size()["x"] and by["score"].count()["bluesky"] > 0


def test_no_author_handle_only_pseudonyms(study):
    for name in ("units.csv", "units.parquet", "units.duckdb"):
        out = _export(study, name)
        df = read_table(out)
        assert df["author"].dropna().str.fullmatch(r"a_[0-9a-f]{24}").all()
        assert "text" not in df.columns
    blob = (study["root"] / "units.csv").read_text("utf-8").lower()
    leaked = [
        h for h in study["handles"] if re.search(rf"(?<!\w){re.escape(h.lower())}(?!\w)", blob)
    ]
    assert leaked == []


def test_csv_reads_back_with_the_same_types_and_values(study):
    csv = _export(study, "units.csv")
    schema = json.loads(schema_path(csv).read_text("utf-8"))
    assert list(schema) == list(ANALYSIS_COLUMNS)
    assert schema["created_at"] == "POSIXct" and schema["score"] == "integer"
    pd.testing.assert_frame_equal(read_table(csv), read_table(_export(study, "units.parquet")))


R_CLASS = {"character": "character", "integer": "integer", "double": "numeric",
           "logical": "logical", "POSIXct": "POSIXct"}  # fmt: skip


def test_r_reads_the_csv_with_the_same_types(study):
    rscript = shutil.which("Rscript")
    require(rscript is not None, "Rscript is not on PATH (run R/install_r.sh)")
    csv = _export(study, "units.csv")
    code = f"""
    source({json.dumps(str(ROOT / "R" / "read_study.R"))})
    d <- vsd_read_study({json.dumps(str(csv))})
    cat(jsonlite::toJSON(list(
      class = lapply(d, function(x) class(x)[1]),
      n = nrow(d),
      na = lapply(d, function(x) sum(is.na(x))),
      created = sprintf("%.6f", as.numeric(d$created_at)),
      score = d$score,
      community = d$community,
      quote = d$quote
    ), auto_unbox = TRUE, digits = NA, na = "null"))
    """
    run = subprocess.run([rscript, "--vanilla", "-e", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    df = read_table(_export(study, "units.parquet"))
    schema = json.loads(schema_path(csv).read_text("utf-8"))
    assert got["class"] == {c: R_CLASS[t] for c, t in schema.items()}
    assert got["n"] == len(df)
    assert got["na"] == {c: int(df[c].isna().sum()) for c in df.columns}
    seconds = df["created_at"].astype("int64") / 1e9
    created = np.array([float(x) for x in got["created"]])  # microseconds, as written
    assert np.allclose(created, seconds.to_numpy(), rtol=0, atol=1e-6)
    assert got["score"] == [None if pd.isna(v) else int(v) for v in df["score"]]
    assert got["community"] == [None if pd.isna(v) else v for v in df["community"]]
    assert got["quote"] == df["quote"].tolist()  # commas, quotes and newlines survive


def test_r_reader_stops_on_a_bad_value_naming_file_column_and_row(study, tmp_path):
    rscript = shutil.which("Rscript")
    require(rscript is not None, "Rscript is not on PATH (run R/install_r.sh)")
    src = _export(study, "units.csv")
    bad = tmp_path / "bad.csv"
    lines = src.read_text("utf-8").split("\n")
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("unit_index")] = "1.5"
    bad.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]), encoding="utf-8")
    shutil.copy(schema_path(src), schema_path(bad))
    code = f'source({json.dumps(str(ROOT / "R" / "read_study.R"))}); vsd_read_study("{bad}")'
    run = subprocess.run([rscript, "--vanilla", "-e", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert f"{bad}: column 'unit_index' data row 1: '1.5' is not integer" in run.stderr


@pytest.mark.parametrize("other", ["units.csv", "units.parquet", "units.duckdb"])
def test_stats_on_the_study_equals_stats_on_the_export(study, other):
    args = ["stats", "means"]
    outs = []
    for inp in (study["folder"], _export(study, other)):
        o = study["root"] / f"means-{Path(inp).name}.csv"
        r = _run(*args, str(inp), "--by", "condition", "-o", str(o))
        assert r.exit_code == 0, r.output
        outs.append(o.read_text())
    assert outs[0] == outs[1]
    means = pd.read_csv(study["root"] / f"means-{study['folder'].name}.csv")
    assert means["n"].sum() == study["n_units"]  # every unit counted once


def test_other_stats_commands_take_a_study_folder(study):
    r = _run("stats", "crosstab", str(study["folder"]), "--row", "platform", "--col", "sentiment")
    assert r.exit_code == 0, r.output
    r2 = _run("stats", "crosstab", str(_export(study, "units.duckdb")), "--row", "platform",
              "--col", "sentiment")  # fmt: skip
    assert r2.exit_code == 0 and r2.stdout == r.stdout


def test_the_duckdb_export_has_units_and_posts(study):
    out = _export(study, "units.duckdb")
    con = duckdb.connect(str(out), read_only=True)
    try:
        n_units = con.execute("SELECT count(*) FROM units").fetchone()[0]
        n_posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        per = con.execute(
            "SELECT u.platform = p.platform AND u.author IS NOT DISTINCT FROM p.author "
            "FROM units u JOIN posts p USING (post_id)"
        ).fetchall()
    finally:
        con.close()
    assert (n_units, n_posts) == (study["n_units"], len(study["posts"]))
    assert len(per) == n_units and all(ok for (ok,) in per)


def test_paper_reads_a_study_folder_and_a_duckdb_file_alike(study):
    cb = load_codebook()
    a, src_a = load_units(study["folder"], cb)
    b, src_b = load_units(_export(study, "units.duckdb"), cb)
    assert "coded_units.parquet + " in src_a and src_b.endswith("units.duckdb")
    assert len(a) == len(b) == study["n_units"]
    for c in ("post_id", "platform", "author", "condition", "sentiment"):
        assert a[c].tolist() == b[c].tolist()
    assert (a["created_at"] == b["created_at"]).all()


def test_a_study_from_before_the_new_columns_exports_them_as_missing(study, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(study["folder"], folder)
    table = pq.read_table(folder / "posts.parquet")
    pq.write_table(table.drop_columns(list(ADDED_COLUMNS)), folder / "posts.parquet")
    df, _ = study_table(folder)
    assert len(df) == study["n_units"] and list(df.columns) == list(ANALYSIS_COLUMNS)
    assert df[list(ADDED_COLUMNS)].isna().all().all() and df["platform"].notna().all()


def test_a_study_coded_with_codebook_1_0_exports_llm_version_as_missing(study, tmp_path):
    """Units coded before codebook 1.1 have no llm_version column: the analysis table,
    the typed CSV export (and its schema, which R/read_study.R reads) and stats --by
    llm_version all work, with the version missing (not coded), never 'unspecified'."""
    folder = tmp_path / "cb10"
    shutil.copytree(study["folder"], folder)
    units = pd.read_parquet(folder / "coded_units.parquet")
    assert units["llm_version"].notna().all()
    units.drop(columns=["llm_version"]).assign(codebook_version="1.0.0").to_parquet(
        folder / "coded_units.parquet", index=False
    )
    df, _ = study_table(folder)
    assert list(df.columns) == list(ANALYSIS_COLUMNS) and df["llm_version"].isna().all()
    out = tmp_path / "cb10.csv"
    r = _run("export", str(folder), "-o", str(out))
    assert r.exit_code == 0, r.output
    schema = json.loads(out.with_suffix(".schema.json").read_text())
    assert schema["llm_version"] == "character"
    assert read_table(out)["llm_version"].isna().all()
    r = _run("stats", "means", str(folder), "--by", "llm_version")
    assert r.exit_code == 0, r.output
    assert f"dropped {len(df)} of {len(df)} rows with a missing llm_version" in r.output
    assert "unspecified" not in r.output


def test_stats_means_by_llm_version(study):
    r = _run("stats", "means", str(study["folder"]), "--by", "llm_version")
    assert r.exit_code == 0, r.output
    df = read_table(_export(study, "units.parquet"))
    for code, n in df["llm_version"].value_counts().items():
        assert re.search(rf"^\s*{code}\s+{n}\s", r.output, re.M), (code, n, r.output)


# ------------------------------------------------------------------ bad inputs
def _one_line_error(result, command: str) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith(f"vsdstats {command}: error: "), lines
    assert "Traceback" not in result.output
    return lines[0]


def test_a_folder_without_coded_units_is_a_one_line_error(study, tmp_path):
    folder = tmp_path / "uncoded"
    folder.mkdir()
    shutil.copy(study["folder"] / "posts.parquet", folder / "posts.parquet")
    line = _one_line_error(_run("stats", "means", str(folder), "--by", "condition"), "stats means")
    assert str(folder) in line and "no coded_units.parquet or coded_units.csv" in line
    line = _one_line_error(_run("export", str(folder), "-o", str(tmp_path / "u.csv")), "export")
    assert str(folder) in line and "vsdstats code" in line
    assert not (tmp_path / "u.csv").exists()


def test_a_duckdb_file_without_a_units_table_is_a_one_line_error(tmp_path, shared_dir):
    db = tmp_path / "posts.duckdb"
    f = shared_dir / "fixtures/platforms/reddit_pushshift/test_comments.json"
    ingest_files("reddit", [f], db, secret=SECRET)  # tables posts, rejects, ingest_runs
    line = _one_line_error(_run("stats", "means", str(db), "--by", "condition"), "stats means")
    assert f"{db}: no table 'units' (tables: ingest_runs, posts, rejects)" in line
    assert "vsdstats export STUDY -o posts.duckdb" in line
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all" * 100)
    line = _one_line_error(_run("stats", "crosstab", str(junk), "--row", "a", "--col", "b"),
                           "stats crosstab")  # fmt: skip
    assert f"{junk}: cannot open as a DuckDB database" in line


def test_without_duckdb_the_error_names_the_extra(study, tmp_path, monkeypatch):
    out = _export(study, "units.duckdb")
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb -> ImportError
    line = _one_line_error(_run("stats", "means", str(out), "--by", "condition"), "stats means")
    assert (
        f"{out}: a .duckdb file needs the duckdb package (pip install 'vsdstats[duckdb]')" in line
    )
    line = _one_line_error(
        _run("export", str(study["folder"]), "-o", str(tmp_path / "x.duckdb")), "export"
    )
    assert "pip install 'vsdstats[duckdb]'" in line


def test_export_refuses_other_extensions_and_missing_studies(study, tmp_path):
    line = _one_line_error(
        _run("export", str(study["folder"]), "-o", str(tmp_path / "u.xlsx")), "export"
    )
    assert "u.xlsx: cannot export with extension '.xlsx'; use .parquet, .csv, .duckdb" in line
    line = _one_line_error(_run("export", str(tmp_path / "nope"), "-o", "u.csv"), "export")
    assert f"{tmp_path / 'nope'}: no such file or folder" in line


def test_units_whose_post_is_missing_or_an_author_handle_are_errors(study, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(study["folder"], folder)
    units = pd.read_parquet(folder / "coded_units.parquet")
    units.loc[0, "post_id"] = "t3_notapost"
    units.to_parquet(folder / "coded_units.parquet", index=False)
    with pytest.raises(ValueError, match=r"1 unit\(s\) have a post_id not in posts\.parquet"):
        export_study(folder, tmp_path / "u.parquet")
    posts = pd.DataFrame({"post_id": ["p1"], "platform": ["x"], "author": ["@someone"],
                          "created_at": ["2024-01-01T00:00:00Z"]})  # fmt: skip
    hand = tmp_path / "hand"
    hand.mkdir()
    posts.to_csv(hand / "posts.csv", index=False)
    units.assign(post_id="p1").to_csv(hand / "coded_units.csv", index=False)
    line = _one_line_error(_run("export", str(hand), "-o", str(tmp_path / "h.csv")), "export")
    assert "column 'author' row 0 is not a pseudonym" in line and "@someone" not in line


def test_a_typed_csv_whose_values_break_the_schema_is_an_error(study, tmp_path):
    csv = tmp_path / "u.csv"
    shutil.copy(_export(study, "units.csv"), csv)
    shutil.copy(schema_path(study["root"] / "units.csv"), schema_path(csv))
    text = csv.read_text("utf-8").split("\n")
    cells = text[1].split(",")
    cells[list(ANALYSIS_COLUMNS).index("score")] = "many"
    csv.write_text("\n".join([text[0], ",".join(cells), *text[2:]]), encoding="utf-8")
    line = _one_line_error(_run("stats", "means", str(csv), "--by", "condition"), "stats means")
    assert f"{csv}: column 'score' data row 1: 'many' is not integer (u.schema.json)" in line
    assert set(R_TYPES) == {"character", "integer", "double", "logical", "POSIXct"}


def test_export_from_a_study_folder_leaves_a_manifest(study):
    import hashlib

    def sha(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    out = study["root"] / "manifest-check.parquet"
    r = _run("export", str(study["folder"]), "-o", str(out))
    assert r.exit_code == 0, r.output
    found = sorted((study["folder"] / "manifests").glob("export-*.json"))
    manifests = [json.loads(f.read_text("utf-8")) for f in found]
    (m,) = [m for m in manifests if any(o["path"].endswith(out.name) for o in m["outputs"])]
    assert {r["role"]: r["sha256"] for r in m["inputs"]} == {
        "coded_units": sha(study["folder"] / "coded_units.parquet"),
        "posts": sha(study["folder"] / "posts.parquet"),
    }
    assert [o["sha256"] for o in m["outputs"]] == [sha(out)]
    assert m["counts"]["units"] == study["n_units"] and m["command"] == "export"
