"""End to end over every real sample file: ingest reconciles, and no author handle or
user id that the connector saw appears in any output file (tables, reject log, report).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from samples import SAMPLES, sample_files

from vsdstats.connectors.manager import get_connector
from vsdstats.connectors.records import RawPost, Reject
from vsdstats.ingest.pipeline import ingest_files
from vsdstats.tables.study import read_posts

SECRET = bytes(range(32))


def _secrets_of(platform: str, files: list[Path]) -> tuple[set[str], int, int]:
    """Author handles and ids the connector reports, and its post / reject counts."""
    conn = get_connector(platform)
    found: set[str] = set()
    posts = rejects = 0
    for f in files:
        for rec in conn.read(f):
            if isinstance(rec, Reject):
                rejects += 1
                continue
            assert isinstance(rec, RawPost)
            posts += 1
            for v in (rec.author_handle, rec.author_id):
                # very short ids/handles can't be told apart from ordinary text
                if v and len(v) >= 4 and v.lower() not in {"deleted", "[deleted]"}:
                    found.add(v)
    return found, posts, rejects


@pytest.mark.parametrize("platform", sorted(SAMPLES))
def test_samples_ingest_without_leaking_authors(shared_dir, tmp_path, platform):
    files = sample_files(platform, shared_dir / "fixtures" / "platforms")
    assert files, f"no sample files for {platform}"
    handles, n_posts, n_rejects = _secrets_of(platform, files)
    assert n_posts > 0
    # the TikTok Research API examples carry no author fields at all
    assert bool(handles) == (platform != "tiktok"), f"{platform}: unexpected author fields"

    study = tmp_path / "study"
    rep = ingest_files(platform, files, study, secret=SECRET)
    assert rep.read == rep.kept + rep.duplicates + rep.filtered_out + rep.rejected
    # the connector's posts are kept or counted as duplicates; its rejects are rejects
    assert rep.kept + rep.duplicates == n_posts
    assert rep.rejected == n_rejects

    posts = read_posts(study)
    assert len(posts) == rep.kept
    assert posts["author"].dropna().str.fullmatch(r"a_[0-9a-f]{24}").all()

    blobs = {
        p.relative_to(study): p.read_bytes().decode("utf-8", "replace")
        for p in study.rglob("*")
        if p.is_file() and p.name != "secret.key"
    }
    text_cols = " ".join(
        posts[c].dropna().astype(str).str.cat(sep=" ") for c in ("text", "url", "post_id")
    )
    blobs["posts table (decoded)"] = text_cols
    secret_hex = SECRET.hex()
    for name, blob in blobs.items():
        assert secret_hex not in blob, f"the study secret leaked into {name}"
        for h in handles:
            pat = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(h)}(?![A-Za-z0-9_])", re.IGNORECASE)
            assert not pat.search(blob), f"{platform}: author {h[:2]}... leaked into {name}"
