"""benchmarks/sleep_peers.py: how a peer's output becomes vigil's 30-s epochs and how it is scored, by hand on
synthetic inputs. Needs neither peer installed (they are imported only when a night is run). The run on real
nights is a documented command, not a test (docs/benchmarks.md, "Sleep peers on real nights"):

    .venv/bin/pip install -e '.[peers]'
    .venv/bin/python benchmarks/sleep_peers.py --nights 1
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmark_module import load_benchmark

bench = load_benchmark("sleep_peers")


def test_paint_maps_intervals_to_samples_at_50_hz() -> None:
    # 10 s = 500 samples; [0, 5) s wake, [5, 7.01) s sleep, nothing after
    out = bench.paint(500, np.array([0.0, 5.0]), np.array([5.0, 7.01]), np.array([0, 1]))
    assert out.dtype == np.int8
    assert (out[:250] == 0).all()  # samples 0..249 are t < 5 s
    assert (out[250:351] == 1).all()  # t = 5.00 .. 7.00 s; 7.01 s is sample 350.5, so 350 is the last one in
    assert (out[351:] == -1).all()


def test_paint_clips_intervals_past_the_ends() -> None:
    # a 5-min block starting 200 s before the recording (wristpy's clock-aligned SIB windows do) and one past the end
    out = bench.paint(1000, np.array([-200.0, 15.0]), np.array([100.0, 400.0]), np.array([1, 0]))
    assert (out[:750] == 1).all() and (out[750:] == 0).all()


def test_bins_of_a_per_minute_output_cover_two_epochs_each() -> None:
    # skdh's per-minute decisions: minute m covers epochs 2m and 2m + 1
    per_sample = bench.bins(np.arange(3) * 60.0, 60.0, np.array([1, 0, 1]), 3 * 3000)
    assert list(bench.epochs_from_samples(per_sample)) == [1, 1, 0, 0, 1, 1]


def test_epochs_from_samples_majority_tie_and_coverage() -> None:
    e = bench.SAMPLES_PER_EPOCH
    s = np.full(5 * e, -1, dtype=np.int8)
    s[0:e] = 1  # all sleep
    s[e : e + 751], s[e + 751 : 2 * e] = 1, 0  # 751 sleep, 749 wake
    s[2 * e : 2 * e + 750], s[2 * e + 750 : 3 * e] = 1, 0  # a tie: wake
    s[3 * e : 3 * e + 749] = 1  # under half decided: nothing
    s[4 * e : 4 * e + 750] = 0  # exactly half decided, all wake
    assert list(bench.epochs_from_samples(np.append(s, [1, 1]))) == [1, 1, 0, -1, 0]  # a partial epoch is dropped


def test_both_asleep() -> None:
    a = np.array([1, 1, 0, 0, -1, 1], dtype=np.int8)
    b = np.array([1, 0, 1, 0, 1, -1], dtype=np.int8)
    assert list(bench.both_asleep(a, b)) == [1, 0, 0, 0, -1, -1]


def test_sleep_wake_scores_by_hand() -> None:
    # truth: 0 wake, 1 NREM, 2 REM, -1 unscored; prediction 0 wake, 1 sleep, -1 nothing
    truth = np.array([0, 0, 0, 0, 1, 1, 2, 2, 1, 1, -1, 1])
    pred = np.array([0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, -1])
    s = bench.sleep_wake_scores(truth, pred)
    # 10 epochs both have (the unscored and the undecided one drop); 11 scored, so coverage 10/11
    assert s["epochs"] == 10 and s["coverage"] == pytest.approx(10 / 11)
    # wake: 3 of 4 said wake; sleep: 5 of 6 said sleep. Rows true [sleep, wake], columns said [sleep, wake]
    assert s["confusion"] == [[5, 1], [1, 3]]
    assert s["wake_correct"] == pytest.approx(0.75) and s["sleep_correct"] == pytest.approx(5 / 6)
    assert s["accuracy"] == pytest.approx(0.8)
    # kappa: chance = (6*6 + 4*4) / 100 = 0.52; (0.8 - 0.52) / 0.48
    assert s["kappa"] == pytest.approx(0.28 / 0.48)


def test_total_sleep_time_error_and_summary() -> None:
    truth = np.array([0, 0, 1, 1, 1, 2, 1, 0])  # 5 sleep epochs = 2.5 min
    over = np.array([0, 1, 1, 1, 1, 1, 1, 1])  # 7 = 3.5 min: +1.0
    under = np.array([0, 0, 0, 0, 1, 1, -1, -1])  # on the 6 epochs both have: PSG 4 sleep, predicted 2: -1.0
    assert bench.tst_error_min(truth, over) == pytest.approx(1.0)
    assert bench.tst_error_min(truth, under) == pytest.approx(-1.0)
    s = bench.summarize([truth, truth], [over, under])
    assert s["nights"] == 2 and s["epochs"] == 14
    assert s["tst_error_min_mean_abs"] == pytest.approx(1.0) and s["tst_error_min_mean"] == pytest.approx(0.0)
    assert bench.summarize([], []) == {"nights": 0}


def test_vigil_rows_read_a_metrics_json(tmp_path: Path) -> None:
    m = {"accuracy": 0.8, "kappa": 0.5, "sensitivity": 0.6, "specificity": 0.9, "confusion": [[9, 1], [2, 3]]}
    ev = {"protocol": "lso5", "folds": 5, "nights": 31, "sleep_wake": {**m, "auc": 0.85}, "tst_error_min_mean": 20.0,
          "per_night": [{"errors": {"tst_error_min": -10.0}}, {"errors": {"tst_error_min": 30.0}}],
          "references": {"van_hees_2015": m, "random_forest_movement": {**m, "auc": 0.7}}}  # fmt: skip
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"evaluation": ev}))
    rows = bench.vigil_rows(path)
    assert list(rows) == ["vigil_context", "vigil_van_hees_2015", "vigil_random_forest"]
    ctx = rows["vigil_context"]
    assert ctx["wake_correct"] == 0.6 and ctx["sleep_correct"] == 0.9 and ctx["epochs"] == 15 and ctx["auc"] == 0.85
    assert ctx["tst_error_min_mean_abs"] == 20.0 and ctx["tst_error_min_mean"] == pytest.approx(10.0)
    assert "night-wise CV" in ctx["method"] and rows["vigil_van_hees_2015"]["tst_error_min_mean"] is None
    table = bench.markdown({"rows": rows})
    assert table.count("\n") == 4 and "| vigil context model (int8, TFLM) |" in table


def test_a_peer_that_fails_or_decides_nothing_is_counted_not_fatal(tmp_path: Path, monkeypatch) -> None:
    """The run over nights with stand-in peers (the real ones are not needed): wristpy's rows say sleep all
    night; skdh raises on the first night and on the second decides only its whole-night row."""
    from rich.console import Console

    from test_ichi import encode, gravity_counts, psg_codes  # tests/ is on sys.path: synthetic ICHI nights

    counts = gravity_counts()  # 1040 s: 34 whole epochs, 31 scored, 3 of them sleep (see test_ichi.EPOCH_CODES)
    for name in ("p001", "p002"):
        np.save(tmp_path / f"{name}.npy", encode(counts, psg_codes(len(counts))))

    def wristpy(accel_g, start):
        return {k: np.ones(len(accel_g), np.int8) for k in bench.ROWS if k.startswith("wristpy")}, {}

    calls = []

    def skdh(accel_g, start):
        calls.append(start)
        if len(calls) == 1:
            raise ValueError("a stand-in failure\nsecond line")
        return {"skdh_ck": np.zeros(len(accel_g), np.int8), "skdh_tso": "no TSO", "skdh_ck_in_tso": "no TSO"}, {}

    monkeypatch.setitem(bench.RUNNERS, "wristpy", wristpy)
    monkeypatch.setitem(bench.RUNNERS, "skdh", skdh)
    monkeypatch.setattr(bench, "versions", lambda: {"wristpy": "x", "scikit-digital-health": "y", "polars": None,
                                                    "numpy": None})  # fmt: skip
    result = bench.run(tmp_path, None, None, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    assert result["nights"] == ["p001", "p002"] and result["epochs_scored_psg"] == 62
    hdcza = result["rows"]["wristpy_hdcza"]
    assert hdcza["nights"] == 2 and hdcza["epochs"] == 62 and hdcza["accuracy"] == pytest.approx(6 / 62)
    assert hdcza["wake_correct"] == 0.0 and hdcza["sleep_correct"] == 1.0
    assert hdcza["tst_error_min_mean"] == pytest.approx(14.0)  # 31 epochs said sleep (15.5 min), PSG has 3 (1.5)
    assert result["rows"]["skdh_ck"]["nights"] == 1 and result["rows"]["skdh_tso"]["nights"] == 0
    assert result["failures"]["skdh_ck"] == [{"night": "p001", "reason": "skdh raised ValueError: a stand-in failure"}]
    assert [f["night"] for f in result["failures"]["skdh_tso"]] == ["p001", "p002"]
    assert result["failures"]["skdh_tso"][1]["reason"] == "no TSO" and "wristpy_sib" not in result["failures"]
    assert result["common_nights"] == []
    lines = bench.failure_lines(result)
    assert "skdh_tso: 1 night(s) without output (p002): no TSO" in lines
    assert "The peers on the 0 nights every peer row decided" in bench.markdown(result)
