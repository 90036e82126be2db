"""Twin of ``firmware/core/dsp/hrv_spectrum.c``: LF and HF power (0.01 ms^2) and LF/HF (0.01) of the tachogram over
the last 4 minutes, the same integers exactly (the algorithm, step by step, is in hrv_spectrum.h).

    out = hrv_spectrum(beats, ibis, end, fs)   # the pushed (beat, ibi) pairs, oldest first
    s = HrvSpectrum(); s.push(beat, ibi); s.compute(end, fs)   # the same, pair by pair, as the C
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from functools import cache

import numpy as np

from vigil.dsp import config
from vigil.dsp import ppg_tables as tables

N = tables.SPECTRUM_POINTS
Q = tables.SPECTRUM_Q
LF_LO, LF_HI = tables.SPECTRUM_LF_BINS
HF_LO, HF_HI = tables.SPECTRUM_HF_BINS
INT32_MAX = 2**31 - 1
NOT_READY = {"lf": 0, "hf": 0, "lfhf": 0, "ready": 0}


def held_pairs(beats: Sequence[int], ibis: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """What the ring holds after pushing the pairs in order: a beat not after the newest held one is ignored, and
    only the last SPECTRUM_CAPACITY pairs stay."""
    kept_b: list[int] = []
    kept_i: list[int] = []
    for b, i in zip(beats, ibis):
        if not kept_b or int(b) > kept_b[-1]:
            kept_b.append(int(b))
            kept_i.append(int(i))
    cap = tables.SPECTRUM_CAPACITY
    return np.array(kept_b[-cap:], dtype=np.int64), np.array(kept_i[-cap:], dtype=np.int64)


@cache
def _cos() -> np.ndarray:
    return np.array(tables.spectrum_cos_q15(), dtype=np.int64)


@cache
def _dft_tables() -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) Q15 rows of the bins LF_LO .. HF_HI - 1: c[(k j) mod N], c[(k j + 3N/4) mod N]."""
    k = np.arange(LF_LO, HF_HI, dtype=np.int64)[:, None]
    idx = (k * np.arange(N, dtype=np.int64)[None, :]) % N
    return _cos()[idx], _cos()[(idx + 3 * N // 4) % N]


def resample(beats: np.ndarray, ibis: np.ndarray, start: int, fs: int) -> np.ndarray:
    """Steps 2 and 3: the tachogram in Q8 samples on the grid T_j = GRID (start + j fs / GRID), linear between the
    points, held flat before the first and after the last."""
    p = tables.SPECTRUM_GRID_HZ * beats
    v = ibis << tables.SPECTRUM_IBI_FRAC
    t = tables.SPECTRUM_GRID_HZ * start + np.arange(N, dtype=np.int64) * fs
    i = np.clip(np.searchsorted(p, t, side="right") - 1, 0, len(p) - 2)  # P_i <= T_j < P_{i+1} inside
    inner = v[i] + ((v[i + 1] - v[i]) * (t - p[i])) // (p[i + 1] - p[i])  # numpy's // floors, as the C's floor_div
    return np.where(t <= p[0], v[0], np.where(t >= p[-1], v[-1], inner))


def windowed(y: np.ndarray) -> np.ndarray:
    """Steps 4 and 5: the deviation from the floored mean, times the Q15 periodic Hann window, floored."""
    d = y - y.sum() // N
    hann = ((1 << Q) - _cos()) >> 1
    return (d * hann) >> Q


def band_sums(x: np.ndarray) -> tuple[int, int]:
    """Steps 6 and 7: (S_lf, S_hf), sums of re^2 + im^2 over the band's bins."""
    cos, sin = _dft_tables()
    re, im = (cos @ x) >> Q, (sin @ x) >> Q  # exact int64 sums (< 2^41)
    power = [int(r) * int(r) + int(m) * int(m) for r, m in zip(re, im)]
    return sum(power[: LF_HI - LF_LO]), sum(power[HF_LO - LF_LO :])


def lf_hf_ratio(s_lf: int, s_hf: int) -> int:
    """Step 9: round(100 S_lf / S_hf), half up, saturated; with the C's scaling into 64 bits."""
    if s_hf == 0:
        return 0
    while s_lf >= tables.SPECTRUM_LFHF_LIMIT:
        s_lf >>= 8
        s_hf >>= 8
    if s_hf == 0:
        return INT32_MAX
    return min((200 * s_lf + s_hf) // (2 * s_hf), INT32_MAX)


def spectrum_of_held(beats: np.ndarray, ibis: np.ndarray, end: int, fs: int) -> dict[str, int]:
    """hrv_spectrum_compute on the held pairs (oldest first)."""
    if fs not in config.PPG_RATES_HZ:
        return dict(NOT_READY)
    table = tables.rate_table(fs)
    span = tables.SPECTRUM_WINDOW_S * fs
    if end < span:
        return dict(NOT_READY)
    start = end - span
    beats, ibis = np.asarray(beats, dtype=np.int64), np.asarray(ibis, dtype=np.int64)
    sel = (beats >= start) & (beats < end) & (ibis >= table.ibi_min) & (ibis <= table.ibi_max)
    b, v = beats[sel], ibis[sel]
    if len(b) < tables.SPECTRUM_MIN_POINTS or 100 * int(v.sum()) < tables.SPECTRUM_MIN_COVER_PCT * span:
        return dict(NOT_READY)
    s_lf, s_hf = band_sums(windowed(resample(b, v, start, fs)))
    den = table.spectrum_den
    return {"lf": min(s_lf // den, INT32_MAX), "hf": min(s_hf // den, INT32_MAX), "lfhf": lf_hf_ratio(s_lf, s_hf),
            "ready": 1}  # fmt: skip


def hrv_spectrum(beats: Sequence[int], ibis: Sequence[int], end: int, fs: int) -> dict[str, int]:
    """The spectrum of the window [end - 240 fs, end) after pushing the (beat, ibi) pairs in order: keys lf, hf
    (0.01 ms^2), lfhf (0.01), ready."""
    held_b, held_i = held_pairs(beats, ibis)
    return spectrum_of_held(held_b, held_i, end, fs)


class HrvSpectrum:
    """hrv_spectrum_t with its push and compute."""

    def __init__(self) -> None:
        self.pairs: deque[tuple[int, int]] = deque(maxlen=tables.SPECTRUM_CAPACITY)

    def push(self, beat: int, ibi: int) -> None:
        if not self.pairs or beat > self.pairs[-1][0]:
            self.pairs.append((int(beat), int(ibi)))

    def compute(self, end: int, fs: int) -> dict[str, int]:
        beats = np.array([b for b, _ in self.pairs], dtype=np.int64)
        ibis = np.array([i for _, i in self.pairs], dtype=np.int64)
        return spectrum_of_held(beats, ibis, end, fs)
