"""Twin of the firmware's fixed-point STFT (firmware/core/dsp/stft_window_scale_q31.c, cfft_q31.c,
rfft_split_q31.c, log2_u64_q30.c, power_db_q16.c, stft_column_q31.c): acceleration derivative
(int16) -> log-power spectrogram columns, bit-exact, vectorised over frames (int64 numpy).

Per column j (derivative samples 64j .. 64j+127):
1. window and block-scale: y[n] = d[n] * HANN_Q30[n] (exact, < 2^46); the frame's shift sh puts
   max |y| * 2^sh in [2^21, 2^22) (shift left, or right with rounding half up); x = y * 2^sh. Then
   x = d * w * 2^g with the frame's gain exponent g = 30 + sh (6 <= g <= 32). A silent frame (all
   y = 0) skips the FFT: every bin has zero power.
2. real FFT of 128 points as a 64-point complex FFT of z[m] = x[2m] + i x[2m+1] (radix 2, decimation
   in time, Q30 twiddles, products in 64 bits rounded half up), then the split step, which yields
   2 X[k] for k = 0..64 (the factor 2 costs no precision). |2 X[k]| <= 2 sum |x| < 2^30: no
   overflow anywhere in 32 bits, with no per-stage scaling.
3. power p = Re^2 + Im^2 of 2 X[k] (uint64 < 2^61), and |X_true|^2 = p * 2^-(2g + 2).
4. log2(p) in Q30 by CLZ + linear interpolation in LOG2_Q30; dB = 10 log10(2) * (log2(p) - 2g - 2)
   in Q16 (int32). Zero power gives DB_ZERO_POWER (INT32_MIN).
5. int8: q = round(dB / IMAGE_SCALE_DB) + IMAGE_ZERO_POINT, saturated to [-128, 127].

X is the DFT of the windowed derivative in milli-g, not normalised by N, as :func:`reference_power_db`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from vigil.dsp import config
from vigil.dsp import stft_tables as tab

N, HOP, BINS = config.STFT_N, config.STFT_HOP, config.STFT_BINS
Q16 = 1 << 16
_R30 = 1 << 29  # rounding term of a Q30 product


def n_columns(n_samples: int) -> int:
    """Columns produced by n derivative samples: the first at sample 127, then one per 64."""
    return 0 if n_samples < N else (n_samples - N) // HOP + 1


def frames(deriv: np.ndarray) -> np.ndarray:
    """(n_cols, N) int64 frames of the derivative, column j = deriv[64j : 64j + 128]."""
    d = np.asarray(deriv, dtype=np.int64)
    if d.ndim != 1:
        raise ValueError(f"expected a 1-D derivative, got shape {d.shape}")
    if d.size < N:
        return np.zeros((0, N), dtype=np.int64)
    return np.ascontiguousarray(sliding_window_view(d, N)[::HOP])


def floor_log2(v: np.ndarray) -> np.ndarray:
    """floor(log2(v)) of positive int64 values, exact (binary search, as CLZ does); 0 for v <= 1."""
    v = np.asarray(v, dtype=np.int64)
    e = np.zeros(v.shape, dtype=np.int64)
    for sh in (32, 16, 8, 4, 2, 1):
        e = np.where((v >> (e + sh)) > 0, e + sh, e)
    return e


def window_scale(fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1: windowed, block-scaled frames x (n_cols, N) and each frame's gain exponent g
    (x = d * w * 2^g up to rounding); g = -1 marks a silent frame (x all zero).
    The shift depends only on the top bit of max |y| (the C takes it from the OR of all |y|: same bit)."""
    y = fr * tab.HANN_Q30
    peak = np.max(np.abs(y), axis=1, initial=0)
    silent = peak == 0
    sh = tab.NORM_BITS - floor_log2(np.where(silent, 1, peak))
    lsh = np.maximum(sh, 0)[:, None]
    rsh = np.maximum(-sh, 0)[:, None]
    x = ((y << lsh) + ((np.int64(1) << rsh) >> 1)) >> rsh
    x[silent] = 0
    return x, np.where(silent, -1, 30 + sh)


