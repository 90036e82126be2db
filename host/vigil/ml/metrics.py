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


def cohen_kappa(cm: np.ndarray) -> float:
    """Cohen's kappa of a confusion matrix: (observed - chance agreement) / (1 - chance); 0.0 when chance is 1."""
    cm = np.asarray(cm, dtype=np.float64)
    n = cm.sum()
    if n == 0:
        return 0.0
    observed = np.trace(cm) / n
    chance = float(np.sum(cm.sum(axis=0) * cm.sum(axis=1))) / (n * n)
    return _ratio(observed - chance, 1.0 - chance)


def per_class_metrics(cm: np.ndarray, names: tuple[str, ...] | list[str]) -> dict[str, dict[str, float]]:
    """One-vs-rest precision, sensitivity, specificity and F1 of every class, by name."""
    return {name: one_vs_rest(cm, k) for k, name in enumerate(names)}


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for the boolean ``positive`` (ties count one half): the chance
    that a random positive scores above a random negative. 0.0 unless both classes are present."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.0
    from scipy.stats import rankdata

    ranks = rankdata(score)  # average ranks: ties count one half (Mann-Whitney U)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def positive_correct_at_negative_correct(positive: np.ndarray, score: np.ndarray,
                                         negative_correct: float = 0.9) -> dict[str, float]:  # fmt: skip
    """Threshold ``score`` (positive when score >= threshold) at the lowest threshold that classifies at least
    ``negative_correct`` of the negatives correctly, and report the share of positives then correct.
    E.g. wake (positive) correct at 90 % sleep correct, as Walch et al. 2019 report. Returns threshold,
    negative_correct (achieved: coarse scores such as int8 probabilities tie, so it can overshoot) and
    positive_correct; and ``positive_correct_interpolated``, the ROC curve's true-positive rate at exactly
    1 - negative_correct false positives (linear between ROC points: ties broken at random, in expectation).
    Zeros unless both classes are present."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    neg, pos = score[~positive], score[positive]
    if len(neg) == 0 or len(pos) == 0:
        keys = ("threshold", "negative_correct", "positive_correct", "positive_correct_interpolated")
        return dict.fromkeys(keys, 0.0)
    candidates = np.append(np.unique(score), np.inf)
    below_neg = np.searchsorted(np.sort(neg), candidates, side="left") / len(neg)  # negatives correct per threshold
    below_pos = np.searchsorted(np.sort(pos), candidates, side="left") / len(pos)
    threshold = float(candidates[np.argmax(below_neg >= negative_correct)])
    fpr, tpr = (1.0 - below_neg)[::-1], (1.0 - below_pos)[::-1]  # increasing false-positive rate
    return {
        "threshold": threshold,
        "negative_correct": float(np.mean(neg < threshold)),
        "positive_correct": float(np.mean(pos >= threshold)),
        "positive_correct_interpolated": float(np.interp(1.0 - negative_correct, fpr, tpr)),
    }
