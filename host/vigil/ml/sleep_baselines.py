"""The seed proposal's other sleep models, on the same held-out nights as the device's context model.

    bds = baseline_dataset(recordings, source)          # the context dataset + each epoch's image features
    report = evaluate_baselines(bds, "lso5", seed=0)    # the same folds as evaluate_context(bds.context, "lso5", 0)
    report["models"]["logistic_image"]["sleep_wake"]["auc"]

Four host models (float scikit-learn, references rather than device models): a small feed-forward net
(``MLPClassifier``, one hidden layer of ``MLP_HIDDEN`` ReLU units, L2 ``MLP_ALPHA``, early stopping on a tenth of
the training epochs) and multinomial logistic regression (L2, C = ``LOGISTIC_C``), each on two inputs, standardized on
the fold's training epochs:

- ``image``: the epoch's spectrogram image (``vigil.ml.sleep_data.recording_images``: image k is epoch k, the
  device's int8 log power of the acceleration derivative over about 92 s centred on the epoch), pooled over time
  per frequency bin: the mean and the standard deviation of each of the 65 bins' power in dB across the image's
  73 frames (``IMAGE_FEATURES`` = 130 inputs; the flattened 4,745 pixels give a linear model or a small net a
  hundred thousand weights for a few thousand epochs per night);
- ``movement``: the seven per-epoch activity features of ``vigil.ml.sleep_references.movement_features`` (the
  random-forest reference's inputs).

Training weights every epoch by its class's softened balanced weight (``vigil.ml.sleep_context.class_weights``,
as the context model). Rows are the context dataset's scored decided epochs that have an image (on ICHI-2014
and synthetic nights all of them: the context model decides its last epoch before the last image), so every model,
the context model and its references included, is scored on the same (night, epoch) rows and the same folds.
Metrics: ``vigil.ml.sleep.sleep_metrics`` on the float probabilities (``probability_metrics``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from vigil.data.recording import Recording
from vigil.dsp.config import IMAGE_SCALE_DB, IMAGE_ZERO_POINT
from vigil.errors import VigilError
from vigil.ml.sleep_context import N_CLASSES, ContextDataset, class_weights, context_dataset, context_folds
from vigil.records import SLEEP_CLASS_NAMES

MODELS = ("mlp_image", "mlp_movement", "logistic_image", "logistic_movement")
INPUTS = {"image": "spectrogram image pooled per frequency bin: mean and sd of each bin's dB over the 73 frames "
                   "(130 inputs)",
          "movement": "7 per-epoch movement features (vigil.ml.sleep_references.movement_features)"}  # fmt: skip
IMAGE_FEATURES = 130
MLP_HIDDEN = 16
MLP_ALPHA = 1e-2
MLP_MAX_ITER = 200
LOGISTIC_C = 0.1  # C 1 needs ~600 lbfgs steps on the pooled image; 0.01 to 1 gave held-out kappa within 0.01 on ICHI


@dataclass
class BaselineDataset:
    """The context dataset's rows that have an epoch image, and each one's pooled image features."""

    context: ContextDataset
    image_features: np.ndarray  # (n, 130) float32
    dropped: int = 0  # scored decided epochs without an image (left out of ``context`` too)

    def __len__(self) -> int:
        return len(self.context)


def image_features(images: np.ndarray) -> np.ndarray:
    """(k, 65, 73) int8 epoch images (bins x frames) -> (k, 130) float32: per bin the mean, then per bin the standard
    deviation of its power in dB over the frames."""
    x = np.asarray(images)
    if x.dtype != np.int8 or x.ndim != 3:
        raise VigilError(f"expected int8 epoch images (k, bins, frames), got {x.dtype} {x.shape}")
    db = IMAGE_SCALE_DB * (x.astype(np.float32) - IMAGE_ZERO_POINT)
    return np.concatenate([db.mean(axis=2), db.std(axis=2)], axis=1).astype(np.float32)


def subset_context(ds: ContextDataset, rows: np.ndarray) -> ContextDataset:
    """The rows ``rows`` of ``ds`` (names and source unchanged)."""
    keys = ("inputs", "labels", "subjects", "nights", "epochs", "movement", "van_hees_asleep")
    return replace(ds, **{k: getattr(ds, k)[rows] for k in keys})


def baseline_dataset(recordings: Iterable[tuple[str, str, Recording]], source: dict[str, Any],
                     progress: Callable[[int], None] | None = None) -> BaselineDataset:  # fmt: skip
    """(subject, night, recording) triples -> the context dataset (``context_dataset``) and, for the same rows, the
    pooled image features of each epoch's image; one pass over the recordings (images made as each is read)."""
    from vigil.ml.sleep_data import recording_images

    per_night: list[tuple[np.ndarray, np.ndarray]] = []

    def with_images() -> Iterator[tuple[str, str, Recording]]:
        for subject, night, rec in recordings:
            images, labels = recording_images(rec)
            per_night.append((image_features(images), labels))
            yield subject, night, rec

    return attach_images(context_dataset(with_images(), source, progress), per_night)


