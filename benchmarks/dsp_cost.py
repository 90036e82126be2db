"""Instructions per second of signal for each on-device DSP stage, on the virtual wrist board.

    .venv/bin/python benchmarks/dsp_cost.py [--seconds 300] [--rates 64 100 128] [--json]

Replays a synthetic session (accelerometer at 50 Hz + PPG at each rate) through `vwrist`,
checks it bit-exact against the twins, and reads the device's per-stage COST. Under QEMU
-icount shift=0 one instruction is 1 ns of virtual time, so the tick counts are exact
instruction counts (40 per 25 MHz tick), the same on every run.
"""

from __future__ import annotations

import argparse
import json

from vigil import verify as verify_mod
from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.device.board import running_board
from vigil.device.link import Link
from vigil.replay import replay

BUDGET = 640_000  # instructions per second of signal: 1 % of a 64 MHz Cortex-M4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rates", type=int, nargs="+", default=[64, 100, 128])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with running_board("vwrist") as board, Link.open(board.port) as link:
        link.request_hello()
        for rate in args.rates:
            ppg, _ = synthetic_ppg(args.seconds, rate, seed=rate)
            rec = Recording.from_arrays(accel=synthetic_accel(args.seconds, seed=rate), ppg=ppg, ppg_rate_hz=rate,
                                        source={"kind": "synthetic"})  # fmt: skip
            outputs = replay(link, rec)
            ok = verify_mod.summary(verify_mod.compare(outputs, verify_mod.twin_outputs(rec, rate), rate))["ok"]
            cost = verify_mod.cost_table(outputs.cost, rec, rate, link.hello.ticks_per_second, "vwrist")
            rows.append({"ppg_rate_hz": rate, "bit_exact": ok, **{k: v["instructions_per_second_of_signal"]
                         for k, v in cost.items() if isinstance(v, dict)},
                         "total": cost["total_instructions_per_second_of_signal"]})  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    stages = [k for k in rows[0] if k not in ("ppg_rate_hz", "bit_exact")]
    print(f"instructions per second of signal on vwrist ({args.seconds:g} s synthetic session; budget {BUDGET:,})")
    print("| PPG rate | " + " | ".join(stages) + " | bit-exact |")
    print("|---" * (len(stages) + 2) + "|")
    for r in rows:
        print(f"| {r['ppg_rate_hz']} Hz | " + " | ".join(f"{r[s]:,}" for s in stages) + f" | {r['bit_exact']} |")


if __name__ == "__main__":
    main()
