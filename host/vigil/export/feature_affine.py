"""The stress models' feature scaler as per-feature affine maps: scaled_f = a_f * raw_f + b_f.

The models are trained on standardized-then-min-max-scaled features; that composition is affine per
feature, so the device never scales in floating point: the tree folds the map into integer thresholds
(``vigil.export.tree_export``), the SVM applies it as an integer multiply-add (``vigil.export.svm_export``).

``FeatureAffine.of(scaler, n_features)`` accepts a ``FeatureAffine``, a pair of arrays ``(a, b)``, or any
fitted transformer with ``.transform`` (StandardScaler, MinMaxScaler, a Pipeline of both, ...). For a
transformer, ``a`` and ``b`` are measured by probing it, and the transformer itself is kept
(``host_transform``) so that the tree's integer thresholds reproduce the decisions scikit-learn makes on
exactly what the transformer outputs, float rounding included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from vigil.errors import VigilError

_PROBE = 1.0e6  # probe amplitude: large, so (T(p) - T(0)) / p keeps ~all the digits of a_f
_LINEARITY_RTOL = 1e-9


@dataclass(frozen=True)
class FeatureAffine:
    """scaled = raw * scale + offset, per feature (float64 arrays of length n_features)."""

    scale: np.ndarray
    offset: np.ndarray
    host_transform: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False, repr=False)

    @property
    def n_features(self) -> int:
        return len(self.scale)

    def comment_lines(self, title: str) -> list[str]:
        """Lines of a generated C header's comment that record the map, one per feature."""
        lines = [f" * {title} (scaled_f = a_f * raw_f + b_f):"]
        return lines + [f" *   f{f}: a = {float(self.scale[f])!r}, b = {float(self.offset[f])!r}"
                        for f in range(self.n_features)]

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """The host's scaled features (float64) for raw features (n, n_features): the original
        transformer's output when there is one, else raw * scale + offset."""
        x = np.asarray(raw, dtype=np.float64)
        if self.host_transform is not None:
            return np.asarray(self.host_transform(x), dtype=np.float64)
        return x * self.scale + self.offset

    @classmethod
    def of(cls, scaler: Any, n_features: int) -> FeatureAffine:
        if isinstance(scaler, FeatureAffine):
            affine = scaler
        elif isinstance(scaler, tuple) and len(scaler) == 2:
            affine = cls(np.asarray(scaler[0], dtype=np.float64), np.asarray(scaler[1], dtype=np.float64))
        elif hasattr(scaler, "transform"):
            affine = _probe_transformer(scaler.transform, n_features)
        else:
            raise VigilError(
                "scaler: expected a FeatureAffine, a pair (scale, offset) or a fitted transformer, "
                f"got {type(scaler).__name__}"
            )
        if affine.scale.shape != (n_features,) or affine.offset.shape != (n_features,):
            raise VigilError(f"scaler: expected {n_features} per-feature scales and offsets, got {affine.scale.shape}")
        if not (np.all(np.isfinite(affine.scale)) and np.all(np.isfinite(affine.offset))):
            raise VigilError("scaler: scales and offsets must be finite")
        return affine


def _probe_transformer(transform: Callable[[np.ndarray], np.ndarray], n: int) -> FeatureAffine:
    zero = np.asarray(transform(np.zeros((1, n))), dtype=np.float64)[0]
    probe = np.asarray(transform(np.eye(n) * _PROBE), dtype=np.float64)
    scale = (np.diag(probe) - zero) / _PROBE
    affine = FeatureAffine(scale, zero, transform)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1e5, 1e5, size=(16, n))
    got = affine.transform(x)
    want = x * scale + zero
    if not np.allclose(got, want, rtol=_LINEARITY_RTOL, atol=_LINEARITY_RTOL * np.abs(want).max()):
        raise VigilError("scaler: the transformer is not a per-feature affine map (scaled_f = a_f * raw_f + b_f)")
    return affine
