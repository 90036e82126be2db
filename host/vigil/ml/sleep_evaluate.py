"""A trained sleep model on recordings it never saw, scored as the device would score them: the DSP twin makes
the model's inputs from the accelerometer (epoch images for the seed CNN, feature contexts for the context model)
and the int8 model runs through TFLM, so every output is the device's, integer for integer.

    report = evaluate_sleep_data("models/sleep", "../unseen_nights", "ichi")

The report: pooled over every scored epoch the model decided, ``vigil.ml.sleep.sleep_metrics`` (``accuracy``,
``kappa``, per class, ``sleep_wake.{accuracy, kappa, auc, wake_correct_at_90_sleep_correct}``); per night the same
figures and ``vigil.ml.night_statistics.paired_statistics`` (total sleep time, sleep efficiency, sleep-onset
latency, WASO and REM latency, predicted vs PSG, errors in minutes); and ``tst_error_min_mean``, the mean absolute
total-sleep-time error per night.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.data.recording import Recording
from vigil.errors import VigilError
from vigil.ml.night_statistics import paired_statistics

Bars = Callable[[str, int], Callable[[int], None] | None]


def sleep_model_kind(model_dir: Path) -> str:
    from vigil.ml.sleep_context_io import KIND as CONTEXT_KIND
    from vigil.ml.sleep_io import KIND as CNN_KIND
    from vigil.ml.sleep_io import manifest_kind

    kind = manifest_kind(model_dir)
    if kind == CONTEXT_KIND:
        return "context"
    if kind == CNN_KIND:
        return "seed"
    raise VigilError(f"{Path(model_dir) / 'manifest.json'}: not a sleep model folder (kind {kind!r}); expected one "
                     "written by `vigil train sleep`")  # fmt: skip


def device_outputs(model_dir: Path, arch: str, rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """The epochs the device decides in ``rec`` (k,) and its int8 outputs for them (k, 3)."""
    if arch == "context":
        from vigil.ml.sleep_context import predict_context_int8, recording_context

        inputs, _ = recording_context(rec)
        tflite = (Path(model_dir) / "sleep_context.tflite").read_bytes()
        return np.arange(len(inputs)), predict_context_int8(tflite, inputs)
    from vigil.export.tflite import tflm_reference
    from vigil.ml.sleep_data import recording_images

    images, _ = recording_images(rec)
    tflite = (Path(model_dir) / "sleep_cnn.tflite").read_bytes()
    outs = tflm_reference(tflite, images[..., None]) if len(images) else np.zeros((0, 3), dtype=np.int8)
    return np.arange(len(images)), np.asarray(outs).reshape(len(images), -1)


def night_report(name: str, subject: str, labels: np.ndarray, epochs: np.ndarray, outputs: np.ndarray
                 ) -> dict[str, Any]:  # fmt: skip
    from vigil.ml.metrics import cohen_kappa, confusion_matrix

    predicted = np.full(len(labels), -1, dtype=np.int64)
    inside = epochs < len(labels)
    predicted[epochs[inside]] = np.argmax(outputs[inside], axis=1)
    scored = (labels >= 0) & (predicted >= 0)
    cm = confusion_matrix(labels[scored], predicted[scored], 3)
    cm2 = confusion_matrix((labels[scored] == 0).astype(np.int64), (predicted[scored] == 0).astype(np.int64), 2)
    return {"night": name, "subject": subject, "epochs_scored": int(scored.sum()),
            "accuracy": float(np.trace(cm) / max(cm.sum(), 1)), "kappa": cohen_kappa(cm),
            "sleep_wake_kappa": cohen_kappa(cm2), **paired_statistics(labels, predicted)}  # fmt: skip


def evaluate_sleep_data(model_dir: Path, data: str, data_format: str | None = None, subjects: int | None = None,
                        progress: Bars | None = None) -> dict[str, Any]:  # fmt: skip
    """The report of the module doc for the model folder ``model_dir`` on ``data`` (a Walch or ICHI folder/file)."""
    from vigil.ml.sleep import sleep_metrics
    from vigil.ml.sleep_data import recording_count, sleep_recordings

    if data == "synthetic":
        raise VigilError("--data synthetic: give recordings the model never saw (a Walch or ICHI folder or file)")
    arch = sleep_model_kind(model_dir)
    started = time.monotonic()
    _, recordings = sleep_recordings(data, data_format, subjects)
    bar = progress("nights", recording_count(data, data_format, subjects)) if progress else None
    labels_all, outputs_all, nights = [], [], []
    for i, (subject, night, rec) in enumerate(recordings):
        labels = rec.epoch_labels().astype(np.int64)
        epochs, outputs = device_outputs(model_dir, arch, rec)
        inside = epochs < len(labels)
        scored = labels[epochs[inside]] >= 0
        labels_all.append(labels[epochs[inside]][scored])
        outputs_all.append(outputs[inside][scored])
        nights.append(night_report(night, subject, labels, epochs, outputs))
        if bar:
            bar(i + 1)
    y = np.concatenate(labels_all) if labels_all else np.zeros(0, dtype=np.int64)
    if len(y) == 0:
        raise VigilError(f"{data}: no scored epoch that the model decided; expected recordings with sleep labels")
    report = sleep_metrics(y, np.concatenate(outputs_all))
    tst_errors = [abs(n["errors"]["tst_error_min"]) for n in nights if n["errors"]["tst_error_min"] is not None]
    return {"model": str(model_dir), "arch": arch, "data": str(data), "nights": len(nights),
            "seconds": round(time.monotonic() - started, 1), **report,
            "tst_error_min_mean": float(np.mean(tst_errors)) if tst_errors else None, "per_night": nights}  # fmt: skip
