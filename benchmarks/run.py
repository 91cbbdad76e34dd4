"""Run every ``benchmarks/bench_*.py`` (or those named on the command line).

Each module defines ``run() -> list[Report]``.  Prints one line per report and a
summary; exits 1 if a benchmark crashed (a missed target is reported, not fatal,
because machines differ; pass --strict to fail on a miss).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help="benchmark names, e.g. crosstab (default: all)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    files = sorted(HERE.glob("bench_*.py"))
    if args.names:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.names]
    crashed = missed = 0
    for f in files:
        spec = importlib.util.spec_from_file_location(f.stem, f)
        mod = importlib.util.module_from_spec(spec)
        print(f"== {f.stem}", flush=True)
        try:
            spec.loader.exec_module(mod)
            for rep in mod.run():
                print(rep.line(), flush=True)
                missed += not rep.passed
        except Exception:
            crashed += 1
            traceback.print_exc()
    print(f"benchmarks: {len(files)} run, {missed} targets missed, {crashed} crashed")
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
