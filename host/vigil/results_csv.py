"""The device's results as CSV for a person or a spreadsheet: one row per 30-s epoch (SLEEP records) and one per
60-s segment (STRESS records), in the units vigil.records.readable_* gives, the raw integers beside them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from vigil.records import SLEEP_CLASS_LABELS, STRESS_MODEL_NAMES, readable_sleep, readable_stress

EPOCH_S, SEGMENT_S = 30, 60
SLEEP_COLUMNS = ("epoch", "start_s", "class", *(f"p_{c}" for c in SLEEP_CLASS_LABELS), "motion_milli_g",
                 "out0", "out1", "out2", "cls")
STRESS_COLUMNS = ("segment", "start_s", *(f"p_stress_{m}" for m in STRESS_MODEL_NAMES), "p_weighted", "decision",
                  "voted_stress", "alert", "conditions_failed", "motion_milli_g", "weighted_q15", "votes", "reasons")


def sleep_rows(records: Iterable[dict[str, int]]) -> list[dict[str, object]]:
    rows = []
    for r in records:
        h = readable_sleep(r)
        rows.append({"epoch": r["epoch"], "start_s": r["epoch"] * EPOCH_S, "class": h["class"],
                     **{f"p_{c}": p for c, p in h["p"].items()}, "motion_milli_g": r["motion"],
                     "out0": r["out0"], "out1": r["out1"], "out2": r["out2"], "cls": r["cls"]})  # fmt: skip
    return rows


def stress_rows(records: Iterable[dict[str, int]]) -> list[dict[str, object]]:
    rows = []
    for r in records:
        h = readable_stress(r)
        rows.append({"segment": r["segment"], "start_s": r["segment"] * SEGMENT_S,
                     **{f"p_stress_{m}": p for m, p in h["p_stress"].items()}, "p_weighted": h["p_weighted"],
                     "decision": h["decision"], "voted_stress": "+".join(h["voted_stress"]), "alert": int(h["alert"]),
                     "conditions_failed": ";".join(h["conditions_failed"]), "motion_milli_g": r["motion"],
                     "weighted_q15": r["weighted_q15"], "votes": r["votes"], "reasons": r["reasons"]})  # fmt: skip
    return rows


def write_results_csv(stem: Path, sleep: Iterable[dict[str, int]], stress: Iterable[dict[str, int]]) -> list[Path]:
    """STEM.sleep.csv and STEM.stress.csv (each only when it has rows); returns the files written."""
    written = []
    for suffix, columns, rows in ((".sleep.csv", SLEEP_COLUMNS, sleep_rows(sleep)),
                                  (".stress.csv", STRESS_COLUMNS, stress_rows(stress))):  # fmt: skip
        if not rows:
            continue
        path = Path(f"{stem}{suffix}")
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        written.append(path)
    return written
