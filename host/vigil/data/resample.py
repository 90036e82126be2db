"""Rates, time grids and resampling on the host, so that recordings reach the device at its
own rates (accelerometer 50 Hz, PPG 64/100/128 Hz) as int16.

Two kinds of source:

* uniform (a stated rate: Empatica, CSV with ``--rate`` or evenly spaced times): the samples
  are taken as they are and changed in rate with ``scipy.signal.resample_poly`` (polyphase
  FIR, Kaiser window, each branch normalised to unit DC gain; the ends are padded along the
  line through the end points so a gravity offset does not ring at the edges);
* jittered (timestamps that wobble around a nominal rate: Walch's Apple Watch ~50 Hz, CSV
  whose times do not sit on a uniform clock): linear interpolation at the timestamps onto a
  uniform grid at the nominal rate, then ``resample_poly`` if that rate is not the target.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from vigil.dsp.config import PPG_RATES_HZ
from vigil.errors import RecordingFormatError

INT16_MIN, INT16_MAX = -32768, 32767
# An estimated rate this close to a whole number of Hz is that number (sensors run at whole
# rates; timestamps printed with few decimals make the estimate wobble).
RATE_SNAP_TOLERANCE = 0.005
# A uniform source's steps may differ from 1/rate by this fraction (timestamp printing and
# clock jitter) before the rate counts as unstable.
UNIFORM_JITTER_TOLERANCE = 0.25
# --rate and the rate the time column shows must agree this closely.
RATE_AGREEMENT_TOLERANCE = 0.01
# The longest recording a reader accepts (s): a week of wrist data; a stray timestamp beyond it is an error, not a
# week of interpolated samples.
MAX_RECORDING_S = 7 * 86400
# Largest denominator of a rate written as a fraction (31.25 Hz = 125/4 is fine).
MAX_RATE_DENOMINATOR = 100

Where = Callable[[int], str]  # row index -> "FILE:LINE"

#: The source rates a reader accepts per sensor (Hz), checked before anything is allocated or resampled: below, the
#: device's own rate (accelerometer 50 Hz) or the pulse's shape (PPG) cannot be rebuilt; above, no wrist part samples
#: (accelerometers' output data rates reach 3.2 kHz, PPG front ends 3.2 kHz) and the anti-aliasing filter would grow
#: without bound (a rate of 1e9 Hz asks for a 400-million-tap filter).
SOURCE_RATE_RANGE_HZ = {"accelerometer": (10.0, 3200.0), "PPG": (16.0, 3200.0), "heart rate": (0.1, 10.0)}


def check_source_rate(rate_hz: float, sensor: str, where: str) -> float:
    """``rate_hz`` if it is a plausible rate for ``sensor`` (a key of SOURCE_RATE_RANGE_HZ), else one line naming
    ``where`` (FILE:LINE or the option) and the range expected."""
    low, high = SOURCE_RATE_RANGE_HZ[sensor]
    if not (math.isfinite(rate_hz) and low <= rate_hz <= high):
        raise RecordingFormatError(f"{where}: {sensor} sampled at {rate_hz:g} Hz; expected {low:g} to {high:g} Hz")
    return rate_hz


def rate_fraction(rate_hz: float) -> Fraction:
    return Fraction(rate_hz).limit_denominator(MAX_RATE_DENOMINATOR)


def snap_rate(rate_hz: float) -> float:
    """The nearest whole rate when within RATE_SNAP_TOLERANCE, else the rate itself (as the
    nearest fraction with a small denominator)."""
    whole = round(rate_hz)
    if whole > 0 and abs(rate_hz - whole) <= RATE_SNAP_TOLERANCE * whole:
        return float(whole)
    return float(rate_fraction(rate_hz))


def nearest_ppg_rate(rate_hz: float) -> int:
    """The supported PPG rate closest to ``rate_hz`` (the higher one on a tie)."""
    return min(PPG_RATES_HZ, key=lambda r: (abs(r - rate_hz), -r))


def resample_uniform(x: np.ndarray, from_hz: float, to_hz: float) -> np.ndarray:
    """Change the rate of a uniformly sampled signal along axis 0 (float64 out). The output
    has ``ceil(len(x) * to_hz / from_hz)`` samples; sample k sits at time k / to_hz."""
    x = np.asarray(x, dtype=np.float64)
    ratio = rate_fraction(to_hz) / rate_fraction(from_hz)
    if ratio == 1 or len(x) == 0:
        return x.copy()
    if len(x) < 2:
        # resample_poly's line padding needs two points; one sample just repeats
        n_out = math.ceil(len(x) * ratio)
        return np.repeat(x, n_out, axis=0)
    from scipy.signal import resample_poly  # here: scipy.signal costs every `vigil` command ~1 s to import

    up, down = ratio.numerator, ratio.denominator
    return resample_poly(x, up, down, axis=0, window=polyphase_filter(up, down), padtype="line")


@functools.lru_cache(maxsize=32)
def polyphase_filter(up: int, down: int) -> np.ndarray:
    """resample_poly's own low-pass (firwin, Kaiser beta 5, 10 lobes per side), with each of
    its ``up`` polyphase branches scaled to a DC gain of exactly 1. Unscaled, the branches'
    gains differ by up to ±0.07 % at 32 -> 50 Hz, which turns the 1 g of gravity into a
    ±0.7 mg ripple repeating every 25 output samples: a false 2 Hz comb in quiet sleep."""
    from scipy.signal import firwin

    max_rate = max(up, down)
    half_len = 10 * max_rate
    h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    for phase in range(up):
        h[phase::up] /= up * h[phase::up].sum()
    h.setflags(write=False)
    return h


def interpolate_to_grid(t: np.ndarray, x: np.ndarray, t0: float, rate_hz: float, n: int) -> np.ndarray:
    """Linear interpolation of samples ``x`` taken at times ``t`` (increasing) onto ``n``
    points ``t0 + k / rate_hz``. ``x`` is (len(t),) or (len(t), channels)."""
    grid = t0 + np.arange(n, dtype=np.float64) / rate_hz
    if x.ndim == 1:
        return np.interp(grid, t, x)
    return np.column_stack([np.interp(grid, t, x[:, c]) for c in range(x.shape[1])])


def to_int16(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Round to nearest (ties to even) and saturate to int16; also returns how many samples
    (values, for multichannel) had to be clipped."""
    r = np.rint(np.asarray(x, dtype=np.float64))
    clipped = int(np.count_nonzero((r < INT16_MIN) | (r > INT16_MAX)))
    return np.clip(r, INT16_MIN, INT16_MAX).astype(np.int16), clipped


