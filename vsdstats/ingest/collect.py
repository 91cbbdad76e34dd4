"""Live collection: a platform's ``Connector.collect`` streamed into ingest.

The hook is documented on :class:`vsdstats.connectors.base.Connector`.  Records go
through :func:`vsdstats.ingest.pipeline.ingest_records` (pseudonymized, masked,
deduplicated by post id against the study, relevance-filtered, counted in the same
report).  After each page the connector yields a :class:`Cursor`; its posts are
committed first, then the cursor is stored in ``STUDY/.vsdstats/collect-state.json``
(beside a ``.parquet``/``.duckdb`` output: ``NAME.collect-state.json``) under the key
(platform, community, query), written atomically, so an interrupted collection resumes
after its last complete page without duplicates.  An empty cursor (the listing was
exhausted) makes the next run start again from the newest items (ingest drops the ones
already stored).

``keep_raw``: a folder outside the study receiving every raw API response (they name
the authors: the study never holds them).
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vsdstats.connectors.base import Cursor, NotCollectable, RawSink, call_collect
from vsdstats.connectors.credentials import credential
from vsdstats.ingest.pipeline import IngestError, Relevance, ingest_records, resolve_connector
from vsdstats.ingest.report import IngestReport
from vsdstats.tables.study import StudyDir, out_kind

STATE_VERSION = 1


def state_path(out: str | Path) -> Path:
    """Where the resume cursors of ``out`` live."""
    p = Path(out)
    if out_kind(p) == "folder":
        return StudyDir(p).root / ".vsdstats" / "collect-state.json"
    return p.with_name(p.with_suffix("").name + ".collect-state.json")


def state_key(platform: str, query: str, community: str | None) -> str:
    return json.dumps([platform, community or "", query], ensure_ascii=False)


def load_states(out: str | Path) -> dict[str, Any]:
    path = state_path(out)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IngestError(f"{path}: unreadable collection state: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cursors"), dict):
        raise IngestError(f"{path}: not a collection state (no 'cursors' object)")
    return data["cursors"]


def save_state(out: str | Path, key: str, state: dict[str, Any]) -> None:
    """Store ``state`` under ``key``: written to a temporary file, synced, renamed."""
    path = state_path(out)
    cursors = load_states(out)
    cursors[key] = {
        "state": state,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump({"version": STATE_VERSION, "cursors": cursors}, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _inside(child: Path, parent: Path) -> bool:
    child, parent = child.resolve(), parent.resolve()
    return child == parent or parent in child.parents


class RawWriter:
    """Writes each raw response to ``DIR/<platform>-<UTC time>/NNNNNN-<label>.json``."""

    def __init__(self, root: str | Path, out: str | Path, platform: str) -> None:
        root = Path(root)
        study = Path(out) if out_kind(out) == "folder" else Path(out).parent
        if _inside(root, study) or (out_kind(out) == "folder" and _inside(study, root)):
            raise IngestError(
                f"--keep-raw {root}: must be outside the study folder {study} "
                "(raw responses hold the authors' identities)"
            )
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.dir = root / f"{platform}-{stamp}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, label: str, body: bytes) -> None:
        self.n += 1
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:80]
        (self.dir / f"{self.n:06d}-{safe}.json").write_bytes(body)


def collect(
    platform: str,
    query: str,
    out: str | Path,
    *,
    community: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    keep_raw: str | Path | None = None,
    secret: bytes | None = None,
    secret_file: str | Path | None = None,
    relevance: Relevance | None = None,
    progress: bool = False,
    console: Any = None,
    extra_plugins: tuple[object, ...] = (),
) -> IngestReport:
    """Collect ``query`` from ``platform`` into ``out``, resuming from the stored cursor.

    Raises IngestError for usage problems, NotCollectable where the platform has no
    live collection, CredentialError for a missing credential; errors of the collector
    propagate after the pages before them are stored."""
    conn = resolve_connector(platform, extra_plugins)
    if not conn.can_collect:
        raise NotCollectable(f"{platform}: live collection is not implemented yet")
    for name in conn.credentials:  # before anything is written: a one-line error
        credential(name)
    key = state_key(platform, query, community)
    stored = load_states(out).get(key)
    state = stored.get("state") if isinstance(stored, dict) else None
    raw: RawSink | None = None
    if keep_raw is not None:
        raw = RawWriter(keep_raw, out, platform)
        warnings.warn(
            f"--keep-raw: raw API responses go to {raw.dir}; they hold the authors' "
            "identities: keep them private and delete them when the study no longer needs them",
            stacklevel=2,
        )
    records = call_collect(
        conn.collect, query, since, until, limit, community=community, state=state or None, raw=raw
    )

    def store(cursor: Cursor) -> None:
        save_state(out, key, dict(cursor.state))

    return ingest_records(
        platform,
        records,
        out,
        source=f"collect:{platform}",
        secret=secret,
        secret_file=secret_file,
        relevance=relevance,
        on_cursor=store,
        progress=progress,
        console=console,
    )
