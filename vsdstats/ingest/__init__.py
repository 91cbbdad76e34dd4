"""Ingest: connector records -> normalized, pseudonymized, masked, deduplicated posts.

``pipeline`` (``ingest_files``: connector -> normalize -> dedupe -> sink), ``textnorm``
(the one definition of a post's text for dedupe and coding), ``pseudonymize`` and
``secret`` (keyed pseudonyms and the per-study key), ``masking`` and ``skeleton``
(mentions, profile links, look-alikes, e-mails, phones), ``sinks`` (Parquet folder or
file, DuckDB), ``report`` (the per-file reconciliation counts) and ``console`` (progress
bar and summary table).
"""

from vsdstats._lazy import lazy_exports

__all__ = ["IngestError", "IngestReport", "RejectsFound", "ingest_files"]
__getattr__ = lazy_exports(
    __name__,
    {
        "IngestError": "pipeline",
        "RejectsFound": "pipeline",
        "ingest_files": "pipeline",
        "IngestReport": "report",
    },
)
