"""Twin of firmware/core/dsp/epoch_features.c and sleep_context.c: four integer features per 30-s epoch of the
accelerometer, and the context sleep model's input built from the last SLEEP_CONTEXT_EPOCHS epochs of them.

Input: xyz int16 milli-g at 50 Hz from sample 0 of the stream, and its magnitude derivative
(``vigil.dsp.accel.derivative(magnitude(xyz))``, the device's ``accel_stft_derivative``).

Per 5-s posture window k (samples [250 k, 250 k + 250)):
    S_k = (sum x, sum y, sum z)                            int32 (|S| <= 250 * 32768)
    n_k = isqrt(Sx^2 + Sy^2 + Sz^2)                        (uint64 square, isqrt_u64)
    u_k = S_k * 4096 / n_k per axis, C division (towards zero, int64); u_k = 0 when n_k = 0   (Q12 unit vector)
    c_k = isqrt(|u_k - u_{k-1}|^2) for k >= 1, c_0 = 0     (isqrt_u32: |u_k - u_{k-1}|^2 <= 3 * 8192^2 < 2^32)
Per epoch e (samples [1500 e, 1500 e + 1500), windows 6 e .. 6 e + 5), uint8 codes:
    f0 activity          log_code(sum max(0, |d| - ACTIVITY_DEADBAND_MG) over the epoch's samples)   (< 2^26)
    f1 direction change  log_code(sum c_k over the epoch's windows)
    f2 still windows     windows of the epoch with c_k <= STILL_CHANGE_Q12 (about 5 degrees), 0..6
    f3 elapsed           min(e >> ELAPSED_SHIFT, 255): minutes since the stream started
    log_code(v) = min(255, (LOG_CODE_PER_OCTAVE * log2_q30(v + 1)) >> 30)  (log2_u64_q30, the STFT's log)
The epoch's feature vector is int8[4] = code + FEATURE_ZERO_POINT (-128): the context model's input quantization
is scale 1.0, zero point -128, so its real input value is the code itself.

Context (sleep_context.c): when epoch e's features complete and e >= SLEEP_CONTEXT_DELAY, the device decides
epoch t = e - SLEEP_CONTEXT_DELAY from int8[SLEEP_CONTEXT_EPOCHS * EPOCH_FEATURES]: the vectors of epochs
e - 53 .. e, oldest first (row r, feature j at index 4 r + j), rows of epochs before 0 all -128. So epoch t is
decided from the 47 epochs before it, itself and the 6 after it; the last SLEEP_CONTEXT_DELAY epochs of a
stream are never decided.
"""

from __future__ import annotations

import numpy as np

from vigil.dsp import config as c
from vigil.dsp.accel import derivative, magnitude
from vigil.dsp.isqrt import isqrt
from vigil.dsp.stft import log2_q30

FEATURE_NAMES = ("activity", "direction_change", "still_windows", "elapsed_min")
EMPTY_VALUE = c.FEATURE_ZERO_POINT  # a context row of an epoch before the stream: every feature -128


def log_code(v: np.ndarray | int) -> np.ndarray:
    """min(FEATURE_CODE_MAX, (LOG_CODE_PER_OCTAVE * log2_q30(v + 1)) >> 30) of non-negative integers v < 2^62."""
    v = np.asarray(v, dtype=np.int64)
    code = (c.LOG_CODE_PER_OCTAVE * log2_q30(v + 1)) >> 30
    return np.minimum(code, c.FEATURE_CODE_MAX)


def activity_sums(deriv: np.ndarray) -> np.ndarray:
    """(n_epochs,) int64 sum over each complete epoch of max(0, |d| - ACTIVITY_DEADBAND_MG)."""
    d = np.abs(np.asarray(deriv, dtype=np.int64))
    n = len(d) // c.EPOCH_SAMPLES
    above = np.maximum(d[: n * c.EPOCH_SAMPLES] - c.ACTIVITY_DEADBAND_MG, 0)
    return above.reshape(n, c.EPOCH_SAMPLES).sum(axis=1)


def window_sums(xyz: np.ndarray) -> np.ndarray:
    """(n_windows, 3) int64: the per-axis sums of each complete posture window."""
    xyz = np.asarray(xyz, dtype=np.int64)
    n = len(xyz) // c.POSTURE_WINDOW_SAMPLES
    return xyz[: n * c.POSTURE_WINDOW_SAMPLES].reshape(n, c.POSTURE_WINDOW_SAMPLES, 3).sum(axis=1)


