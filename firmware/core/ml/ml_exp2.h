/* Integer exp for the classical models: 2^-u, the one transcendental the SVM kernel (exp(-gamma d^2))
 * and Platt's logistic need, with log2(e) folded into their constants on the host.
 * Twin: vigil.export.ml_exp_table.exp2_neg_q30 (same integers). */
#ifndef VIGIL_ML_EXP2_H
#define VIGIL_ML_EXP2_H

#include <stdint.h>

#include "ml/ml_exp_table.h"

/* 2^-u for u in Q24 (u = n + f, 0 <= f < 1): 2^-f by linear interpolation in ML_EXP2_NEG_Q30 on the
 * 16 low bits of f, then shifted right by n with rounding (half up). Result Q30 (1.0 = 2^30);
 * 0 for u >= ML_EXP2_ZERO_FROM. Relative error below 1e-6 (of the exact 2^-u of the Q24 argument)
 * while the result is >= 2^20, absolute error below 1 step after that. */
uint32_t ml_exp2_neg_q30(uint32_t u_q24);

#endif /* VIGIL_ML_EXP2_H */
