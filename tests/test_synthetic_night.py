"""Synthetic nights: the hypnogram's shape (cycles, REM share and lengthening, deep sleep early, wake at the
edges), the movement each stage makes and how difficulty blurs it, seeds, the recording, `vigil synth --night`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_night import (
    MOVEMENT,
    STAGE_N3,
    STAGE_REM,
    STAGE_WAKE,
    difficulty_value,
    stage_movement,
    synthetic_hypnogram,
    synthetic_night,
)
from vigil.dsp.accel import derivative, magnitude
from vigil.errors import VigilError

NIGHT_EPOCHS = 960  # 8 h
SEEDS = range(8)


def runs(stages: np.ndarray, stage: int) -> list[tuple[int, int]]:
    """(start, length) of each run of ``stage``."""
    is_stage = np.concatenate([[0], (stages == stage).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(is_stage))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


@pytest.fixture(scope="module")
def hypnograms() -> list[np.ndarray]:
    return [synthetic_hypnogram(NIGHT_EPOCHS, np.random.default_rng(s)) for s in SEEDS]


def test_wake_at_the_edges_and_a_sleep_onset_latency(hypnograms: list[np.ndarray]) -> None:
    for h in hypnograms:
        assert h[0] == STAGE_WAKE and h[-1] == STAGE_WAKE
        onset = int(np.argmax(h != STAGE_WAKE))
        assert 6 <= onset <= 120  # 3 .. 60 minutes
        assert np.all(h[-6:] == STAGE_WAKE)  # at least 3 minutes awake at the end


def test_rem_share_and_cycles_of_about_90_minutes(hypnograms: list[np.ndarray]) -> None:
    for h in hypnograms:
        asleep = h != STAGE_WAKE
        rem_share = np.mean(h[asleep] == STAGE_REM)
        assert 0.10 <= rem_share <= 0.30, rem_share  # adults: about 20-25 % of sleep
        rem_runs = [r for r in runs(h, STAGE_REM)]
        assert 3 <= len(rem_runs) <= 6, rem_runs  # one REM period per cycle
        gaps_min = np.diff([start for start, _ in rem_runs]) / 2
        assert 60 <= np.median(gaps_min) <= 125, gaps_min


def test_rem_lengthens_and_deep_sleep_comes_early(hypnograms: list[np.ndarray]) -> None:
    first_rem, last_rem, n3_first_half = [], [], []
    for h in hypnograms:
        rem_runs = runs(h, STAGE_REM)
        first_rem.append(rem_runs[0][1])
        last_rem.append(max(length for _, length in rem_runs[1:]))
        n3 = np.flatnonzero(h == STAGE_N3)
        n3_first_half.append(np.mean(n3 < NIGHT_EPOCHS // 2))
    assert np.mean(last_rem) > 2 * np.mean(first_rem)
    assert np.mean(n3_first_half) > 0.8


def test_brief_awakenings_inside_the_night(hypnograms: list[np.ndarray]) -> None:
    inside = []
    for h in hypnograms:
        wake = runs(h, STAGE_WAKE)
        inside.append(len(wake) - 2)  # not counting the edges
        assert all(length <= 6 for _, length in wake[1:-1])
    assert np.mean(inside) >= 1.5


def test_same_seed_same_night_other_seed_other_night() -> None:
    a = synthetic_night(1.0, seed=4)
    b = synthetic_night(1.0, seed=4)
    c = synthetic_night(1.0, seed=5)
    assert np.array_equal(a.accel, b.accel) and np.array_equal(a.sleep_labels, b.sleep_labels)
    assert not np.array_equal(a.accel, c.accel)
    assert not np.array_equal(a.accel, synthetic_night(1.0, seed=4, night=1).accel)


def test_the_night_is_a_recording_with_labels_on_the_epoch_grid() -> None:
    rec = synthetic_night(0.5, seed=1, ppg_rate_hz=64)
    assert rec.accel.shape == (60 * 1500, 3) and rec.accel.dtype == np.int16
    assert rec.sleep_labels is not None and len(rec.sleep_labels) == 60
    assert set(np.unique(rec.sleep_labels)) <= {0, 1, 2}
    assert rec.sleep_labels_start_s == 0.0
    assert np.array_equal(rec.epoch_labels(), rec.sleep_labels)
    assert len(rec.ppg) == 1800 * 64 and rec.ppg_rate_hz == 64


def active_share(rec: Recording, threshold_mg: int = 25) -> dict[int, float]:
    """Share of epochs of each label with any |derivative of the magnitude| above threshold_mg."""
    d = np.abs(derivative(magnitude(rec.accel)).astype(np.int64)).reshape(-1, 1500).max(axis=1)
    labels = rec.sleep_labels
    assert labels is not None
    return {k: float(np.mean(d[labels == k] > threshold_mg)) for k in (0, 1, 2)}


def test_stages_move_the_wrist_differently_and_difficulty_blurs_it() -> None:
    gaps = {}
    for level in ("clean", "moderate", "hard"):
        shares = [active_share(synthetic_night(4.0, seed=s, difficulty=level)) for s in range(3)]
        wake = np.mean([sh[0] for sh in shares])
        nrem = np.mean([sh[1] for sh in shares])
        rem = np.mean([sh[2] for sh in shares])
        if level == "clean":
            assert wake > 0.6 and nrem < 0.1 and rem > 2 * nrem  # measured: 0.74, 0.05, 0.27
        gaps[level] = wake - nrem
    assert gaps["clean"] > gaps["moderate"] + 0.15 > gaps["hard"] + 0.3  # measured: 0.69, 0.41, 0.15


def test_stage_movement_blends_towards_the_mean_with_difficulty() -> None:
    for stage, m in stage_movement(0.0).items():
        assert m.bursts_per_min == pytest.approx(MOVEMENT[stage].bursts_per_min)
        assert m.twitches_per_min == pytest.approx(MOVEMENT[stage].twitches_per_min)
    same = stage_movement(1.0)
    rates = [m.bursts_per_min for m in same.values()]
    assert max(rates) == pytest.approx(min(rates))
    half = stage_movement(0.5)
    assert MOVEMENT[STAGE_N3].bursts_per_min < half[STAGE_N3].bursts_per_min < half[STAGE_WAKE].bursts_per_min


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(VigilError, match="difficulty 'bogus'"):
        difficulty_value("bogus")
    with pytest.raises(VigilError, match=r"\[0, 1\]"):
        difficulty_value(1.5)
    with pytest.raises(VigilError, match="at least one 30-s epoch"):
        synthetic_night(0.001, seed=0)
    with pytest.raises(VigilError, match="PPG rate 50"):
        synthetic_night(0.1, seed=0, ppg_rate_hz=50)


def test_the_resting_wrist_generator_is_unchanged_by_the_refactor() -> None:
    digest = hashlib.sha256(synthetic_accel(3600.0, seed=1).tobytes()).hexdigest()
    assert digest.startswith("c934fc39f5cf2d00")  # before the pieces were shared with synthetic_night


def test_synth_night_command(tmp_path: Path) -> None:
    from vigil.cli import cli

    out = tmp_path / "night.vrec"
    res = CliRunner().invoke(cli, ["synth", "--night", "--hours", "0.5", "--ppg-rate", "none", "--seed", "3",
                                   "--difficulty", "moderate", "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rec = Recording.load(out)
    assert rec.sleep_labels is not None and len(rec.sleep_labels) == 60 and len(rec.ppg) == 0
    assert np.array_equal(rec.accel, synthetic_night(0.5, seed=3, difficulty="moderate").accel)
    plain = tmp_path / "plain.vrec"
    res = CliRunner().invoke(cli, ["synth", "--seconds", "60", "--out", str(plain)])
    assert res.exit_code == 0, res.output
    assert Recording.load(plain).sleep_labels is None