def directions(sums: np.ndarray) -> np.ndarray:
    """(n, 3) int64 Q12 unit vectors S * DIRECTION_ONE / isqrt(|S|^2), truncated towards zero; 0 where S = 0."""
    s = np.asarray(sums, dtype=np.int64)
    norm = isqrt((s * s).sum(axis=1).astype(np.uint64)).astype(np.int64)[:, None]
    num = s * c.DIRECTION_ONE
    q = np.abs(num) // np.maximum(norm, 1)  # C division truncates towards zero: |a| // |b| with a's sign
    return np.where(norm == 0, 0, np.sign(num) * q)


def direction_changes(xyz: np.ndarray) -> np.ndarray:
    """(n_windows,) int64: c_k = isqrt(|u_k - u_{k-1}|^2), c_0 = 0."""
    u = directions(window_sums(xyz))
    out = np.zeros(len(u), dtype=np.int64)
    if len(u) > 1:
        du = np.diff(u, axis=0)
        out[1:] = isqrt((du * du).sum(axis=1).astype(np.uint64)).astype(np.int64)
    return out


def feature_codes(xyz: np.ndarray, deriv: np.ndarray | None = None) -> np.ndarray:
    """(n_epochs, EPOCH_FEATURES) int64 codes 0..255 of every complete epoch; ``deriv`` defaults to the twin's
    derivative of ``xyz``."""
    xyz = np.asarray(xyz)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"expected (n, 3) samples, got shape {xyz.shape}")
    d = derivative(magnitude(xyz)) if deriv is None else np.asarray(deriv)
    n_epochs = len(xyz) // c.EPOCH_SAMPLES
    activity = activity_sums(d[: n_epochs * c.EPOCH_SAMPLES])
    change = direction_changes(xyz[: n_epochs * c.EPOCH_SAMPLES]).reshape(n_epochs, c.POSTURE_WINDOWS)
    codes = np.zeros((n_epochs, c.EPOCH_FEATURES), dtype=np.int64)
    codes[:, 0] = log_code(activity)
    codes[:, 1] = log_code(change.sum(axis=1))
    codes[:, 2] = (change <= c.STILL_CHANGE_Q12).sum(axis=1)
    codes[:, 3] = np.minimum(np.arange(n_epochs) >> c.ELAPSED_SHIFT, c.FEATURE_CODE_MAX)
    return codes


def epoch_features(xyz: np.ndarray, deriv: np.ndarray | None = None) -> np.ndarray:
    """(n_epochs, EPOCH_FEATURES) int8 feature vectors (code + FEATURE_ZERO_POINT), as the device's EPOCH_FEATURES."""
    return (feature_codes(xyz, deriv) + c.FEATURE_ZERO_POINT).astype(np.int8)


def context_inputs(features: np.ndarray) -> np.ndarray:
    """(n_decided, SLEEP_CONTEXT_INPUT) int8: row t is the input that decides epoch t = e - SLEEP_CONTEXT_DELAY,
    the vectors of epochs e - 53 .. e oldest first, -128 before the stream; n_decided = n_epochs - DELAY (>= 0)."""
    f = np.asarray(features, dtype=np.int8).reshape(-1, c.EPOCH_FEATURES)
    n_decided = max(len(f) - c.SLEEP_CONTEXT_DELAY, 0)
    padded = np.concatenate([np.full((c.SLEEP_CONTEXT_EPOCHS - 1, c.EPOCH_FEATURES), EMPTY_VALUE, np.int8), f])
    # newest epoch e = t + DELAY sits at padded row e + 53; its window is padded rows e .. e + 53
    rows = np.arange(n_decided)[:, None] + c.SLEEP_CONTEXT_DELAY + np.arange(c.SLEEP_CONTEXT_EPOCHS)[None, :]
    return padded[rows].reshape(n_decided, c.SLEEP_CONTEXT_INPUT)


def decided_epochs(n_epochs: int) -> int:
    """How many epochs of a stream of ``n_epochs`` complete epochs the device decides."""
    return max(n_epochs - c.SLEEP_CONTEXT_DELAY, 0)
