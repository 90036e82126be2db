"""A stress model set on WESAD subjects it never saw, scored as the device would score them: each subject's E4
recording (wrist BVP at 64 Hz and the accelerometer) goes through the whole device twin (``vigil.verify.twin_outputs``:
PPG chain and HRV features, the sleep model for the awake/motion context, the tree, SVM and int8 NN, the weighted
vote, unanimity and the alert), so every verdict is the device's, integer for integer.

    report = evaluate_stress_data(Path("models/stress"), "../unseen_wesad")

What is scored: every 60-s segment inside a Base (relax, 0) or TSST (stress, 1) condition of the subject's
``S<n>_quest.csv`` is a labelled minute. A labelled minute is *classified* when the device sends its STRESS record
with valid features (``coverage`` = classified / labelled); invalid or never-sent minutes are counted, not guessed.
On the classified minutes: per model (its vote) and for the consensus (its decision) ``accuracy``, ``f1``,
``precision``, ``sensitivity``, ``specificity`` (stress is the positive class); ``alerts``: how many minutes raised an
alert, ``precision`` (the share of them inside TSST) and ``sensitivity`` (the share of TSST minutes alerted, of the
labelled ones). Per subject the same counts.

The models: a models folder (``models/``), its ``stress/`` folder, or a ``vigil train stress`` folder (then with the
sleep model of ``models/`` for the context, in a bundle built in a scratch folder as ``vigil export models`` would).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vigil.errors import VigilError
from vigil.ml.metrics import classification_metrics
from vigil.records import REASON_INPUTS

Bars = Callable[[str, int], Callable[[int], None] | None]
MODEL_VOTE_BITS = {"tree": 0, "svm": 1, "nn": 2}  # the STRESS record's ``votes`` bits
METRIC_KEYS = ("accuracy", "f1", "precision", "sensitivity", "specificity")


def _is_bundle(folder: Path) -> bool:
    from vigil.bundle.model_bundle import read_bundle_manifest

    try:
        read_bundle_manifest(folder)
    except (VigilError, OSError, ValueError):
        return False
    return True


def device_models(model_dir: Path, scratch: Path) -> tuple[Any, str]:
    """The device's models for ``model_dir`` and what they are (a bundle, or a training folder beside models/'s
    sleep model)."""
    from vigil.bundle import consensus_twin as ct
    from vigil.bundle import model_bundle as mb

    model_dir = Path(model_dir)
    for folder in (model_dir, model_dir.parent):
        if _is_bundle(folder) and (folder == model_dir or model_dir.name == "stress"):
            return ct.DeviceModels.load(folder), f"bundle {folder}"
    sleep_dir = ct.models_dir() / "sleep"
    mb.write_model_bundle(mb.build_model_bundle(sleep_dir, model_dir), scratch)
    return ct.DeviceModels.load(scratch), f"training folder {model_dir} with the sleep model of {sleep_dir}"


def subject_minutes(subject: Path, models: Any, scratch: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """One subject through the device twin: per labelled minute its label, whether it was classified, each model's
    vote, the consensus decision and the alert; and how the protocol's times were placed (``meta["wesad"]``: the
    sync tap)."""
    from vigil.data.wesad import WESAD_PPG_RATE_HZ, segment_labels, subject_session
    from vigil.verify import twin_outputs

    rec, conditions, offset = subject_session(subject, scratch)
    out = twin_outputs(rec, WESAD_PPG_RATE_HZ, models)
    labels = segment_labels(conditions, len(out.hrv), offset)
    records = {int(r["segment"]): r for r in out.stress}
    segs = np.flatnonzero(labels >= 0)
    rows = [records.get(int(s)) for s in segs]
    # classified: a record whose models had their inputs (valid features; the baseline ready for relative inputs)
    classified = np.array([r is not None and r["reasons"] & REASON_INPUTS == REASON_INPUTS for r in rows], dtype=bool)
    votes = np.array([r["votes"] if r is not None else 0 for r in rows], dtype=np.int64)
    return {
        "labels": labels[segs], "classified": classified,
        **{name: (votes >> bit) & 1 == 1 for name, bit in MODEL_VOTE_BITS.items()},
        "consensus": np.array([bool(r and r["decision"]) for r in rows], dtype=bool),
        "alert": np.array([bool(r and r["alert"]) for r in rows], dtype=bool),
    }, dict(rec.meta.get("wesad", {}))  # fmt: skip


def binary_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    m = classification_metrics(np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64))
    return {**{k: m[k] for k in METRIC_KEYS}, "n": m["n"], "confusion": m["confusion"]}


def alert_metrics(labels: np.ndarray, alert: np.ndarray) -> dict[str, Any]:
    stress = labels == 1
    n = int(alert.sum())
    return {"count": n, "true": int((alert & stress).sum()),
            "precision": float((alert & stress).sum() / n) if n else None,
            "sensitivity": float((alert & stress).sum() / stress.sum()) if stress.any() else None}  # fmt: skip


def pooled_report(minutes: dict[str, np.ndarray]) -> dict[str, Any]:
    labels, ok = minutes["labels"], minutes["classified"]
    labelled = int(len(labels))
    return {
        "minutes_labelled": labelled, "minutes_classified": int(ok.sum()),
        "coverage": float(ok.sum() / labelled) if labelled else None,
        "coverage_by_condition": {name: float(ok[labels == k].mean()) if (labels == k).any() else None
                                  for k, name in ((0, "base"), (1, "tsst"))},
        "models": {name: binary_metrics(labels[ok], minutes[name][ok])
                   for name in (*MODEL_VOTE_BITS, "consensus")},
        "alerts": alert_metrics(labels, minutes["alert"] & ok),
    }  # fmt: skip


def _per_subject(subjects: list[Path], models: Any, scratch: Path,
                 step: Callable[[int], None] | None,
                 ) -> Iterator[tuple[str, dict[str, np.ndarray], dict[str, Any]]]:  # fmt: skip
    for i, subject in enumerate(subjects, start=1):
        yield subject.name, *subject_minutes(subject, models, scratch)
        if step:
            step(i)


def evaluate_stress_data(model_dir: Path, data: str | Path, data_format: str | None = "wesad",
                         progress: Bars | None = None) -> dict[str, Any]:  # fmt: skip
    """Score the stress models of ``model_dir`` on the WESAD subjects under ``data`` (module doc)."""
    if data_format not in (None, "wesad"):
        raise VigilError(f"--from {data_format}: a stress model is scored on WESAD subjects (--from wesad)")
    from vigil.data.wesad import wesad_subject_folders

    started = time.monotonic()
    subjects = wesad_subject_folders(data)
    with tempfile.TemporaryDirectory(prefix="vigil-stress-eval-") as tmp:
        models, what = device_models(Path(model_dir), Path(tmp) / "models")
        step = progress("subjects → device twin", len(subjects)) if progress else None
        per = list(_per_subject(subjects, models, Path(tmp), step))
    pooled = {k: np.concatenate([m[k] for _, m, _ in per]) for k in per[0][1]}
    report = {"data": str(data), "format": "wesad", "models_used": what, "subjects": [name for name, _, _ in per],
              **pooled_report(pooled),
              "per_subject": [{"subject": name, **_subject_summary(m), "sync_tap_s": info.get("sync_tap_s")}
                              for name, m, info in per],
              "seconds": round(time.monotonic() - started, 1)}  # fmt: skip
    return report


def _subject_summary(m: dict[str, np.ndarray]) -> dict[str, Any]:
    r = pooled_report(m)
    consensus = r["models"]["consensus"]
    return {"minutes_labelled": r["minutes_labelled"], "minutes_classified": r["minutes_classified"],
            "coverage": r["coverage"], "consensus_accuracy": consensus["accuracy"] if consensus["n"] else None,
            "alerts": r["alerts"]["count"], "alerts_true": r["alerts"]["true"]}  # fmt: skip
