"""Per-rate constants of the PPG chain (band-pass, beat detector, IBI rules, signal quality), for the
twins (``vigil.dsp.ppg``, ``vigil.dsp.hrv``) and the firmware (``firmware/core/dsp/ppg_tables.{h,c}``,
generated from this module).

    python -m vigil.dsp.ppg_tables [--check]

Everything that depends on the sampling rate is computed here, once, for each rate of
``config.PPG_RATES_HZ``; the C kernels and the twins read the same integers.

Band-pass: ``scipy.signal.butter(2, [0.5, 8] Hz, "bandpass", output="sos")``, the filter of Elgendi's
TERMA detector (Elgendi et al. 2013, PLoS ONE 8(10): e76585), run causally. Order 2 per edge (two
biquads): 40 dB/decade on each side removes baseline wander and sensor noise well enough for the
detector, while a higher order adds group delay (already ~85 ms at 1.5 Hz here), ringing around motion
artifacts that the detector would take for beats, and coefficient sensitivity at the 0.5 Hz poles.
The section with the zeros at z = 1 (high-pass side) runs first, with numerator exactly [1, -2, 1]:
it blocks DC exactly, so priming its input history with the first sample starts the filter in its
steady state (no start-up transient), and the later section never sees the ADC offset.

Q formats: coefficients Q30 (int32, [-2, 2)), stored as {b0, b1, b2, -a1, -a2} so that the kernel only
adds products; direct form I, int64 accumulator, round half up, first-order error feedback (see
biquad_cascade_q30.h: without it the 0.5 Hz poles hold a DC offset of up to 0.05 counts after every
transient). Samples enter as raw counts x 2^FILT_SHIFT (Q12 counts) and leave in the same Q12 counts.
``filter_bounds`` proves from the L1 norms of the (partial) impulse responses that no int32 state and
no int64 accumulator can overflow for any int16 input, so the kernel's saturation is never reached.
Measured: the quantized response is within 1e-6 dB of the float design over 0.5-8 Hz (0.03 dB at
worst below 0.1 Hz), and the fixed-point output within 6 Q12 steps (0.0015 counts, SNR > 110 dB) of
float filtering with the quantized coefficients (tests/test_dsp_ppg.py).

Detector, IBI rules, signal quality and features: see beat_detect_terma.h, ibi_filter.h,
ppg_quality.h and hrv_features.h; their thresholds are below, their per-rate values in PpgRateTable.

Frequency-domain HRV (LF, HF, LF/HF over the last 4 minutes, hrv_spectrum.h, twin vigil.dsp.hrv_spectrum): the
window, the 4-Hz grid, the band bins, the ring's capacity, the Q15 cosine table and the per-rate normaliser
``spectrum_den``; ``_check_spectrum`` proves that the kernel's 64-bit arithmetic cannot overflow.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
from scipy import signal

from vigil.codegen import BANNER, c_array, repo_root, write_or_check
from vigil.dsp import config

# ---------------------------------------------------------------- rate-independent constants
BAND_HZ = (0.5, 8.0)  # band-pass edges (Elgendi 2013)
BUTTER_ORDER = 2  # per edge: two second-order sections
SECTIONS = 2
COEF_FRAC = 30  # Q30 coefficients
FILT_SHIFT = 12  # filtered samples are counts in Q12
DET_SHIFT = 8  # detector energy input: z = max(f, 0) >> DET_SHIFT (counts in Q4)
Z_MAX = (1 << 22) - 1  # z clamp (never reached: |f| < 2^29 by filter_bounds), so y = z^2 < 2^44
RING = 128  # detector ring of filtered samples (power of two, >= W2 + 1 at every rate)
ALPHA_BLOCKS = 4  # the threshold offset uses the mean energy of the last 4 complete 1-s blocks
ALPHA_PRE_SHIFT = 8  # alpha = ((Q >> 8) * ALPHA_Q16) >> 8, Q = energy sum of those blocks
GATE_MUL = 4  # amplitude gate: a beat's peak must reach 1/4 of the running beat amplitude ...
AMP_SHIFT = 3  # ... which moves 1/8 of the way to each block's peak
BETA = 0.02  # TERMA's offset: alpha = beta * mean(y) (Elgendi 2013)
W1_S = 0.111  # TERMA's peak window (s)
W2_S = 0.667  # TERMA's beat window (s)
BLOCK_MAX_S = 1.0  # a block of interest longer than this is an artifact, not a systole
IBI_MIN_MS = 300  # 200 bpm
IBI_MAX_MS = 2000  # 30 bpm
IBI_CHANGE_PCT = 25  # successive-change rule: |IBI - ref| * 100 <= 25 * ref, ref = median of recent in-range IBIs
IBI_HISTORY = 5  # in-range IBIs the reference is the median of
IBI_MIN_HISTORY = 3  # no IBI is accepted before 3 in-range IBIs form a reference
FLAT_RUN_S = 2  # FLAT: the raw signal holds one exact value for >= 2 s
CLIP_FRAC_PCT = 1  # CLIPPED: >= 1 % of the segment's samples sit on a plateau at its max or min
MIN_IBIS = 20  # TOO_FEW_BEATS: fewer accepted IBIs (interpolated halves included) than this in the segment ...
MIN_DIFFS = 10  # ... or fewer successive differences of accepted IBIs than this
MAX_REJECT_PCT = 50  # REJECTS: more than half of the segment's IBIs were rejected ...
MIN_CLEAN_PCT = 40  # FEW_CLEAN: ... or under 40 % of its beat-to-beat spans were accepted as measured (an
# interpolated span counts once): beats at random intervals, which the interpolation would otherwise pass off as a
# rhythm. On WESAD's 10 training subjects (sync-tap aligned) these keep 88 % of the Base/TSST wrist minutes with
# leave-one-subject-out logistic regression at 0.90; 20 % rejects and no interpolation kept 40 % (at 0.96); see
# docs/stress.md.
PNN_LOW_MS, PNN_HIGH_MS = 20, 50
HRV_FEATURES = config.HRV_FEATURES
HRV_EXTRA_FEATURES = config.HRV_EXTRA_FEATURES
BASELINE_SEGMENTS = 120  # personal baseline: the median of each feature over the last 120 valid segments (2 h of
# valid minutes; 2.9 KB) ...
BASELINE_WARMUP = 10  # ... ready once 10 valid segments are in it (before, the relative features are 0)
BASELINE_MOTION_MAX = 30  # ... and only still segments join it: both 30-s epochs' motion level (mean |d|a|/dt|, mg
# per sample) <= 30, the alert's own "nearly still" bound. A segment joins when the next one closes (its accelerometer
# epochs are in by then); with no accelerometer at all, validity alone decides.
MOTION_EPOCHS = 8  # motion levels the PPG pipeline keeps: the accelerometer may run up to 3 epochs ahead of the PPG
BEAT_MOTION_MAX = 60  # the accelerometer as the beats' motion reference: an interval during which any 1-s motion
# level (mean |d|a|/dt|, mg per sample) is above 60 is left out of the IBI filter (neither accepted nor rejected: a
# moving wrist's intervals say nothing about the heart, and must not condemn the minute either). Twice the epochs'
# "nearly still" bound, since one second is far noisier than a 30-s mean; 30 and 120 cost WESAD's training subjects
# sensitivity held out by subject (docs/stress.md section 2).
BEAT_HOLD_S = 8  # a beat waits this long (of PPG) before the filter judges it, so that its seconds' motion is in:
# the accelerometer's level of second k must arrive before the PPG passes k + 1 + 8 s. A replay interleaves frames
# in time order, and one PPG frame holds up to 253 samples (4 s at 64 Hz), so a beat can be seen, and its hold run,
# up to 4 s before the accelerometer's frame that ends its second; 8 s leaves room for frames twice that long.
MOTION_SECONDS = 32  # 1-s motion levels the PPG pipeline keeps: an interval that can be accepted spans at most
# 2 * IBI_MAX + 1 samples (5 seconds), plus the hold; the accelerometer may run up to 18 s ahead of the PPG
FLAGS = {  # reasons a segment is invalid: hrv_features_t.flags bits (HRV_FLAG_*), vigil.dsp.hrv.Flag
    "TOO_FEW_BEATS": (0x01, f"fewer than {MIN_IBIS} accepted IBIs or {MIN_DIFFS} successive differences"),
    "FLAT": (0x02, f"the raw signal held one value for >= {FLAT_RUN_S} s"),
    "CLIPPED": (0x04, f">= {CLIP_FRAC_PCT} % of the samples on plateaus at the segment's max or min"),
    "REJECTS": (0x08, f"more than {MAX_REJECT_PCT} % of the IBIs rejected"),
    "FEW_CLEAN": (0x10, f"fewer than {MIN_CLEAN_PCT} % of the beat-to-beat spans accepted without interpolation"),
}

# Frequency-domain HRV (hrv_spectrum.h). Bands of the Task Force of the ESC/NASPE (1996): LF 0.04-0.15 Hz, HF
# 0.15-0.40 Hz. Its guideline for the recording is about 10 cycles of a band's lower edge (about 2 minutes for LF);
# the 4-minute window holds 9.6 cycles of 0.04 Hz.
SPECTRUM_WINDOW_S = 240  # the spectrum of the last 4 minutes
SPECTRUM_GRID_HZ = 4  # the tachogram is resampled at 4 Hz (10 x the top of HF): T_j = j / 4 s
SPECTRUM_POINTS = SPECTRUM_WINDOW_S * SPECTRUM_GRID_HZ  # 960: one DFT over the whole window, bin k = k / 240 Hz
SPECTRUM_LF_HZ = (Fraction("0.04"), Fraction("0.15"))  # exact decimals: a band edge on a bin must not round past it
SPECTRUM_HF_HZ = (Fraction("0.15"), Fraction("0.40"))
SPECTRUM_MARGIN_S = 60  # the ring keeps 5 minutes of IBIs, so a window may end up to a minute before the newest beat
SPECTRUM_MIN_COVER_PCT = 75  # ready when the window's accepted IBIs add up to >= 75 % of it (3 of the 4 minutes)
SPECTRUM_MIN_POINTS = 2  # interpolation needs two points
SPECTRUM_Q = 15  # the cosine table, the Hann window and the DFT's products are Q15
SPECTRUM_COS_ONE = (1 << SPECTRUM_Q) - 1  # 32767: cos = 1 fits int16
SPECTRUM_IBI_FRAC = 8  # tachogram values are IBIs in Q8 samples: v = ibi << 8
SPECTRUM_UNIT_PER_MS2 = 100  # lf, hf in 0.01 ms^2; lfhf in 0.01
SPECTRUM_LFHF_LIMIT = 1 << 56  # S_lf, S_hf shift right by 8 while S_lf >= this, so that 200 S_lf + S_hf < 2^64


def _band_bins(band: tuple[Fraction, Fraction]) -> tuple[int, int]:
    """Bins [lo, hi) of the band [f_lo, f_hi): bin k is k * GRID_HZ / POINTS Hz."""
    per_hz = Fraction(SPECTRUM_POINTS, SPECTRUM_GRID_HZ)
    return math.ceil(band[0] * per_hz), math.ceil(band[1] * per_hz)


SPECTRUM_LF_BINS = _band_bins(SPECTRUM_LF_HZ)  # (10, 36)
SPECTRUM_HF_BINS = _band_bins(SPECTRUM_HF_HZ)  # (36, 96)


def _ibi_min(fs: int) -> int:
    return math.ceil(IBI_MIN_MS * fs / 1000)


def _ibi_max(fs: int) -> int:
    return IBI_MAX_MS * fs // 1000


# The ring holds every IBI that can end in the last WINDOW + MARGIN seconds at the fastest accepted rate, + 1 (the
# IBI whose beat opens that span): 1001 at 100 Hz (30-sample IBIs).
SPECTRUM_CAPACITY = max(math.ceil((SPECTRUM_WINDOW_S + SPECTRUM_MARGIN_S) * fs / _ibi_min(fs)) + 1
                        for fs in config.PPG_RATES_HZ)  # fmt: skip


@cache
def spectrum_cos_q15() -> tuple[int, ...]:
    """c[i] = round(32767 cos(2 pi i / N)), half away from zero, i = 0 .. N - 1. The first quadrant is computed and
    the others mirrored, so the table is exactly even (c[N - i] = c[i]) and odd about N/4 (c[N/2 - i] = -c[i]): the
    one exact tie, i = N/6 (16383.5), rounds away from zero at i = N/3 too, and c[i + 3N/4] is exactly sin."""
    n = SPECTRUM_POINTS
    assert n % 4 == 0, "the sine is read a quarter turn along the cosine table"
    quarter = [math.floor(SPECTRUM_COS_ONE * math.cos(2 * math.pi * i / n) + 0.5) for i in range(n // 4 + 1)]
    half = quarter + [-quarter[n // 2 - i] for i in range(n // 4 + 1, n // 2 + 1)]
    return tuple(half + [half[n - i] for i in range(n // 2 + 1, n)])


def spectrum_hann_q15() -> list[int]:
    """The periodic Hann window of the kernel: w_j = (32768 - c[j]) >> 1 (Q15, w_0 = 0, w_{N/2} = 32767)."""
    return [((1 << SPECTRUM_Q) - c) >> 1 for c in spectrum_cos_q15()]


def spectrum_w2() -> int:
    """W2 = sum of w_j^2 (Q30), the window's power in the periodogram's normalisation."""
    return sum(w * w for w in spectrum_hann_q15())


def spectrum_den(fs: int) -> int:
    """Band power in 0.01 ms^2 = S / den, S = sum over the band's bins of re^2 + im^2 (Q8 samples, Q15-windowed).

    The one-sided periodogram's band power is 2 sum |X_k|^2 / (N sum w^2) with x in ms and w the window. Here x is
    in Q8 samples (1 unit = 1000 / (256 fs) ms) times the Q15 window (sum w^2 = W2 / 2^30), so in 0.01 ms^2
        lf = 2 S 2^30 / (N W2) * 10^6 / (2^16 fs^2) * 100 = S / (fs^2 N W2 / (2^15 10^8)),
    den rounded half up (den > 4e5 at every rate: the rounding moves lf by < 2e-6 of itself)."""
    num = fs * fs * SPECTRUM_POINTS * spectrum_w2()
    # 2^15 10^8: the Q8 square's 2^16 over the one-sided 2; (1000 ms/s)^2 times 100 units per ms^2 (the window's
    # Q30 cancels the Q15 x Q15 of the DFT's products)
    d = (1 << (2 * SPECTRUM_IBI_FRAC - 1)) * 1000**2 * SPECTRUM_UNIT_PER_MS2
    return (2 * num + d) // (2 * d)


@dataclass(frozen=True)
class PpgRateTable:
    """Everything the chain needs at one sampling rate (field names as in ``ppg_rate_table_t``)."""

    fs_hz: int
    sos_q30: tuple[tuple[int, int, int, int, int], ...]  # per section {b0, b1, b2, -a1, -a2}, Q30
    w1: int  # TERMA peak window, odd, samples
    w2: int  # TERMA beat window, odd, samples
    block_max: int  # longest accepted block of interest, samples
    alpha_q16: int  # round(beta * W1 * W2 / (ALPHA_BLOCKS * fs) * 2^16)
    latency: int  # every beat with index < E is out once E + latency samples went through the detector
    ibi_min: int  # samples, ceil(0.3 s * fs)
    ibi_max: int  # samples, floor(2 s * fs)
    flat_run: int  # samples
    clip_min: int  # plateau samples per segment
    group_delay: int  # samples, the band-pass's group delay at 1.5 Hz (beats lag the raw systolic peak by it)
    spectrum_den: int  # hrv_spectrum: lf, hf (0.01 ms^2) = band sum of |X|^2 / spectrum_den (see spectrum_den())

    @property
    def h1(self) -> int:
        return self.w1 // 2

    @property
    def h2(self) -> int:
        return self.w2 // 2

    @property
    def segment_len(self) -> int:
        return config.SEGMENT_S * self.fs_hz


def _odd(x: float) -> int:
    """The odd integer nearest to x (a centred window has an odd length)."""
    return 2 * int(math.floor((x - 1) / 2 + 0.5)) + 1


def design_sos(fs: int) -> np.ndarray:
    """The float design, sections reordered so that the DC-blocking one comes first and gains
    moved so that its numerator is exactly [1, -2, 1]."""
    sos = signal.butter(BUTTER_ORDER, BAND_HZ, btype="bandpass", fs=fs, output="sos")
    dc_gain = np.abs(sos[:, :3].sum(axis=1)) / np.abs(sos[:, :3]).max(axis=1)
    assert len(sos) == SECTIONS and sorted(dc_gain)[0] < 1e-12 < sorted(dc_gain)[1]
    hp, lp = sos[np.argmin(dc_gain)], sos[np.argmax(dc_gain)]
    hp_s, lp_s = hp.copy(), lp.copy()
    gain = hp_s[0]  # scipy puts the overall gain in one section; give it to the low-pass side
    hp_s[:3] /= gain
    lp_s[:3] *= gain
    assert np.allclose(hp_s[:3], [1, -2, 1])
    return np.vstack([hp_s, lp_s])


def quantize_sos(sos: np.ndarray) -> tuple[tuple[int, int, int, int, int], ...]:
    one = 1 << COEF_FRAC
    out = []
    for b0, b1, b2, a0, a1, a2 in sos:
        assert a0 == 1.0
        q = tuple(int(round(v * one)) for v in (b0, b1, b2, -a1, -a2))
        assert all(-(1 << 31) <= v < (1 << 31) for v in q), "coefficient outside Q30's [-2, 2)"
        out.append(q)
    hp = out[0]
    out[0] = (1 << COEF_FRAC, -(2 << COEF_FRAC), 1 << COEF_FRAC, hp[3], hp[4])  # exact [1, -2, 1]
    return tuple(out)  # type: ignore[return-value]


def quantized_sos_float(q: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """The quantized coefficients back as a float SOS matrix (to compare responses)."""
    one = float(1 << COEF_FRAC)
    return np.array([[b0 / one, b1 / one, b2 / one, 1.0, -na1 / one, -na2 / one] for b0, b1, b2, na1, na2 in q])


def _l1(sos: np.ndarray, n: int) -> float:
    imp = np.zeros(n)
    imp[0] = 1.0
    return float(np.abs(signal.sosfilt(sos, imp)).sum())


def filter_bounds(fs: int) -> dict[str, float]:
    """Worst-case magnitudes over all int16 inputs (L1 norm of each partial cascade's impulse
    response times 2^15 * 2^FILT_SHIFT), with margin for rounding noise."""
    sos = quantized_sos_float(rate_table(fs).sos_q30)
    n = 60 * fs  # the slowest pole's impulse response has decayed far below 1e-12 by then
    x_max = float(1 << (15 + FILT_SHIFT))
    states = [x_max] + [x_max * _l1(sos[: k + 1], n) + 64.0 for k in range(len(sos))]
    coef_max = float(1 << 31)
    acc = max(5 * coef_max * s for s in states) + float(1 << (COEF_FRAC - 1))  # + the fed-back rounding error
    return {"state_max": max(states), "acc_max": acc, "l1": _l1(sos, n)}


@cache
def rate_table(fs: int) -> PpgRateTable:
    if fs not in config.PPG_RATES_HZ:
        raise ValueError(f"unsupported PPG rate {fs} Hz: expected one of {config.PPG_RATES_HZ}")
    w1, w2 = _odd(W1_S * fs), _odd(W2_S * fs)
    block_max = int(round(BLOCK_MAX_S * fs))
    sos = design_sos(fs)
    _, gd = signal.group_delay(signal.sos2tf(sos), [1.5], fs=fs)
    return PpgRateTable(
        fs_hz=fs,
        sos_q30=quantize_sos(sos),
        w1=w1,
        w2=w2,
        block_max=block_max,
        alpha_q16=int(round(BETA * w1 * w2 / (ALPHA_BLOCKS * fs) * (1 << 16))),
        latency=block_max + w2 // 2,
        ibi_min=_ibi_min(fs),
        ibi_max=_ibi_max(fs),
        flat_run=FLAT_RUN_S * fs,
        clip_min=config.SEGMENT_S * fs * CLIP_FRAC_PCT // 100,
        group_delay=int(round(float(gd[0]))),
        spectrum_den=spectrum_den(fs),
    )


def tables() -> list[PpgRateTable]:
    return [rate_table(fs) for fs in config.PPG_RATES_HZ]


def hold_beats() -> int:
    """Beats the pipeline may hold at once: those within the last BEAT_HOLD_S of PPG, which the detector spaces at
    least w1 + 1 samples apart (the bound of PPG_MAX_BEATS), at the rate that allows the most."""
    return max(BEAT_HOLD_S * t.fs_hz // (t.w1 + 1) + 1 for t in tables())


def _check(t: PpgRateTable) -> None:
    b = filter_bounds(t.fs_hz)
    assert b["state_max"] < 2**30, f"{t.fs_hz} Hz: filter state could reach {b['state_max']:.3g}"
    assert b["acc_max"] < 2**63, f"{t.fs_hz} Hz: accumulator could reach {b['acc_max']:.3g}"
    assert (Z_MAX * Z_MAX) * t.w1 * t.w2 < 2**63 and (Z_MAX * Z_MAX) * ALPHA_BLOCKS * t.fs_hz < 2**63
    assert t.w2 + 1 <= RING
    assert t.latency < t.segment_len, "a segment must be final before the next one ends"
    assert t.ibi_max < 2**16 and t.segment_len < 2**16
    assert MIN_IBIS >= 2 and MIN_DIFFS >= 1, "the features need n >= 2 IBIs and m >= 1 differences"
    # hrv_features_compute's largest product: (n sum x^2 - (sum x)^2) * 10^10 with n accepted IBIs in
    # [ibi_min, ibi_max] ending in one segment (an interpolated span, up to 2 ibi_max + 1, ends there with
    # both its halves), so n <= (segment + 2 ibi_max + 1) / ibi_min
    n_max = (t.segment_len + 2 * t.ibi_max + 1) // t.ibi_min
    assert n_max**2 * ((t.ibi_max - t.ibi_min) / 2) ** 2 * 10**10 < 2**64 and n_max < 2**16
    _check_spectrum(t)


def spectrum_bounds(t: PpgRateTable) -> dict[str, int]:
    """Upper bounds of every magnitude in hrv_spectrum_compute at rate t, for IBIs in [ibi_min, ibi_max] (the kernel
    ignores any other: the pipeline never pushes one). Each step's result is a bound of its exact integer value."""
    n, q = SPECTRUM_POINTS, SPECTRUM_Q
    v_max = t.ibi_max << SPECTRUM_IBI_FRAC
    # y_j lies between its two neighbours' values (a floored convex combination), m = floor(mean y) too: |d_j| is at
    # most the spread of the values
    d_max = (t.ibi_max - t.ibi_min) << SPECTRUM_IBI_FRAC
    hann = spectrum_hann_q15()
    x_max = (d_max * max(hann) >> q) + 1  # |floor(d w / 2^15)| <= |d| w / 2^15 + 1
    x_abs_sum = sum((d_max * w >> q) + 2 for w in hann)  # sum_j |x_j|
    acc = x_abs_sum * SPECTRUM_COS_ONE  # |sum_j x_j c| <= sum_j |x_j| * 32767
    part = (acc >> q) + 1  # |re|, |im|: the floored shift adds at most 1
    p_max = 2 * part * part  # re^2 + im^2
    return {
        "interp": d_max * SPECTRUM_GRID_HZ * SPECTRUM_WINDOW_S * t.fs_hz,  # |dv| (T_j - P_i), T_j - P_i < the window
        "y_sum": n * v_max,
        "x_max": x_max,
        "acc": acc,
        "p_max": p_max,
        "s_lf": (SPECTRUM_LF_BINS[1] - SPECTRUM_LF_BINS[0]) * p_max,
        "s_hf": (SPECTRUM_HF_BINS[1] - SPECTRUM_HF_BINS[0]) * p_max,
        "cover": 100 * SPECTRUM_CAPACITY * t.ibi_max,
    }


