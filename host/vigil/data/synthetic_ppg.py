"""Synthetic wrist PPG with known beat times, for tests, benchmarks and the demo (no download).

    counts, beats = synthetic_ppg(300, 100, seed=1, stress=0.8, difficulty="moderate")

The model, one step per physiological or instrumental effect:
- Heart rhythm: beat k+1 follows beat k after IBI_k = mean + RSA + LF + white, where RSA is a sine at the
  respiration rate (respiratory sinus arrhythmia), LF a 0.1-Hz sine (Mayer waves), white a Gaussian
  term; their variances split hrv_ms^2 as 50 / 30 / 20 %, so the IBIs' standard deviation is about
  hrv_ms. IBIs are kept within 330-1800 ms.
- Pulse: each beat is an asymmetric Gaussian systolic wave (rise sigma 60 ms, fall 90 ms) plus a
  reflected diastolic wave (45 % high, 320 ms later, sigma 90 ms), leaving a dicrotic notch between them;
  the diastolic timing scales with sqrt(IBI / 850 ms). The true beat is the systolic peak, at the
  sample nearest it.
- Respiration: +-15 % amplitude modulation and a 10 % baseline modulation at the respiration rate.
- Baseline wander: three slow sines (0.01-0.08 Hz), `wander` times the pulse height in total.
- Motion artifacts: `motion_per_min` bursts on average (Poisson), each 1-4 s of 0.5-4 Hz band-limited
  noise 1-3 pulse heights strong plus a lasting baseline shift.
- Sensor noise: white Gaussian, `noise` times the pulse height.
- ADC: scaled to `amplitude_counts` per pulse height around mid-scale of an `adc_bits` converter
  (unsigned range 0 .. 2^bits - 1; 16 bits means the signed int16 range), rounded and clipped at the
  rails, as an over-driven front end would.
Condition: `stress` in [0, 1] raises the default heart rate (68 -> 90 bpm) and respiration rate
(0.25 -> 0.35 Hz) and lowers the default variability (55 -> 25 ms), as in acute mental stress.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

DIFFICULTY = {  # noise, wander, motion artifacts per minute; the names of vigil.data.difficulty
    "clean": (0.0, 0.0, 0.0),
    "easy": (0.01, 0.15, 0.0),
    "typical": (0.02, 0.3, 0.0),
    "moderate": (0.06, 0.6, 1.0),
    "hard": (0.12, 1.0, 3.0),
}


def beat_times(seconds: float, rng: np.random.Generator, hr_bpm: float, hrv_ms: float, resp_hz: float) -> np.ndarray:
    """Systolic peak times (s) of a rhythm with the given mean rate and variability."""
    mean = 60.0 / hr_bpm
    sd = hrv_ms / 1000.0
    a_rsa, a_lf, a_white = sd, sd * np.sqrt(0.6), sd * np.sqrt(0.2)
    ph_rsa, ph_lf = rng.uniform(0, 2 * np.pi, 2)
    times = []
    t = rng.uniform(0.0, mean)
    while t < seconds:
        times.append(t)
        ibi = (
            mean
            + a_rsa * np.sin(2 * np.pi * resp_hz * t + ph_rsa)
            + a_lf * np.sin(2 * np.pi * 0.1 * t + ph_lf)
            + a_white * rng.standard_normal()
        )
        t += float(np.clip(ibi, 0.33, 1.8))
    return np.asarray(times)


def _pulse(tau: np.ndarray, ibi: float) -> np.ndarray:
    """One pulse, peak 1 at tau = 0 (systolic), diastolic wave later, dicrotic notch between."""
    s = float(np.clip(np.sqrt(ibi / 0.85), 0.75, 1.2))
    sys = np.exp(-0.5 * (tau / np.where(tau < 0, 0.06, 0.09)) ** 2)
    dia = 0.45 * np.exp(-0.5 * ((tau - 0.32 * s) / (0.09 * s)) ** 2)
    return sys + dia


def _motion(n: int, fs: int, rng: np.random.Generator, per_min: float) -> np.ndarray:
    out = np.zeros(n)
    count = rng.poisson(per_min * n / fs / 60.0)
    band = signal.butter(2, [0.5, min(4.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    for _ in range(count):
        start = int(rng.integers(0, n))
        length = min(int(rng.uniform(1.0, 4.0) * fs), n - start)
        burst = signal.sosfilt(band, rng.standard_normal(length + fs))[fs:]
        burst *= rng.uniform(1.0, 3.0) / max(float(np.abs(burst).max()), 1e-9)
        out[start : start + length] += burst
        out[start + length :] += rng.uniform(-1.0, 1.0)  # the sensor sits differently afterwards
    return out


def synthetic_ppg(
    seconds: float,
    fs: int,
    seed: int = 0,
    *,
    hr_bpm: float | None = None,
    hrv_ms: float | None = None,
    stress: float = 0.0,
    resp_hz: float | None = None,
    difficulty: str = "typical",
    noise: float | None = None,
    wander: float | None = None,
    motion_per_min: float | None = None,
    amplitude_counts: float = 300.0,
    adc_bits: int = 12,
) -> tuple[np.ndarray, np.ndarray]:
    """(int16 ADC counts, int64 indices of the true systolic peaks). Explicit noise / wander /
    motion_per_min override the `difficulty` preset (DIFFICULTY)."""
    if difficulty not in DIFFICULTY:
        raise ValueError(f"difficulty {difficulty!r}: expected one of {sorted(DIFFICULTY)}")
    if not 0.0 <= stress <= 1.0:
        raise ValueError(f"stress {stress}: expected 0..1")
    if not 8 <= adc_bits <= 16:
        raise ValueError(f"adc_bits {adc_bits}: expected 8..16")
    d_noise, d_wander, d_motion = DIFFICULTY[difficulty]
    noise = d_noise if noise is None else noise
    wander = d_wander if wander is None else wander
    motion_per_min = d_motion if motion_per_min is None else motion_per_min
    hr_bpm = 68.0 + 22.0 * stress if hr_bpm is None else hr_bpm
    hrv_ms = 55.0 - 30.0 * stress if hrv_ms is None else hrv_ms
    resp_hz = 0.25 + 0.10 * stress if resp_hz is None else resp_hz

    rng = np.random.default_rng(seed)
    n = int(round(seconds * fs))
    t = np.arange(n) / fs
    beats = beat_times(seconds, rng, hr_bpm, hrv_ms, resp_hz)
    ibis = np.diff(beats, append=beats[-1] + 60.0 / hr_bpm) if len(beats) else beats

    pulses = np.zeros(n)
    for tb, ibi in zip(beats, ibis):
        lo, hi = max(int((tb - 0.4) * fs), 0), min(int((tb + 1.2) * fs) + 1, n)
        pulses[lo:hi] += _pulse(t[lo:hi] - tb, float(ibi))
    resp = 2 * np.pi * resp_hz * t
    x = pulses * (1.0 + 0.15 * np.sin(resp)) + 0.10 * np.sin(resp + np.pi / 3)
    if wander:
        freqs = rng.uniform(0.01, 0.08, 3)
        phases = rng.uniform(0, 2 * np.pi, 3)
        x += wander / 3 * np.sin(2 * np.pi * freqs[:, None] * t[None, :] + phases[:, None]).sum(axis=0)
    if motion_per_min:
        x += _motion(n, fs, rng, motion_per_min)
    if noise:
        x += noise * rng.standard_normal(n)

    lo, hi = (-(2**15), 2**15 - 1) if adc_bits == 16 else (0, 2**adc_bits - 1)
    mid = (lo + hi + 1) / 2 - 0.5 * amplitude_counts
    counts = np.clip(np.round(mid + amplitude_counts * x), lo, hi).astype(np.int16)
    true_idx = np.round(beats * fs).astype(np.int64)
    return counts, true_idx[true_idx < n]