def cfft(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2a: 64-point complex FFT of each row, input in bit-reversed order, output natural.
    Radix-2 butterflies a +- b*W with W = cos - i sin (Q30) and t = (b*W + 2^29) >> 30."""
    re, im = re.copy(), im.copy()
    rows = re.shape[0]
    h = 1
    while h < tab.CFFT_N:
        k = np.arange(h) * (tab.CFFT_N // h)  # W_{2h}^j = W_128^(j * 64/h)
        c, s = tab.COS_Q30[k], tab.sin_q30(k)
        r4 = re.reshape(rows, tab.CFFT_N // (2 * h), 2, h)
        i4 = im.reshape(rows, tab.CFFT_N // (2 * h), 2, h)
        ar, ai, br, bi = r4[:, :, 0, :], i4[:, :, 0, :], r4[:, :, 1, :], i4[:, :, 1, :]
        tr = (br * c + bi * s + _R30) >> 30
        ti = (bi * c - br * s + _R30) >> 30
        r4[:, :, 1, :], i4[:, :, 1, :] = ar - tr, ai - ti
        r4[:, :, 0, :], i4[:, :, 0, :] = ar + tr, ai + ti
        h *= 2
    return re, im


def rfft_split(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2b: from Z = FFT_64(x[2m] + i x[2m+1]) to 2 X[k], k = 0..64 (real, imaginary parts).
    With A = Z[k], B = conj(Z[64 - k]), S = A + B, D = A - B and theta = 2 pi k / 128:
    2X = S + (-sin - i cos) D, the product rounded as in the butterflies."""
    k = np.arange(BINS)
    a_idx, b_idx = k % tab.CFFT_N, (tab.CFFT_N - k) % tab.CFFT_N
    ar, ai, br, bi = re[:, a_idx], im[:, a_idx], re[:, b_idx], -im[:, b_idx]
    sr, si, dr, di = ar + br, ai + bi, ar - br, ai - bi
    c, s = tab.COS_Q30[k], tab.sin_q30(k)
    xr = sr + ((c * di - s * dr + _R30) >> 30)
    xi = si + ((-(c * dr) - s * di + _R30) >> 30)
    return xr, xi


def log2_q30(p: np.ndarray) -> np.ndarray:
    """log2(p) in Q30 (int64) of integers 1 <= p < 2^63: exponent by CLZ, mantissa's 31 fraction
    bits (truncated) -> segment (top LOG2_BITS bits) + linear interpolation rounded half up."""
    p = np.asarray(p, dtype=np.int64)
    e = floor_log2(p)
    top = np.where(e >= 31, p >> np.maximum(e - 31, 0), p << np.maximum(31 - e, 0))
    f = top - (1 << 31)
    seg_shift = 31 - tab.LOG2_BITS
    i = f >> seg_shift
    r = f & ((1 << seg_shift) - 1)
    lo, hi = tab.LOG2_Q30[i], tab.LOG2_Q30[i + 1]
    y = lo + (((hi - lo) * r + (1 << (seg_shift - 1))) >> seg_shift)
    return (e << 30) + y


def power_db_q16(p: np.ndarray, exp2: np.ndarray) -> np.ndarray:
    """10 log10(p * 2^-exp2) in Q16 (int32); p = 0 gives DB_ZERO_POWER."""
    p = np.asarray(p, dtype=np.int64)
    lg = log2_q30(np.maximum(p, 1)) - (np.asarray(exp2, dtype=np.int64) << 30)
    db = (lg * tab.DB_PER_LOG2_Q24 + (1 << 37)) >> 38
    return np.where(p == 0, tab.DB_ZERO_POWER, db).astype(np.int32)


def db_to_image(db_q16: np.ndarray) -> np.ndarray:
    """Q16 dB -> int8 in the CNN's input quantization (IMAGE_SCALE_DB, IMAGE_ZERO_POINT)."""
    db = np.asarray(db_q16, dtype=np.int64)
    q = (
        (db * tab.DB_TO_IMAGE_MUL + (1 << (tab.DB_TO_IMAGE_SHIFT - 1))) >> tab.DB_TO_IMAGE_SHIFT
    ) + config.IMAGE_ZERO_POINT
    return np.clip(q, -128, 127).astype(np.int8)


def stft_power_db(deriv: np.ndarray) -> np.ndarray:
    """(n_cols, 65) int32: each bin's power |X_k|^2 in dB, Q16 (dB * 2^16), as the device computes it."""
    x, g = window_scale(frames(deriv))
    zr = x[:, 0::2][:, tab.BITREV]
    zi = x[:, 1::2][:, tab.BITREV]
    xr, xi = rfft_split(*cfft(zr, zi))
    p = xr * xr + xi * xi
    p[g < 0] = 0
    return power_db_q16(p, (2 * g + 2)[:, None])


def stft_columns(deriv: np.ndarray) -> np.ndarray:
    """(n_cols, 65) int8 spectrogram columns, as the device streams them."""
    return db_to_image(stft_power_db(deriv))


def reference_power_db(deriv: np.ndarray) -> np.ndarray:
    """float64 reference of :func:`stft_power_db` in dB (not Q16): the same frames and periodic Hann
    window (scipy), numpy's rfft, 10 log10 |X|^2; -inf where the power is zero."""
    from scipy.signal import get_window

    fr = frames(deriv).astype(np.float64) * get_window("hann", N)
    power = np.abs(np.fft.rfft(fr, axis=1)) ** 2
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power)


def db_from_q16(db_q16: np.ndarray) -> np.ndarray:
    """Q16 dB values -> float dB, with DB_ZERO_POWER as -inf."""
    db = np.asarray(db_q16)
    return np.where(db == tab.DB_ZERO_POWER, -np.inf, db.astype(np.float64) / Q16)


def snr_db(fixed_db: np.ndarray, ref_db: np.ndarray, floor_db: float) -> float:
    """10 log10(sum ref^2 / sum (fixed - ref)^2) in dB over the bins whose reference exceeds floor_db.
    ``fixed_db``: Q16 integers (as :func:`stft_power_db` returns them) or float dB."""
    fixed = np.asarray(fixed_db)
    fixed = db_from_q16(fixed) if np.issubdtype(fixed.dtype, np.integer) else fixed.astype(np.float64)
    ref = np.asarray(ref_db, dtype=np.float64)
    keep = ref > floor_db
    if not np.any(keep):
        raise ValueError(f"no bin above the floor {floor_db} dB")
    err = fixed[keep] - ref[keep]
    noise = float(np.sum(err * err))
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(ref[keep] ** 2) / noise))
