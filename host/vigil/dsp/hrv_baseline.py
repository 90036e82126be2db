"""Twin of ``firmware/core/dsp/hrv_baseline.c``: the wearer's running baseline of each HRV feature and the features
relative to it, the same integers exactly (the rules are in hrv_baseline.h).

    segments = with_baseline(segments)   # HrvFeatures of one stream, in order -> the same with baseline_* and rel_*
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vigil.dsp import ppg_tables as tables

FEATURES = tables.HRV_FEATURES
REL_FIELDS = tuple(f"rel_{name}" for name in FEATURES)


def baseline_relative(features: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(baseline_n, baseline_ready, rel) per segment of one stream: ``features`` (n, 6) device integers, ``valid`` (n,).
    The same rule applies column by column, so ``features`` may have other columns too (benchmarks/stress_features.py
    takes the extra features relative to the wearer the same way)."""
    valid = np.asarray(valid, dtype=bool)
    n = len(valid)
    features = np.asarray(features, dtype=np.int64).reshape(n, -1) if n else np.zeros((0, len(FEATURES)), np.int64)
    counts = np.zeros(n, dtype=np.int64)
    rel = np.zeros(features.shape, dtype=np.int64)
    held: list[np.ndarray] = []  # the last BASELINE_SEGMENTS valid segments' features
    for k in range(n):
        if valid[k]:
            held = (held + [features[k]])[-tables.BASELINE_SEGMENTS :]
        counts[k] = len(held)
        if valid[k] and len(held) >= tables.BASELINE_WARMUP:
            ordered = np.sort(np.asarray(held), axis=0)
            rel[k] = features[k] - ordered[len(held) // 2]
    return counts, counts >= tables.BASELINE_WARMUP, rel


def with_baseline(segments: list) -> list:
    """The stream's segments (``vigil.dsp.hrv.HrvFeatures``) with their baseline fields filled."""
    if not segments:
        return []
    feats = np.array([[getattr(s, name) for name in FEATURES] for s in segments], dtype=np.int64)
    counts, ready, rel = baseline_relative(feats, np.array([bool(s.valid) for s in segments]))
    return [dataclasses.replace(s, baseline_n=int(c), baseline_ready=int(r), **dict(zip(REL_FIELDS, map(int, v))))
            for s, c, r, v in zip(segments, counts, ready, rel)]  # fmt: skip
