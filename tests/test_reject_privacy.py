"""Reject reasons and file names never carry an identity (issue 8, items 9 and 10).

Records whose id fields hold a handle are rejected by every JSON connector; the reasons
name the field and the problem, never the value.  Input files named after a person
(``SomeHandle_timeline.jsonl``) are stored as a keyed hash unless ``--keep-file-names``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vsdstats.cli import main
from vsdstats.ingest.masking import Masker
from vsdstats.ingest.pipeline import ingest_files, safe_reason
from vsdstats.ingest.pseudonymize import file_label

SECRET = bytes(range(32))
HANDLE = "ZxqSomeHandle"  # a made-up handle that no other text contains
T = "2024-01-01T00:00:00Z"

# platform -> JSON lines whose id or author fields hold HANDLE (each one is rejected)
BAD = {
    "x": [{"id": HANDLE, "text": "t", "created_at": T, "author_id": "9"}],
    "mastodon": [
        {
            "id": None,
            "content": f"<p>hi {HANDLE}</p>",
            "created_at": T,
            "account": {"id": HANDLE, "acct": HANDLE},
        }
    ],
    "tiktok": [{"id": HANDLE, "video_description": "t", "create_time": 1704067200}],
    "reddit": [
        {
            "id": HANDLE,
            "body": "t",
            "created_utc": 1704067200,
            "author": HANDLE,
            "link_id": HANDLE,
            "parent_id": HANDLE,
            "subreddit": "x",
        }
    ],
}
GOOD = {
    "x": {"id": "1", "text": "fine", "created_at": T, "author_id": "9"},
    "mastodon": {
        "id": "1",
        "content": "<p>fine</p>",
        "created_at": T,
        "account": {"id": "5", "acct": "ok"},
    },
    "tiktok": {"id": 1, "video_description": "fine", "create_time": 1704067200},
    "reddit": {
        "id": "abc",
        "body": "fine",
        "created_utc": 1704067200,
        "author": "someone",
        "link_id": "t3_xyz",
        "parent_id": "t3_xyz",
        "subreddit": "x",
    },
}


def _write(tmp_path: Path, platform: str) -> Path:
    src = tmp_path / f"{HANDLE}_timeline.jsonl"
    lines = [json.dumps(GOOD[platform]), *(json.dumps(r) for r in BAD[platform])]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def _outputs(study: Path) -> dict[str, str]:
    return {
        os.fspath(p.relative_to(study)): p.read_bytes().decode("utf-8", "replace")
        for p in study.rglob("*")
        if p.is_file() and p.name != "secret.key"
    }


@pytest.mark.parametrize("platform", sorted(BAD))
def test_no_identity_in_rejects_reasons_or_file_names(tmp_path: Path, platform: str) -> None:
    src = _write(tmp_path, platform)
    study = tmp_path / "study"
    env = {"VSDSTATS_SECRET": SECRET.hex()}
    res = CliRunner().invoke(main, ["ingest", platform, str(src), "-o", str(study)], env=env)
    assert res.exit_code == 0, res.output
    rejects = (study / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == 1 + len(BAD[platform]), rejects  # header + one per bad record
    for name, blob in _outputs(study).items():
        assert HANDLE.lower() not in blob.lower(), f"{platform}: handle in {name}"
        assert not any(HANDLE in p.name for p in study.rglob("*")), "handle in a file name"
    # the summary shows the path as the user typed it (their own terminal), nothing else
    assert "reject reasons" in res.output
    assert HANDLE not in res.output.split("reject reasons", 1)[1], res.output


def test_keep_file_names_stores_the_path_and_default_stores_a_keyed_hash(tmp_path: Path) -> None:
    src = _write(tmp_path, "x")
    rep = ingest_files("x", [src], tmp_path / "hashed", secret=SECRET)
    label = file_label(str(src), SECRET)
    assert [f.file for f in rep.files] == [label]
    assert label.startswith("f_") and label.endswith(".jsonl") and HANDLE not in label
    assert file_label(str(src), SECRET) == label  # stable within a study
    assert file_label(str(src), bytes(range(1, 33))) != label  # keyed: another secret differs
    kept = ingest_files("x", [src], tmp_path / "named", secret=SECRET, keep_file_names=True)
    assert HANDLE in kept.files[0].file
    assert HANDLE in (tmp_path / "named" / "rejects.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "reason",
    [
        f"invalid literal for int() with base 10: '{HANDLE}'",
        f"could not convert string to float: '{HANDLE}'",
        f"author: bad value, see @{HANDLE}",
    ],
)
def test_safe_reason_drops_quoted_values(reason: str) -> None:
    out = safe_reason(reason, Masker(SECRET, platform="x"))
    assert HANDLE not in out and out  # the problem is still named
