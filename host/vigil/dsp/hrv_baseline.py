"""Twin of ``firmware/core/dsp/hrv_baseline.c``: the wearer's running baseline of each HRV feature and the features
relative to it, the same integers exactly (the rules are in hrv_baseline.h).

    segments = with_baseline(segments, motion)   # HrvFeatures of one stream, in order -> with baseline_* and rel_*
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vigil.dsp import config
from vigil.dsp import ppg_tables as tables

FEATURES = tables.HRV_FEATURES
REL_FIELDS = tuple(f"rel_{name}" for name in FEATURES)


def segments_still(n_segments: int, motion: np.ndarray | None) -> np.ndarray:
    """Per segment, whether the baseline may take it (``segment_still`` in ppg_pipeline.c): both its 30-s epochs'
    motion levels (``vigil.dsp.accel.accel_motion`` of the same stream) are <= BASELINE_MOTION_MAX; an epoch past the
    accelerometer's end counts as moving. ``motion`` None or empty: no accelerometer, every segment is still."""
    if motion is None or len(motion) == 0:
        return np.ones(n_segments, dtype=bool)
    per_segment = config.SEGMENT_S // config.EPOCH_S
    levels = np.full(n_segments * per_segment, np.iinfo(np.int64).max, dtype=np.int64)
    known = min(len(motion), len(levels))
    levels[:known] = np.asarray(motion, dtype=np.int64)[:known]
    return (levels.reshape(n_segments, per_segment) <= tables.BASELINE_MOTION_MAX).all(axis=1)


def baseline_relative(features: np.ndarray, valid: np.ndarray, still: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(baseline_n, baseline_ready, rel) per segment of one stream: ``features`` (n, 6) device integers, ``valid`` (n,),
    ``still`` (n,) from ``segments_still`` (None: all still). Segment k is measured against the valid, still segments
    before it (k - 1 joins when k closes, as on the device).
    The same rule applies column by column, so ``features`` may have other columns too (benchmarks/stress_features.py
    takes the extra features relative to the wearer the same way)."""
    valid = np.asarray(valid, dtype=bool)
    n = len(valid)
    still = np.ones(n, dtype=bool) if still is None else np.asarray(still, dtype=bool)
    features = np.asarray(features, dtype=np.int64).reshape(n, -1) if n else np.zeros((0, len(FEATURES)), np.int64)
    counts = np.zeros(n, dtype=np.int64)
    rel = np.zeros(features.shape, dtype=np.int64)
    held: list[np.ndarray] = []  # the last BASELINE_SEGMENTS valid, still segments' features
    for k in range(n):
        if k > 0 and valid[k - 1] and still[k - 1]:
            held = (held + [features[k - 1]])[-tables.BASELINE_SEGMENTS :]
        counts[k] = len(held)
        if valid[k] and len(held) >= tables.BASELINE_WARMUP:
            ordered = np.sort(np.asarray(held), axis=0)
            rel[k] = features[k] - ordered[len(held) // 2]
    return counts, counts >= tables.BASELINE_WARMUP, rel


def with_baseline(segments: list, motion: np.ndarray | None) -> list:
    """The stream's segments (``vigil.dsp.hrv.HrvFeatures``) with their baseline fields filled; ``motion``: the
    accelerometer's motion level per epoch of the same stream, or None without one (``segments_still``)."""
    if not segments:
        return []
    feats = np.array([[getattr(s, name) for name in FEATURES] for s in segments], dtype=np.int64)
    valid = np.array([bool(s.valid) for s in segments])
    counts, ready, rel = baseline_relative(feats, valid, segments_still(len(segments), motion))
    return [dataclasses.replace(s, baseline_n=int(c), baseline_ready=int(r), **dict(zip(REL_FIELDS, map(int, v))))
            for s, c, r, v in zip(segments, counts, ready, rel)]  # fmt: skip
