"""A table of model metrics as the page shows it: one row per model (accuracy, precision, sensitivity,
specificity, F1 as ``vigil.ml.metrics`` names them, and Cohen's kappa, ROC AUC, n where known) and the confusion
matrices behind them. Filled from a training folder's metrics.json (``metrics_files``) or from the night itself
(``night_metrics``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.report.frozen import freeze

#: How the page names the stress models and votes of `vigil train stress`'s metrics (``vigil.ml.stress.REPORTED``).
STRESS_MODEL_LABELS = {
    "tree": "decision tree", "svm": "SVM (RBF, Platt)", "nn": "int8 MLP", "consensus": "consensus (weighted vote)",
    "equal_weights": "equal-weight vote", "unanimous": "unanimous (all three)",
}  # fmt: skip


@dataclass(frozen=True)
class ConfusionMatrix:
    name: str
    class_names: tuple[str, ...]
    counts: np.ndarray  # (k, k) int64, rows = true, columns = predicted (read-only)

    def __post_init__(self) -> None:
        freeze(self)


@dataclass(frozen=True)
class MetricsRow:
    name: str
    accuracy: float
    precision: float
    sensitivity: float
    specificity: float
    f1: float
    kappa: float | None = None
    auc: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class MetricsTable:
    title: str
    task: str  # "stress" or "sleep"
    source: str  # the file (or "this recording")
    protocol: str | None
    rows: tuple[MetricsRow, ...]
    confusions: tuple[ConfusionMatrix, ...]
    note: str = ""
    key: str = ""  # short name for files: "sleep_night", "stress_held_out", ...

    def __post_init__(self) -> None:
        freeze(self)
