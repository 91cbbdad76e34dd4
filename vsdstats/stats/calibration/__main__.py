"""``python -m vsdstats.stats.calibration [--reps N] [--seed S] [--only NAME ...]
[--out docs/calibration.md]``: run the calibration simulations and write the table."""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from vsdstats.stats.calibration import MODULES, run_all, to_markdown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vsdstats.stats.calibration")
    ap.add_argument("--reps", type=int, default=500, help="simulated data sets per check")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--only", nargs="*", choices=MODULES, help="run only these checks")
    ap.add_argument("--out", type=Path, default=Path("docs/calibration.md"))
    args = ap.parse_args(argv)
    import vsdstats

    start = time.perf_counter()
    table = run_all(reps=args.reps, seed=args.seed, only=args.only)
    took = time.perf_counter() - start
    header = (
        "# Calibration of vsdstats' tests and intervals\n\n"
        "Written by `tox -e calibration` (`python -m vsdstats.stats.calibration "
        f"--reps {args.reps} --seed {args.seed}`) with vsdstats {vsdstats.__version__}, "
        f"Python {platform.python_version()}, in {took:.0f} s.  Each row is a rate over "
        "simulated data sets (coverage: over groups x data sets) with its binomial "
        "Monte-Carlo standard error; the scenarios are described in "
        "`vsdstats/stats/calibration/scenarios.py` and each check's module.  Rows without "
        "a target are the naive methods, shown for comparison."
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_markdown(table, header))
    missed = table[(table["target"] != "") & (table["meets"] == False)]  # noqa: E712
    print(f"wrote {args.out}: {len(table)} rows, {len(missed)} targets missed, {took:.0f} s")
    for r in missed.itertuples():
        print(f"  missed: {r.check} / {r.scenario} / {r.method}: {r.value:.3f} ({r.target})")
    return 1 if len(missed) else 0


if __name__ == "__main__":
    sys.exit(main())
