"""The stress alert's gating, measured: what the device's motion level and sleep CNN say on synthetic nights,
resting / seated / walking days, and what the stress trio says at each synthetic stress level.

    PYTHONPATH=host .venv/bin/python benchmarks/alert_gating.py [--quick] [--json]

Two tables, every number the device's integer (vigil.bundle.consensus_twin with the models of models/ or
$VIGIL_MODELS_DIR):
1. Per 30-s epoch: the motion level (mean |derivative of |a|| per sample, milli-g; motion_level.c) as
   percentiles, and the sleep CNN's class shares, for synthetic nights by true stage (vigil.data.synthetic_night,
   "moderate"), the resting wrist of vigil.data.synthetic.synthetic_session, and the daytime activities of
   vigil.data.synthetic_day (seated, walking). The motion limit must sit above seated and below walking.
2. The motion limit's margins, motion level only, on many more days (MARGIN_SEEDS people, 30 min seated,
   10 min walking): seated p99 / p99.9 / max, walking min / p1 / p50, and the share of epochs the limit gets
   wrong (seated above it, walking at or below it).
3. Per 60-s segment of synthetic PPG (vigil.data.synthetic_ppg, "typical") at each stress level: share of
   segments where the trio is unanimous for stress, where the weighted P(stress) >= the alert probability,
   both, and the weighted P(stress) range of the unanimous ones.
The figures in model_bundle.ConsensusSettings' docstring and docs/protocol.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from vigil.data.synthetic import synthetic_session
from vigil.data.synthetic_day import day_accel
from vigil.data.synthetic_night import synthetic_night
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.dsp import accel as accel_twin
from vigil.dsp.ppg import ppg_chain
from vigil.records import SLEEP_CLASS_LABELS
from vigil.bundle import consensus_twin as ct

PERCENTILES = (50, 90, 99)
STRESS_LEVELS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0)
PPG_RATE_HZ = 64
MARGIN_SEEDS = 40


def epoch_view(accel: np.ndarray, models: ct.DeviceModels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, motion levels, CNN classes) of the epochs the device classifies."""
    motion = ct.motion_levels(accel_twin.derivative(accel_twin.magnitude(accel)))
    records = ct.device_sleep_records(accel, models)  # the device's sleep model, whichever kind models/ carries
    epochs = np.array([r.epoch for r in records], dtype=np.int64)
    return epochs, motion[epochs], np.array([r.cls for r in records], dtype=np.int64)


def motion_row(name: str, motion: list[np.ndarray], classes: list[np.ndarray]) -> dict[str, Any]:
    m, c = np.concatenate(motion), np.concatenate(classes)
    row: dict[str, Any] = {"source": name, "epochs": int(len(m)), "min": int(m.min())}
    row.update({f"p{q}": float(np.percentile(m, q)) for q in PERCENTILES})
    row["max"] = int(m.max())
    row.update({f"cnn_{label}": float(np.mean(c == k)) for k, label in enumerate(SLEEP_CLASS_LABELS)})
    return row


def motion_table(quick: bool, models: ct.DeviceModels) -> list[dict[str, Any]]:
    seeds = (901, 902) if quick else (901, 902, 903, 904)
    by_stage: dict[int, tuple[list, list]] = {k: ([], []) for k in range(3)}
    for seed in seeds:
        night = synthetic_night(hours=8.0, seed=seed, difficulty="moderate")
        epochs, motion, classes = epoch_view(night.accel, models)
        labels = np.asarray(night.sleep_labels)[epochs]
        for stage in range(3):
            by_stage[stage][0].append(motion[labels == stage])
            by_stage[stage][1].append(classes[labels == stage])
    rows = [motion_row(f"night, true {SLEEP_CLASS_LABELS[s]}", *by_stage[s]) for s in range(3)]
    seconds = 900 if quick else 1800
    sessions = [epoch_view(synthetic_session(seconds, seed, None).accel, models) for seed in seeds]
    rows.append(motion_row("resting session", [s[1] for s in sessions], [s[2] for s in sessions]))
    for activity in ("seated", "walking"):
        days = [epoch_view(day_accel(seconds, np.random.default_rng(seed), activity), models) for seed in seeds]
        rows.append(motion_row(f"day, {activity}", [d[1] for d in days], [d[2] for d in days]))
    return rows


