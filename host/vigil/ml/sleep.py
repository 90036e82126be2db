"""The sleep CNN: trained on the device's int8 epoch images, exported to the int8 model the device runs,
evaluated through that int8 model (TFLM's reference kernels), by held-out subjects.

    cnn = SleepCnn(epochs=8, seed=0).fit(ds.images, ds.labels)   # Keras, then int8 .tflite
    cnn.tflite_                                                  # bytes: input quantization = the image's
    report = evaluate_sleep(ds, "loso")                          # metrics of the int8 models on held-out subjects

Input: ``SleepDataset.images`` (n, 65, 73) int8 in the epoch image's quantization (real = 0.5 dB x (q + 128),
``vigil.dsp.config.IMAGE_SCALE_DB`` / ``IMAGE_ZERO_POINT``). Keras trains on those real values (dB; normalised
while training, the normalisation then folded into the first convolution), and the representative set for
quantization spans the full int8 range (two pixels of one image set to -128 and 127, i.e. 0 and 127.5 dB), so
the converter's input quantization is exactly (0.5, -128): the device feeds its image bytes unchanged (in the
(bins, frames) layout, see ``vigil.ml.sleep_data``). ``fit`` checks it and refuses to export otherwise.

Output: softmax probabilities, int8 (scale 1/256, zero point -128). The class is the argmax of the int8
outputs, lowest index on ties (as the device decides), and P(wake) is output 0.

Evaluation (``evaluate_sleep``): leave-subjects-out folds (``SLEEP_PROTOCOLS``: ``loso`` one subject per
fold, ``lso5`` five folds of whole subjects); each fold trains a fresh CNN on the other subjects and
predicts its test subjects with TFLM. Pooled over folds: accuracy, Cohen's kappa, per-class precision /
sensitivity / specificity / F1, the confusion matrix; and sleep / wake (wake = positive): the 2x2 confusion
matrix, accuracy, kappa, AUC of P(wake), and wake correct at 90 % sleep correct (Walch et al. 2019: 93 %
sleep / 59.6 % wake correct for their best model).
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

from vigil.dsp.config import IMAGE_SCALE_DB, IMAGE_ZERO_POINT
from vigil.errors import VigilError
from vigil.records import SLEEP_CLASS_NAMES
from vigil.ml import protocols
from vigil.ml.metrics import (
    classification_metrics,
    cohen_kappa,
    confusion_matrix,
    metrics_from_confusion,
    per_class_metrics,
    positive_correct_at_negative_correct,
    roc_auc,
)
from vigil.ml.sleep_data import SleepDataset

SLEEP_PROTOCOLS: dict[str, int | None] = {"loso": None, "lso5": 5}  # folds (None: one per subject)
EPOCHS = 8
BATCH = 64
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.1  # AdamW: the dense layer (15,312 x 32) overfits a few nights quickly otherwise
CLASS_WEIGHT_POWER = 0.5
VALIDATION_SHARE = 0.2  # of the training subjects, held out to pick the best epoch (by kappa)
# Training sees (dB - INPUT_CENTER_DB) / INPUT_SPREAD_DB (about the images' mean and sd): raw dB (0-127.5)
# leaves every ReLU dead. The affine map is folded into the first convolution afterwards (exactly:
# 'valid' padding, every output sums a whole 3x3 window), so the saved models take dB and the int8 model
# takes the image bytes.
INPUT_CENTER_DB = 24.0
INPUT_SPREAD_DB = 8.0
REPRESENTATIVE_IMAGES = 200
SLEEP_CORRECT = 0.9  # wake correct is reported at this share of sleep epochs correct
IMAGE_QUANT = (IMAGE_SCALE_DB, IMAGE_ZERO_POINT)


def images_db(images: np.ndarray) -> np.ndarray:
    """int8 images (n, 65, 73) -> their real values in dB as the Keras input, float32 (n, 65, 73, 1)."""
    x = np.asarray(images)
    if x.dtype != np.int8 or x.ndim != 3:
        raise VigilError(f"expected int8 epoch images (n, 65, 73), got {x.dtype} {x.shape}")
    return (IMAGE_SCALE_DB * (x.astype(np.float32) - IMAGE_ZERO_POINT))[..., None]


def representative_images(images: np.ndarray, seed: int, count: int = REPRESENTATIVE_IMAGES) -> np.ndarray:
    """A seeded sample of training images (dB), the first one's first and last pixels set to the int8 range's
    ends (0 and 127.5 dB), so calibration sees exactly the image's range and picks its quantization."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(images), size=min(count, len(images)), replace=False)
    rep = images_db(images[rows])
    rep[0].flat[0] = IMAGE_SCALE_DB * (-128 - IMAGE_ZERO_POINT)
    rep[0].flat[-1] = IMAGE_SCALE_DB * (127 - IMAGE_ZERO_POINT)
    return rep


