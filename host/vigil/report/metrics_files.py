"""The metrics files of the training folders (``metrics.json``, also copied into a models/ bundle's ``sleep/`` and
``stress/`` by `vigil export models`), read by the exact keys vigil writes; a missing key is an error naming the
file and the key.

``vigil train sleep`` (``vigil.ml.sleep.train_sleep_cnn``; ``evaluation`` = ``evaluate_sleep``):
    evaluation.{protocol, folds, subjects, n, accuracy, kappa, confusion (3 x 3, wake / nrem / rem),
    macro.{precision, sensitivity, specificity, f1},
    sleep_wake.{accuracy, precision, sensitivity, specificity, f1, kappa, auc, confusion (2 x 2, sleep / wake),
    wake_correct_at_90_sleep_correct}}
``vigil train stress`` (``vigil.ml.stress.evaluate_stress``):
    protocol, rows, folds, models.<name>.{accuracy, precision, sensitivity, specificity, f1, n, confusion (2 x 2,
    relax / stress)} for each model and vote (``vigil.ml.stress.REPORTED``); no kappa or AUC.

    table = metrics_table_from_json(Path("models/stress/metrics.json"), "stress")
"""

from __future__ import annotations

from pathlib import Path

from vigil.manifest import read_json_file
from vigil.ml.metrics import METRIC_NAMES
from vigil.records import SLEEP_CLASS_LABELS, STRESS_CLASS_NAMES
from vigil.report.json_keys import JsonKeys
from vigil.report.metrics_tables import STRESS_MODEL_LABELS, ConfusionMatrix, MetricsRow, MetricsTable

SLEEP_METRICS = "`vigil train sleep`'s metrics.json"
STRESS_METRICS = "`vigil train stress`'s metrics.json"
#: Rows and columns of the sleep / wake confusion matrix of `vigil train sleep` (vigil.ml.sleep.sleep_metrics).
SLEEP_WAKE_LABELS = ("sleep", "wake")


def metrics_table_from_json(path: Path, task: str) -> MetricsTable:
    """The held-out figures of a training folder's metrics.json, ``task`` "sleep" or "stress"; errors name the
    file (and the key)."""
    report = read_json_file(path)
    if task == "sleep":
        return sleep_metrics_table(JsonKeys(report, path, SLEEP_METRICS))
    if task == "stress":
        return stress_metrics_table(JsonKeys(report, path, STRESS_METRICS))
    raise ValueError(f"task {task!r}: expected sleep or stress")


def stress_metrics_table(keys: JsonKeys) -> MetricsTable:
    """Per model and vote: the five figures, n and the confusion matrix."""
    rows, confusions = [], []
    for name in keys.mapping("models"):
        m = f"models.{name}"
        label = STRESS_MODEL_LABELS.get(name, name)  # a model the page has no name for is shown by its key
        rows.append(MetricsRow(label, *(keys.number(f"{m}.{k}") for k in METRIC_NAMES), n=keys.integer(f"{m}.n")))
        confusions.append(ConfusionMatrix(label, STRESS_CLASS_NAMES,
                                          keys.matrix(f"{m}.confusion", len(STRESS_CLASS_NAMES))))  # fmt: skip
    protocol = keys("protocol")
    title = f"stress models, held out ({protocol}, rows {keys('rows')}, folds {keys('folds')})"
    return MetricsTable(title, "stress", str(keys.path), protocol, rows, confusions, key="stress_held_out")


def sleep_metrics_table(keys: JsonKeys) -> MetricsTable:
    """`vigil train sleep`'s held-out evaluation: wake / NREM / REM with macro averages, and wake vs sleep (wake the
    positive class), each with its confusion matrix."""
    ev, sw = "evaluation", "evaluation.sleep_wake"
    n = keys.integer(f"{ev}.n")
    three = MetricsRow("sleep CNN: wake / NREM / REM (macro)", keys.number(f"{ev}.accuracy"),
                       *(keys.number(f"{ev}.macro.{k}") for k in METRIC_NAMES if k != "accuracy"),
                       kappa=keys.number(f"{ev}.kappa"), n=n)  # fmt: skip
    wake = MetricsRow("sleep CNN: wake vs sleep", *(keys.number(f"{sw}.{k}") for k in METRIC_NAMES),
                      kappa=keys.number(f"{sw}.kappa"), auc=keys.number(f"{sw}.auc"), n=n)  # fmt: skip
    confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS,
                                  keys.matrix(f"{ev}.confusion", len(SLEEP_CLASS_LABELS))),
                  ConfusionMatrix("sleep / wake", SLEEP_WAKE_LABELS, keys.matrix(f"{sw}.confusion", 2))]  # fmt: skip
    note = (f"Wake correct at 90 % sleep correct: {keys.number(f'{sw}.wake_correct_at_90_sleep_correct'):.3f} "
            "(Walch et al. 2019, best sleep/wake model on their PSG data: 0.596 wake at 0.93 sleep).")
    protocol = keys(f"{ev}.protocol")
    title = f"sleep CNN, held-out subjects ({protocol}, {keys(f'{ev}.folds')} folds, {keys(f'{ev}.subjects')} subjects)"
    return MetricsTable(title, "sleep", str(keys.path), protocol, [three, wake], confusions, note=note,
                        key="sleep_held_out")  # fmt: skip