def uniform_rate_from_times(t: np.ndarray) -> float:
    """The rate a uniformly sampled time column shows: (n - 1) / span, snapped."""
    if len(t) < 2 or t[-1] <= t[0]:
        raise ValueError("need two increasing times")
    return snap_rate((len(t) - 1) / (t[-1] - t[0]))


def on_uniform_clock(t: np.ndarray, rate_hz: float) -> bool:
    """True when every time lies within half a sample of ``t[0] + k / rate_hz``: the samples
    can be used as they are, without interpolation."""
    ideal = t[0] + np.arange(len(t)) / rate_hz
    return bool(np.max(np.abs(t - ideal)) <= 0.5 / rate_hz) if len(t) else True


# ---------------------------------------------------------------- checks with FILE:LINE


def check_increasing(t: np.ndarray, where: Where) -> None:
    """Every time after the previous one, and every time within MAX_RECORDING_S of the first (checked before a grid
    is built over the span: a stray 3e10 would ask for terabytes)."""
    steps = np.diff(t)
    bad = np.flatnonzero(steps <= 0)
    if len(bad):
        row = int(bad[0]) + 1
        raise RecordingFormatError(
            f"{where(row)}: time {t[row]:.9g} is not after the previous row's {t[row - 1]:.9g}; "
            "expected strictly increasing time"
        )
    far = np.flatnonzero(t - t[0] > MAX_RECORDING_S) if len(t) else []
    if len(far):
        row = int(far[0])
        raise RecordingFormatError(
            f"{where(row)}: time {t[row]:.9g}, {(t[row] - t[0]) / 86400:.3g} days after the first row's "
            f"{t[0]:.9g}; expected a recording of at most {MAX_RECORDING_S // 86400} days"
        )


def check_uniform_steps(t: np.ndarray, rate_hz: float, where: Where) -> None:
    """Every step within UNIFORM_JITTER_TOLERANCE of 1 / rate_hz (after check_increasing)."""
    period = 1.0 / rate_hz
    steps = np.diff(t)
    bad = np.flatnonzero(np.abs(steps - period) > UNIFORM_JITTER_TOLERANCE * period)
    if len(bad):
        row = int(bad[0]) + 1
        raise RecordingFormatError(
            f"{where(row)}: time step {steps[row - 1]:.6g} s from the previous row; expected "
            f"{period:.6g} s ± {UNIFORM_JITTER_TOLERANCE:.0%} ({rate_hz:g} Hz): the rate is unstable or samples are missing"
        )


def check_rate_agrees(t: np.ndarray, rate_hz: float, where: Where) -> None:
    """A given rate and the one shown by the time column agree within RATE_AGREEMENT_TOLERANCE."""
    shown = (len(t) - 1) / (t[-1] - t[0])
    if abs(shown - rate_hz) > RATE_AGREEMENT_TOLERANCE * rate_hz:
        raise RecordingFormatError(
            f"{where(len(t) - 1)}: the time column runs at {shown:.4g} Hz ({len(t)} rows from t = {t[0]:g} "
            f"to {t[-1]:g} s); expected the given rate {rate_hz:g} Hz (± {RATE_AGREEMENT_TOLERANCE:.0%})"
        )
