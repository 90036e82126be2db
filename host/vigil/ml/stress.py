"""The stress trio — decision tree, RBF SVM with Platt probabilities, int8 MLP — and its consensus.

    trio = fit_stress_trio(ds.features, ds.labels)          # scaler, three models, consensus weights
    out = trio.predict(features)                            # per model, consensus, unanimity
    report = evaluate_stress(ds, "blocks")                  # per model and consensus metrics

Inputs are the device's integer features (``vigil.data.hrv_csv.FEATURE_NAMES``, 0.01 bpm / ms / %).
``FeatureScaler`` standardizes then min–max scales, fitted on training rows only; both steps are affine, so the
whole map is one per-feature ``x * scale + offset`` (``FeatureScaler.scale_``, ``offset_``) that firmware folds
into fixed point. (The composition equals plain min–max scaling of the raw features up to float rounding; it is
kept in the proposal's two steps so the constants can be checked against it.)

The tree and SVM are plain scikit-learn ``DecisionTreeClassifier`` and ``SVC(kernel="rbf", probability=True)``
fitted on the scaled features (for the fixed-point C export). The NN is ``vigil.ml.architectures.stress_mlp``
trained in Keras, converted to int8 (``to_int8_tflite``) and *evaluated through TFLM's reference kernels*
(``tflm_reference``), so its figures are those of the int8 model the device runs.

Consensus: ŷ = argmax_i Σ_j w_j p_ij. The weights are chosen on an inner validation split of the training
data (whole protocol units held out: rows, time blocks or groups; see ``protocols.holdout``) from the integer
grid WEIGHT_GRID (normalized), by validation accuracy, then F1, then closeness to equal weights; the trio is
then refitted on all training rows. The test fold is never seen. The unanimity flag (all three predict
stress) is the rule against false alarms; it is reported as a predictor of its own (``unanimous``).
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from vigil.errors import VigilError
from vigil.export.tflite import output_silenced
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from vigil.data.hrv_csv import FEATURE_NAMES, HrvDataset
from vigil.ml import protocols
from vigil.ml.metrics import classification_metrics

MODEL_NAMES: tuple[str, ...] = ("tree", "svm", "nn")
WEIGHT_GRID = range(0, 6)  # integer weights per model, normalized to sum 1
VALIDATION_FRACTION = 0.25
TREE_MAX_DEPTH = 5
TREE_MIN_SAMPLES_LEAF = 3
SVM_C = 1.0
#: The tree and the SVM weigh each class by the inverse of its share (scikit-learn's "balanced"): stress minutes are
#: the minority (WESAD: 73 TSST to 182 Base), and unweighted the pair learnt to miss them. LOSO on the 10 WESAD
#: subjects (benchmarks/stress_features.py rows): tree 0.906 -> 0.925 (sensitivity 0.808 -> 0.918), SVM 0.910 ->
#: 0.918 (0.808 -> 0.849), consensus 0.922 -> 0.929 (0.836 -> 0.890). A balanced set is unchanged by it.
CLASS_WEIGHT = "balanced"
NN_EPOCHS = 120
NN_BATCH = 32
NN_LEARNING_RATE = 0.01


class ProbabilisticClassifier(Protocol):
    def fit(self, X: np.ndarray, y: np.ndarray) -> Any: ...
    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


ModelFactory = Callable[[int], dict[str, ProbabilisticClassifier]]


# ---------------------------------------------------------------- scaling


@dataclass
class FeatureScaler:
    """Standardize (mean, population std) then min–max to [0, 1] (range of the standardized training data)."""

    mean_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    std_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zmin_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zmax_: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, X: np.ndarray) -> FeatureScaler:
        x = np.asarray(X, dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        z = (x - self.mean_) / self.std_
        self.zmin_, self.zmax_ = z.min(axis=0), z.max(axis=0)
        return self

    @property
    def scale_(self) -> np.ndarray:
        return 1.0 / (self.std_ * self._span())

    @property
    def offset_(self) -> np.ndarray:
        return (-self.mean_ / self.std_ - self.zmin_) / self._span()

    def transform(self, X: np.ndarray) -> np.ndarray:
        z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.std_
        return (z - self.zmin_) / self._span()

    def _span(self) -> np.ndarray:
        return np.where(self.zmax_ > self.zmin_, self.zmax_ - self.zmin_, 1.0)

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(FEATURE_NAMES),
            "input_units": "device integers: 0.01 bpm, 0.01 ms, 0.01 ms, 0.01 ms, 0.01 %, 0.01 %",
            "formula": "scaled = ((x - mean) / std - zmin) / (zmax - zmin) = x * scale + offset",
            "mean": self.mean_.tolist(), "std": self.std_.tolist(), "zmin": self.zmin_.tolist(),
            "zmax": self.zmax_.tolist(), "scale": self.scale_.tolist(), "offset": self.offset_.tolist(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> FeatureScaler:
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("mean", "std", "zmin", "zmax")))


# ---------------------------------------------------------------- the int8 NN


class _MlpTrainer:
    """One traced training loop per (features, batch size, learning rate), reused by every fit: tracing costs
    ~0.7 s, the 120 epochs themselves ~0.2 s. Keras' own `fit` spends ~65 ms per epoch in overhead here."""

    _cache: dict[tuple[int, int, float], _MlpTrainer] = {}

    def __init__(self, n_features: int, batch: int, learning_rate: float) -> None:
        import keras
        import tensorflow as tf

        from vigil.ml.architectures import stress_mlp

        self.model = stress_mlp(n_features, 2)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model, optimizer = self.model, self.optimizer

        @tf.function(input_signature=[tf.TensorSpec([None, n_features], tf.float32), tf.TensorSpec([None], tf.int64),
                                      tf.TensorSpec([None, batch], tf.int64)])  # fmt: skip
        def run(xs: Any, ys: Any, steps: Any) -> None:
            for s in tf.range(tf.shape(steps)[0]):
                xb, yb = tf.gather(xs, steps[s]), tf.gather(ys, steps[s])
                with tf.GradientTape() as tape:
                    loss = loss_fn(yb, model(xb, training=True))
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))

        self.run = run

    @classmethod
    def get(cls, n_features: int, batch: int, learning_rate: float) -> _MlpTrainer:
        key = (n_features, batch, learning_rate)
        if key not in cls._cache:
            cls._cache[key] = cls(n_features, batch, learning_rate)
        return cls._cache[key]

    def reset(self, initial_weights: list[np.ndarray]) -> None:
        self.model.set_weights(initial_weights)
        for v in self.optimizer.variables:
            if not v.path.endswith("learning_rate"):
                v.assign(np.zeros(v.shape, dtype=v.dtype))


