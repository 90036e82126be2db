"""How much one set of unseen people can move the stress check (issue 13): the spread of its bars over subject sets.

    .venv/bin/python benchmarks/stress_unseen_sets.py [--data DIR] [--set-size 5] [--json]

The issue scores the committed trio on five WESAD subjects it never saw: consensus accuracy >= 0.90 with sensitivity
>= 0.85, alert precision >= 0.95. Which five decides a lot. Every subject of ``--data`` (default
../shared/data/wesad_wrist_train) is scored by vigil's trio trained on all the others (leave one subject out, the
committed recipe: the six features relative to the wearer's baseline, ``benchmarks/stress_features.py``'s rows), and
then every set of ``--set-size`` subjects is taken as "the unseen ones": the report gives the median, 10th percentile
and lowest of each figure over the sets, how many sets meet the bars, and each subject's own figures.

Two consensus decision rules are compared on the same predictions:
- ``learnt_threshold``: the device's rule, weighted P(stress) above the threshold the trio learnt on the validation
  subjects ``vigil.ml.stress.fit_stress_trio`` holds out for its weights (``choose_threshold``: best balanced accuracy
  on 0.20-0.60; nothing of the left-out subject is seen);
- ``at_0.5``: weighted P(stress) > 0.5, the rule before the trio learnt its threshold.

The alert is the device's (``stress_features.loso_trio``'s rule, the sleep model's "awake" taken as true) and does not
depend on the decision rule. Takes about 30 s on 2 cores (one trio per left-out subject).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "host"))

import stress_features as sf  # noqa: E402

#: The consensus decision rules compared: 0.5 (before the trio learnt its threshold) and the learnt one (the device's).
RULES = ("at_0.5", "learnt_threshold")
#: The issue's bars on unseen subjects.
BARS = {"accuracy": 0.90, "sensitivity": 0.85, "alert_precision": 0.95}


def held_out_predictions(preds: dict[str, np.ndarray], groups: np.ndarray) -> dict[str, Any]:
    """From ``stress_features.loso_trio``'s held-out predictions (one trio per left-out subject, trained once): the
    consensus decision at 0.5 and at the threshold each trio learnt, and those thresholds in subject order."""
    return {"at_0.5": (preds["weighted"] > 0.5).astype(np.int64), "learnt_threshold": preds["consensus"],
            "thresholds": [float(preds["threshold"][groups == g][0]) for g in np.unique(groups)]}  # fmt: skip


def figures(labels: np.ndarray, decisions: np.ndarray, alerts: np.ndarray) -> dict[str, float]:
    alerted = int(alerts.sum())
    return {"accuracy": float(np.mean(decisions == labels)),
            "sensitivity": float(np.mean(decisions[labels == 1] == 1)) if np.any(labels == 1) else float("nan"),
            "specificity": float(np.mean(decisions[labels == 0] == 0)) if np.any(labels == 0) else float("nan"),
            "alert_precision": float((alerts & (labels == 1)).sum() / alerted) if alerted else 1.0}  # fmt: skip


def set_spread(labels: np.ndarray, decisions: np.ndarray, alerts: np.ndarray, groups: np.ndarray,
               set_size: int) -> dict[str, Any]:  # fmt: skip
    """Every set of `set_size` subjects as the unseen ones: each figure's median, 10th percentile and lowest, and
    how many sets meet the bars (accuracy and sensitivity together, and all three)."""
    rows = []
    for subset in itertools.combinations(np.unique(groups), set_size):
        m = np.isin(groups, subset)
        rows.append(figures(labels[m], decisions[m], alerts[m]))
    spread = {k: {"median": round(float(np.median([r[k] for r in rows])), 3),
                  "p10": round(float(np.percentile([r[k] for r in rows], 10)), 3),
                  "lowest": round(float(np.min([r[k] for r in rows])), 3)}
              for k in ("accuracy", "sensitivity", "specificity", "alert_precision")}  # fmt: skip
    both = sum(r["accuracy"] >= BARS["accuracy"] and r["sensitivity"] >= BARS["sensitivity"] for r in rows)
    every = sum(all(r[k] >= v for k, v in BARS.items()) for r in rows)
    return {"sets": len(rows), "meet_accuracy_and_sensitivity": both, "meet_all_bars": every, "spread": spread}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=sf.DEFAULT_DATA, help="WESAD root (S<n>/ folders).")
    parser.add_argument("--set-size", type=int, default=5, help="Subjects per unseen set (default 5, the issue's).")
    parser.add_argument("--json", action="store_true", help="Everything as JSON (default: a short text summary).")
    args = parser.parse_args(argv)
    started = time.monotonic()
    subjects = sf.wesad_subject_folders(args.data)
    if not 1 <= args.set_size < len(subjects):
        print(f"--set-size {args.set_size}: expected 1..{len(subjects) - 1} ({len(subjects)} subjects)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="vigil-stress-unseen-") as scratch:
        data = [sf.subject_rows(s, Path(scratch)) for s in subjects]
    cols = [sf.COLUMNS.index(c) for c in sf.SIX]
    features = np.concatenate([d["features"][:, cols] for d in data])
    labels = np.concatenate([d["labels"] for d in data])
    groups = np.concatenate([np.full(len(d["labels"]), g) for g, d in enumerate(data)])
    motion = np.concatenate([d["motion"] for d in data])
    segments = np.concatenate([d["segments"] for d in data])
    preds = sf.loso_trio(features, labels, groups, motion, segments)
    alerts = preds["alert"].astype(bool)
    held = held_out_predictions(preds, groups)
    report: dict[str, Any] = {"data": str(args.data), "subjects": [s.name for s in subjects], "minutes": len(labels),
                              "set_size": args.set_size, "bars": BARS, "thresholds_chosen": held["thresholds"],
                              "rules": {}, "per_subject": []}  # fmt: skip
    for rule in RULES:
        overall = {k: round(v, 3) for k, v in figures(labels, held[rule], alerts).items()}
        report["rules"][rule] = {"pooled": overall, **set_spread(labels, held[rule], alerts, groups, args.set_size)}
    for g, s in enumerate(subjects):
        m = groups == g
        report["per_subject"].append({"subject": s.name, "minutes": int(m.sum()), "tsst": int(labels[m].sum()),
                                      **{rule: {k: round(v, 3) for k, v in
                                                figures(labels[m], held[rule][m], alerts[m]).items()}
                                         for rule in RULES}})  # fmt: skip
    report["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{len(subjects)} subjects, {len(labels)} minutes; every set of {args.set_size} as the unseen ones")
    for rule, r in report["rules"].items():
        s = r["spread"]
        print(f"{rule}: pooled accuracy {r['pooled']['accuracy']:.3f}, sensitivity {r['pooled']['sensitivity']:.3f}, "
              f"specificity {r['pooled']['specificity']:.3f}; over {r['sets']} sets accuracy median "
              f"{s['accuracy']['median']:.3f} (p10 {s['accuracy']['p10']:.3f}), sensitivity median "
              f"{s['sensitivity']['median']:.3f} (p10 {s['sensitivity']['p10']:.3f}, lowest "
              f"{s['sensitivity']['lowest']:.3f}); {r['meet_accuracy_and_sensitivity']} meet accuracy and sensitivity, "
              f"{r['meet_all_bars']} every bar")  # fmt: skip
    print(f"thresholds the trios learnt: {held['thresholds']}")
    for row in report["per_subject"]:
        a = row["at_0.5"]
        print(f"  {row['subject']}: {row['minutes']} minutes ({row['tsst']} TSST), accuracy {a['accuracy']:.3f}, "
              f"sensitivity {a['sensitivity']:.3f}")  # fmt: skip
    print(f"({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
