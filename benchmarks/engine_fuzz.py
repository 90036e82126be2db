"""Generated int8 graphs through vigil's engine on a board, against the tflite-micro interpreter.

    .venv/bin/python benchmarks/engine_fuzz.py --seed 10000 --count 2000 [--board native|vwrist] [--samples 4]
        [--keep DIR] [--json]

Thousands of graphs from vigil.engine_graphs (the same seeds give the same graphs on every machine), each
converted by the TFLite converter, compiled for the engine, and run on the board (a firmware per batch of 40):
every output must equal TFLM's. Prints the statuses, the outputs compared, how many graphs took each op and each
specialised kernel path, the failures (kept in --keep to replay with `vigil engine check`), the wall time, the
machine and the date: the lines docs/benchmarks.md quotes. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

from vigil.engine_fuzz import DEFAULT_BATCH, run_fuzz


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=10_000, help="first graph seed")
    parser.add_argument("--count", type=int, default=2_000, help="graphs")
    parser.add_argument("--board", default="native", choices=["native", "vwrist"])
    parser.add_argument("--samples", type=int, default=4, help="inputs per graph")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="graphs per firmware build")
    parser.add_argument("--jobs", type=int, default=2, help="converter processes")
    parser.add_argument("--keep", type=Path, help="folder for failing graphs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def progress(done: int) -> None:
        print(f"\r{done}/{args.count} graphs", end="", file=sys.stderr, flush=True)

    report = run_fuzz(args.seed, args.count, args.board, samples=args.samples, batch=args.batch, jobs=args.jobs,
                      keep_dir=args.keep, progress=progress)
    print(file=sys.stderr)
    s = report.summary()
    s["machine"], s["date"] = machine(), datetime.date.today().isoformat()
    if args.json:
        print(json.dumps(s, indent=2))
        return 1 if report.failures else 0
    last = args.seed + args.count - 1
    print(f"engine fuzz, seeds {args.seed}..{last} on {args.board}, {args.samples} inputs each "
          f"({s['machine']}, {s['date']}): {s['seconds']:.0f} s")
    print("| status | graphs |\n|---|---|")
    for status, n in s["statuses"].items():
        print(f"| {status} | {n:,} |")
    print(f"\noutputs compared: {s['outputs_compared']:,}, mismatching: {s['mismatching_outputs']:,}\n")
    print("| op | graphs |\n|---|---|")
    for op, n in s["graphs_with_op"].items():
        print(f"| {op} | {n:,} |")
    print("\n| kernel path | graphs |\n|---|---|")
    for path, n in s["graphs_with_path"].items():
        print(f"| {path} | {n:,} |")
    for f in s["failures"]:
        print(f"{f['name']}: {f['status']} {f['detail'][:300] or f['first_mismatch']}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
