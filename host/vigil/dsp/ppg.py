"""Twin of the firmware's PPG stages 1 and 2 (``firmware/core/dsp/biquad_cascade_q30.c``,
``beat_detect_terma.c``, wrapped by ``ppg_pipeline.c``): the same integers, exactly.

    filtered, beats, segments = ppg_chain(raw, fs, motion=wrist_motion(xyz))   # or motion=None without accelerometer

The fixed-point kernels are our own (a float filter or a library detector could not be bit-exact);
the filter design itself comes from scipy (``vigil.dsp.ppg_tables``).
"""

from __future__ import annotations

import numpy as np

from vigil.dsp import ppg_tables as tables
from vigil.dsp.accel import WristMotion
from vigil.dsp.hrv import HrvFeatures, hrv_segments

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _biquad_df1(x: list[int], coeffs: tuple[int, int, int, int, int], x_init: int) -> list[int]:
    """One direct-form-I section, Q30 coefficients, round half up with first-order error feedback,
    int32 saturation (which clears the fed-back error).
    A recursion with rounding inside cannot be vectorised; Python ints are exact (no overflow to mirror:
    ppg_tables.filter_bounds proves the C accumulator never overflows)."""
    b0, b1, b2, na1, na2 = coeffs
    half = 1 << (tables.COEF_FRAC - 1)
    shift = tables.COEF_FRAC
    x1 = x2 = x_init
    y1 = y2 = e1 = 0
    out = []
    append = out.append
    for x0 in x:
        acc = b0 * x0 + b1 * x1 + b2 * x2 + na1 * y1 + na2 * y2 + e1
        y0 = (acc + half) >> shift
        if y0 > INT32_MAX:
            y0, e1 = INT32_MAX, 0
        elif y0 < INT32_MIN:
            y0, e1 = INT32_MIN, 0
        else:
            e1 = acc - (y0 << shift)
        append(y0)
        x2, x1, y2, y1 = x1, x0, y1, y0
    return out


def bandpass(raw: np.ndarray, fs: int) -> np.ndarray:
    """Stage 1: int16 counts -> int32 band-passed counts in Q12 (``ppg_filter``), starting in the steady
    state of the first sample (the first section's input history primed with it)."""
    table = tables.rate_table(fs)
    x = (np.asarray(raw, dtype=np.int16).astype(np.int64) << tables.FILT_SHIFT).tolist()
    if not x:
        return np.zeros(0, dtype=np.int32)
    for k, coeffs in enumerate(table.sos_q30):
        x = _biquad_df1(x, coeffs, x[0] if k == 0 else 0)
    return np.asarray(x, dtype=np.int32)


def detector_energy(filtered: np.ndarray) -> np.ndarray:
    """TERMA's squared positive part: z = min(max(f, 0) >> DET_SHIFT, Z_MAX), y = z^2 (uint64)."""
    f = np.asarray(filtered, dtype=np.int64)
    z = np.minimum(np.maximum(f, 0) >> tables.DET_SHIFT, tables.Z_MAX).astype(np.uint64)
    return z * z


def block_condition(filtered: np.ndarray, fs: int) -> np.ndarray:
    """B(c) for the centres c = 0 .. n - h2 - 1 that the detector has evaluated after n samples:
    S1(c) * W2 > S2(c) * W1 + alpha(t = c + h2) (see beat_detect_terma.h), in uint64 like the C."""
    t = tables.rate_table(fs)
    n = len(filtered)
    n_eval = max(n - t.h2, 0)
    y = detector_energy(filtered)
    cs = np.concatenate([np.zeros(1, np.uint64), np.cumsum(y, dtype=np.uint64)])  # wraps like the C sums

    def window_sum(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # sum y[lo .. hi], indices < 0 count 0
        return cs[np.clip(hi + 1, 0, n)] - cs[np.clip(lo, 0, n)]

    c = np.arange(n_eval, dtype=np.int64)
    s1 = window_sum(c - t.h1, c + t.h1)
    s2 = window_sum(c - t.h2, c + t.h2)
    nb = (c + t.h2 + 1) // fs  # complete one-second blocks once sample c + h2 is in
    q = cs[nb * fs] - cs[np.maximum(nb - tables.ALPHA_BLOCKS, 0) * fs]
    shift = np.uint64(tables.ALPHA_PRE_SHIFT)
    alpha = ((q >> shift) * np.uint64(t.alpha_q16)) >> np.uint64(16 - tables.ALPHA_PRE_SHIFT)
    return s1 * np.uint64(t.w2) > s2 * np.uint64(t.w1) + alpha


def detect_beats(filtered: np.ndarray, fs: int) -> np.ndarray:
    """Stage 2 (``ppg_detect_beats``): absolute indices of the beats the streaming detector has emitted
    after consuming all of ``filtered``: for each run of B of length W1..block_max that has ended, the
    run's largest filtered value (first on ties), if it passes the amplitude gate."""
    t = tables.rate_table(fs)
    f = np.asarray(filtered, dtype=np.int64)
    b = block_condition(f, fs).astype(np.int8)
    edges = np.diff(np.concatenate([[0], b, [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # one past each run's last centre
    ended = stops < len(b)  # a run still true at the last evaluated centre has not ended yet
    lengths = stops - starts
    keep = ended & (lengths >= t.w1) & (lengths <= t.block_max)
    candidates = [start + int(np.argmax(f[start:stop])) for start, stop in zip(starts[keep], stops[keep])]
    gate = AmplitudeGate()
    return np.asarray([i for i in candidates if gate.passes(int(f[i]))], dtype=np.int64)


class AmplitudeGate:
    """The detector's gate on candidate peaks (see beat_detect_terma.h): A must be > 0 and reach
    1/GATE_MUL of the running beat amplitude R (ppg_tables.GATE_MUL, AMP_SHIFT)."""

    def __init__(self) -> None:
        self.ref = 0

    def passes(self, a: int) -> bool:
        if a <= 0 or a * tables.GATE_MUL < self.ref:
            self.ref -= self.ref >> tables.AMP_SHIFT
            return False
        self.ref = a if self.ref == 0 else self.ref + ((a - self.ref) >> tables.AMP_SHIFT)
        return True


def ppg_chain(raw: np.ndarray, fs: int, *, motion: WristMotion | None
              ) -> tuple[np.ndarray, np.ndarray, list[HrvFeatures]]:  # fmt: skip
    """The whole chain on one stream: (filtered int32, beats int64, completed segments). ``motion``: the motion levels
    per 30-s epoch and per second of the accelerometer recorded with it (``vigil.dsp.accel.wrist_motion``), for the
    baseline's stillness rule and the beats' motion reference; None when there is no accelerometer (the device then
    judges every interval and segment as still)."""
    filtered = bandpass(raw, fs)
    beats = detect_beats(filtered, fs)
    return filtered, beats, hrv_segments(beats, raw, fs, filtered[beats], motion)
