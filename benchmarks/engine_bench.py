"""vigil's int8 engine on the virtual wrist board: the seed CNN and the stress MLP.

    .venv/bin/python benchmarks/engine_bench.py [--samples 8] [--json]

Builds each model (random weights, int8 full-integer quantization), runs `vigil engine check`
on vwrist and prints flash, arena, instructions per inference and per MAC, and milliseconds at
--clock-mhz (one instruction per cycle), all measured by this run. Beside them, marked
"external", TFLM's figures for the same models: measured outside this repository (issue 4, a
TFLM release build on the same QEMU mps2-an386 with -icount shift=0); this script does not
build or run TFLM and does not re-measure them.

Instructions per inference: one nn_plan_run with no per-op hook, averaged over the runs the device times
(64 for small models, firmware/app/nn_task.h); per op: each op's nn_plan_run_op timed alone, so the ops sum to
the inference minus the executor's loop. `--only NAME` runs one model.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from vigil.device.flash import CORTEX_M4_FLAGS
from vigil.engine import engine_check
from vigil.export.tflite import to_int8_tflite
from vigil.ml.architectures import sleep_cnn, stress_mlp

#: External figures, not measured here: issue 4's TFLM release build on the same virtual board (instructions per
#: inference with TFLM's reference kernels and with CMSIS-NN, TFLM's arena bytes).
EXTERNAL_TFLM_SOURCE = "issue 4: TFLM release build on QEMU mps2-an386 -icount shift=0, measured outside this repository"
EXTERNAL_TFLM = {
    "seed_cnn": {"reference kernels": 36_600_000, "CMSIS-NN": 9_070_000, "arena": 46_400},
    "mlp_6_11_5_2": {"reference kernels": 4_000, "CMSIS-NN": None, "arena": None},
}
TARGET = {"seed_cnn": 5_400_000, "mlp_6_11_5_2": 1_000}


NN_DIR = Path(__file__).resolve().parents[1] / "firmware" / "core" / "nn"
#: the vwrist build's code generation flags (platformio.ini)
ARM_FLAGS = [*CORTEX_M4_FLAGS, "-std=c11", "-O2"]


def engine_code_bytes() -> int:
    """Flash of the engine's own code (kernels + plan executor, no model): the text of each file compiled
    as the vwrist build compiles it, summed."""
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for src in sorted(NN_DIR.glob("*.c")):
            obj = Path(tmp) / (src.stem + ".o")
            subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, f"-I{NN_DIR.parent}", "-c", str(src), "-o", str(obj)],
                           check=True)
            size = subprocess.run(["arm-none-eabi-size", str(obj)], check=True, capture_output=True, text=True)
            total += int(size.stdout.splitlines()[1].split()[0])
    return total


def models() -> dict[str, bytes]:
    import keras

    keras.utils.set_random_seed(4)
    cnn, mlp = sleep_cnn(), stress_mlp()
    rng = np.random.default_rng(1)
    return {
        "seed_cnn": to_int8_tflite(cnn, rng.normal(size=(32, 65, 73, 1)).astype(np.float32)),
        "mlp_6_11_5_2": to_int8_tflite(mlp, rng.normal(size=(32, 6)).astype(np.float32)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=sorted(TARGET), help="run one model (the engine code size is printed too)")
    parser.add_argument("--clock-mhz", type=float, default=64.0, help="clock for the milliseconds column")
    args = parser.parse_args()
    rows = {}
    with contextlib.redirect_stdout(sys.stderr):  # the converter prints; --json output must stay clean
        built = models()
    for name, model in built.items():
        if args.only and name != args.only:
            continue
        r = engine_check(model, "vwrist", samples=args.samples, clock_mhz=args.clock_mhz)
        rows[name] = {k: r[k] for k in ("mismatches", "macs", "arena_bytes", "weight_bytes", "flash_bytes",
                                         "instructions_per_inference", "instructions_per_mac",
                                         "clock_mhz", "ms_per_inference_at_clock")}  # fmt: skip
        rows[name]["instructions_per_op"] = {f"{i}:{op}": n for i, (op, n) in
                                             enumerate(zip(r["ops"], r["instructions_per_op"]))}
    code = engine_code_bytes()
    if args.json:
        print(json.dumps({"engine_code_bytes": code, "models": rows,
                          "external": {"source": EXTERNAL_TFLM_SOURCE, "tflm": EXTERNAL_TFLM}}, indent=2))
        return
    print(f"engine code (kernels + executor, -O2, Cortex-M4): {code:,} B (target < 16 KB)")
    print(f"measured by this run, except the two TFLM columns: external, {EXTERNAL_TFLM_SOURCE}")
    print(f"| model | MACs | mismatches | arena B | flash B | instructions | per MAC | ms at {args.clock_mhz:g} MHz | target "
          "| TFLM reference (external) | TFLM CMSIS-NN (external) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        t = EXTERNAL_TFLM[name]
        cmsis = f"{t['CMSIS-NN']:,}" if t["CMSIS-NN"] else "—"
        print(f"| {name} | {r['macs']:,} | {r['mismatches']} | {r['arena_bytes']:,} | {r['flash_bytes']:,} | "
              f"{r['instructions_per_inference']:,} | {r['instructions_per_mac']} | {r['ms_per_inference_at_clock']} | "
              f"≤ {TARGET[name]:,} | {t['reference kernels']:,} | {cmsis} |")  # fmt: skip


if __name__ == "__main__":
    main()
