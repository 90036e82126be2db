"""Classification metrics from a confusion matrix (rows = true class, columns = predicted class).

Binary (two classes, class 1 = positive, e.g. stress): accuracy, precision, sensitivity (recall), specificity,
F1. Multiclass: accuracy plus the macro averages (unweighted mean over classes, each class taken one-vs-rest)
of precision, sensitivity, specificity and F1. A ratio whose denominator is 0 is reported as 0.0.
"""

from __future__ import annotations

import numpy as np

METRIC_NAMES: tuple[str, ...] = ("accuracy", "precision", "sensitivity", "specificity", "f1")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: [true, predicted]."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError("y_true and y_pred differ in shape")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"labels must be 0..{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def one_vs_rest(cm: np.ndarray, k: int) -> dict[str, float]:
    """Precision, sensitivity, specificity and F1 of class k against the others."""
    cm = np.asarray(cm, dtype=np.int64)
    tp = cm[k, k]
    fp = cm[:, k].sum() - tp
    fn = cm[k, :].sum() - tp
    tn = cm.sum() - tp - fp - fn
    precision, sensitivity = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "precision": precision,
        "sensitivity": sensitivity,
        "specificity": _ratio(tn, tn + fp),
        "f1": _ratio(2 * precision * sensitivity, precision + sensitivity),
    }


def metrics_from_confusion(cm: np.ndarray) -> dict[str, float]:
    """METRIC_NAMES from a confusion matrix: binary (positive = class 1) for 2 classes, else macro averages."""
    cm = np.asarray(cm, dtype=np.int64)
    out = {"accuracy": _ratio(np.trace(cm), cm.sum())}
    if cm.shape == (2, 2):
        out.update(one_vs_rest(cm, 1))
    else:
        per_class = [one_vs_rest(cm, k) for k in range(cm.shape[0])]
        out.update({name: float(np.mean([c[name] for c in per_class])) for name in per_class[0]})
    return out


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 2) -> dict[str, object]:
    """METRIC_NAMES plus ``confusion`` (nested lists) and ``n``."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    return {**metrics_from_confusion(cm), "confusion": cm.tolist(), "n": int(cm.sum())}