def _check_spectrum(t: PpgRateTable) -> None:
    b = spectrum_bounds(t)
    assert b["interp"] < 2**63 and b["y_sum"] < 2**63 and b["acc"] < 2**63, f"{t.fs_hz} Hz: an int64 could overflow"
    assert (t.ibi_max << SPECTRUM_IBI_FRAC) < 2**31 and b["x_max"] < 2**31, "y_j and x_j are kept in int32"
    assert b["s_lf"] + b["s_hf"] < 2**64 and b["cover"] < 2**64, f"{t.fs_hz} Hz: a uint64 sum could overflow"
    # lfhf = (200 S_lf + S_hf) / (2 S_hf) after S_lf < SPECTRUM_LFHF_LIMIT (S_hf only ever shrinks)
    assert 200 * (SPECTRUM_LFHF_LIMIT - 1) + b["s_hf"] < 2**64 and 2 * b["s_hf"] < 2**64
    assert 0 < t.spectrum_den < 2**32
    # grid and beat positions in 1/GRID_HZ samples: 4 * (2^32 - 1) + the window fits int64 with room
    assert SPECTRUM_GRID_HZ * (2**32 + SPECTRUM_WINDOW_S * t.fs_hz) < 2**63
    assert SPECTRUM_WINDOW_S * t.fs_hz < 2**32 and SPECTRUM_CAPACITY < 2**16 and t.ibi_min >= 1


