"""The sleep model's figures on the night itself: every epoch with a PSG label and a predicted stage, scored with
``vigil.ml.metrics`` (the same functions training reports with)."""

from __future__ import annotations

import numpy as np

from vigil.ml.metrics import METRIC_NAMES, cohen_kappa, confusion_matrix, metrics_from_confusion, roc_auc
from vigil.records import SLEEP_CLASS_LABELS
from vigil.report.metrics_tables import ConfusionMatrix, MetricsRow, MetricsTable
from vigil.report.night import NightData

#: Rows and columns of the night's sleep-vs-wake confusion matrix (sleep = NREM or REM, the positive class).
WAKE_SLEEP_LABELS = ("wake", "sleep")


def _kappa(cm: np.ndarray) -> float | None:
    """Cohen's kappa; None when truth and prediction hold one class only (chance agreement is then 1)."""
    return cohen_kappa(cm) if np.count_nonzero(cm.sum(axis=0) + cm.sum(axis=1)) > 1 else None


def _auc(y: np.ndarray, scores: np.ndarray | None, n_classes: int) -> float | None:
    """ROC AUC (macro one vs rest for 3 classes, on the probabilities renormalised to sum 1); None without scores
    or without every class among the truths."""
    if scores is None or not np.isfinite(scores).all() or len(set(y)) < n_classes:
        return None
    if n_classes == 2:
        return roc_auc(y == 1, scores)
    p = scores / scores.sum(axis=1, keepdims=True)
    return float(np.mean([roc_auc(y == k, p[:, k]) for k in range(n_classes)]))


def night_metrics(night: NightData) -> MetricsTable | None:
    """The sleep model's figures on this night's scored epochs: wake / NREM / REM (macro averages) and sleep vs
    wake (NREM or REM = sleep, the positive class: sensitivity = sleep found, specificity = wake found)."""
    if night.true_labels is None or night.predicted is None:
        return None
    keep = (night.true_labels >= 0) & (night.predicted >= 0)
    if not keep.any():
        return None
    y, yhat = night.true_labels[keep].astype(np.int64), night.predicted[keep]
    probs = night.probabilities[keep] if night.probabilities is not None else None
    n = int(keep.sum())
    cm3 = confusion_matrix(y, yhat, 3)
    m3 = metrics_from_confusion(cm3)
    rows = [MetricsRow("sleep CNN: wake / NREM / REM", *(m3[k] for k in METRIC_NAMES), kappa=_kappa(cm3),
                       auc=_auc(y, probs, 3), n=n)]  # fmt: skip
    asleep, asleep_hat = (y > 0).astype(np.int64), (yhat > 0).astype(np.int64)
    cm2 = confusion_matrix(asleep, asleep_hat, 2)
    m2 = metrics_from_confusion(cm2)
    p_sleep = None if probs is None else probs[:, 1] + probs[:, 2]
    rows.append(MetricsRow("sleep CNN: sleep vs wake", *(m2[k] for k in METRIC_NAMES), kappa=_kappa(cm2),
                           auc=_auc(asleep, p_sleep, 2), n=n))  # fmt: skip
    note = ("Three classes: macro averages over wake, NREM, REM (one vs rest). "
            "Sleep vs wake: sleep is the positive class.")
    if probs is not None and rows[0].auc is None:
        note += " AUC needs every class among the scored epochs (and a probability for each)."
    confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS, cm3),
                  ConfusionMatrix("sleep vs wake", WAKE_SLEEP_LABELS, cm2)]  # fmt: skip
    return MetricsTable(f"sleep on this night ({n} scored epochs)", "sleep",
                        f"this recording; {night.predictions_from or ''}", None, rows, confusions, note,
                        "sleep_night")  # fmt: skip
