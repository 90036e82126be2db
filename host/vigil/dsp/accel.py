"""Twin of the accelerometer front end (firmware/core/dsp/accel_magnitude_u16.c, diff_sat_i16.c,
accel_stft.c, motion_level.c): 3-axis int16 milli-g -> magnitude (uint16) -> first difference (int16) -> spectrogram
columns, and the motion level per 30-s epoch and per second.

Integer-exact; the whole chain to int8 spectrogram columns is :func:`accel_columns`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.dsp import config
from vigil.dsp.isqrt import isqrt
from vigil.dsp.stft import stft_columns

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1
MOTION_LEVEL_MAX = 0xFFFF


def magnitude(xyz: np.ndarray) -> np.ndarray:
    """floor(sqrt(x^2 + y^2 + z^2)) of (n, 3) int16 samples, as uint16 (at most 56755)."""
    xyz = np.asarray(xyz)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"expected (n, 3) samples, got shape {xyz.shape}")
    v = xyz.astype(np.int64)
    return isqrt(np.sum(v * v, axis=1)).astype(np.uint16)


def derivative(mag: np.ndarray) -> np.ndarray:
    """d[i] = saturate_int16(m[i] - m[i-1]), with d[0] = 0 (the stream's first sample)."""
    m = np.asarray(mag).astype(np.int64)
    d = np.zeros(m.shape, dtype=np.int64)
    d[1:] = np.diff(m)
    return np.clip(d, INT16_MIN, INT16_MAX).astype(np.int16)


def motion_levels(deriv: np.ndarray, window: int = config.EPOCH_SAMPLES) -> np.ndarray:
    """Per complete window (a 30-s epoch unless told): floor(sum |derivative| / window), saturated to uint16
    (motion_level.c)."""
    d = np.abs(np.asarray(deriv, dtype=np.int64))
    n = len(d) // window
    per_window = d[: n * window].reshape(n, window).sum(axis=1)
    return np.minimum(per_window // window, MOTION_LEVEL_MAX)


def accel_motion(xyz: np.ndarray) -> np.ndarray:
    """The motion level of every complete epoch of (n, 3) int16 milli-g samples (what the PPG pipeline's baseline and
    the stress alert are given)."""
    return motion_levels(derivative(magnitude(xyz))) if len(xyz) else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class WristMotion:
    """What the PPG pipeline is told of the accelerometer recorded with it: the motion level of every complete 30-s
    epoch (the baseline's stillness rule) and of every complete second (the beats' motion reference)."""

    epochs: np.ndarray
    seconds: np.ndarray


def derivative_motion(deriv: np.ndarray) -> WristMotion:
    """Both motion levels of the accelerometer magnitude's derivative (``derivative``)."""
    return WristMotion(motion_levels(deriv), motion_levels(deriv, config.ACCEL_RATE_HZ))


def wrist_motion(xyz: np.ndarray) -> WristMotion:
    """Both motion levels of (n, 3) int16 milli-g samples (``ppg_chain(..., motion=)``)."""
    return derivative_motion(derivative(magnitude(xyz)) if len(xyz) else np.zeros(0, dtype=np.int16))


def accel_columns(xyz: np.ndarray) -> np.ndarray:
    """The whole sleep-input chain: (n, 3) int16 milli-g -> (n_cols, 65) int8 spectrogram columns."""
    return stft_columns(derivative(magnitude(xyz)))


def resample_milli_g(t_s: np.ndarray, xyz_g: np.ndarray, rate_hz: int = config.ACCEL_RATE_HZ) -> np.ndarray:
    """Irregularly timed samples in g -> uniform ``rate_hz`` samples in int16 milli-g.

    Linear interpolation (np.interp) at t_s[0] + i/rate_hz for every instant up to t_s[-1], then
    rounding and saturation to int16. This is host-side preparation of recordings, not a twin."""
    t = np.asarray(t_s, dtype=np.float64)
    xyz = np.asarray(xyz_g, dtype=np.float64)
    if t.ndim != 1 or xyz.shape != (t.size, 3):
        raise ValueError(f"expected t (n,) and xyz (n, 3), got {t.shape} and {xyz.shape}")
    if t.size < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("time stamps must be at least two and strictly increasing")
    n = int(np.floor((t[-1] - t[0]) * rate_hz)) + 1
    grid = t[0] + np.arange(n) / rate_hz
    out = np.stack([np.interp(grid, t, xyz[:, a]) for a in range(3)], axis=1) * 1000.0
    return np.clip(np.round(out), INT16_MIN, INT16_MAX).astype(np.int16)
