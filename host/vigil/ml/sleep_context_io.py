"""The trained context sleep model on disk (`vigil train sleep --arch context`, the default).

Folder layout:

``sleep_context.keras``   the float Keras model (input: feature codes 0-255, normalisation folded in).
``sleep_context.tflite``  the int8 model the device runs: input (1, 216) int8 (scale 1, zero point -128: the
    device's feature bytes of the last SLEEP_CONTEXT_EPOCHS epochs, oldest first), output (1, 3) int8 softmax
    probabilities (wake, nrem, rem).
``metrics.json``          ``evaluation``: held-out whole subjects (``vigil.ml.sleep_context.evaluate_context``, with
    the van Hees rule and a random forest on the same folds); ``final_model_on_training_data``.
``manifest.json``         kind "vigil-sleep-context": data source, settings (incl. training seconds), the input's
    layout and decision delay, quantization, class names, counts and the SHA-256 of every file above.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.dsp import config
from vigil.manifest import file_sha256, portable_source, read_folder_manifest
from vigil.ml.sleep_context import ContextDataset, SleepContextModel
from vigil.records import SLEEP_CLASS_NAMES

KIND = "vigil-sleep-context"
MANIFEST = "manifest.json"
TFLITE = "sleep_context.tflite"
FILES = ("sleep_context.keras", TFLITE, "metrics.json")
Bars = Callable[[str, int], Callable[[int], None] | None]


def input_description() -> dict[str, Any]:
    """What the model's input is, for the manifest and the firmware (one source: vigil.dsp.config)."""
    rows = config.SLEEP_CONTEXT_EPOCHS
    return {"shape": [1, rows * config.EPOCH_FEATURES], "dtype": "int8", "scale": 1.0, "zero_point": -128,
            "layout": f"{rows} epochs x {config.EPOCH_FEATURES} feature codes (activity, posture change, still "
                      "5-s windows, minutes since start), oldest first; epochs before the start are -128",
            "context_epochs": rows, "delay_epochs": config.SLEEP_CONTEXT_DELAY,
            "features": config.EPOCH_FEATURES}  # fmt: skip


def save_context_model(model: SleepContextModel, out_dir: Path, ds: ContextDataset, settings: dict[str, Any],
                       metrics: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    import keras
    import tensorflow as tf

    from vigil.ml.sleep_io import save_weights_only_model

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_weights_only_model(model.keras_model_, out_dir / "sleep_context.keras")
    (out_dir / TFLITE).write_bytes(model.tflite_)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    ev = metrics["evaluation"]
    manifest = {
        "kind": KIND, "version": 1, "arch": "context", "data": portable_source(ds.source),
        "epochs_scored": len(ds), "subjects": ds.subject_names, "nights": ds.night_names,
        "class_names": list(SLEEP_CLASS_NAMES),
        "class_counts": np.bincount(ds.labels, minlength=len(SLEEP_CLASS_NAMES)).tolist(),
        "settings": settings, "input": input_description(),
        "output": {"shape": [1, len(SLEEP_CLASS_NAMES)], "dtype": "int8", "meaning": "softmax probabilities",
                   "scale": model.output_quant_[0], "zero_point": model.output_quant_[1],
                   "decision": "argmax of the int8 outputs, lowest index on ties"},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__},
        "files": {name: file_sha256(out_dir / name) for name in FILES},
        "summary": {"protocol": ev["protocol"], "accuracy": ev["accuracy"], "kappa": ev["kappa"],
                    "sleep_wake_kappa": ev["sleep_wake"]["kappa"], "sleep_wake_auc": ev["sleep_wake"]["auc"],
                    "wake_correct_at_90_sleep_correct": ev["sleep_wake"]["wake_correct_at_90_sleep_correct"],
                    "tst_error_min_mean": ev["tst_error_min_mean"],
                    "van_hees_kappa": ev["references"]["van_hees_2015"]["kappa"],
                    "random_forest_auc": ev["references"]["random_forest_movement"]["auc"]},
    }  # fmt: skip
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return manifest


def train_context_source(data: str, out_dir: Path, data_format: str | None = None, subjects: int | None = None,
                         hours: float = 8.0, difficulty: str = "moderate", protocol: str = "lso5",
                         epochs: int = 60, seed: int = 0, progress: Bars | None = None,
                         ) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """`vigil train sleep --arch context`: the recordings through the twin, held-out-subject evaluation (with the
    references), the kept model fitted on all subjects, the folder written; returns (manifest, metrics)."""
    from vigil.ml.sleep import sleep_metrics
    from vigil.ml.sleep_context import (AWAKE_DAY_HOURS, awake_day_contexts, context_dataset, context_folds,
                                        evaluate_context, with_awake_days)
    from vigil.ml.sleep_data import recording_count, sleep_recordings

    new = progress or (lambda description, total: None)
    started = time.monotonic()
    source, recordings = sleep_recordings(data, data_format, subjects, difficulty, seed, hours)
    ds = context_dataset(recordings, source, new("recordings → features", recording_count(data, data_format, subjects)))
    n_folds = len(context_folds(ds, protocol, seed))
    days = awake_day_contexts()  # the same awake days in every fold and in the kept model
    evaluation = evaluate_context(ds, protocol, epochs=epochs, seed=seed, progress=new(f"{protocol} folds", n_folds),
                                  days=days)  # fmt: skip
    model = SleepContextModel(epochs=epochs, seed=seed, progress=new("final model epochs", epochs))
    model.fit(*with_awake_days(ds.inputs, ds.labels, ds.subjects, days))
    final = sleep_metrics(ds.labels, model.predict_int8(ds.inputs))
    final.update({"best_epoch": model.best_epoch_, "validation_kappa": model.validation_kappa_})
    metrics = {"evaluation": evaluation, "final_model_on_training_data": final}
    from vigil.dsp.epoch_features import FEATURE_NAMES

    settings = {"arch": "context", "protocol": protocol, "epochs": epochs, "hidden": model.hidden, "seed": seed,
                "ignored_features": [FEATURE_NAMES[f] for f in model.ignored_features],
                "awake_day_hours_per_activity_and_seed": AWAKE_DAY_HOURS,
                "seconds": round(time.monotonic() - started, 1)}  # fmt: skip
    return save_context_model(model, out_dir, ds, settings, metrics), metrics


def read_context_manifest(out_dir: Path) -> dict[str, Any]:
    return read_folder_manifest(out_dir, KIND, "`vigil train sleep`", MANIFEST)

def evaluate_context_folder(model_dir: Path, protocol: str | None = None, progress: Bars | None = None
                            ) -> tuple[dict[str, Any], int, str]:  # fmt: skip
    """Re-run ``protocol`` (default: the training's) on the data a context folder's manifest records."""
    from vigil.ml.sleep_context import context_dataset, context_folds, evaluate_context
    from vigil.ml.sleep_data import source_recordings

    manifest = read_context_manifest(model_dir)
    settings = manifest["settings"]
    protocol = protocol or settings["protocol"]
    ds = context_dataset(source_recordings(manifest["data"]), manifest["data"])
    n_folds = len(context_folds(ds, protocol, settings["seed"]))
    bar = progress(f"{protocol} folds", n_folds) if progress else None
    report = evaluate_context(ds, protocol, hidden=settings["hidden"], epochs=settings["epochs"],
                              seed=settings["seed"], progress=bar)
    return report, len(ds), protocol
