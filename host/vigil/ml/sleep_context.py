"""The context sleep model: what the device decides from the last 27 minutes of movement and posture.

    ds = context_dataset(load_sleep_recordings("../shared/data/ichi2014_train", "ichi"))
    model = SleepContextModel(seed=0).fit(ds.inputs, ds.labels, ds.subjects)   # Keras, then int8 .tflite
    model.predict_int8(ds.inputs)                                             # TFLM: what the device outputs
    report = evaluate_context(ds, "lso5")        # held-out whole subjects, with van Hees and a random forest

Why not the seed's CNN: on real sleep-lab nights a still, awake patient looks asleep to a 92-s spectrogram (held-out
sleep/wake AUC about 0.6). What tells them apart is the night around the epoch: how long the wrist has been still,
whether its posture changed, how far into the recording it is. So per 30-s epoch the device computes four integer
features (``vigil.dsp.epoch_features``: activity, posture change, still 5-s windows, minutes since the start), keeps
the last ``SLEEP_CONTEXT_EPOCHS`` of them, and a small int8 network decides the epoch ``SLEEP_CONTEXT_DELAY`` epochs
back (a fixed 3-minute decision delay: it sees 47 epochs before the epoch, the epoch and 6 after).

Input: (n, 216) int8, the feature codes minus 128 (real value = code, scale 1, zero point -128), rows oldest
first. Keras trains on (code - mean) / sd; the normalisation is folded into the first dense layer afterwards
(exactly: an affine map before a dense layer is a dense layer), so the int8 model takes the device's bytes.
The representative set holds codes 0 and 255, so the converter picks exactly that input quantization; ``fit``
checks it. Output: softmax probabilities (wake, NREM, REM), int8 (1/256, -128); the class is the first argmax.

The network is small on purpose (``HIDDEN`` = 8 ReLU units, L2): with a few dozen nights a wider one learns the
nights, not sleep. Not smaller: held out by night, multinomial logistic regression on these inputs scored a little
higher on the lab's nights (sleep/wake kappa 0.41 vs 0.37) but has one slope per input, and walking or desk work,
which no lab night holds, fell on its REM/NREM side; with 8 units and half an hour per activity and seed of
synthetic awake days in every training set (``AWAKE_DAY_HOURS``), days stay awake (tests/test_synthetic_day.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from vigil.data.recording import LABEL_UNSCORED, Recording
from vigil.errors import VigilError
from vigil.ml import protocols
from vigil.ml.metrics import cohen_kappa, confusion_matrix
from vigil.ml.sleep import balanced_class_weight, held_out_subject_rows, sleep_metrics
from vigil.records import SLEEP_CLASS_NAMES

CONTEXT_PROTOCOLS: dict[str, int | None] = {"loso": None, "lso5": 5}
HIDDEN = 8
EPOCHS = 60
BATCH = 256
LEARNING_RATE = 2e-3
L2 = 1e-3
CLASS_WEIGHT_POWER = 0.5
INPUT_QUANT = (1.0, -128)
CODE_MAX = 255
#: Awake days added to every training set as wake (never to a test fold): sleep-lab nights hold no walking and no
#: desk work, and a linear model extrapolates anywhere outside them (without these, a synthetic walking hour read
#: as NREM). Synthetic (vigil.data.synthetic_day), seeded, per activity.
AWAKE_DAY_HOURS = 0.5
AWAKE_DAY_SEEDS = (0, 1)
AWAKE_DAY_ACTIVITIES: tuple[str, ...] = ("seated", "walking")
AWAKE_GROUP = -1  # their group: never held out for validation
#: Feature codes per epoch the default model leaves out (their weights are exactly zero): the elapsed minutes.
#: Held out by night they changed nothing (sleep/wake kappa 0.401 without, 0.403 with; 3-class 0.331 vs 0.306),
#: and a model that learns "late in the recording = asleep" from lab nights calls a device worn all day asleep
#: after a few hours of sitting.
ELAPSED_FEATURE = 3  # vigil.dsp.epoch_features.FEATURE_NAMES[3]: "elapsed_min"
IGNORED_FEATURES: tuple[int, ...] = (ELAPSED_FEATURE,)
N_CLASSES = len(SLEEP_CLASS_NAMES)


@dataclass
class ContextDataset:
    """Scored decided epochs of several nights: the device's context inputs, PSG labels and, on the same epochs,
    the references' inputs (``vigil.ml.sleep_references``)."""

    inputs: np.ndarray  # (n, 216) int8
    labels: np.ndarray  # (n,) int64 0 wake, 1 NREM, 2 REM
    subjects: np.ndarray  # (n,) index into subject_names
    nights: np.ndarray  # (n,) index into night_names
    epochs: np.ndarray  # (n,) the decided epoch within its night
    movement: np.ndarray  # (n, 7) float32 movement features of the epoch (random-forest reference)
    van_hees_asleep: np.ndarray  # (n,) bool
    subject_names: list[str]
    night_names: list[str]
    source: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)