def margin_table(quick: bool, limit: int) -> dict[str, Any]:
    seeds = range(MARGIN_SEEDS // 4 if quick else MARGIN_SEEDS)
    levels = {}
    for activity, seconds in (("seated", 1800), ("walking", 600)):
        levels[activity] = np.concatenate([
            ct.motion_levels(accel_twin.derivative(accel_twin.magnitude(
                day_accel(seconds, np.random.default_rng(seed), activity)))) for seed in seeds])  # fmt: skip
    seated, walking = levels["seated"], levels["walking"]
    return {"limit": limit, "seeds": len(seeds), "seated_epochs": int(len(seated)), "walking_epochs": int(len(walking)),
            "seated_p99": float(np.percentile(seated, 99)), "seated_p99_9": float(np.percentile(seated, 99.9)),
            "seated_max": int(seated.max()), "walking_min": int(walking.min()),
            "walking_p1": float(np.percentile(walking, 1)), "walking_p50": float(np.percentile(walking, 50)),
            "seated_blocked": float(np.mean(seated > limit)),
            "walking_passed": float(np.mean(walking <= limit))}  # fmt: skip


def stress_table(quick: bool, models: ct.DeviceModels) -> list[dict[str, Any]]:
    seeds = (902, 903) if quick else (902, 903, 904, 905)
    seconds = 600 if quick else 1200
    threshold = models.consensus.threshold_q15
    weights = np.asarray(models.consensus.weights_q15, dtype=np.int64)
    rows = []
    for level in STRESS_LEVELS:
        feats = []
        for seed in seeds:
            ppg, _ = synthetic_ppg(seconds, PPG_RATE_HZ, seed=seed, stress=level)
            feats += [[int(getattr(s, f)) for f in ct.FEATURES] for s in ppg_chain(ppg, PPG_RATE_HZ, motion=None)[2] if s.valid]
        out = ct.model_outputs(np.asarray(feats, dtype=np.int64), models)
        weighted = (weights @ np.stack([out["p_tree"], out["p_svm"], out["p_nn"]]) + ct.Q15_HALF) >> 15
        unanimous = out["votes"].all(axis=1)
        above = weighted >= threshold
        w_u = weighted[unanimous] / ct.Q15_ONE
        rows.append({"stress": level, "segments": len(feats), "unanimous": float(unanimous.mean()),
                     "above_threshold": float(above.mean()), "both": float((unanimous & above).mean()),
                     "weighted_unanimous_min": float(w_u.min()) if len(w_u) else None,
                     "weighted_unanimous_max": float(w_u.max()) if len(w_u) else None})  # fmt: skip
    return rows


def print_tables(motion: list[dict[str, Any]], margin: dict[str, Any], stress: list[dict[str, Any]],
                 threshold: float) -> None:  # fmt: skip
    print("motion level per 30-s epoch (milli-g) and the sleep CNN's class")
    print(f"{'source':22s} {'epochs':>6s} {'min':>4s} {'p50':>5s} {'p90':>5s} {'p99':>5s} {'max':>4s}"
          "   wake  NREM   REM")
    for r in motion:
        print(f"{r['source']:22s} {r['epochs']:6d} {r['min']:4d} {r['p50']:5.0f} {r['p90']:5.0f} {r['p99']:5.0f} "
              f"{r['max']:4d}   {r['cnn_wake']:.2f}  {r['cnn_NREM']:.2f}  {r['cnn_REM']:.2f}")  # fmt: skip
    m = margin
    print(f"\nmotion limit {m['limit']} on {m['seeds']} people: seated ({m['seated_epochs']} epochs) p99 "
          f"{m['seated_p99']:.0f}, p99.9 {m['seated_p99_9']:.0f}, max {m['seated_max']}, share blocked "
          f"{m['seated_blocked']:.4f}; walking ({m['walking_epochs']} epochs) min {m['walking_min']}, p1 "
          f"{m['walking_p1']:.0f}, p50 {m['walking_p50']:.0f}, "
          f"share let through {m['walking_passed']:.4f}")  # fmt: skip
    print(f"\nstress trio per 60-s segment (alert probability {threshold:.3f})")
    print(f"{'stress':>6s} {'segments':>8s} {'unanimous':>9s} {'>=thr':>6s} {'both':>5s}  weighted of unanimous")
    for r in stress:
        rng = "-" if r["weighted_unanimous_min"] is None else \
            f"{r['weighted_unanimous_min']:.2f} .. {r['weighted_unanimous_max']:.2f}"
        print(f"{r['stress']:6.1f} {r['segments']:8d} {r['unanimous']:9.2f} {r['above_threshold']:6.2f} "
              f"{r['both']:5.2f}  {rng}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two seeds and shorter days (about 15 s)")
    parser.add_argument("--json", action="store_true", help="print the tables as JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    models = ct.DeviceModels.load()
    motion, stress = motion_table(args.quick, models), stress_table(args.quick, models)
    margin = margin_table(args.quick, models.consensus.motion_limit)
    threshold = models.consensus.threshold_q15 / ct.Q15_ONE
    if args.json:
        print(json.dumps({"motion": motion, "margin": margin, "stress": stress, "alert_probability": threshold,
                          "motion_limit": models.consensus.motion_limit}, indent=1))  # fmt: skip
    else:
        print_tables(motion, margin, stress, threshold)
        print(f"\n({time.monotonic() - started:.0f} s; models' motion limit {models.consensus.motion_limit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
