#include "ml/ml_exp2.h"

#define ML_EXP2_INTERP_BITS (ML_EXP2_U_FRAC - ML_EXP2_LUT_BITS)

uint32_t ml_exp2_neg_q30(uint32_t u_q24)
{
    const uint32_t n = u_q24 >> ML_EXP2_U_FRAC;
    if (n >= ML_EXP2_ZERO_FROM) {
        return 0u;
    }
    const uint32_t frac = u_q24 & ((1u << ML_EXP2_U_FRAC) - 1u);
    const uint32_t i = frac >> ML_EXP2_INTERP_BITS;
    const uint32_t r = frac & ((1u << ML_EXP2_INTERP_BITS) - 1u);
    const uint32_t hi = ML_EXP2_NEG_Q30[i];
    const uint64_t step = (uint64_t)(hi - ML_EXP2_NEG_Q30[i + 1u]) * r + (1u << (ML_EXP2_INTERP_BITS - 1u));
    const uint32_t y = hi - (uint32_t)(step >> ML_EXP2_INTERP_BITS); /* 2^-frac, Q30, <= 2^30 */
    return (y + ((1u << n) >> 1)) >> n;
}
