"""vigil's device features beside a NeuroKit2 pipeline on the same WESAD wrist minutes (issue 13, item 5).

    (NeuroKit2 comes with the test extra, as the PPG benchmark's comparison)
    .venv/bin/python benchmarks/stress_peers.py [--data DIR] [--json | --markdown]

Each subject of ``--data`` (WESAD layout, default ../shared/data/wesad_wrist_train) is read as vigil reads it
(``vigil.data.empatica.load_empatica``: the E4 BVP at 64 Hz, int16 counts); its labelled minutes are the 60-s
segments inside Base (relax, 0) or TSST (stress, 1) of ``S<n>_quest.csv`` (``vigil.data.wesad.segment_labels``), the
same minutes for both pipelines:

* **vigil**: the device twin's PPG chain (``vigil.dsp.ppg.ppg_chain``): its six HRV features (AVHR, AVRR, SDRR,
  RMSSD, pNN50, pNN20) on the minutes its validity flags keep.
* **NeuroKit2**: ``ppg_clean`` (Elgendi) and ``ppg_peaks`` with MSPTDfast (Charlton et al. 2025) and its artifact
  correction (``correct_artifacts=True``, Kubios) on the whole recording; per minute the beats inside it and
  ``hrv_time`` on them (MeanNN, SDNN, RMSSD, pNN50, pNN20, and HR = 60000 / MeanNN); a minute with fewer than
  MIN_BEATS beats is not classified. Frequency-domain HRV needs 2-5 minutes and is left out of 60-s minutes.

Both feature sets go through the same classifiers, scikit-learn's logistic regression (standardized inputs) and a
random forest (200 trees, balanced), leave-one-subject-out, pooled: accuracy, F1, sensitivity, specificity (stress
positive, ``vigil.ml.metrics``) and coverage (classified / labelled minutes). Each is run twice: on the features as
they are, and with each subject's features standardized by that subject's own mean and standard deviation over all
its classified minutes (``per-subject z``). The second is an oracle, not a device method: it looks at the subject's
whole session, future included; it says how much a personal baseline could be worth.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from vigil.data.hrv_csv import FEATURE_NAMES  # noqa: E402
from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session, wesad_subject_folders  # noqa: E402
from vigil.dsp.config import SEGMENT_S  # noqa: E402
from vigil.dsp.accel import wrist_motion  # noqa: E402
from vigil.dsp.ppg import ppg_chain  # noqa: E402
from vigil.ml.metrics import classification_metrics  # noqa: E402

MIN_BEATS = 20  # a minute with fewer beats than this (< 20 bpm) is not classified
NK_FEATURES = ("HR", "HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_pNN20")
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wesad_wrist_train"


def subject_minutes(subject: Path, scratch: Path) -> dict[str, Any]:
    """Labels of the subject's labelled minutes, and per pipeline its features (NaN rows where not classified)."""
    import neurokit2 as nk

    rec, conditions, offset = subject_session(subject, scratch)
    fs = WESAD_PPG_RATE_HZ
    labels = segment_labels(conditions, len(rec.ppg) // (SEGMENT_S * fs), offset)
    minutes = np.flatnonzero(labels >= 0)

    started = time.monotonic()
    _, _, segments = ppg_chain(rec.ppg, fs, motion=wrist_motion(rec.accel))
    vigil = np.full((len(minutes), len(FEATURE_NAMES)), np.nan)
    for i, k in enumerate(minutes):
        if k < len(segments) and segments[k].valid:
            vigil[i] = [getattr(segments[k], name) for name in FEATURE_NAMES]
    vigil_s = time.monotonic() - started

    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = nk.ppg_clean(rec.ppg.astype(np.float64), sampling_rate=fs, method="elgendi")
        _, info = nk.ppg_peaks(cleaned, sampling_rate=fs, method="msptdfast", correct_artifacts=True)
        peaks = np.asarray(info["PPG_Peaks"], dtype=np.int64)
        neurokit = np.full((len(minutes), len(NK_FEATURES)), np.nan)
        for i, k in enumerate(minutes):
            inside = peaks[(peaks >= k * SEGMENT_S * fs) & (peaks < (k + 1) * SEGMENT_S * fs)]
            if len(inside) < MIN_BEATS:
                continue
            hrv = nk.hrv_time(inside - inside[0], sampling_rate=fs)
            row = {"HR": 60000.0 / float(hrv["HRV_MeanNN"].iloc[0]),
                   **{c: float(hrv[c].iloc[0]) for c in NK_FEATURES[1:]}}  # fmt: skip
            neurokit[i] = [row[c] for c in NK_FEATURES]
    nk_s = time.monotonic() - started
    return {"labels": labels[minutes], "vigil": vigil, "neurokit2": neurokit, "seconds": {"vigil": vigil_s,
            "neurokit2": nk_s}}  # fmt: skip


def per_subject_z(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = np.array(x, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        mu, sd = out[rows].mean(axis=0), out[rows].std(axis=0)
        out[rows] = (out[rows] - mu) / np.where(sd > 0, sd, 1.0)
    return out


def loso(x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pred = np.zeros(len(y), dtype=np.int64)
    for g in np.unique(groups):
        test = groups == g
        if kind == "logistic":
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced"))
        else:
            model = RandomForestClassifier(n_estimators=200, min_samples_leaf=2, class_weight="balanced",
                                           random_state=seed, n_jobs=1)  # fmt: skip
        if len(np.unique(y[~test])) < 2:
            pred[test] = int(np.bincount(y[~test]).argmax())
            continue
        model.fit(x[~test], y[~test])
        pred[test] = model.predict(x[test])
    return pred


def rows_for(key: str, name: str, data: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    x = np.concatenate([d[key] for d in data])
    y = np.concatenate([d["labels"] for d in data]).astype(np.int64)
    g = np.concatenate([np.full(len(d["labels"]), i) for i, d in enumerate(data)])
    ok = np.isfinite(x).all(axis=1)
    out = []
    for view in ("as is", "per-subject z (oracle)"):
        xv = x[ok] if view == "as is" else per_subject_z(x[ok], g[ok])
        for kind in ("logistic", "random forest"):
            pred = loso(xv, y[ok], g[ok], kind)
            m = classification_metrics(y[ok], pred)
            per = [float(np.mean(pred[g[ok] == s] == y[ok][g[ok] == s])) for s in np.unique(g[ok])]
            out.append({"pipeline": name, "features": view, "classifier": kind, "subjects": len(np.unique(g[ok])),
                        "labelled": int(len(y)), "classified": int(ok.sum()), "coverage": float(ok.mean()),
                        **{k: float(m[k]) for k in ("accuracy", "f1", "sensitivity", "specificity")},
                        "subject_accuracy_min": min(per), "subject_names": names})  # fmt: skip
    return out


def markdown(report: dict[str, Any]) -> str:
    head = ("| pipeline | features | classifier | coverage | accuracy | F1 | sensitivity | specificity | "
            "worst subject |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    lines = [head]
    for r in report["rows"]:
        lines.append(f"| {r['pipeline']} | {r['features']} | {r['classifier']} | {r['classified']}/{r['labelled']} "
                     f"({r['coverage']:.0%}) | {r['accuracy']:.3f} | {r['f1']:.3f} | {r['sensitivity']:.3f} | "
                     f"{r['specificity']:.3f} | {r['subject_accuracy_min']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="WESAD root (S<n>/ folders).")
    parser.add_argument("--json", action="store_true", help="Everything as JSON.")
    parser.add_argument("--markdown", action="store_true", help="The table as Markdown.")
    args = parser.parse_args(argv)
    try:
        import neurokit2
    except ImportError:
        print("NeuroKit2 is missing: .venv/bin/pip install -e '.[test]'", file=sys.stderr)
        return 2
    started = time.monotonic()
    subjects = wesad_subject_folders(args.data)
    with tempfile.TemporaryDirectory(prefix="vigil-stress-peers-") as scratch:
        data = []
        for s in subjects:
            data.append(subject_minutes(s, Path(scratch)))
            took = {k: round(v, 1) for k, v in data[-1]["seconds"].items()}
            print(f"{s.name}: {len(data[-1]['labels'])} labelled minutes, seconds {took}", file=sys.stderr)
    names = [s.name for s in subjects]
    report = {"data": str(args.data), "subjects": names, "neurokit2": neurokit2.__version__,
              "python": platform.python_version(), "min_beats": MIN_BEATS,
              "seconds": {"total": round(time.monotonic() - started, 1),
                          "vigil_features": round(sum(d["seconds"]["vigil"] for d in data), 1),
                          "neurokit2_features": round(sum(d["seconds"]["neurokit2"] for d in data), 1)},
              "rows": rows_for("vigil", "vigil (device twin)", data, names)
              + rows_for("neurokit2", "NeuroKit2 (MSPTDfast)", data, names)}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(markdown(report))
        print(f"\n{len(names)} subjects, {report['seconds']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