def attach_images(ds: ContextDataset, per_night: list[tuple[np.ndarray, np.ndarray]]) -> BaselineDataset:
    """Join night i's image features (row k = epoch k) and image labels to ``ds``'s rows by (night, epoch)."""
    has = np.array([e < len(per_night[n][0]) for n, e in zip(ds.nights, ds.epochs)], dtype=bool)
    rows = np.flatnonzero(has)
    kept = subset_context(ds, rows) if len(rows) < len(ds) else ds
    feats = np.zeros((len(rows), IMAGE_FEATURES), dtype=np.float32)
    for n in np.unique(kept.nights):
        at = np.flatnonzero(kept.nights == n)
        feats[at] = per_night[n][0][kept.epochs[at]]
        if not np.array_equal(per_night[n][1][kept.epochs[at]], kept.labels[at]):
            raise VigilError(f"night {ds.night_names[n]}: the images' epoch labels differ from the context's")
    if len(rows) == 0:
        raise VigilError("no scored epoch has an epoch image: the nights are shorter than one image (about 92 s)")
    return BaselineDataset(kept, feats, int(len(ds) - len(rows)))


def with_images(ds: ContextDataset) -> BaselineDataset:
    """A context dataset's image features, from its recordings read again (``ds.source``, as a manifest records it)."""
    from vigil.ml.sleep_data import recording_images, source_recordings

    by_name = {}
    for _subject, night, rec in source_recordings(ds.source):
        if night in ds.night_names:
            images, labels = recording_images(rec)
            by_name[night] = (image_features(images), labels)
    missing = [n for n in ds.night_names if n not in by_name]
    if missing:
        raise VigilError(f"{ds.source.get('path', ds.source.get('kind'))}: nights {', '.join(missing)} not found again")
    return attach_images(ds, [by_name[n] for n in ds.night_names])


def probability_metrics(labels: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """``sleep_metrics`` of float class probabilities (n, 3) (P(wake) in column 0, class = first argmax); its threshold
    rule is stated in probability, not in int8 output codes."""
    from vigil.ml.sleep import sleep_metrics

    report = sleep_metrics(labels, np.asarray(proba, dtype=np.float64))
    rule = report["sleep_wake"]["threshold_rule"]
    rule["p_wake_at_least"] = rule.pop("p_wake_int8_at_least")
    return report


def make_model(name: str, seed: int) -> Any:
    """A fresh, standardizing scikit-learn pipeline for ``name`` (an entry of MODELS)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name.startswith("mlp_"):
        model = MLPClassifier((MLP_HIDDEN,), alpha=MLP_ALPHA, max_iter=MLP_MAX_ITER, early_stopping=True,
                              random_state=seed)  # fmt: skip
    else:
        model = LogisticRegression(C=LOGISTIC_C, max_iter=2000)
    return make_pipeline(StandardScaler(), model)


def fit_predict(name: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int) -> np.ndarray:
    """(len(x_test), 3) class probabilities of model ``name`` fitted with softened balanced class weights; a class
    the fold's training epochs lack gets probability 0."""
    weights = class_weights(y_train)
    model = make_model(name, seed)
    step = model.steps[-1][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: early stopping / max_iter decide, as documented
        model.fit(x_train, y_train, **{f"{step}__sample_weight": np.array([weights[int(c)] for c in y_train])})
    out = np.zeros((len(x_test), N_CLASSES))
    out[:, model.classes_.astype(np.int64)] = model.predict_proba(x_test)
    return out


def evaluate_baselines(data: BaselineDataset | ContextDataset | Iterable[tuple[str, str, Recording]],
                       protocol: str = "lso5", seed: int = 0,
                       progress: Callable[[int], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """The four MODELS by held-out whole subjects on ``context_folds(ds.context, protocol, seed)`` (the context model's
    folds): pooled ``probability_metrics`` per model. ``data``: a BaselineDataset, a ContextDataset (its recordings
    are read again for the images) or (subject, night, recording) triples. ``progress(folds_done)``."""
    from threadpoolctl import threadpool_limits

    if isinstance(data, ContextDataset):
        bds = with_images(data)
    elif isinstance(data, BaselineDataset):
        bds = data
    else:
        bds = baseline_dataset(data, {"kind": "recordings"})
    ds = bds.context
    folds = context_folds(ds, protocol, seed)
    inputs = {"image": bds.image_features, "movement": ds.movement}
    proba = {name: np.zeros((len(ds), N_CLASSES)) for name in MODELS}
    started = time.monotonic()
    with threadpool_limits(1):  # small problems: BLAS threads only contend (10x slower on a busy 2-core machine)
        for i, fold in enumerate(folds):
            for name in MODELS:
                x = inputs[name.split("_", 1)[1]]
                proba[name][fold.test] = fit_predict(name, x[fold.train], ds.labels[fold.train], x[fold.test], seed + i)
            if progress:
                progress(i + 1)
    return {"protocol": protocol, "folds": len(folds), "seed": seed, "n": len(ds), "dropped_without_image": bds.dropped,
            "subjects": len(ds.subject_names), "nights": len(ds.night_names), "class_names": list(SLEEP_CLASS_NAMES),
            "class_counts": np.bincount(ds.labels, minlength=N_CLASSES).tolist(), "inputs": INPUTS,
            "mlp": {"hidden": MLP_HIDDEN, "alpha": MLP_ALPHA, "max_iter": MLP_MAX_ITER, "early_stopping": True},
            "logistic": {"C": LOGISTIC_C, "penalty": "l2"},
            "seconds": round(time.monotonic() - started, 1),
            "models": {name: probability_metrics(ds.labels, proba[name]) for name in MODELS}}  # fmt: skip