def train_keras_mlp(x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, learning_rate: float, seed: int) -> Any:
    """A fresh stress_mlp (Keras, initialized from `seed`) trained with Adam on sparse cross-entropy of the logits,
    mini-batches reshuffled every epoch (the last partial batch dropped). Same inputs and seed, same weights."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from vigil.ml.architectures import stress_mlp

    keras.utils.set_random_seed(seed)
    model = stress_mlp(x.shape[1], 2)
    b = min(batch_size, len(x))
    trainer = _MlpTrainer.get(x.shape[1], b, learning_rate)
    trainer.reset(model.get_weights())
    rng = np.random.default_rng(seed)
    nb = len(x) // b
    order = np.stack([rng.permutation(len(x))[: nb * b].reshape(nb, b) for _ in range(epochs)]).reshape(-1, b)
    trainer.run(x.astype(np.float32), y.astype(np.int64), order.astype(np.int64))
    model.set_weights(trainer.model.get_weights())
    return model


class Int8StressNet:
    """stress_mlp trained in Keras on scaled features, converted to int8; probabilities from TFLM's reference
    kernels (softmax of the dequantized int8 logits). Inputs are quantized with the model's input scale and zero
    point (round half to even, saturated to int8)."""

    def __init__(self, epochs: int = NN_EPOCHS, batch_size: int = NN_BATCH, learning_rate: float = NN_LEARNING_RATE,
                 seed: int = 0) -> None:  # fmt: skip
        self.epochs, self.batch_size, self.learning_rate, self.seed = epochs, batch_size, learning_rate, seed
        self.keras_model: Any = None
        self.tflite: bytes = b""
        self.input_quant: tuple[float, int] = (1.0, 0)
        self.output_quant: tuple[float, int] = (1.0, 0)

    def fit(self, X: np.ndarray, y: np.ndarray) -> Int8StressNet:
        from vigil.export.tflite import to_int8_tflite

        x = np.asarray(X, dtype=np.float32)
        self.keras_model = train_keras_mlp(x, np.asarray(y, dtype=np.int64), self.epochs, self.batch_size,
                                           self.learning_rate, self.seed)  # fmt: skip
        with output_silenced():
            return self._use_tflite(to_int8_tflite(self.keras_model, x))

    @classmethod
    def from_tflite(cls, tflite: bytes) -> Int8StressNet:
        """A net that predicts from a stored int8 .tflite (no Keras model), e.g. a trained folder's."""
        return cls()._use_tflite(tflite)

    def _use_tflite(self, tflite: bytes) -> Int8StressNet:
        from vigil.export.tflite_reader import read_tflite

        graph = read_tflite(tflite, check_ops=False)
        qi, qo = graph.tensors[graph.inputs[0]].quant, graph.tensors[graph.outputs[0]].quant
        if qi is None or qo is None:
            raise VigilError("stress_nn.tflite: expected int8 quantized input and output")
        self.tflite = tflite
        self.input_quant, self.output_quant = (qi.scale, qi.zero_point), (qo.scale, qo.zero_point)
        return self

    def quantize(self, X: np.ndarray) -> np.ndarray:
        scale, zp = self.input_quant
        return np.clip(np.rint(np.asarray(X, dtype=np.float64) / scale) + zp, -128, 127).astype(np.int8)

    def logits_int8(self, X: np.ndarray) -> np.ndarray:
        from vigil.export.tflite import tflm_reference

        return tflm_reference(self.tflite, self.quantize(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scale, zp = self.output_quant
        logits = (self.logits_int8(X).astype(np.float64) - zp) * scale
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def default_models(seed: int = 0, nn_epochs: int = NN_EPOCHS) -> dict[str, ProbabilisticClassifier]:
    """The trio, untrained."""
    return {
        "tree": DecisionTreeClassifier(max_depth=TREE_MAX_DEPTH, min_samples_leaf=TREE_MIN_SAMPLES_LEAF,
                                       class_weight=CLASS_WEIGHT, random_state=seed),
        "svm": SVC(kernel="rbf", C=SVM_C, gamma="scale", probability=True, class_weight=CLASS_WEIGHT,
                   random_state=seed),
        "nn": Int8StressNet(epochs=nn_epochs, seed=seed),
    }  # fmt: skip


# ---------------------------------------------------------------- consensus


def weight_candidates() -> list[np.ndarray]:
    """Normalized integer weight vectors from WEIGHT_GRID^3 (no duplicates, not all zero)."""
    seen: dict[tuple[float, ...], np.ndarray] = {}
    for w in itertools.product(WEIGHT_GRID, repeat=len(MODEL_NAMES)):
        if sum(w):
            v = np.asarray(w, dtype=np.float64) / sum(w)
            seen.setdefault(tuple(np.round(v, 12)), v)
    return list(seen.values())


def consensus_proba(probas: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_j w_j p_ij: probas (models, n, classes), weights (models,) → (n, classes)."""
    return np.tensordot(np.asarray(weights, dtype=np.float64), np.asarray(probas), axes=1)


def unanimous_stress(probas: np.ndarray) -> np.ndarray:
    """True where every model's own prediction is stress (class 1)."""
    return np.all(np.argmax(probas, axis=2) == 1, axis=0)


def choose_weights(probas: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The candidate weights with the best validation accuracy, then F1, then closest to equal weights."""
    equal = np.full(probas.shape[0], 1.0 / probas.shape[0])
    best_key, best = None, equal
    for w in weight_candidates():
        m = classification_metrics(labels, np.argmax(consensus_proba(probas, w), axis=1))
        key = (round(float(m["accuracy"]), 12), round(float(m["f1"]), 12), -float(np.abs(w - equal).sum()))
        if best_key is None or key > best_key:
            best_key, best = key, w
    return best


#: The consensus decision thresholds a trio may learn on its validation rows (stress when weighted P > t).
DECISION_GRID: tuple[float, ...] = tuple(round(0.20 + 0.05 * k, 2) for k in range(9))  # 0.20 .. 0.60
DECISION_DEFAULT = 0.5


def choose_threshold(weighted: np.ndarray, labels: np.ndarray) -> float:
    """The decision threshold (stress when the weighted P(stress) of the chosen weights is above it) with the best
    balanced accuracy on validation rows; among tied grid values, the middle one. Balanced: the tree and SVM weigh
    each class by the inverse of its share (CLASS_WEIGHT), and so does this choice; without both classes, 0.5.
    Held out by subject on WESAD (benchmarks/stress_unseen_sets.py) it raises LOSO consensus accuracy 0.929 -> 0.933
    and sensitivity 0.890 -> 0.904 at the same specificity (docs/stress.md section 4)."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return DECISION_DEFAULT

    def balanced(t: float) -> float:
        d = (np.asarray(weighted) > t).astype(np.int64)
        return 0.5 * (float(np.mean(d[labels == 1] == 1)) + float(np.mean(d[labels == 0] == 0)))

    scores = [round(balanced(t), 12) for t in DECISION_GRID]
    best = [t for t, v in zip(DECISION_GRID, scores) if v == max(scores)]
    # ties: the grid values between the validation's two classes; the middle of them leaves the most room either way
    return best[(len(best) - 1) // 2]


# ---------------------------------------------------------------- the trio


@dataclass
class StressTrio:
    scaler: FeatureScaler
    models: dict[str, ProbabilisticClassifier]
    weights: np.ndarray  # (3,) in MODEL_NAMES order
    validation: dict = field(default_factory=dict)  # what the weights were chosen on
    threshold: float = DECISION_DEFAULT  # consensus: stress when the weighted P(stress) > this

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(3, n, 2): each model's class probabilities for device-unit features."""
        x = self.scaler.transform(features)
        return np.stack([np.asarray(self.models[name].predict_proba(x), dtype=np.float64) for name in MODEL_NAMES])

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Per model, ``consensus``, ``equal_weights`` (plain soft vote) and ``unanimous`` (0/1 predictions)."""
        p = self.probabilities(features)
        out = {name: np.argmax(p[j], axis=1) for j, name in enumerate(MODEL_NAMES)}
        out["consensus"] = (consensus_proba(p, self.weights)[:, 1] > self.threshold).astype(np.int64)
        out["equal_weights"] = np.argmax(consensus_proba(p, np.full(3, 1 / 3)), axis=1)
        out["unanimous"] = unanimous_stress(p).astype(np.int64)
        return out


def fit_models(features: np.ndarray, labels: np.ndarray, make_models: ModelFactory, seed: int) -> tuple[FeatureScaler, dict]:
    scaler = FeatureScaler().fit(features)
    x = scaler.transform(features)
    models = make_models(seed)
    for model in models.values():
        with warnings.catch_warnings():
            # scikit-learn 1.9 deprecates SVC(probability=True) (removal in 1.11); the C export reads its Platt
            # constants (probA_, probB_), so it stays until that export moves.
            warnings.filterwarnings("ignore", "The `probability` parameter was deprecated", FutureWarning)
            model.fit(x, labels)
    return scaler, models


def fit_stress_trio(
    features: np.ndarray,
    labels: np.ndarray,
    validation_units: np.ndarray | None = None,
    seed: int = 0,
    make_models: ModelFactory | None = None,
    nn_epochs: int = NN_EPOCHS,
) -> StressTrio:
    """Choose consensus weights and then the decision threshold (choose_threshold) on an inner validation split (by
    `validation_units`, default rows), then fit
    scaler and models on all the given rows."""
    make_models = make_models or (lambda s: default_models(s, nn_epochs))
    features, labels = np.asarray(features), np.asarray(labels)
    unit_ids = np.arange(len(labels)) if validation_units is None else np.asarray(validation_units)
    split = protocols.holdout(unit_ids, labels, VALIDATION_FRACTION, seed)
    if len(split.test) == 0 or len(np.unique(labels[split.train])) < 2:
        # one unit (e.g. one subject left in a leave-one-out fold), or no split that leaves both classes to fit on:
        # no validation data that would not leak into the fit, so the weights stay equal rather than being chosen
        # on the training rows
        weights, threshold = np.full(3, 1 / 3), DECISION_DEFAULT
    else:
        scaler, models = fit_models(features[split.train], labels[split.train], make_models, seed)
        inner = StressTrio(scaler, models, np.full(3, 1 / 3))
        p = inner.probabilities(features[split.test])
        weights = choose_weights(p, labels[split.test])
        threshold = choose_threshold(consensus_proba(p, weights)[:, 1], labels[split.test])
    scaler, models = fit_models(features, labels, make_models, seed)
    return StressTrio(scaler, models, weights, {"fit_rows": len(split.train), "validation_rows": len(split.test)},
                      threshold)  # fmt: skip


# ---------------------------------------------------------------- evaluation

REPORTED: tuple[str, ...] = (*MODEL_NAMES, "consensus", "equal_weights", "unanimous")


def evaluate_stress(
    dataset: HrvDataset,
    protocol: str | Callable[[HrvDataset], list[protocols.Fold]] = "kfold20",
    seed: int = 0,
    nn_epochs: int = NN_EPOCHS,
    make_models: ModelFactory | None = None,
    validation_protocol: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Run a protocol (name in protocols.PROTOCOLS, or a callable returning folds) and report, for each of
    REPORTED, metrics pooled over all test folds (with the confusion matrix) and the mean of per-fold accuracy;
    per fold: sizes, chosen weights, scaler constants. `progress(done_folds)` after each fold."""
    name = protocol if isinstance(protocol, str) else getattr(protocol, "__name__", "custom")
    fold_list = protocols.folds(dataset, protocol, seed) if isinstance(protocol, str) else protocol(dataset)
    vprot = validation_protocol or (protocol if isinstance(protocol, str) else "kfold20")
    unit_ids = protocols.units(dataset, vprot)
    preds = {k: np.full(len(dataset), -1, dtype=np.int64) for k in REPORTED}
    per_fold = []
    started = time.monotonic()
    for i, fold in enumerate(fold_list):
        trio = fit_stress_trio(dataset.features[fold.train], dataset.labels[fold.train], unit_ids[fold.train],
                               seed=seed + i, make_models=make_models, nn_epochs=nn_epochs)  # fmt: skip
        out = trio.predict(dataset.features[fold.test])
        y = dataset.labels[fold.test]
        for k in REPORTED:
            preds[k][fold.test] = out[k]
        per_fold.append({
            "train": len(fold.train), "test": len(fold.test), "weights": trio.weights.round(6).tolist(),
            "accuracy": {k: float(np.mean(out[k] == y)) for k in REPORTED},
            "scaler": {"mean": trio.scaler.mean_.tolist(), "std": trio.scaler.std_.tolist()},
        })  # fmt: skip
        if progress:
            progress(i + 1)
    tested = np.flatnonzero(preds["consensus"] >= 0)
    y = dataset.labels[tested]
    models = {}
    for k in REPORTED:
        m = classification_metrics(y, preds[k][tested])
        m["fold_mean_accuracy"] = float(np.mean([f["accuracy"][k] for f in per_fold]))
        models[k] = m
    return {
        "protocol": name, "validation_units": vprot, "rows": int(len(tested)), "folds": len(fold_list),
        "seed": seed, "nn_epochs": nn_epochs, "seconds": round(time.monotonic() - started, 1),
        "models": models, "per_fold": per_fold,
    }  # fmt: skip
