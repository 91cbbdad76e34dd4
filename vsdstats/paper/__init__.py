"""`vsdstats paper`: the study's tables, hand-off files and figures, deterministically.

``run`` (``run_paper()`` runs the whole job; ``build_handoff()`` writes only the
hand-off files the R figure scripts read, contract in analysis/README.md), ``config``
(the analysis definition), ``inputs``, ``analyses``, ``handoff``, ``tables``, ``render``,
``suppress``, ``figures`` (runs R), ``manuscript``, ``compare`` and ``simulate`` (the
synthetic replication corpus).
"""

from vsdstats._lazy import lazy_exports

__all__ = ["PaperError", "PaperRun", "build_handoff", "run_paper"]
__getattr__ = lazy_exports(
    __name__,
    {"PaperError": "config", "PaperRun": "run", "build_handoff": "run", "run_paper": "run"},
)
