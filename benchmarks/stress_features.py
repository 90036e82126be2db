"""Which HRV features help the stress trio on people it never met (issue 13, item 3): leave-one-subject-out on WESAD.

    .venv/bin/python benchmarks/stress_features.py [--data DIR] [--sets NAME,...] [--json | --markdown]

Each subject of ``--data`` (WESAD layout, default ../shared/data/wesad_wrist_train) is read as ``vigil train stress
--from wesad`` reads it (``vigil.data.wesad.subject_session``: E4 BVP at 64 Hz, protocol times from the sync tap). Its
minutes go through the device twin's PPG chain (``vigil.dsp.ppg.ppg_chain``), which gives, per valid 60-s segment, the
proposal's six features and the ones beyond them that the HRV record carries (``vigil.dsp.config.HRV_EXTRA_FEATURES``:
Poincaré SD1/SD2, pulse amplitude, LF, HF and LF/HF over the last 4 minutes), plus the accelerometer's motion level
(the larger of the segment's two 30-s epochs, ``vigil.dsp.accel.wrist_motion``'s epochs: what gates the alert).

Every column is taken relative to the wearer's own causal baseline, with the device's rule
(``vigil.dsp.hrv_baseline.baseline_relative``: feature minus the median of the last 120 valid, still segments before
it, ready after 10), as the committed trio reads the six. The rows of every feature set are the same minutes:
labelled Base (0) or TSST (1), valid, baseline ready. The spectrum needs 4 minutes mostly covered by accepted beats,
which the wrist rarely gives during TSST: where it is not ready its relative columns are 0 ("as usual"), as a device
would have to feed them, and the report gives how often it was ready per condition. Each set trains vigil's own trio
(``vigil.ml.stress.fit_stress_trio`` leaving one subject out at a time: decision tree, SVM, int8 NN, weighted soft
vote) and reports pooled accuracy and sensitivity per model and for the consensus, and the alert (all three say
stress, weighted P(stress) >= the committed threshold, motion <= the committed limit, and the three said stress in
one of the committed look back's minutes before as well; "awake" taken as true), beside the alert of single minutes
(no look back).

The features are integers computed by the twin, so the figures are the device's; only which columns the models read
changes. Takes about 2 minutes on 2 cores (NN training dominates).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session, wesad_subject_folders  # noqa: E402
from vigil.dsp.accel import wrist_motion  # noqa: E402
from vigil.dsp.config import HRV_EXTRA_FEATURES, HRV_FEATURES  # noqa: E402
from vigil.dsp.hrv_baseline import baseline_relative, segments_still  # noqa: E402
from vigil.dsp.ppg import ppg_chain  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wesad_wrist_train"
COLUMNS = (*HRV_FEATURES, *HRV_EXTRA_FEATURES, "motion")
SIX = list(HRV_FEATURES)
SPECTRUM = ("lf", "hf", "lfhf")
#: name -> the columns the models read ("six": the proposal's avhr .. pnn20)
FEATURE_SETS: dict[str, list[str]] = {
    "six": SIX,
    "six+poincare": [*SIX, "sd1", "sd2"],
    "six+pamp": [*SIX, "pamp"],
    "six+spectrum": [*SIX, "lf", "hf", "lfhf"],
    "six+motion": [*SIX, "motion"],
    "all": list(COLUMNS),
}


def subject_rows(subject: Path, scratch: Path) -> dict[str, Any]:
    """The subject's usable minutes (labelled, valid, baseline ready): relative features (m, len(COLUMNS)), labels
    (m,), and whether each minute's spectrum was ready."""
    rec, conditions, offset = subject_session(subject, scratch)
    wrist = wrist_motion(rec.accel)
    motion = wrist.epochs
    _, _, segments = ppg_chain(rec.ppg, WESAD_PPG_RATE_HZ, motion=wrist)
    labels = segment_labels(conditions, len(segments), offset)
    per_segment = np.zeros(len(segments), dtype=np.int64)
    for k in range(len(segments)):
        epochs = motion[2 * k : 2 * k + 2]
        per_segment[k] = int(epochs.max()) if len(epochs) == 2 else -1
    values = np.array([[getattr(s, c) for c in COLUMNS[:-1]] for s in segments], dtype=np.int64)
    values = np.concatenate([values.reshape(len(segments), -1), per_segment[:, None]], axis=1)
    valid = np.array([bool(s.valid) for s in segments])
    spectrum = np.array([bool(s.spectrum_ready) for s in segments])
    still = segments_still(len(segments), motion)
    _, ready, rel = baseline_relative(values, valid, still)
    # the spectrum's columns against the minutes whose spectrum was ready; 0 ("as usual") where it is not
    spectral = [COLUMNS.index(c) for c in SPECTRUM]
    _, spectrum_baseline, rel_spectrum = baseline_relative(values[:, spectral], valid & spectrum, still)
    rel[:, spectral] = np.where((spectrum & spectrum_baseline)[:, None], rel_spectrum, 0)
    keep = valid & ready & (labels >= 0) & (per_segment >= 0)
    return {"features": rel[keep], "labels": labels[keep], "spectrum_ready": spectrum[keep],
            "motion": per_segment[keep], "segments": np.flatnonzero(keep), "labelled": int(np.sum(labels >= 0))}


