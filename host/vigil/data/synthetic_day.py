"""Synthetic daytime wrist data: an awake person seated (fidgeting) or walking, for the stress alert's
demos and device tests (the resting wrist of ``synthetic_accel`` looks asleep to the sleep CNN).

    rec = synthetic_day(720, seed=902, activity="seated", stress=1.0)   # Recording: accel 50 Hz + PPG 64 Hz
    acc = day_accel(300, np.random.default_rng(1), "walking")           # (15000, 3) int16 milli-g

**Seated** (``ACTIVITIES["seated"]``): a person at a desk, awake. Built from ``vigil.data.synthetic_accel``'s
pieces like the night generator's wake stage, but busier and without a lying person's breathing drift:
frequent small hand and arm movements (bursts 8 a minute, 30-200 milli-g, 1-10 s), small jerks (twitches
6 a minute, 50-300 milli-g: typing, tapping), occasional bigger reaches (0.3 a minute, 300-700 milli-g) and
posture changes (0.5 a minute). Measured (benchmarks/alert_gating.py): the committed sleep CNN says wake on
all of 232 epochs (4 people), and its motion level is 6 at the median, 18 at p99 and at most 28 over 2400
epochs of 40 people (a still wrist's is 3).

**Walking** (``ACTIVITIES["walking"]``): vigorous, continuous movement (PPG is unreliable then): the arm
swings at the stride frequency (0.8-1.0 Hz, harmonics 1-3, 300-600 milli-g peak each, in a direction of
its own per harmonic), the body bounces along gravity at the step frequency (twice the stride, 200-400
milli-g), and every step lands with a 0.1-0.3 s heel-strike jerk (200-600 milli-g). Its motion level is
69 at the median and at least 35 (800 epochs of 40 people), above every seated or sleeping epoch.

**PPG**: ``vigil.data.synthetic_ppg`` with the given stress level and difficulty, the same seed.
Seeds: everything from ``numpy.random.default_rng(seed)`` (PPG from its own ``synthetic_ppg(seed=seed)``):
same arguments, same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import (
    GRAVITY_MG,
    add_bursts,
    add_twitches,
    orientation_walk,
    sensor_readout,
    shift_spans,
)
from vigil.dsp.config import ACCEL_RATE_HZ, PPG_RATES_HZ
from vigil.errors import VigilError


@dataclass(frozen=True)
class SeatedMovement:
    """Events per minute and peak sizes (milli-g) of an awake seated person's wrist."""

    bursts_per_min: float = 8.0
    burst_mg: tuple[float, float] = (30.0, 200.0)
    twitches_per_min: float = 6.0
    twitch_mg: tuple[float, float] = (50.0, 300.0)
    reaches_per_min: float = 0.3  # the occasional bigger movement
    reach_mg: tuple[float, float] = (300.0, 700.0)
    shifts_per_min: float = 0.5  # posture changes (a new wrist orientation)


@dataclass(frozen=True)
class WalkingMovement:
    """Gait of a walking person's wrist (milli-g, Hz)."""

    stride_hz: tuple[float, float] = (0.8, 1.0)
    swing_mg: tuple[float, float] = (300.0, 600.0)  # peak of each of the arm swing's harmonics 1-3
    bounce_mg: tuple[float, float] = (200.0, 400.0)  # along gravity, at the step frequency
    heel_strike_mg: tuple[float, float] = (200.0, 600.0)
    cadence_drift: float = 0.03  # relative sd of the stride frequency's slow drift


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


ACTIVITIES: dict[str, SeatedMovement | WalkingMovement] = {"seated": SeatedMovement(), "walking": WalkingMovement()}


def _poisson_times(per_min: float, seconds: float, rng: np.random.Generator) -> list[float]:
    return sorted(float(t) for t in rng.uniform(0.0, seconds, size=rng.poisson(per_min * seconds / 60.0)))


