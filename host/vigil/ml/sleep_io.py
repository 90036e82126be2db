"""The trained sleep CNN on disk (what `vigil train sleep` writes, `vigil evaluate` reads).

Folder layout:

``sleep_cnn.keras``   the float Keras model (input in dB, the normalisation already folded into conv 1).
``sleep_cnn.tflite``  the int8 model the device runs: input (1, 65, 73, 1) int8 in the epoch image's
    quantization (scale 0.5 dB, zero point -128), output (1, 3) int8 softmax probabilities (wake, nrem, rem).
``metrics.json``      ``evaluation``: the held-out-subject report (``vigil.ml.sleep.evaluate_sleep``); and
    ``final_model_on_training_data``: the saved int8 model's own metrics on every training image (TFLM),
    which a reader can recompute from ``sleep_cnn.tflite`` and the data exactly.
``manifest.json``     kind "vigil-sleep-cnn", version, data source (path, or synthetic parameters), settings,
    versions, input / output quantization, class names, counts, and the SHA-256 of every file above.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.errors import VigilError
from vigil.manifest import file_sha256, portable_source, read_folder_manifest
from vigil.ml.sleep import SleepCnn
from vigil.ml.sleep_data import SleepDataset
from vigil.records import SLEEP_CLASS_NAMES

MANIFEST = "manifest.json"
KIND = "vigil-sleep-cnn"
FILES = ("sleep_cnn.keras", "sleep_cnn.tflite", "metrics.json")
#: ``new(description, total)`` -> a per-step callback or None (vigil.console.bars)
Bars = Callable[[str, int], Callable[[int], None] | None]



def save_weights_only_model(model: Any, path: Path) -> None:
    """The float model without its optimizer state: AdamW's two moments would triple the file (6 MB instead of 2),
    and models/ keeps a copy in git. Load it with keras.models.load_model; compile it again to go on training."""
    clean = model.__class__.from_config(model.get_config())  # keras.models.clone_model keeps the compile state
    clean.set_weights(model.get_weights())
    clean.save(path)


def save_sleep_cnn(cnn: SleepCnn, out_dir: Path, dataset: SleepDataset, settings: dict[str, Any],
                   metrics: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Write the folder described in the module doc; returns the manifest."""
    import keras
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_weights_only_model(cnn.keras_model_, out_dir / "sleep_cnn.keras")
    (out_dir / "sleep_cnn.tflite").write_bytes(cnn.tflite_)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    evaluation = metrics["evaluation"]
    manifest = {
        "kind": KIND,
        "version": 1,
        "data": portable_source(dataset.source),
        "epochs_scored": len(dataset),
        "subjects": dataset.subject_names,
        "class_names": list(SLEEP_CLASS_NAMES),
        "class_counts": np.bincount(dataset.labels, minlength=len(SLEEP_CLASS_NAMES)).tolist(),
        "settings": settings,
        "input": {"shape": [1, 65, 73, 1], "dtype": "int8", "layout": "bins x frames (epoch image transposed)",
                  "scale": cnn.input_quant_[0], "zero_point": cnn.input_quant_[1]},  # fmt: skip
        "output": {"shape": [1, len(SLEEP_CLASS_NAMES)], "dtype": "int8", "meaning": "softmax probabilities",
                   "scale": cnn.output_quant_[0], "zero_point": cnn.output_quant_[1],
                   "decision": "argmax of the int8 outputs, lowest index on ties"},  # fmt: skip
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__},
        "files": {name: file_sha256(out_dir / name) for name in FILES},
        "summary": {"protocol": evaluation["protocol"], "accuracy": evaluation["accuracy"],
                    "kappa": evaluation["kappa"], "sleep_wake_auc": evaluation["sleep_wake"]["auc"],
                    "wake_correct_at_90_sleep_correct": evaluation["sleep_wake"]["wake_correct_at_90_sleep_correct"]},
    }  # fmt: skip
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return manifest


def manifest_kind(out_dir: Path) -> str | None:
    """The ``kind`` of ``out_dir/manifest.json``, or None when it is missing or unreadable (the stress reader then
    says what is wrong)."""
    try:
        return json.loads((Path(out_dir) / MANIFEST).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def read_sleep_manifest(out_dir: Path) -> dict[str, Any]:
    return read_folder_manifest(out_dir, KIND, "`vigil train sleep`", MANIFEST)


def train_sleep_source(data: str, out_dir: Path, data_format: str | None = None, subjects: int | None = None,
                       hours: float = 8.0, difficulty: str = "moderate", protocol: str = "lso5",
                       epochs: int | None = None,
                       seed: int = 0, progress: Bars | None = None, arch: str = "seed"
                       ) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """`vigil train sleep`: with ``arch`` "context" the context model (``vigil.ml.sleep_context_io``); else (the seed
    CNN) load ``data`` ("synthetic", a Walch or an ICHI-2014 folder / file), evaluate the sleep
    CNN by held-out subjects (``protocol``), fit the kept model on all subjects and write the folder to ``out_dir``;
    returns (manifest, metrics). ``progress(description, total)`` may return a per-step callback (recordings, folds,
    epochs of the final model)."""
    from vigil.ml.sleep import sleep_folds, train_sleep_cnn
    from vigil.ml.sleep_data import load_sleep_data, recording_count

    if epochs is None:
        from vigil.ml.sleep_context import EPOCHS as CONTEXT_EPOCHS

        epochs = CONTEXT_EPOCHS if arch == "context" else 8
    if epochs < 1 or (subjects is not None and subjects < 1):
        raise VigilError(f"--epochs {epochs} --subjects {subjects}: expected positive numbers")
    if arch == "context":
        from vigil.ml.sleep_context_io import train_context_source

        return train_context_source(data, out_dir, data_format, subjects, hours, difficulty, protocol,
                                    epochs, seed, progress)  # fmt: skip
    new = progress or (lambda description, total: None)
    started = time.monotonic()
    dataset = load_sleep_data(data, data_format, subjects, difficulty, seed, hours,
                              progress=new("recordings → images", recording_count(data, data_format, subjects)))
    n_folds = len(sleep_folds(dataset, protocol, seed))
    cnn, metrics = train_sleep_cnn(dataset, protocol, epochs, seed, fold_progress=new(f"{protocol} folds", n_folds),
                                   epoch_progress=new("final model epochs", epochs))
    settings = {"protocol": protocol, "epochs": epochs, "seed": seed, "seconds": round(time.monotonic() - started, 1)}
    return save_sleep_cnn(cnn, out_dir, dataset, settings, metrics), metrics


def evaluate_sleep_folder(model_dir: Path, protocol: str | None = None, progress: Bars | None = None
                          ) -> tuple[dict[str, Any], int, str]:
    """Re-run ``protocol`` (default: the training's) on the data a `vigil train sleep` folder records; returns
    (evaluate_sleep's report, epochs evaluated, protocol)."""
    from vigil.ml.sleep import evaluate_sleep, sleep_folds
    from vigil.ml.sleep_data import dataset_from_source

    manifest = read_sleep_manifest(model_dir)
    settings = manifest["settings"]
    protocol = protocol or settings["protocol"]
    dataset = dataset_from_source(manifest["data"])
    n_folds = len(sleep_folds(dataset, protocol, settings["seed"]))
    report = evaluate_sleep(dataset, protocol, epochs=settings["epochs"], seed=settings["seed"],
                            progress=progress(f"{protocol} folds", n_folds) if progress else None)
    return report, len(dataset), protocol
