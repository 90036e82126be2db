"""Accuracy of the fixed-point accelerometer STFT (the device's, through its bit-exact twin) against a
float64 STFT of the same frames (numpy rfft, scipy's periodic Hann window), for docs/benchmarks.md.

    .venv/bin/python benchmarks/stft_snr.py [--floor-db 0] [--seconds 3600] [--json]

Per data set: columns, share of bins whose reference power is above the floor, the SNR of the
log power (10 log10 of sum ref_dB^2 / sum (fixed_dB - ref_dB)^2 over those bins), the largest
|fixed_dB - ref_dB| there, and the share of int8 image values that differ from the float reference
quantized the same way (round half up, saturated). The real file is
../shared/data/46343_acceleration_snippet.txt (Walch et al. 2019), resampled to 50 Hz; skipped if absent.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vigil.data.synthetic_accel import synthetic_accel
from vigil.dsp import accel, config, stft

REAL_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "46343_acceleration_snippet.txt"


def measure(xyz: np.ndarray, floor_db: float) -> dict[str, float]:
    d = accel.derivative(accel.magnitude(xyz))
    fixed = stft.stft_power_db(d)
    ref = stft.reference_power_db(d)
    keep = ref > floor_db
    err = np.abs(stft.db_from_q16(fixed)[keep] - ref[keep])
    with np.errstate(invalid="ignore"):
        ref_q = np.clip(np.floor(ref / config.IMAGE_SCALE_DB + 0.5) + config.IMAGE_ZERO_POINT, -128, 127)
    ref_q = np.where(np.isneginf(ref), -128, ref_q)
    return {
        "seconds": len(xyz) / config.ACCEL_RATE_HZ,
        "columns": int(fixed.shape[0]),
        "above_floor": float(np.mean(keep)),
        "snr_db": stft.snr_db(fixed, ref, floor_db),
        "max_error_db": float(np.max(err)),
        "rms_error_db": float(np.sqrt(np.mean(err**2))),
        "int8_differ": float(np.mean(stft.stft_columns(d) != ref_q)),
    }


def datasets(seconds: float) -> dict[str, np.ndarray | None]:
    sets: dict[str, np.ndarray | None] = {f"synthetic seed {s}": synthetic_accel(seconds, seed=s) for s in (1, 2, 3)}
    if REAL_FILE.exists():
        raw = np.loadtxt(REAL_FILE)
        sets["real: Walch 46343, first 400 s"] = accel.resample_milli_g(raw[:, 0], raw[:, 1:4])
    else:
        sets["real: Walch 46343 (absent)"] = None
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor-db", type=float, default=0.0, help="bins count when the float power exceeds this")
    parser.add_argument("--seconds", type=float, default=3600.0, help="length of each synthetic recording")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {
        name: (measure(xyz, args.floor_db) if xyz is not None else None) for name, xyz in datasets(args.seconds).items()
    }
    if args.json:
        print(json.dumps({"floor_db": args.floor_db, "results": results}, indent=2))
        return
    print(f"STFT log power, fixed point vs float64, bins above {args.floor_db:g} dB ((milli-g)^2)")
    print("| data | s | columns | bins above floor | SNR (dB) | max err (dB) | rms err (dB) | int8 differ |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if r is None:
            print(f"| {name} | | | | skipped | | | |")
            continue
        print(
            f"| {name} | {r['seconds']:.0f} | {r['columns']} | {100 * r['above_floor']:.1f}% | {r['snr_db']:.1f} "
            f"| {r['max_error_db']:.4f} | {r['rms_error_db']:.5f} | {100 * r['int8_differ']:.3f}% |"
        )


if __name__ == "__main__":
    main()
