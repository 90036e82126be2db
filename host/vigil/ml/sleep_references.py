"""The two classic ways to tell sleep from wake on a wrist, as yardsticks for vigil's sleep model on the same
nights and folds (float host code: references, not twins).

- ``van_hees_sleep``: van Hees et al. 2015 (PLoS ONE 10(11): e0142533; GGIR's sustained-inactivity rule): the
  z-angle of the 5-s mean acceleration; a minute is still when the angle changes by at most 5 degrees between
  its consecutive 5-s values; runs of at least 5 still minutes are sleep. No training.
- ``movement_features``: seven per-epoch movement features (activity, magnitude spread, ENMO, z-angle change and
  its largest step, per-axis spread, still 5-s windows) for a random forest trained on the same folds.
"""

from __future__ import annotations

import numpy as np

from vigil.dsp.config import ACCEL_RATE_HZ, EPOCH_SAMPLES

WINDOW_SAMPLES = 5 * ACCEL_RATE_HZ  # 5-s means, as GGIR
WINDOWS_PER_MINUTE = 12
ANGLE_LIMIT_DEG = 5.0
BOUT_MINUTES = 5
EPOCHS_PER_MINUTE = 60 * ACCEL_RATE_HZ // EPOCH_SAMPLES
MOVEMENT_FEATURES = ("activity", "magnitude_sd", "enmo", "angle_change", "angle_step_max", "axis_sd",
                     "still_windows")  # fmt: skip


def z_angle(accel_mg: np.ndarray) -> np.ndarray:
    """Degrees between the 5-s mean acceleration and the wrist's x-y plane, one per whole 5-s window."""
    a = np.asarray(accel_mg, dtype=np.float64)
    n = len(a) // WINDOW_SAMPLES
    w = a[: n * WINDOW_SAMPLES].reshape(n, WINDOW_SAMPLES, 3).mean(axis=1)
    return np.degrees(np.arctan2(w[:, 2], np.hypot(w[:, 0], w[:, 1])))


def van_hees_sleep(accel_mg: np.ndarray, n_epochs: int) -> np.ndarray:
    """(n_epochs,) bool: asleep per 30-s epoch by the sustained-inactivity rule (module doc); epochs past the last
    whole minute are awake."""
    change = np.abs(np.diff(z_angle(accel_mg), prepend=np.nan))
    change[0] = 0.0
    minutes = len(change) // WINDOWS_PER_MINUTE
    still = change[: minutes * WINDOWS_PER_MINUTE].reshape(minutes, WINDOWS_PER_MINUTE).max(axis=1) <= ANGLE_LIMIT_DEG
    asleep = np.zeros(minutes, dtype=bool)
    start = 0
    for m in range(minutes + 1):  # close a run at every moving minute and at the end
        if m == minutes or not still[m]:
            if m - start >= BOUT_MINUTES:
                asleep[start:m] = True
            start = m + 1
    per_epoch = np.repeat(asleep, EPOCHS_PER_MINUTE)
    out = np.zeros(n_epochs, dtype=bool)
    k = min(n_epochs, len(per_epoch))
    out[:k] = per_epoch[:k]
    return out


def movement_features(accel_mg: np.ndarray, n_epochs: int) -> np.ndarray:
    """(n_epochs, 7) float32, MOVEMENT_FEATURES per 30-s epoch; epochs past the data are zeros."""
    a = np.asarray(accel_mg, dtype=np.float64)
    whole = min(n_epochs, len(a) // EPOCH_SAMPLES)
    out = np.zeros((n_epochs, len(MOVEMENT_FEATURES)), dtype=np.float32)
    if whole == 0:
        return out
    a = a[: whole * EPOCH_SAMPLES]
    mag = np.linalg.norm(a, axis=1)
    per = mag.reshape(whole, EPOCH_SAMPLES)
    step = np.abs(np.diff(mag, prepend=mag[0])).reshape(whole, EPOCH_SAMPLES)
    angle = z_angle(a)
    change = np.abs(np.diff(angle, prepend=angle[0])).reshape(whole, -1)
    out[:whole] = np.stack([
        np.log1p(step.mean(axis=1)), np.log1p(per.std(axis=1)), np.log1p(np.maximum(per - 1000.0, 0).mean(axis=1)),
        np.log1p(change.sum(axis=1)), np.log1p(change.max(axis=1)),
        np.log1p(a.reshape(whole, EPOCH_SAMPLES, 3).std(axis=1).sum(axis=1)),
        (change <= ANGLE_LIMIT_DEG).sum(axis=1),
    ], axis=1)  # fmt: skip
    return out
