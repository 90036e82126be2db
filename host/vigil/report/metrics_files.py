"""The metrics files of the training folders (``metrics.json``, also copied into a models/ bundle's ``sleep/`` and
``stress/`` by `vigil export models`), read by the exact keys vigil writes; a missing key is an error naming the
file and the key.

``vigil train sleep`` of either kind (the seed's CNN: ``vigil.ml.sleep.train_sleep_cnn``, ``evaluation`` =
``evaluate_sleep``; the context model: ``vigil.ml.sleep_context_io.train_context_source``, ``evaluation`` =
``vigil.ml.sleep_context.evaluate_context``):
    evaluation.{protocol, folds, subjects, n, accuracy, kappa, confusion (3 x 3, wake / nrem / rem),
    macro.{precision, sensitivity, specificity, f1},
    sleep_wake.{accuracy, precision, sensitivity, specificity, f1, kappa, auc, confusion (2 x 2, sleep / wake),
    wake_correct_at_90_sleep_correct}}
  and of the context model also
    evaluation.hidden (units of its hidden layer, 0 none),
    evaluation.references.van_hees_2015.{accuracy, precision, sensitivity, specificity, f1, kappa, confusion},
    evaluation.references.random_forest_movement.{accuracy, precision, sensitivity, specificity, f1, kappa, auc,
    confusion, wake_correct_at_90_sleep_correct}
    (on the same held-out epochs and folds; wake the positive class, confusion 2 x 2 sleep / wake).
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
CONTEXT_METRICS = "the metrics.json of `vigil train sleep` (context model)"
#: The references of a context model's evaluation (vigil.ml.sleep_context.reference_metrics): key, page name, and
#: whether it has a score (AUC, wake correct at 90 % sleep correct).
SLEEP_REFERENCES = (("van_hees_2015", "van Hees 2015 z-angle rule (no training)", False),
                    ("random_forest_movement", "random forest on movement features", True))  # fmt: skip
STRESS_METRICS = "`vigil train stress`'s metrics.json"
#: Rows and columns of the sleep / wake confusion matrix of `vigil train sleep` (vigil.ml.sleep.sleep_metrics).
SLEEP_WAKE_LABELS = ("sleep", "wake")


def metrics_table_from_json(path: Path, task: str, sleep_arch: str = "seed") -> MetricsTable:
    """The held-out figures of a training folder's metrics.json, ``task`` "sleep" or "stress"; a sleep folder's
    ``sleep_arch`` is "seed" (the CNN) or "context" (its metrics add the references). Errors name the file (and
    the key)."""
    report = read_json_file(path)
    if task == "sleep":
        if sleep_arch == "context":
            return context_metrics_table(JsonKeys(report, path, CONTEXT_METRICS))
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


def sleep_rows(keys: JsonKeys, model: str) -> tuple[list[MetricsRow], list[ConfusionMatrix]]:
    """The rows every sleep metrics.json has: wake / NREM / REM (macro) and wake vs sleep, with their matrices."""
    ev, sw = "evaluation", "evaluation.sleep_wake"
    n = keys.integer(f"{ev}.n")
    three = MetricsRow(f"{model}: wake / NREM / REM (macro)", keys.number(f"{ev}.accuracy"),
                       *(keys.number(f"{ev}.macro.{k}") for k in METRIC_NAMES if k != "accuracy"),
                       kappa=keys.number(f"{ev}.kappa"), n=n)  # fmt: skip
    wake = MetricsRow(f"{model}: wake vs sleep", *(keys.number(f"{sw}.{k}") for k in METRIC_NAMES),
                      kappa=keys.number(f"{sw}.kappa"), auc=keys.number(f"{sw}.auc"), n=n)  # fmt: skip
    confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS,
                                  keys.matrix(f"{ev}.confusion", len(SLEEP_CLASS_LABELS))),
                  ConfusionMatrix("sleep / wake", SLEEP_WAKE_LABELS, keys.matrix(f"{sw}.confusion", 2))]  # fmt: skip
    return [three, wake], confusions


def sleep_metrics_table(keys: JsonKeys) -> MetricsTable:
    """`vigil train sleep --arch seed`'s held-out evaluation: wake / NREM / REM with macro averages, and wake vs
    sleep (wake the positive class), each with its confusion matrix."""
    ev, sw = "evaluation", "evaluation.sleep_wake"
    rows, confusions = sleep_rows(keys, "sleep CNN")
    note = (f"Wake correct at 90 % sleep correct: {keys.number(f'{sw}.wake_correct_at_90_sleep_correct'):.3f} "
            "(Walch et al. 2019, their best sleep/wake model: 0.596 wake at 0.93 sleep).")
    protocol = keys(f"{ev}.protocol")
    title = f"sleep CNN, held-out subjects ({protocol}, {keys(f'{ev}.folds')} folds, {keys(f'{ev}.subjects')} subjects)"
    return MetricsTable(title, "sleep", str(keys.path), protocol, rows, confusions, note=note,
                        key="sleep_held_out")  # fmt: skip


def context_metrics_table(keys: JsonKeys) -> MetricsTable:
    """The context model's held-out evaluation: its two rows as the CNN's, then the references on the same epochs
    and folds (van Hees' rule, a random forest on movement features), wake vs sleep, each with its matrix."""
    ev, sw, ref = "evaluation", "evaluation.sleep_wake", "evaluation.references"
    rows, confusions = sleep_rows(keys, "context model")
    n = keys.integer(f"{ev}.n")
    at_90 = [f"context model {keys.number(f'{sw}.wake_correct_at_90_sleep_correct'):.3f}"]
    for key, name, scored in SLEEP_REFERENCES:
        r = f"{ref}.{key}"
        rows.append(MetricsRow(f"{name}: wake vs sleep", *(keys.number(f"{r}.{k}") for k in METRIC_NAMES),
                               kappa=keys.number(f"{r}.kappa"), auc=keys.number(f"{r}.auc") if scored else None,
                               n=n))  # fmt: skip
        confusions.append(ConfusionMatrix(f"{name.split(' (')[0]}: sleep / wake", SLEEP_WAKE_LABELS,
                                          keys.matrix(f"{r}.confusion", 2)))  # fmt: skip
        if scored:
            at_90.append(f"{name} {keys.number(f'{r}.wake_correct_at_90_sleep_correct'):.3f}")
    hidden = keys.integer(f"{ev}.hidden")
    note = ("Wake vs sleep: wake is the positive class (sensitivity = wake found). The references are scored on the "
            "same held-out epochs and folds. Wake correct at 90 % sleep correct: " + ", ".join(at_90) +
            " (Walch et al. 2019, their best sleep/wake model: 0.596 wake at 0.93 sleep).")  # fmt: skip
    protocol = keys(f"{ev}.protocol")
    layer = f"hidden layer of {hidden}" if hidden else "no hidden layer"
    title = (f"sleep context model ({layer}), held-out subjects ({protocol}, {keys(f'{ev}.folds')} folds, "
             f"{keys(f'{ev}.subjects')} subjects)")  # fmt: skip
    return MetricsTable(title, "sleep", str(keys.path), protocol, rows, confusions, note=note,
                        key="sleep_held_out")  # fmt: skip