def recording_context(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Every decided epoch of ``rec`` as the device forms it: (k, 216) int8 context inputs (row t decides epoch t)
    and each epoch's label (k,) int8, -1 where unscored."""
    from vigil.dsp.epoch_features import context_inputs, epoch_features

    inputs = context_inputs(epoch_features(rec.accel))
    labels = rec.epoch_labels()
    k = min(len(inputs), len(labels))
    return np.ascontiguousarray(inputs[:k]), labels[:k]


def context_dataset(recordings: Iterable[tuple[str, str, Recording]], source: dict[str, Any],
                    progress: Callable[[int], None] | None = None) -> ContextDataset:  # fmt: skip
    """(subject, night, recording) triples -> the scored decided epochs of all, through the twin."""
    from vigil.ml.sleep_references import movement_features, van_hees_sleep

    subjects: list[str] = []
    nights: list[str] = []
    parts: list[dict[str, np.ndarray]] = []
    for i, (subject, night, rec) in enumerate(recordings):
        inputs, labels = recording_context(rec)
        keep = np.flatnonzero(labels != LABEL_UNSCORED)
        if subject not in subjects:
            subjects.append(subject)
        nights.append(night)
        parts.append({"inputs": inputs[keep], "labels": labels[keep].astype(np.int64), "epochs": keep,
                      "movement": movement_features(rec.accel, len(labels))[keep],
                      "van_hees": van_hees_sleep(rec.accel, len(labels))[keep],
                      "subjects": np.full(len(keep), subjects.index(subject)),
                      "nights": np.full(len(keep), i)})  # fmt: skip
        if progress:
            progress(i + 1)
    if not parts or sum(len(p["labels"]) for p in parts) == 0:
        raise VigilError(f"{source.get('path', source.get('kind'))}: no scored epochs; a sleep dataset needs "
                         "recordings with sleep labels (0 wake, 1 NREM, 2 REM)")  # fmt: skip
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return ContextDataset(cat["inputs"], cat["labels"], cat["subjects"].astype(np.int64),
                          cat["nights"].astype(np.int64), cat["epochs"].astype(np.int64), cat["movement"],
                          cat["van_hees"], subjects, nights, source)  # fmt: skip


def awake_day_contexts(hours: float = AWAKE_DAY_HOURS, seeds: tuple[int, ...] = AWAKE_DAY_SEEDS
                       ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Context inputs of synthetic awake days (every activity of vigil.data.synthetic_day, each seed), all wake."""
    from vigil.data.synthetic_day import synthetic_day
    from vigil.dsp.epoch_features import context_inputs, epoch_features

    if hours <= 0 or not seeds:
        return np.zeros((0, 0), dtype=np.int8), np.zeros(0, dtype=np.int64)
    parts = [context_inputs(epoch_features(synthetic_day(hours * 3600.0, seed, activity, ppg_rate_hz=None).accel))
             for activity in AWAKE_DAY_ACTIVITIES for seed in seeds]  # fmt: skip
    inputs = np.concatenate(parts)
    return inputs, np.zeros(len(inputs), dtype=np.int64)


def with_awake_days(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None, days: tuple[np.ndarray, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
    """The training set with the awake days appended (group AWAKE_GROUP)."""
    if len(days[1]) == 0:
        return x, y, groups
    g = None if groups is None else np.concatenate([groups, np.full(len(days[1]), AWAKE_GROUP)])
    return np.concatenate([x, days[0]]), np.concatenate([y, days[1]]), g


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """The seed CNN's softened balanced weights (``vigil.ml.sleep.balanced_class_weight``) at CLASS_WEIGHT_POWER."""
    return balanced_class_weight(labels, N_CLASSES, CLASS_WEIGHT_POWER)


class SleepContextModel:
    """Scikit-learn-style: ``fit(inputs, labels[, groups])`` trains the network of the module doc in Keras (Adam,
    L2, softened balanced class weights, best epoch by 3-class kappa on held-out subjects, seeded) and converts it
    to int8; ``predict_int8`` / ``predict_proba`` / ``predict`` run the int8 model through TFLM."""

    def __init__(self, hidden: int = HIDDEN, epochs: int = EPOCHS, seed: int = 0,
                 progress: Callable[[int], None] | None = None,
                 ignored_features: tuple[int, ...] = IGNORED_FEATURES) -> None:  # fmt: skip
        self.hidden, self.epochs, self.seed, self.progress = hidden, epochs, seed, progress
        self.ignored_features = ignored_features
        self.keras_model_: Any = None
        self.tflite_: bytes = b""
        self.input_quant_: tuple[float, int] = (0.0, 0)
        self.output_quant_: tuple[float, int] = (0.0, 0)
        self.best_epoch_ = 0
        self.validation_kappa_: float | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None) -> SleepContextModel:
        x = np.asarray(X)
        labels = np.asarray(y, dtype=np.int64)
        if x.dtype != np.int8 or x.ndim != 2 or len(x) != len(labels) or len(labels) == 0:
            raise VigilError(f"fit: expected int8 context inputs (n, features) and n labels; got {x.dtype} "
                             f"{x.shape} and {labels.shape}")  # fmt: skip
        if labels.min() < 0 or labels.max() >= N_CLASSES or len(np.unique(labels)) < 2:
            raise VigilError(f"fit: labels must be 0 wake, 1 NREM, 2 REM, at least two of them; got "
                             f"{sorted(set(labels.tolist()))}")  # fmt: skip
        codes = x.astype(np.float32) - INPUT_QUANT[1]
        mean, sd = codes.mean(axis=0), codes.std(axis=0) + 1.0  # +1: a constant column stays finite
        ignored = ignored_columns(x.shape[1], self.ignored_features)
        normalised = (codes - mean) / sd
        normalised[:, ignored] = 0.0
        val = held_out_subject_rows(groups, len(labels), self.seed, never=(AWAKE_GROUP,))
        self.keras_model_ = self._train(normalised, labels, val)
        first = self.keras_model_.layers[0]
        w, b = first.get_weights()
        w[ignored] = 0.0  # exactly: the int8 model's output cannot depend on these inputs
        first.set_weights([w, b])
        fold_normalisation(self.keras_model_, mean, sd)
        self.tflite_ = self._export(codes)
        return self

    def _train(self, x: np.ndarray, labels: np.ndarray, val: np.ndarray) -> Any:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        keras.utils.set_random_seed(self.seed)
        model = context_network(x.shape[1], self.hidden)
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy")
        fit_rows = ~val
        best: dict[str, Any] = {"kappa": -np.inf, "epoch": self.epochs, "weights": None}
        for epoch in range(self.epochs):
            model.fit(x[fit_rows], labels[fit_rows], epochs=1, batch_size=BATCH, shuffle=True, verbose=0,
                      class_weight=class_weights(labels[fit_rows]))  # fmt: skip
            if val.any():
                pred = np.argmax(np.asarray(model(x[val], training=False)), axis=1)
                kappa = cohen_kappa(confusion_matrix(labels[val], pred, N_CLASSES))
                if kappa > best["kappa"]:
                    best = {"kappa": kappa, "epoch": epoch + 1, "weights": model.get_weights()}
            if self.progress:
                self.progress(epoch + 1)
        if best["weights"] is not None:
            model.set_weights(best["weights"])
        self.best_epoch_ = int(best["epoch"])
        self.validation_kappa_ = float(best["kappa"]) if val.any() else None
        return model

    def _export(self, codes: np.ndarray) -> bytes:
        from vigil.export.tflite import to_int8_tflite
        from vigil.export.tflite_reader import read_tflite
        from vigil.ml.stress import output_silenced

        rng = np.random.default_rng(self.seed)
        rep = codes[rng.choice(len(codes), size=min(200, len(codes)), replace=False)].copy()
        rep[0, 0], rep[0, -1] = 0.0, float(CODE_MAX)  # the int8 range's ends: pins scale 1, zero point -128
        with output_silenced():
            model = to_int8_tflite(self.keras_model_, rep)
        graph = read_tflite(model, check_ops=False)
        qi, qo = graph.tensors[graph.inputs[0]].quant, graph.tensors[graph.outputs[0]].quant
        assert qi is not None and qo is not None
        self.input_quant_ = (float(qi.scale), int(qi.zero_point))
        self.output_quant_ = (float(qo.scale), int(qo.zero_point))
        if self.input_quant_ != INPUT_QUANT:
            raise VigilError(f"the int8 model's input quantization {self.input_quant_} differs from the feature "
                             f"codes' {INPUT_QUANT}; refusing to export it")  # fmt: skip
        return model

    def predict_int8(self, X: np.ndarray) -> np.ndarray:
        """(n, 3) int8 outputs of the int8 model through TFLM: what the device computes."""
        if not self.tflite_:
            raise VigilError("SleepContextModel: not fitted")
        return predict_context_int8(self.tflite_, X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scale, zp = self.output_quant_
        return (self.predict_int8(X).astype(np.float64) - zp) * scale

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.predict_int8(X), axis=1).astype(np.int64)


def predict_context_int8(tflite: bytes, X: np.ndarray) -> np.ndarray:
    """(n, 3) int8 outputs of a context model (.tflite bytes) through TFLM."""
    from vigil.export.tflite import tflm_reference

    x = np.asarray(X)
    if x.dtype != np.int8 or x.ndim != 2:
        raise VigilError(f"expected int8 context inputs (n, features), got {x.dtype} {x.shape}")
    if len(x) == 0:
        return np.zeros((0, N_CLASSES), dtype=np.int8)
    return np.asarray(tflm_reference(tflite, x)).reshape(len(x), -1)


def ignored_columns(n_inputs: int, features: tuple[int, ...]) -> np.ndarray:
    """Input columns of the given per-epoch features (column = row x EPOCH_FEATURES + feature)."""
    from vigil.dsp.config import EPOCH_FEATURES

    columns = np.arange(n_inputs)
    return columns[np.isin(columns % EPOCH_FEATURES, features)] if n_inputs % EPOCH_FEATURES == 0 else columns[:0]


def context_network(n_inputs: int, hidden: int) -> Any:
    """Input (n_inputs,) -> [Dense(hidden, relu)] -> Dense(3) -> softmax, L2 on every kernel."""
    import keras

    L, reg = keras.layers, keras.regularizers.l2(L2)
    layers = [keras.Input((n_inputs,))]
    if hidden:
        layers.append(L.Dense(hidden, activation="relu", kernel_regularizer=reg))
    layers += [L.Dense(N_CLASSES, kernel_regularizer=reg), L.Softmax()]
    return keras.Sequential(layers)


def fold_normalisation(model: Any, mean: np.ndarray, sd: np.ndarray) -> None:
    """Make ``model`` (trained on (x - mean) / sd) take x: W' = W / sd (per input row), b' = b - (mean / sd) W."""
    dense = model.layers[0]
    w, b = dense.get_weights()
    dense.set_weights([w / sd[:, None], b - (mean / sd) @ w])


def context_folds(ds: ContextDataset, protocol: str, seed: int = 0) -> list[protocols.Fold]:
    if protocol not in CONTEXT_PROTOCOLS:
        raise VigilError(f"protocol {protocol!r}: expected one of {', '.join(CONTEXT_PROTOCOLS)} (held-out subjects)")
    try:
        return protocols.group_folds(ds.subjects, CONTEXT_PROTOCOLS[protocol], seed)
    except ValueError as exc:
        raise VigilError(f"{protocol}: {exc}; use more subjects (--subjects)") from None


def evaluate_context(ds: ContextDataset, protocol: str = "lso5", hidden: int = HIDDEN, epochs: int = EPOCHS,
                     seed: int = 0, progress: Callable[[int], None] | None = None,
                     awake_day_hours: float = AWAKE_DAY_HOURS,
                     days: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:  # fmt: skip
    """Held-out whole subjects: per fold a fresh model predicts the held-out nights through TFLM; pooled metrics
    (``vigil.ml.sleep.sleep_metrics``) with, on the same epochs and folds, the van Hees rule and a random forest on
    seven movement features (``references``), and per-night statistics."""
    folds = context_folds(ds, protocol, seed)
    days = awake_day_contexts(awake_day_hours) if days is None else days
    outputs = np.zeros((len(ds), N_CLASSES), dtype=np.int8)
    forest_p_wake = np.zeros(len(ds))
    per_fold = []
    started = time.monotonic()
    for i, fold in enumerate(folds):
        train = with_awake_days(ds.inputs[fold.train], ds.labels[fold.train], ds.subjects[fold.train], days)
        model = SleepContextModel(hidden, epochs, seed + i).fit(*train)
        outputs[fold.test] = model.predict_int8(ds.inputs[fold.test])
        forest_p_wake[fold.test] = forest_wake_probability(ds, fold, seed + i)
        per_fold.append({"test_subjects": [ds.subject_names[s] for s in np.unique(ds.subjects[fold.test])],
                         "train": int(len(fold.train)), "test": int(len(fold.test)),
                         "best_epoch": model.best_epoch_, "validation_kappa": model.validation_kappa_})  # fmt: skip
        if progress:
            progress(i + 1)
    report = sleep_metrics(ds.labels, outputs)
    nights = held_out_nights(ds, np.argmax(outputs, axis=1))
    tst_errors = [abs(n["errors"]["tst_error_min"]) for n in nights if n["errors"]["tst_error_min"] is not None]
    report["tst_error_min_mean"] = float(np.mean(tst_errors)) if tst_errors else None
    report["per_night"] = nights
    return {"protocol": protocol, "folds": len(folds), "hidden": hidden, "epochs": epochs, "seed": seed,
            "awake_day_epochs_in_training": int(len(days[1])),
            "subjects": len(ds.subject_names), "nights": len(ds.night_names), "class_names": list(SLEEP_CLASS_NAMES),
            "class_counts": np.bincount(ds.labels, minlength=N_CLASSES).tolist(),
            "seconds": round(time.monotonic() - started, 1), **report,
            "references": reference_metrics(ds, forest_p_wake), "per_fold": per_fold}  # fmt: skip


def held_out_nights(ds: ContextDataset, predicted: np.ndarray) -> list[dict[str, Any]]:
    """Per night: its held-out prediction's sleep statistics against the PSG
    (``vigil.ml.night_statistics.paired_statistics``) on the night's scored epochs."""
    from vigil.ml.night_statistics import paired_statistics

    out = []
    for i, name in enumerate(ds.night_names):
        rows = np.flatnonzero(ds.nights == i)
        truth = np.full(int(ds.epochs[rows].max()) + 1 if len(rows) else 0, -1, dtype=np.int64)
        guess = truth.copy()
        truth[ds.epochs[rows]], guess[ds.epochs[rows]] = ds.labels[rows], predicted[rows]
        out.append({"night": name, "subject": ds.subject_names[int(ds.subjects[rows[0]])] if len(rows) else None,
                    "epochs_scored": int(len(rows)), **paired_statistics(truth, guess)})  # fmt: skip
    return out


def forest_wake_probability(ds: ContextDataset, fold: protocols.Fold, seed: int) -> np.ndarray:
    """P(wake) of a random forest on the movement features, trained on the fold's training epochs."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=100, min_samples_leaf=20, class_weight="balanced", n_jobs=2,
                                    random_state=seed)  # fmt: skip
    forest.fit(ds.movement[fold.train], ds.labels[fold.train] == 0)
    return forest.predict_proba(ds.movement[fold.test])[:, list(forest.classes_).index(True)]


def reference_metrics(ds: ContextDataset, forest_p_wake: np.ndarray) -> dict[str, Any]:
    """Sleep / wake figures of the references on the evaluated epochs (wake = positive, as ``sleep_metrics``)."""
    from vigil.ml.metrics import classification_metrics, positive_correct_at_negative_correct, roc_auc

    is_wake = ds.labels == 0
    out: dict[str, Any] = {}
    for name, wake_pred, score in (("van_hees_2015", ~ds.van_hees_asleep, None),
                                   ("random_forest_movement", forest_p_wake >= 0.5, forest_p_wake)):  # fmt: skip
        cm = confusion_matrix(is_wake.astype(np.int64), wake_pred.astype(np.int64), 2)
        m = {k: v for k, v in classification_metrics(is_wake, wake_pred).items() if k not in ("confusion", "n")}
        m.update({"kappa": cohen_kappa(cm), "confusion": cm.tolist()})
        if score is not None:
            m["auc"] = roc_auc(is_wake, score)
            m["wake_correct_at_90_sleep_correct"] = positive_correct_at_negative_correct(
                is_wake, score, 0.9)["positive_correct_interpolated"]
        out[name] = m
    return out