def balanced_class_weight(labels: np.ndarray, n_classes: int = len(SLEEP_CLASS_NAMES),
                          power: float = CLASS_WEIGHT_POWER) -> dict[int, float]:  # fmt: skip
    """(n / (classes x count)) ** power per class present: power 1 is scikit-learn's "balanced"; the default
    CLASS_WEIGHT_POWER softens it (fully balanced weights made held-out subjects' NREM read as wake: wake
    precision 0.32 on synthetic "moderate")."""
    counts = np.bincount(labels, minlength=n_classes)
    return {k: float((len(labels) / (n_classes * c)) ** power) for k, c in enumerate(counts) if c}


class SleepCnn:
    """Scikit-learn-style: ``fit(images, labels[, groups])`` trains ``architectures.sleep_cnn(softmax=True)`` in
    Keras (AdamW, sparse cross-entropy, softened balanced class weights, inputs normalised then the normalisation
    folded into conv 1, best epoch on held-out subjects, seeded) and converts it to int8; ``predict`` /
    ``predict_int8`` / ``predict_proba`` run the int8 model through TFLM. ``progress(epochs_done)`` per epoch."""

    def __init__(self, epochs: int = EPOCHS, batch_size: int = BATCH, learning_rate: float = LEARNING_RATE,
                 seed: int = 0, progress: Callable[[int], None] | None = None) -> None:  # fmt: skip
        self.epochs, self.batch_size, self.learning_rate, self.seed = epochs, batch_size, learning_rate, seed
        self.progress = progress
        self.keras_model_: Any = None
        self.tflite_: bytes = b""
        self.input_quant_: tuple[float, int] = (0.0, 0)
        self.output_quant_: tuple[float, int] = (0.0, 0)
        self.best_epoch_: int = 0
        self.validation_kappa_: float | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> SleepCnn:
        """Train on images X (n, 65, 73) int8 and labels y; with ``groups`` (subject per image, at least two
        subjects) VALIDATION_SHARE of the subjects are held out and the epoch with the best validation kappa is
        kept (``best_epoch_``); otherwise the last epoch."""
        labels = np.asarray(y, dtype=np.int64)
        if len(labels) != len(X) or len(labels) == 0:
            raise VigilError(f"fit: {len(X)} images and {len(labels)} labels; expected as many, at least one")
        if labels.min() < 0 or labels.max() >= len(SLEEP_CLASS_NAMES):
            raise VigilError(f"fit: labels must be 0 wake, 1 NREM, 2 REM; got {sorted(set(labels.tolist()))}")
        x = (images_db(X) - INPUT_CENTER_DB) / INPUT_SPREAD_DB
        val = held_out_subject_rows(groups, len(labels), self.seed)
        self.keras_model_ = self._train(x, labels, val)
        fold_input_scaling(self.keras_model_)
        self.tflite_ = self._export(X)
        return self

    def _train(self, x: np.ndarray, labels: np.ndarray, val: np.ndarray) -> Any:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        from vigil.ml.architectures import sleep_cnn

        keras.utils.set_random_seed(self.seed)
        model = sleep_cnn(softmax=True)
        model.compile(optimizer=keras.optimizers.AdamW(self.learning_rate, weight_decay=WEIGHT_DECAY),
                      loss="sparse_categorical_crossentropy")  # fmt: skip
        fit_rows = ~val
        best = {"kappa": -np.inf, "epoch": self.epochs, "weights": None}
        for epoch in range(self.epochs):
            model.fit(x[fit_rows], labels[fit_rows], epochs=1, batch_size=self.batch_size, shuffle=True, verbose=0,
                      class_weight=balanced_class_weight(labels[fit_rows]))  # fmt: skip
            if val.any():
                pred = np.argmax(keras_outputs(model, x[val]), axis=1)
                kappa = cohen_kappa(confusion_matrix(labels[val], pred, len(SLEEP_CLASS_NAMES)))
                if kappa > best["kappa"]:
                    best = {"kappa": kappa, "epoch": epoch + 1, "weights": model.get_weights()}
            if self.progress:
                self.progress(epoch + 1)
        if best["weights"] is not None:
            model.set_weights(best["weights"])
        self.best_epoch_, self.validation_kappa_ = int(best["epoch"]), float(best["kappa"]) if val.any() else None
        return model

    def _export(self, images: np.ndarray) -> bytes:
        import tensorflow as tf

        from vigil.export.tflite import to_int8_tflite
        from vigil.export.tflite_reader import read_tflite
        from vigil.ml.stress import output_silenced

        tf.get_logger()  # its handler takes stderr now, not the silenced one (which is closed afterwards)
        with output_silenced():
            model = to_int8_tflite(self.keras_model_, representative_images(images, self.seed))
        graph = read_tflite(model, check_ops=False)
        qi, qo = graph.tensors[graph.inputs[0]].quant, graph.tensors[graph.outputs[0]].quant
        assert qi is not None and qo is not None
        self.input_quant_ = (float(qi.scale), int(qi.zero_point))
        self.output_quant_ = (float(qo.scale), int(qo.zero_point))
        if self.input_quant_ != IMAGE_QUANT:  # the device feeds its image bytes unchanged: must be the same
            raise VigilError(f"the int8 model's input quantization {self.input_quant_} differs from the epoch "
                             f"image's {IMAGE_QUANT}; refusing to export it")  # fmt: skip
        return model

    def predict_int8(self, X: np.ndarray) -> np.ndarray:
        """(n, 3) int8 outputs of the int8 model through TFLM: what the device computes."""
        from vigil.export.tflite import tflm_reference

        if not self.tflite_:
            raise VigilError("SleepCnn: not fitted")
        x = np.asarray(X)
        images_db(x[:0])  # dtype and rank check
        return tflm_reference(self.tflite_, x[..., None])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scale, zp = self.output_quant_
        return (self.predict_int8(X).astype(np.float64) - zp) * scale

    def predict(self, X: np.ndarray) -> np.ndarray:
        return device_class(self.predict_int8(X))


