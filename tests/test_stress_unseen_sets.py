"""benchmarks/stress_unseen_sets.py: the spread of the issue's bars over sets of unseen subjects, by hand on small
made-up predictions. The run on WESAD is a documented command (docs/stress.md section 6):

    .venv/bin/python benchmarks/stress_unseen_sets.py
"""

from __future__ import annotations

import numpy as np

from benchmark_module import load_benchmark

bench = load_benchmark("stress_unseen_sets")


def test_every_set_is_scored_and_the_bars_are_counted() -> None:
    # four subjects, five minutes each; subject 3 misses every stress minute and raises a false alert
    groups = np.repeat(np.arange(4), 5)
    labels = np.tile([0, 0, 0, 1, 1], 4)
    decisions = labels.copy()
    decisions[groups == 3] = 0
    alerts = (labels == 1) & (groups < 3)
    alerts[15] = True  # subject 3's first minute, relax
    out = bench.set_spread(labels, decisions, alerts, groups, set_size=2)
    assert out["sets"] == 6
    # the three sets without subject 3 are perfect; the three with it: accuracy 0.8, sensitivity 0.5
    assert out["meet_accuracy_and_sensitivity"] == 3 and out["meet_all_bars"] == 3
    s = out["spread"]
    assert s["sensitivity"]["lowest"] == 0.5 and s["accuracy"]["lowest"] == 0.8 and s["accuracy"]["median"] == 0.9
    assert s["alert_precision"]["lowest"] == 0.667  # with subject 3: the other's 2 true alerts and its false one
