"""Synthetic wrist accelerometer, int16 milli-g at 50 Hz: the shape of a sleeping (or resting) wrist,
for tests and demos that must run with no download.

The model, deliberately small (a later generator builds whole nights on it):
- gravity, 1000 milli-g along an orientation that drifts slowly (a random walk of a few degrees a
  minute) and jumps at **posture shifts** (a new orientation reached in 1-3 s, with a movement burst);
- **activity periods**: the record alternates quiet periods (minutes with almost no movement) and
  restless ones, where **movement bursts** (band-limited 0.3-8 Hz acceleration, 30-400 milli-g, 1-10 s
  under a smooth envelope) and **twitches** (0.1-0.3 s jerks of 100-800 milli-g) are more frequent;
- a constant per-axis offset (+-30 milli-g, as an uncalibrated sensor) and white sensor noise
  (3 milli-g rms), rounded to integers and saturated to int16.
The pieces (orientation walk, bursts, twitches, sensor readout) are public: ``vigil.data.synthetic_night``
builds whole nights from them with stage-dependent rates.
Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same samples.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

GRAVITY_MG = 1000.0
NOISE_MG = 3.0
OFFSET_MG = 30.0
DRIFT_RAD_PER_S = np.deg2rad(5.0) / 60.0  # rms orientation drift rate
PERIOD_S = (60.0, 600.0)  # length of a quiet or restless period
RATES_PER_MIN = {"quiet": (0.05, 0.1, 0.02), "restless": (1.5, 2.0, 0.3)}  # bursts, twitches, posture shifts
BURST_MG = (30.0, 400.0)  # peak of a movement burst
TWITCH_MG = (100.0, 800.0)  # peak of a twitch


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# ---------------------------------------------------------------- pieces (shared with synthetic_night)


def orientation_walk(n: int, rate_hz: float, rng: np.random.Generator, shifts: list[tuple[int, int]]) -> np.ndarray:
    """(n, 3) unit vectors: a slow random walk, with a smooth move to a new direction at each shift
    (start sample, duration in samples)."""
    step = DRIFT_RAD_PER_S / np.sqrt(rate_hz)
    walk = np.cumsum(rng.normal(0.0, step, size=(n, 3)), axis=0)
    start = _unit(rng.normal(size=3) + np.array([0.0, 0.0, 1.0]))
    g = _unit(start + walk)
    for at, dur in shifts:
        target = _unit(g[at] + rng.normal(0.0, 0.8, size=3))
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.clip(np.arange(n - at) / max(dur, 1), 0.0, 1.0))
        g[at:] = _unit(g[at:] + ramp[:, None] * (target - g[at])[None, :])
    return g


def shift_spans(shift_times_s: list[float], n: int, rate_hz: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Posture shifts at the given times -> (start sample, 1-3 s duration in samples), those inside the record."""
    return [(int(s * rate_hz), int(rng.uniform(1.0, 3.0) * rate_hz)) for s in shift_times_s if int(s * rate_hz) < n]


def add_bursts(acc: np.ndarray, starts_s: list[float], rate_hz: int, rng: np.random.Generator,
               amplitude_mg: list[tuple[float, float]] | tuple[float, float] = BURST_MG) -> None:  # fmt: skip
    """Add, in place, a movement burst at each start: band-limited (0.3-8 Hz) 3-axis noise under a Hann
    envelope, 1-10 s long, peak drawn from ``amplitude_mg`` (one (low, high) range, or one per burst)."""
    n = len(acc)
    ranges = amplitude_mg if isinstance(amplitude_mg, list) else [amplitude_mg] * len(starts_s)
    sos = butter(4, [0.3, min(8.0, 0.45 * rate_hz)], btype="bandpass", fs=rate_hz, output="sos")
    for t0, (lo, hi) in zip(starts_s, ranges):
        dur = int(rng.uniform(1.0, 10.0) * rate_hz)
        at = int(t0 * rate_hz)
        if at >= n or dur < 16:
            continue
        shape = sosfiltfilt(sos, rng.normal(size=(dur, 3)), axis=0)
        shape /= np.max(np.abs(shape)) + 1e-12
        envelope = np.hanning(dur)[:, None]
        end = min(n, at + dur)
        acc[at:end] += (rng.uniform(lo, hi) * envelope * shape)[: end - at]


def add_twitches(acc: np.ndarray, starts_s: list[float], rate_hz: int, rng: np.random.Generator,
                 amplitude_mg: list[tuple[float, float]] | tuple[float, float] = TWITCH_MG) -> None:  # fmt: skip
    """Add, in place, a twitch at each start: a 0.1-0.3 s half-sine jerk in a random direction, peak drawn
    from ``amplitude_mg`` (one range, or one per twitch)."""
    n = len(acc)
    ranges = amplitude_mg if isinstance(amplitude_mg, list) else [amplitude_mg] * len(starts_s)
    for t0, (lo, hi) in zip(starts_s, ranges):
        dur = max(2, int(rng.uniform(0.1, 0.3) * rate_hz))
        at = int(t0 * rate_hz)
        if at >= n:
            continue
        end = min(n, at + dur)
        jerk = rng.uniform(lo, hi) * _unit(rng.normal(size=3))
        acc[at:end] += (np.sin(np.pi * np.arange(dur) / (dur - 1))[:, None] * jerk)[: end - at]


def sensor_readout(acc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The sensor's view of true acceleration (milli-g): a constant per-axis offset and white noise, rounded
    and saturated to int16."""
    n = len(acc)
    acc = acc + rng.uniform(-OFFSET_MG, OFFSET_MG, size=3) + rng.normal(0.0, NOISE_MG, size=(n, 3))
    return np.clip(np.round(acc), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------- the resting-wrist session


def _events(seconds: float, rng: np.random.Generator) -> tuple[list[float], list[float], list[float]]:
    """Event times (s) of bursts, twitches and posture shifts over alternating quiet/restless periods."""
    bursts: list[float] = []
    twitches: list[float] = []
    shifts: list[float] = []
    t, kind = 0.0, str(rng.choice(["quiet", "restless"]))
    while t < seconds:
        length = min(rng.uniform(*PERIOD_S), seconds - t)
        for times, per_min in zip((bursts, twitches, shifts), RATES_PER_MIN[kind]):
            count = rng.poisson(per_min * length / 60.0)
            times.extend(sorted(t + rng.uniform(0.0, length, size=count)))
        t += length
        kind = "restless" if kind == "quiet" else "quiet"
    return bursts, twitches, shifts


def synthetic_accel(seconds: float, seed: int, rate_hz: int = 50) -> np.ndarray:
    """(n, 3) int16 milli-g samples at ``rate_hz``, n = round(seconds * rate_hz). See the module doc."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate_hz)
    if n <= 0:
        return np.zeros((0, 3), dtype=np.int16)
    bursts, twitches, shifts = _events(n / rate_hz, rng)
    acc = GRAVITY_MG * orientation_walk(n, rate_hz, rng, shift_spans(shifts, n, rate_hz, rng))
    add_bursts(acc, bursts + shifts, rate_hz, rng)  # posture shifts move the arm too
    add_twitches(acc, twitches, rate_hz, rng)
    return sensor_readout(acc, rng)