def held_out_subject_rows(groups: np.ndarray | None, n: int, seed: int, never: tuple[int, ...] = ()) -> np.ndarray:
    """Rows of VALIDATION_SHARE of the subjects (at least one when there are two or more; none of the groups in
    ``never``), seeded: the held-out subjects that pick a model's best epoch."""
    if groups is None:
        return np.zeros(n, dtype=bool)
    g = np.asarray(groups)
    unique = np.setdiff1d(np.unique(g), never)
    if len(unique) < 2:
        return np.zeros(n, dtype=bool)
    k = max(1, int(round(VALIDATION_SHARE * len(unique))))
    return np.isin(g, np.random.default_rng(seed).permutation(unique)[:k])


def keras_outputs(model: Any, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """The float model's outputs, batch by batch through a direct call: ``model.predict`` retraces for every
    new model and warns about it."""
    return np.concatenate([np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)])


def fold_input_scaling(model: Any, center: float = INPUT_CENTER_DB, spread: float = INPUT_SPREAD_DB) -> None:
    """Make ``model`` (trained on (dB - center) / spread) take dB: w' = w / spread and b' = b - center / spread
    x (sum of w over the 3x3xC window) in its first layer, a 'valid' convolution."""
    conv = model.layers[0]
    if getattr(conv, "padding", None) != "valid":
        raise VigilError("fold_input_scaling: the first layer must be a 'valid' convolution")
    w, b = conv.get_weights()
    conv.set_weights([w / spread, b - (center / spread) * w.sum(axis=(0, 1, 2))])


def device_class(outputs_int8: np.ndarray) -> np.ndarray:
    """The device's decision: argmax of the int8 outputs, lowest index on ties."""
    return np.argmax(np.asarray(outputs_int8), axis=1).astype(np.int64)


def sleep_metrics(labels: np.ndarray, outputs_int8: np.ndarray) -> dict[str, Any]:
    """The report of int8 outputs (n, 3) against labels (n,): see the module doc. P(wake) is output 0."""
    y = np.asarray(labels, dtype=np.int64)
    pred = device_class(outputs_int8)
    cm = confusion_matrix(y, pred, len(SLEEP_CLASS_NAMES))
    is_wake = y == 0
    cm2 = confusion_matrix(is_wake.astype(np.int64), (pred == 0).astype(np.int64), 2)  # [sleep, wake]
    p_wake = np.asarray(outputs_int8)[:, 0].astype(np.float64)
    at = positive_correct_at_negative_correct(is_wake, p_wake, SLEEP_CORRECT)
    return {
        "n": int(len(y)),
        "accuracy": float(np.trace(cm) / max(cm.sum(), 1)),
        "kappa": cohen_kappa(cm),
        "classes": per_class_metrics(cm, SLEEP_CLASS_NAMES),
        "macro": {k: v for k, v in metrics_from_confusion(cm).items() if k != "accuracy"},
        "confusion": cm.tolist(),
        "sleep_wake": {
            "confusion": cm2.tolist(),  # rows / columns: sleep, wake
            **{k: v for k, v in classification_metrics(is_wake, pred == 0).items() if k not in ("confusion", "n")},
            "kappa": cohen_kappa(cm2),
            "auc": roc_auc(is_wake, p_wake),
            "wake_correct_at_90_sleep_correct": at["positive_correct_interpolated"],
            "threshold_rule": {"p_wake_int8_at_least": at["threshold"], "sleep_correct": at["negative_correct"],
                               "wake_correct": at["positive_correct"]},
        },
    }