def sustained(segments: np.ndarray, evidence: np.ndarray, lookback: int) -> np.ndarray:
    """Per row of one subject (segments increasing): the device's SUSTAINED bit (``consensus_twin.AlertMemory``).
    Rows not kept (invalid, baseline not ready, unlabelled) had no evidence on the device either."""
    from vigil.bundle.consensus_twin import AlertMemory

    memory = AlertMemory()
    return np.array([memory.sustained(lookback, int(s), bool(e)) for s, e in zip(segments, evidence)], dtype=bool)


def loso_trio(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, motion: np.ndarray,
              segments: np.ndarray) -> dict[str, np.ndarray]:  # fmt: skip
    """Out-of-subject predictions of each model, the consensus and the alert: for each subject, vigil's trio trained
    on the others (``fit_stress_trio``, the weights chosen on held-out training subjects, as ``evaluate_stress``'s
    loso). The alert is the device's rule (``consensus_twin``) with the sleep model's "awake" taken as true: all three
    say stress, weighted P(stress) >= the committed threshold, motion level of the segment <= the committed limit, and
    the evidence sustained (``alert``); ``alert_single``: the same without the look back."""
    from vigil.bundle.model_bundle import ConsensusSettings
    from vigil.ml.stress import REPORTED, consensus_proba, fit_stress_trio, unanimous_stress

    settings = ConsensusSettings()
    preds = {k: np.full(len(labels), -1, dtype=np.int64) for k in (*REPORTED, "alert", "alert_single")}
    # per row, for benchmarks/stress_unseen_sets.py: the weighted P(stress) and the decision threshold its fold learnt
    preds["weighted"] = np.full(len(labels), np.nan)
    preds["threshold"] = np.full(len(labels), np.nan)
    for i, g in enumerate(np.unique(groups)):
        test = groups == g
        trio = fit_stress_trio(features[~test], labels[~test], groups[~test], seed=i)
        for k, v in trio.predict(features[test]).items():
            if k in preds:
                preds[k][test] = v
        p = trio.probabilities(features[test])
        weighted = consensus_proba(p, trio.weights)[:, 1]
        preds["weighted"][test], preds["threshold"][test] = weighted, trio.threshold
        evidence = unanimous_stress(p) & (weighted >= settings.alert_probability)
        preds["alert_single"][test] = evidence & (motion[test] <= settings.motion_limit)
        preds["alert"][test] = preds["alert_single"][test] & sustained(segments[test], evidence,
                                                                       settings.sustain_lookback)
    return preds


