"""vigil.data.synthetic_day: reproducible, and the activities land where the alert's gating needs them — a seated
person under the committed motion limit and classed awake by the sleep CNN, a walking one above the limit
(floors and ceilings from benchmarks/alert_gating.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.data.synthetic_day import ACTIVITIES, day_accel, synthetic_day
from vigil.dsp import accel as accel_twin
from vigil.errors import VigilError
from vigil.bundle import consensus_twin as ct

SEEDS = range(8)


def levels(activity: str, seconds: float, seed: int) -> np.ndarray:
    acc = day_accel(seconds, np.random.default_rng(seed), activity)
    return ct.motion_levels(accel_twin.derivative(accel_twin.magnitude(acc)))


def test_same_arguments_same_samples_and_a_documented_shape() -> None:
    a, b = synthetic_day(120, 3, "seated", stress=0.5), synthetic_day(120, 3, "seated", stress=0.5)
    assert np.array_equal(a.accel, b.accel) and np.array_equal(a.ppg, b.ppg)
    assert a.accel.shape == (6000, 3) and a.accel.dtype == np.int16 and len(a.ppg) == 120 * 64
    assert not np.array_equal(a.accel, synthetic_day(120, 4, "seated").accel)
    bare = synthetic_day(60, 1, "walking", ppg_rate_hz=None)
    assert len(bare.ppg) == 0 and bare.meta["source"]["activity"] == "walking"
    assert set(ACTIVITIES) == {"seated", "walking"}


def test_bad_arguments_say_what_was_expected() -> None:
    with pytest.raises(VigilError, match="activity 'running': expected one of seated, walking"):
        day_accel(60, np.random.default_rng(0), "running")
    with pytest.raises(VigilError, match="PPG rate 50 Hz"):
        synthetic_day(60, 0, ppg_rate_hz=50)


def test_seated_stays_under_the_motion_limit_and_walking_goes_above() -> None:
    limit = ct.DeviceModels.load().consensus.motion_limit
    seated = np.concatenate([levels("seated", 900, seed) for seed in SEEDS])
    walking = np.concatenate([levels("walking", 300, seed) for seed in SEEDS])
    assert seated.max() <= limit and np.median(seated) >= 4  # fidgeting: above a still wrist's 3
    assert walking.min() > limit and np.median(walking) >= 2 * limit


def test_the_sleep_model_says_a_seated_person_is_awake() -> None:
    models = ct.DeviceModels.load()
    for seed in (0, 1):
        records = ct.device_sleep_records(day_accel(600, np.random.default_rng(seed), "seated"), models)
        wake = np.mean([r.cls == 0 for r in records])
        assert len(records) >= 600 // 30 - models.sleep_delay - 2 and wake >= 0.9, (seed, wake)


@pytest.mark.parametrize("activity", ["seated", "walking"])
def test_the_sleep_model_keeps_a_day_awake_hours_into_the_recording(activity: str) -> None:
    """A device worn all day: two hours of desk work or walking are wake long after the first minutes (a model
    that learned "late in the recording = asleep" or extrapolated past the lab's nights would fail here)."""
    models = ct.DeviceModels.load()
    records = ct.device_sleep_records(day_accel(2 * 3600, np.random.default_rng(11), activity), models)
    late = [r.cls for r in records if r.epoch >= 60]  # after the first half hour
    assert len(late) > 150 and np.mean(np.array(late) == 0) >= 0.9, np.bincount(late, minlength=3)


def test_synth_command_writes_the_day_generator_s_recording(tmp_path) -> None:
    import numpy as np
    from click.testing import CliRunner

    from vigil.cli import cli
    from vigil.data.recording import Recording
    from vigil.data.synthetic_day import synthetic_day

    out = tmp_path / "seated.vrec"
    result = CliRunner().invoke(cli, ["synth", "--activity", "seated", "--stress", "1", "--seconds", "90",
                                      "--seed", "4", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    rec, want = Recording.load(out), synthetic_day(90.0, 4, "seated", stress=1.0)
    np.testing.assert_array_equal(rec.accel, want.accel)
    np.testing.assert_array_equal(rec.ppg, want.ppg)