def _check_spectrum_tables() -> None:
    c, n = spectrum_cos_q15(), SPECTRUM_POINTS
    assert len(c) == n and c[0] == SPECTRUM_COS_ONE and all(-(2**15) < v < 2**15 for v in c)
    assert all(c[(n - i) % n] == c[i] and c[(n // 2 - i) % n] == -c[i] for i in range(n))
    assert all(abs(v - SPECTRUM_COS_ONE * math.cos(2 * math.pi * i / n)) <= 0.5 + 1e-9 for i, v in enumerate(c))
    assert SPECTRUM_LF_BINS[1] == SPECTRUM_HF_BINS[0], "the kernel runs one loop over the LF and HF bins"
    assert 0 < SPECTRUM_LF_BINS[0] and SPECTRUM_HF_BINS[1] <= n // 2, "bins between DC and Nyquist"
    assert SPECTRUM_POINTS == SPECTRUM_WINDOW_S * SPECTRUM_GRID_HZ


# ---------------------------------------------------------------- C output

MODULE = "vigil.dsp.ppg_tables"
SOURCE = "host/vigil/dsp/ppg_tables.py"

_FIELDS = (  # C field, what it holds
    ("w1", "TERMA peak window (odd, samples)"),
    ("w2", "TERMA beat window (odd, samples)"),
    ("block_max", "longest block of interest that can hold a beat (samples)"),
    ("alpha_q16", "beta * W1 * W2 / (PPG_ALPHA_BLOCKS * fs), Q16"),
    ("latency", "detector latency bound (samples)"),
    ("ibi_min", "shortest accepted IBI (samples)"),
    ("ibi_max", "longest accepted IBI (samples)"),
    ("flat_run", "FLAT when one raw value holds this long (samples)"),
    ("clip_min", "CLIPPED when this many plateau samples sit at the segment's max or min"),
    ("group_delay", "band-pass group delay at 1.5 Hz (samples): beats lag the raw systolic peak by about this"),
    ("spectrum_den", "hrv_spectrum: lf, hf (0.01 ms^2) = band sum of |X|^2 / this (fs^2 N W2 / (2^15 10^8))"),
)


def tables_header() -> str:
    rates = config.PPG_RATES_HZ
    lines = [BANNER.format(module=MODULE, source=SOURCE)]
    lines += [
        "#ifndef VIGIL_PPG_TABLES_H",
        "#define VIGIL_PPG_TABLES_H",
        "",
        "#include <stdint.h>",
        "",
        "#include \"dsp/dsp_config.h\"",
        "",
        f"#define PPG_RATE_COUNT {len(rates)}u",
        f"#define PPG_RATE_MIN_HZ {min(rates)}u",
        f"#define PPG_BIQUAD_SECTIONS {SECTIONS}u",
        f"#define PPG_COEF_FRAC {COEF_FRAC} /* coefficients are Q30 */",
        f"#define PPG_FILT_SHIFT {FILT_SHIFT} /* filtered samples are raw counts in Q12 */",
        f"#define PPG_DET_SHIFT {DET_SHIFT} /* detector input z = max(f, 0) >> 8: counts in Q4 */",
        f"#define PPG_Z_MAX {Z_MAX}u /* clamp of z, so that z^2 < 2^44 */",
        f"#define PPG_RING {RING}u /* detector ring of filtered samples (power of two >= W2 + 1) */",
        f"#define PPG_ALPHA_BLOCKS {ALPHA_BLOCKS}u /* alpha from the mean energy of the last 4 one-second blocks */",
        f"#define PPG_ALPHA_PRE_SHIFT {ALPHA_PRE_SHIFT}u /* alpha = ((Q >> 8) * alpha_q16) >> 8 */",
        f"#define PPG_GATE_MUL {GATE_MUL} /* a beat's peak must reach 1/{GATE_MUL} of the running beat amplitude */",
        f"#define PPG_AMP_SHIFT {AMP_SHIFT} /* the running amplitude moves 1/{1 << AMP_SHIFT} of the way per block */",
        f"#define PPG_W1_MIN {min(t.w1 for t in tables())}u /* the shortest TERMA peak window over all rates */",
        f"#define PPG_LATENCY_MAX {max(t.latency for t in tables())}u",
        f"#define PPG_IBI_HISTORY {IBI_HISTORY}u",
        f"#define PPG_IBI_MIN_HISTORY {IBI_MIN_HISTORY}u",
        f"#define PPG_IBI_CHANGE_PCT {IBI_CHANGE_PCT}u",
        f"#define PPG_MIN_IBIS {MIN_IBIS}u",
        f"#define PPG_MIN_DIFFS {MIN_DIFFS}u",
        f"#define PPG_MAX_REJECT_PCT {MAX_REJECT_PCT}u",
        f"#define PPG_MIN_CLEAN_PCT {MIN_CLEAN_PCT}u",
        f"#define PPG_PNN_LOW_MS {PNN_LOW_MS}u",
        f"#define PPG_PNN_HIGH_MS {PNN_HIGH_MS}u",
        f"#define HRV_FEATURE_COUNT {len(HRV_FEATURES)}u /* {' '.join(HRV_FEATURES)} */",
        f"#define HRV_EXTRA_COUNT {len(HRV_EXTRA_FEATURES)}u /* {' '.join(HRV_EXTRA_FEATURES)} */",
        f"#define HRV_BASELINE_SEGMENTS {BASELINE_SEGMENTS}u /* the personal baseline's window of valid segments */",
        f"#define HRV_BASELINE_WARMUP {BASELINE_WARMUP}u /* valid segments before the baseline is ready */",
        f"#define HRV_BASELINE_MOTION_MAX {BASELINE_MOTION_MAX}u /* a segment joins the baseline when both its epochs' "
        "motion levels are <= this */",
        f"#define PPG_MOTION_EPOCHS {MOTION_EPOCHS}u /* the accelerometer epochs' motion levels kept by the pipeline */",
        (f"#define PPG_BEAT_MOTION_MAX {BEAT_MOTION_MAX}u /* an interval with a 1-s motion level above this is"
         " left out (IBI_MOVING) */"),
        f"#define PPG_BEAT_HOLD_S {BEAT_HOLD_S}u /* beats wait this long for their seconds' motion levels */",
        f"#define PPG_MOTION_SECONDS {MOTION_SECONDS}u /* the accelerometer's 1-s motion levels kept by the pipeline */",
        (f"#define PPG_HOLD_BEATS {hold_beats()}u /* beats held at most: PPG_BEAT_HOLD_S of the densest beats"
         " the detector can find, at the worst rate, plus one */"),
        "",
        "/* Frequency-domain HRV (dsp/hrv_spectrum.h): bin k of the DFT is k * GRID_HZ / POINTS Hz. */",
        f"#define HRV_SPECTRUM_WINDOW_S {SPECTRUM_WINDOW_S}u /* the spectrum of the last 4 minutes */",
        f"#define HRV_SPECTRUM_GRID_HZ {SPECTRUM_GRID_HZ}u /* the tachogram is resampled at 4 Hz */",
        f"#define HRV_SPECTRUM_POINTS {SPECTRUM_POINTS}u /* WINDOW_S * GRID_HZ: the DFT's length */",
        (f"#define HRV_SPECTRUM_LF_LO {SPECTRUM_LF_BINS[0]}u /* LF bins [LO, HI): {float(SPECTRUM_LF_HZ[0])}"
         f" <= f < {float(SPECTRUM_LF_HZ[1])} Hz */"),
        f"#define HRV_SPECTRUM_LF_HI {SPECTRUM_LF_BINS[1]}u",
        (f"#define HRV_SPECTRUM_HF_LO {SPECTRUM_HF_BINS[0]}u /* HF bins [LO, HI): {float(SPECTRUM_HF_HZ[0])}"
         f" <= f < {float(SPECTRUM_HF_HZ[1])} Hz */"),
        f"#define HRV_SPECTRUM_HF_HI {SPECTRUM_HF_BINS[1]}u",
        (f"#define HRV_SPECTRUM_CAPACITY {SPECTRUM_CAPACITY}u /* IBIs held:"
         f" ceil({SPECTRUM_WINDOW_S + SPECTRUM_MARGIN_S} s * fs / ibi_min) + 1 at the worst rate */"),
        (f"#define HRV_SPECTRUM_MIN_COVER_PCT {SPECTRUM_MIN_COVER_PCT}u /* ready when the IBIs cover >= this % of"
         " the window */"),
        f"#define HRV_SPECTRUM_MIN_POINTS {SPECTRUM_MIN_POINTS}u /* ... and there are at least this many */",
        f"#define HRV_SPECTRUM_IBI_FRAC {SPECTRUM_IBI_FRAC} /* tachogram values are IBIs in Q8 samples */",
        f"#define HRV_SPECTRUM_Q {SPECTRUM_Q} /* cosine table, Hann window and DFT products are Q15 */",
        (f"#define HRV_SPECTRUM_LFHF_LIMIT (1ull << {SPECTRUM_LFHF_LIMIT.bit_length() - 1}) /* LF/HF: shift both"
         " sums right by 8 while S_lf >= this */"),
        "",
        "/* c[i] = round(32767 cos(2 pi i / POINTS)), half away from zero; c[(i + 3 POINTS / 4) % POINTS] is sin. */",
        "extern const int16_t HRV_SPECTRUM_COS_Q15[HRV_SPECTRUM_POINTS];",
        "",
        "/* Reasons a segment is invalid (hrv_features_t.flags); valid == (flags == 0). */",
        *[f"#define HRV_FLAG_{name} 0x{bit:02X}u /* {doc} */" for name, (bit, doc) in FLAGS.items()],
        "",
        f"#if DSP_PPG_RATE_COUNT != {len(rates)}u || DSP_SEGMENT_S != {config.SEGMENT_S}u",
        f"#error ppg_tables.h is stale: run `python -m {MODULE}`",
        "#endif",
        "",
        "typedef struct ppg_rate_table {",
        "    uint16_t fs_hz;",
        "    int32_t sos_q30[PPG_BIQUAD_SECTIONS][5]; /* per section {b0, b1, b2, -a1, -a2}, Q30; section 0 is [1, -2, 1] */",
    ]
    lines += [f"    uint32_t {name}; /* {doc} */" for name, doc in _FIELDS]
    lines += [
        "} ppg_rate_table_t;",
        "",
        "/* One entry per rate of DSP_PPG_RATES_HZ, in that order. */",
        "extern const ppg_rate_table_t PPG_RATE_TABLES[PPG_RATE_COUNT];",
        "/* The table of a rate, or NULL when fs_hz is not one of DSP_PPG_RATES_HZ. */",
        "const ppg_rate_table_t *ppg_rate_table(uint16_t fs_hz);",
        "",
        "#endif /* VIGIL_PPG_TABLES_H */",
        "",
    ]
    return "\n".join(lines)


def tables_source() -> str:
    lines = [BANNER.format(module=MODULE, source=SOURCE)]
    lines += ["#include \"dsp/ppg_tables.h\"", "", "#include <stddef.h>", "",
              "const ppg_rate_table_t PPG_RATE_TABLES[PPG_RATE_COUNT] = {"]
    for t in tables():
        _check(t)
        sos = ", ".join("{" + ", ".join("INT32_MIN" if v == -(2**31) else str(v) for v in s) + "}" for s in t.sos_q30)
        lines.append("    {")
        lines.append(f"        .fs_hz = {t.fs_hz}u,")
        lines.append(f"        .sos_q30 = {{{sos}}},")
        lines += [f"        .{name} = {getattr(t, name)}u," for name, _ in _FIELDS]
        lines.append("    },")
    lines += ["};", ""]
    lines += ["const ppg_rate_table_t *ppg_rate_table(uint16_t fs_hz)", "{",
              "    for (unsigned k = 0; k < PPG_RATE_COUNT; k++) {",
              "        if (PPG_RATE_TABLES[k].fs_hz == fs_hz) {", "            return &PPG_RATE_TABLES[k];", "        }",
              "    }", "    return NULL;", "}", ""]
    _check_spectrum_tables()
    lines += c_array("int16_t", "HRV_SPECTRUM_COS_Q15", spectrum_cos_q15(), 12, size="HRV_SPECTRUM_POINTS")
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    root = repo_root() / "firmware/core/dsp"
    return {root / "ppg_tables.h": tables_header(), root / "ppg_tables.c": tables_source()}


if __name__ == "__main__":
    sys.exit(write_or_check(generated_files(), sys.argv[1:]))
