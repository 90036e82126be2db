"""How a recording goes onto the wire: frames in time order, counted without being built."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.data.recording import Recording
from vigil.device import linkcheck
from vigil.replay import ACCEL_SAMPLES_PER_FRAME, frame_count, sample_frames


@pytest.mark.parametrize("n_accel,n_ppg", [(0, 0), (1, 0), (ACCEL_SAMPLES_PER_FRAME, 253), (5000, 6401)])
def test_frame_count_matches_the_frames(n_accel: int, n_ppg: int) -> None:
    rec = Recording.from_arrays(accel=np.zeros((n_accel, 3), np.int16), ppg=np.zeros(n_ppg, np.int16),
                                ppg_rate_hz=64 if n_ppg else None)  # fmt: skip
    frames = sample_frames(rec)
    assert frame_count(rec) == len(frames)
    starts = [f.first_index / (50 if f.channel == 0 else 64) for f in frames]
    assert starts == sorted(starts)


@pytest.mark.parametrize("total", [1, 506, 507, 1_000_000])
def test_link_proof_frame_count(total: int) -> None:
    assert linkcheck.frame_count(total) == len(linkcheck.sample_frames(total))