def alert_summary(alert: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    true_alerts = int((alert & (labels == 1)).sum())
    return {"count": int(alert.sum()), "true": true_alerts,
            "precision": round(true_alerts / max(int(alert.sum()), 1), 3),
            "sensitivity": round(true_alerts / max(int((labels == 1).sum()), 1), 3),
            "subjects_alerted_in_tsst": int(len(np.unique(groups[alert & (labels == 1)])))}  # fmt: skip


def evaluate_sets(data: list[dict[str, Any]], sets: dict[str, list[str]]) -> list[dict[str, Any]]:
    from vigil.ml.metrics import classification_metrics

    features = np.concatenate([d["features"] for d in data])
    labels = np.concatenate([d["labels"] for d in data])
    motion = np.concatenate([d["motion"] for d in data])
    groups = np.concatenate([np.full(len(d["labels"]), g) for g, d in enumerate(data)])
    segments = np.concatenate([d["segments"] for d in data])
    rows = []
    for name, cols in sets.items():
        started = time.monotonic()
        preds = loso_trio(features[:, [COLUMNS.index(c) for c in cols]], labels, groups, motion, segments)
        alerts = {k: alert_summary(preds.pop(k).astype(bool), labels, groups) for k in ("alert", "alert_single")}
        preds.pop("weighted"), preds.pop("threshold")
        scores = {k: classification_metrics(labels, p) for k, p in preds.items()}
        rows.append({"set": name, "columns": cols, "minutes": len(labels),
                     "seconds": round(time.monotonic() - started, 1),
                     **{k: {m: round(float(v[m]), 3) for m in ("accuracy", "sensitivity", "specificity")}
                        for k, v in scores.items()},
                     "alerts": alerts["alert"], "alerts_single_minute": alerts["alert_single"]})  # fmt: skip
        print(f"{name}: consensus {scores['consensus']['accuracy']:.3f}", file=sys.stderr)
    return rows


def markdown(report: dict[str, Any]) -> str:
    first = report["rows"][0]
    models = [k for k in first if isinstance(first[k], dict) and not k.startswith("alerts")]
    lines = ["| features (relative to the wearer) | " + " | ".join(models)
             + " | consensus sensitivity | alerts (in TSST) | alert precision | subjects alerted in TSST "
             "| single-minute alerts (in TSST), precision |",
             "|---|" + "---|" * (len(models) + 5)]  # fmt: skip
    for r in report["rows"]:
        cells = " | ".join(f"{r[m]['accuracy']:.3f}" for m in models)
        a, one = r["alerts"], r["alerts_single_minute"]
        lines.append(f"| {r['set']}: {', '.join(r['columns'][len(SIX):]) or 'avhr .. pnn20'} | {cells} | "
                     f"{r['consensus']['sensitivity']:.3f} | {a['count']} ({a['true']}) | {a['precision']:.3f} | "
                     f"{a['subjects_alerted_in_tsst']} of {len(report['subjects'])} | "
                     f"{one['count']} ({one['true']}), {one['precision']:.3f} |")
    lines.append(f"\n{report['minutes']} minutes of {report['labelled']} labelled, {len(report['subjects'])} subjects "
                 f"left out one at a time; spectrum ready in {report['spectrum_ready_share']} of the minutes; "
                 f"{report['seconds']} s.")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WESAD root (S<n>/ folders).")
    parser.add_argument("--sets", default=",".join(FEATURE_SETS),
                        help="Comma-separated feature sets to compare (default: all of them).")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="Everything as JSON.")
    parser.add_argument("--markdown", action="store_true", help="The table as Markdown (the default output).")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in FEATURE_SETS]
    if unknown:
        print(f"--sets: unknown {unknown}; expected some of {list(FEATURE_SETS)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    subjects = wesad_subject_folders(args.data)
    with tempfile.TemporaryDirectory(prefix="vigil-stress-features-") as scratch:
        data = [subject_rows(s, Path(scratch)) for s in subjects]
    rows = evaluate_sets(data, {s: FEATURE_SETS[s] for s in chosen})
    labels = np.concatenate([d["labels"] for d in data])
    spectrum = np.concatenate([d["spectrum_ready"] for d in data])
    ready_share = {name: round(float(spectrum[labels == y].mean()), 3) for y, name in ((0, "base"), (1, "tsst"))}
    report = {"data": str(args.data), "subjects": [s.name for s in subjects], "python": platform.python_version(),
              "spectrum_ready_share": ready_share,
              "minutes": int(sum(len(d["labels"]) for d in data)), "labelled": int(sum(d["labelled"] for d in data)),
              "seconds": round(time.monotonic() - started, 1), "rows": rows}  # fmt: skip
    print(json.dumps(report, indent=1) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
