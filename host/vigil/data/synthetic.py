"""Built-in synthetic sessions as recordings, for `vigil synth`, the demo and the tests."""

from __future__ import annotations

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.dsp.config import PPG_RATES_HZ


def synthetic_session(seconds: float, seed: int, ppg_rate_hz: int | None = 64, stress: float = 0.0,
                      difficulty: str = "typical") -> Recording:  # fmt: skip
    """Wrist accelerometer plus (unless ppg_rate_hz is None) PPG of one synthetic person."""
    accel = synthetic_accel(seconds, seed=seed)
    if ppg_rate_hz is None:
        return Recording.from_arrays(accel=accel, source={"kind": "synthetic", "seed": seed})
    if ppg_rate_hz not in PPG_RATES_HZ:
        raise ValueError(f"PPG rate {ppg_rate_hz} Hz: choose one of {PPG_RATES_HZ}")
    ppg, _beats = synthetic_ppg(seconds, ppg_rate_hz, seed=seed, stress=stress, difficulty=difficulty)
    return Recording.from_arrays(
        accel=accel, ppg=ppg, ppg_rate_hz=ppg_rate_hz,
        source={"kind": "synthetic", "seed": seed, "stress": stress, "difficulty": difficulty},
    )  # fmt: skip
