"""Constant tables of the accelerometer STFT, for the twin (``vigil.dsp.stft``) and the firmware
(``firmware/core/dsp/stft_tables.{h,c}``, generated from this module).

    python -m vigil.dsp.stft_tables [--check]

Every table is quantized here, once, with numpy/scipy; the C kernels and the twin both read the
quantized integers, so they cannot drift apart.

- ``HANN_Q30``: the periodic Hann window (``scipy.signal.get_window("hann", N)``) in Q30. Q30 rather
  than Q31 so that the window's peak, exactly 1.0, is representable.
- ``COS_Q30``: cos(2*pi*k/N) for k = 0..N/2 in Q30 (1.0 exact again). One table serves the complex
  FFT's twiddles (W_64^j = W_128^(2j)) and the real-FFT split: sin(2*pi*k/N) = COS_Q30[|N/4 - k|].
- ``BITREV``: bit-reversal permutation of the N/2-point complex FFT's input.
- ``LOG2_Q30``: log2(1 + i/2^LOG2_BITS) for i = 0..2^LOG2_BITS in Q30, linearly interpolated
  between entries (error below 1.2e-5 in log2, 3.5e-5 dB).
- ``DB_PER_LOG2_Q24``: 10*log10(2) in Q24, turns log2 of power into dB.
- ``DB_TO_IMAGE_MUL``: 2^16 / IMAGE_SCALE_DB, so that q = (dB_Q16 * MUL + 2^31) >> 32 rounds the Q16
  dB value to image steps (exact rounding when IMAGE_SCALE_DB is a power of two, as 0.5 is).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.signal import get_window

from vigil.codegen import BANNER, c_array, repo_root, write_or_check
from vigil.dsp import config

N = config.STFT_N
CFFT_N = N // 2  # the real FFT of N points runs as a complex FFT of N/2 points
CFFT_LOG2 = CFFT_N.bit_length() - 1
LOG2_BITS = 7  # the log2 table has 2^LOG2_BITS segments
NORM_BITS = 21  # block scaling puts the frame's largest |windowed sample| in [2^21, 2^22)
DB_TO_IMAGE_SHIFT = 32
DB_ZERO_POWER = -(2**31)  # the dB value of a bin whose power is exactly zero (INT32_MIN)

assert N & (N - 1) == 0 and N >= 8, "the STFT length must be a power of two"


def _q(values: np.ndarray, frac_bits: int) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64) * (1 << frac_bits)).astype(np.int64)


HANN_Q30: np.ndarray = _q(get_window("hann", N), 30)
COS_Q30: np.ndarray = _q(np.cos(2 * np.pi * np.arange(N // 2 + 1) / N), 30)
BITREV: np.ndarray = np.array([int(f"{m:0{CFFT_LOG2}b}"[::-1], 2) for m in range(CFFT_N)], dtype=np.int64)
LOG2_Q30: np.ndarray = _q(np.log2(1 + np.arange((1 << LOG2_BITS) + 1) / (1 << LOG2_BITS)), 30)
DB_PER_LOG2_Q24: int = round(10 * np.log10(2) * (1 << 24))
DB_TO_IMAGE_MUL: int = round((1 << 16) / config.IMAGE_SCALE_DB)

assert HANN_Q30.max() == 1 << 30 and HANN_Q30.min() == 0
assert COS_Q30[0] == 1 << 30 and COS_Q30[N // 4] == 0 and COS_Q30[N // 2] == -(1 << 30)


def sin_q30(k: np.ndarray | int) -> np.ndarray:
    """sin(2*pi*k/N) in Q30 for 0 <= k <= N/2, from the cosine table."""
    return COS_Q30[np.abs(N // 4 - np.asarray(k))]


_TABLES = (  # C type, name, values, values per line, what it holds
    ("int32_t", "STFT_HANN_Q30", HANN_Q30, 8, "periodic Hann window, Q30 (1.0 = 2^30)"),
    ("int32_t", "STFT_COS_Q30", COS_Q30, 8, "cos(2*pi*k/N), k = 0..N/2, Q30; sin(2*pi*k/N) = STFT_COS_Q30[|N/4 - k|]"),
    ("uint8_t", "STFT_BITREV", BITREV, 16, "bit-reversed order of the STFT_CFFT_N-point FFT input"),
    ("uint32_t", "STFT_LOG2_Q30", LOG2_Q30, 8, "log2(1 + i/2^STFT_LOG2_BITS), i = 0..2^STFT_LOG2_BITS, Q30"),
)


def tables_header() -> str:
    lines = [BANNER.format(module="vigil.dsp.stft_tables", source="host/vigil/dsp/stft_tables.py")]
    lines += [
        "#ifndef VIGIL_STFT_TABLES_H",
        "#define VIGIL_STFT_TABLES_H",
        "",
        "#include <stdint.h>",
        "",
        '#include "dsp/dsp_config.h"',
        "",
        f"#define STFT_CFFT_N {CFFT_N}u /* complex points of the FFT behind the {N}-point real FFT */",
        f"#define STFT_LOG2_BITS {LOG2_BITS}u /* STFT_LOG2_Q30 has 2^STFT_LOG2_BITS segments */",
        f"#define STFT_NORM_BITS {NORM_BITS} /* block scaling: max |windowed sample| in [2^{NORM_BITS}, 2^{NORM_BITS + 1}) */",
        f"#define STFT_DB_PER_LOG2_Q24 {DB_PER_LOG2_Q24} /* 10*log10(2) in Q24 */",
        f"#define STFT_DB_TO_IMAGE_MUL {DB_TO_IMAGE_MUL} /* 2^16 / IMAGE_SCALE_DB ({config.IMAGE_SCALE_DB} dB) */",
        f"#define STFT_DB_TO_IMAGE_SHIFT {DB_TO_IMAGE_SHIFT}u",
        "#define STFT_DB_ZERO_POWER INT32_MIN /* dB value of a bin whose power is exactly zero */",
        "",
        f"#if DSP_STFT_N != {N}u",
        "#error stft_tables.h is stale: run `python -m vigil.dsp.stft_tables`",
        "#endif",
        "",
    ]
    for ctype, name, values, _, what in _TABLES:
        lines += [f"/* {what} */", f"extern const {ctype} {name}[{len(values)}];"]
    lines += ["", "#endif /* VIGIL_STFT_TABLES_H */", ""]
    return "\n".join(lines)


def tables_source() -> str:
    lines = [BANNER.format(module="vigil.dsp.stft_tables", source="host/vigil/dsp/stft_tables.py")]
    lines += ['#include "dsp/stft_tables.h"', ""]
    for ctype, name, values, per_line, _ in _TABLES:
        lines += c_array(ctype, name, values, per_line)
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    dsp = repo_root() / "firmware/core/dsp"
    return {dsp / "stft_tables.h": tables_header(), dsp / "stft_tables.c": tables_source()}


if __name__ == "__main__":
    sys.exit(write_or_check(generated_files(), sys.argv[1:]))