def sleep_folds(dataset: SleepDataset, protocol: str, seed: int = 0) -> list[protocols.Fold]:
    if protocol not in SLEEP_PROTOCOLS:
        raise VigilError(f"protocol {protocol!r}: expected one of {', '.join(SLEEP_PROTOCOLS)} (held-out subjects)")
    try:
        return protocols.group_folds(dataset.subjects, SLEEP_PROTOCOLS[protocol], seed)
    except ValueError as exc:
        raise VigilError(f"{protocol}: {exc}; use more subjects (--subjects)") from None


def evaluate_sleep(dataset: SleepDataset, protocol: str = "loso", epochs: int = EPOCHS, seed: int = 0,
                   progress: Callable[[int], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Leave-subjects-out: per fold, a SleepCnn fitted on the other subjects predicts the held-out ones through
    TFLM; metrics pooled over all held-out epochs (``sleep_metrics``), plus per fold. ``progress(folds_done)``."""
    fold_list = sleep_folds(dataset, protocol, seed)
    outputs = np.zeros((len(dataset), len(SLEEP_CLASS_NAMES)), dtype=np.int8)
    per_fold = []
    started = time.monotonic()
    for i, fold in enumerate(fold_list):
        cnn = SleepCnn(epochs=epochs, seed=seed + i).fit(dataset.images[fold.train], dataset.labels[fold.train],
                                                         dataset.subjects[fold.train])  # fmt: skip
        outputs[fold.test] = cnn.predict_int8(dataset.images[fold.test])
        y = dataset.labels[fold.test]
        cm = confusion_matrix(y, device_class(outputs[fold.test]), len(SLEEP_CLASS_NAMES))
        per_fold.append({
            "test_subjects": [dataset.subject_names[s] for s in np.unique(dataset.subjects[fold.test])],
            "train": int(len(fold.train)), "test": int(len(fold.test)),
            "accuracy": float(np.trace(cm) / max(cm.sum(), 1)), "kappa": cohen_kappa(cm),
            "best_epoch": cnn.best_epoch_, "validation_kappa": cnn.validation_kappa_,
        })  # fmt: skip
        if progress:
            progress(i + 1)
    report = sleep_metrics(dataset.labels, outputs)
    return {"protocol": protocol, "folds": len(fold_list), "epochs": epochs, "seed": seed,
            "subjects": len(dataset.subject_names), "class_names": list(SLEEP_CLASS_NAMES),
            "class_counts": np.bincount(dataset.labels, minlength=len(SLEEP_CLASS_NAMES)).tolist(),
            "seconds": round(time.monotonic() - started, 1), **report, "per_fold": per_fold}  # fmt: skip


def train_sleep_cnn(dataset: SleepDataset, protocol: str = "lso5", epochs: int = EPOCHS, seed: int = 0,
                    fold_progress: Callable[[int], None] | None = None,
                    epoch_progress: Callable[[int], None] | None = None,
                    ) -> tuple[SleepCnn, dict[str, Any]]:  # fmt: skip
    """Evaluate with ``protocol`` (held-out subjects), then fit the model to keep on all of the data. Returns it
    and metrics: ``evaluation`` and ``final_model_on_training_data`` (the kept int8 model through TFLM on every
    image it was trained or validated on: optimistic, and recomputable from the saved .tflite)."""
    evaluation = evaluate_sleep(dataset, protocol, epochs=epochs, seed=seed, progress=fold_progress)
    cnn = SleepCnn(epochs=epochs, seed=seed, progress=epoch_progress)
    cnn.fit(dataset.images, dataset.labels, dataset.subjects)
    final = sleep_metrics(dataset.labels, cnn.predict_int8(dataset.images))
    final.update({"best_epoch": cnn.best_epoch_, "validation_kappa": cnn.validation_kappa_})
    return cnn, {"evaluation": evaluation, "final_model_on_training_data": final}
