"""The integer exp of the classical models (tree/SVM kernels in ``firmware/core/ml``) and its table.

    python -m vigil.export.ml_exp_table [--check]     # writes firmware/core/ml/ml_exp_table.{h,c}

``exp2_neg_q30(u)`` is 2^-u for u >= 0 given in Q24 (uint32), result in Q30 (2^30 = 1.0), computed as
the C does (``firmware/core/ml/ml_exp2_neg_q30.c``):

- range reduction by powers of two: u = n + f, n = u >> 24, 0 <= f < 1; 2^-u = 2^-f >> n;
- 2^-f from ``EXP2_NEG_Q30[i] = round(2^(-i/256) * 2^30)``, i = 0..256, by linear interpolation on
  the 16 low bits of f: y = T[i] - ((T[i] - T[i+1]) * r + 2^15) >> 16;
- then (y + 2^(n-1)) >> n (round half up); n >= 31 gives 0.

Both the SVM's RBF kernel exp(-gamma d^2) and Platt's logistic use it, with log2(e) folded into their
constants. Error (measured in tests/test_classical_export.py): relative error below 1.0e-6 of 2^-u
for u < 1, absolute error below 1 Q30 step elsewhere, plus the Q24 quantization of u.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from vigil.codegen import BANNER, c_array, repo_root, write_or_check

U_FRAC = 24  # the argument u is Q24
OUT_FRAC = 30  # the result is Q30
LUT_BITS = 8  # 2^LUT_BITS segments of [0, 1)
INTERP_BITS = U_FRAC - LUT_BITS
ZERO_FROM = 31  # u >= ZERO_FROM gives 0

_NODES = np.arange((1 << LUT_BITS) + 1) / (1 << LUT_BITS)
EXP2_NEG_Q30: np.ndarray = np.round(2.0**-_NODES * (1 << OUT_FRAC)).astype(np.int64)
assert EXP2_NEG_Q30[0] == 1 << OUT_FRAC and EXP2_NEG_Q30[-1] == 1 << (OUT_FRAC - 1)


def exp2_neg_q30(u_q24: np.ndarray | int) -> np.ndarray:
    """2^-u, u in Q24 (0 <= u < 2^32), result Q30 (int64 array), the same integers as ml_exp2_neg_q30()."""
    u = np.asarray(u_q24, dtype=np.int64)
    if np.any(u < 0) or np.any(u >= 1 << 32):
        raise ValueError("exp2_neg_q30: u must be a uint32")
    n = u >> U_FRAC
    frac = u & ((1 << U_FRAC) - 1)
    i = frac >> INTERP_BITS
    r = frac & ((1 << INTERP_BITS) - 1)
    hi = EXP2_NEG_Q30[i]
    y = hi - (((hi - EXP2_NEG_Q30[i + 1]) * r + (1 << (INTERP_BITS - 1))) >> INTERP_BITS)
    ns = np.minimum(n, ZERO_FROM - 1)
    half = (np.int64(1) << ns) >> 1
    return np.where(n >= ZERO_FROM, 0, (y + half) >> ns)


def table_header() -> str:
    lines = [BANNER.format(module="vigil.export.ml_exp_table", source="host/vigil/export/ml_exp_table.py")]
    lines += [
        "#ifndef VIGIL_ML_EXP_TABLE_H",
        "#define VIGIL_ML_EXP_TABLE_H",
        "",
        "#include <stdint.h>",
        "",
        f"#define ML_EXP2_U_FRAC {U_FRAC}u /* the argument of ml_exp2_neg_q30 is Q{U_FRAC} */",
        f"#define ML_EXP2_OUT_FRAC {OUT_FRAC}u /* its result is Q{OUT_FRAC} */",
        f"#define ML_EXP2_LUT_BITS {LUT_BITS}u /* ML_EXP2_NEG_Q30 has 2^ML_EXP2_LUT_BITS segments */",
        f"#define ML_EXP2_LUT_SIZE {len(EXP2_NEG_Q30)}u",
        f"#define ML_EXP2_ZERO_FROM {ZERO_FROM}u /* 2^-u is 0 for u >= ML_EXP2_ZERO_FROM */",
        "",
        "/* round(2^(-i / 2^ML_EXP2_LUT_BITS) * 2^30), i = 0..2^ML_EXP2_LUT_BITS */",
        "extern const uint32_t ML_EXP2_NEG_Q30[ML_EXP2_LUT_SIZE];",
        "",
        "#endif /* VIGIL_ML_EXP_TABLE_H */",
        "",
    ]
    return "\n".join(lines)


def table_source() -> str:
    lines = [BANNER.format(module="vigil.export.ml_exp_table", source="host/vigil/export/ml_exp_table.py")]
    lines += ['#include "ml/ml_exp_table.h"', ""]
    lines += c_array("uint32_t", "ML_EXP2_NEG_Q30", EXP2_NEG_Q30, 8, size="ML_EXP2_LUT_SIZE", suffix="u")
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    ml = repo_root() / "firmware/core/ml"
    return {ml / "ml_exp_table.h": table_header(), ml / "ml_exp_table.c": table_source()}


if __name__ == "__main__":
    sys.exit(write_or_check(generated_files(), sys.argv[1:]))
