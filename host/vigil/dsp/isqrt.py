"""Twin of firmware/core/dsp/isqrt.c: floor(sqrt(x)) for unsigned integers, exact."""

from __future__ import annotations

import numpy as np


def isqrt(x: np.ndarray) -> np.ndarray:
    """Element-wise floor(sqrt(x)) of non-negative integers below 2**64, exact.

    float64 gives the root within one unit for every such input; a correction step
    makes it exact (the firmware computes it digit by digit)."""
    x = np.asarray(x, dtype=np.uint64)
    r = np.floor(np.sqrt(x.astype(np.float64))).astype(np.uint64)
    r = np.minimum(r, np.uint64(0xFFFFFFFF))
    # r*r may be one step too big or too small; fix by comparing exactly in uint64.
    too_big = r * r > x
    r = r - too_big.astype(np.uint64)  # never below 0: r * r > x >= 0 needs r >= 1
    r1 = r + np.uint64(1)
    fits = (r1 <= np.uint64(0xFFFFFFFF)) & (r1 * r1 <= x)
    return np.where(fits, r1, r)
