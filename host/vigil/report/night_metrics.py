"""The sleep model's figures on the night itself: every epoch with a label and a predicted stage, scored with
``vigil.ml.metrics`` (the same functions training reports with); and the night as a sleep lab reads it (total sleep
time, sleep efficiency, sleep-onset latency, WASO, REM latency, stage percentages), labels vs prediction, from
``vigil.ml.night_statistics`` (the functions `vigil evaluate` and training report with).

The labels are the PSG's only when the recording's source is a sleep lab's (``report.stage_labels``): a synthetic
night's are the generator's stages, and the page says so; the statistics' dict keeps ``paired_statistics``' key
``psg`` for the labels' side whatever they are (``labels`` says what they are)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vigil.ml.metrics import METRIC_NAMES, cohen_kappa, confusion_matrix, metrics_from_confusion, roc_auc
from vigil.ml.night_statistics import night_statistics, paired_statistics
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
    """The sleep model's figures on this night's scored epochs (against its labels, PSG or not): wake / NREM / REM
    (macro averages) and sleep vs wake (NREM or REM = sleep, the positive class: sensitivity = sleep found,
    specificity = wake found)."""
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
    model = night.model_label
    rows = [MetricsRow(f"{model}: wake / NREM / REM", *(m3[k] for k in METRIC_NAMES), kappa=_kappa(cm3),
                       auc=_auc(y, probs, 3), n=n)]  # fmt: skip
    asleep, asleep_hat = (y > 0).astype(np.int64), (yhat > 0).astype(np.int64)
    cm2 = confusion_matrix(asleep, asleep_hat, 2)
    m2 = metrics_from_confusion(cm2)
    p_sleep = None if probs is None else probs[:, 1] + probs[:, 2]
    rows.append(MetricsRow(f"{model}: sleep vs wake", *(m2[k] for k in METRIC_NAMES), kappa=_kappa(cm2),
                           auc=_auc(asleep, p_sleep, 2), n=n))  # fmt: skip
    note = (f"Against {night.label_words.noun}. Three classes: macro averages over wake, NREM, REM (one vs rest). "
            "Sleep vs wake: sleep is the positive class.")
    if probs is not None and rows[0].auc is None:
        note += " AUC needs every class among the scored epochs (and a probability for each)."
    confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS, cm3),
                  ConfusionMatrix("sleep vs wake", WAKE_SLEEP_LABELS, cm2)]  # fmt: skip
    return MetricsTable(f"sleep on this night ({n} scored epochs)", "sleep",
                        f"this recording; {night.predictions_from or ''}", None, rows, confusions, note,
                        "sleep_night")  # fmt: skip


def night_sleep_statistics(night: NightData) -> dict[str, Any] | None:
    """The night's sleep statistics: with labels and a prediction, ``paired_statistics(labels, predicted)``
    (``psg`` = the labels' side, ``predicted``, ``errors``: both on the epochs both have); with one of them only,
    ``night_statistics`` of it under the same key (``psg`` or ``predicted``). ``labels`` says what the labels are
    (``report.stage_labels``: "psg", "synthetic" or "other"). None when the night has neither."""
    truth, predicted = night.true_labels, night.predicted
    if truth is not None and predicted is not None:
        stats = paired_statistics(truth, predicted)
    elif truth is not None:
        stats = {"psg": night_statistics(truth)}
    elif predicted is not None:
        stats = {"predicted": night_statistics(predicted)}
    else:
        return None
    return {"labels": night.label_kind, **stats}