def seated_accel(n: int, m: SeatedMovement, rng: np.random.Generator, rate_hz: int) -> np.ndarray:
    """(n, 3) true acceleration (milli-g, float) of a seated wrist (see the module doc)."""
    seconds = n / rate_hz
    bursts = _poisson_times(m.bursts_per_min, seconds, rng)
    twitches = _poisson_times(m.twitches_per_min, seconds, rng)
    reaches = _poisson_times(m.reaches_per_min, seconds, rng)
    shifts = _poisson_times(m.shifts_per_min, seconds, rng)
    acc = GRAVITY_MG * orientation_walk(n, rate_hz, rng, shift_spans(shifts, n, rate_hz, rng))
    sizes = [m.burst_mg] * len(bursts) + [m.reach_mg] * (len(reaches) + len(shifts))  # a posture change is a reach
    add_bursts(acc, bursts + reaches + shifts, rate_hz, rng, sizes)
    add_twitches(acc, twitches, rate_hz, rng, m.twitch_mg)
    return acc


def walking_accel(n: int, m: WalkingMovement, rng: np.random.Generator, rate_hz: int) -> np.ndarray:
    """(n, 3) true acceleration (milli-g, float) of a walking person's wrist (see the module doc)."""
    t = np.arange(n) / rate_hz
    g = orientation_walk(n, rate_hz, rng, [])
    # the stride frequency drifts slowly (a 20-s moving average of white noise): integrate it into a phase
    drift = np.convolve(rng.normal(0.0, 1.0, n), np.ones(20 * rate_hz) / np.sqrt(20 * rate_hz), mode="same")
    stride = rng.uniform(*m.stride_hz) * (1.0 + m.cadence_drift * drift)
    phase = 2 * np.pi * np.cumsum(stride) / rate_hz
    acc = GRAVITY_MG * g
    for k in (1, 2, 3):
        direction = _unit(rng.normal(size=3))
        acc += rng.uniform(*m.swing_mg) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))[:, None] * direction[None, :]
    acc += rng.uniform(*m.bounce_mg) * np.sin(2 * phase + rng.uniform(0, 2 * np.pi))[:, None] * g
    steps = np.flatnonzero(np.diff(np.floor(phase / np.pi)) > 0) + 1  # two steps per stride
    add_twitches(acc, list(t[steps]), rate_hz, rng, m.heel_strike_mg)
    return acc


def day_accel(seconds: float, rng: np.random.Generator, activity: str = "seated",
              rate_hz: int = ACCEL_RATE_HZ) -> np.ndarray:  # fmt: skip
    """(round(seconds * rate_hz), 3) int16 milli-g of an awake wrist doing ``activity`` (ACTIVITIES)."""
    if activity not in ACTIVITIES:
        raise VigilError(f"activity {activity!r}: expected one of {', '.join(ACTIVITIES)}")
    n = round(seconds * rate_hz)
    if n <= 0:
        return np.zeros((0, 3), dtype=np.int16)
    m = ACTIVITIES[activity]
    acc = seated_accel(n, m, rng, rate_hz) if isinstance(m, SeatedMovement) else walking_accel(n, m, rng, rate_hz)
    return sensor_readout(acc, rng)


def synthetic_day(seconds: float, seed: int, activity: str = "seated", stress: float = 0.0,
                  ppg_rate_hz: int | None = 64, difficulty: str = "typical") -> Recording:  # fmt: skip
    """An awake person's wrist accelerometer (50 Hz) doing ``activity`` and, unless ``ppg_rate_hz`` is None,
    PPG at ``stress`` (0 relaxed … 1 acute) and ``difficulty`` (vigil.data.synthetic_ppg.DIFFICULTY)."""
    accel = day_accel(seconds, np.random.default_rng(seed), activity)
    source = {"kind": "synthetic", "generator": "synthetic_day", "seed": seed, "activity": activity}
    if ppg_rate_hz is None:
        return Recording.from_arrays(accel=accel, source=source)
    if ppg_rate_hz not in PPG_RATES_HZ:
        raise VigilError(f"PPG rate {ppg_rate_hz} Hz: choose one of {PPG_RATES_HZ}")
    from vigil.data.synthetic_ppg import synthetic_ppg

    ppg, _beats = synthetic_ppg(seconds, ppg_rate_hz, seed=seed, stress=stress, difficulty=difficulty)
    return Recording.from_arrays(
        accel=accel, ppg=ppg, ppg_rate_hz=ppg_rate_hz,
        source={**source, "stress": stress, "difficulty": difficulty},
        notes=f"synthetic day: {activity}, stress {stress:g}",
    )  # fmt: skip
