/* Fixed-point transcendental functions of gemmlowp (fixedpoint.h), which TFLM's int8 LOGISTIC and
 * SOFTMAX reference kernels use; same operations in the same order, so the results are identical.
 *
 * Notation: a value "Qn" is an int32 with n integer bits and 31 - n fractional bits (gemmlowp's
 * FixedPoint<int32_t, n>). Additions and subtractions of raw values wrap as in gemmlowp (they
 * never overflow on the ranges used here); products use nn_sat_rounding_doubling_high_mul, and
 * the product of a Qa and a Qb is a Q(a+b). */
#ifndef VIGIL_NN_FIXEDPOINT_H
#define VIGIL_NN_FIXEDPOINT_H

#include <stdint.h>

#include "nn/nn_requant.h"

/* Wrapping add/sub (gemmlowp's raw FixedPoint + and -), through uint32 to stay defined. */
static inline int32_t nn_fx_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t nn_fx_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* x * 2^exponent, exponent in [1, 31), saturating (gemmlowp SaturatingRoundingMultiplyByPOT > 0). */
static inline int32_t nn_fx_sat_shift_left(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2 rounded half away from zero (gemmlowp RoundingHalfSum). */
static inline int32_t nn_fx_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a (Q0) in [-1/4, 0): Taylor expansion around -1/8. Result Q0. */
static inline int32_t nn_fx_exp_on_interval_quarter(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    const int32_t x = nn_fx_add(a, (int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = nn_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = nn_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = nn_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = nn_rounding_divide_by_pot(x4, 2);
    const int32_t poly = nn_rounding_divide_by_pot(
        nn_fx_add(nn_sat_rounding_doubling_high_mul(nn_fx_add(x4_over_4, x3), one_third), x2), 1);
    return nn_fx_add(exp_minus_one_eighth,
                     nn_sat_rounding_doubling_high_mul(exp_minus_one_eighth, nn_fx_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q(integer_bits), integer_bits in [1, 5] (TFLM uses 4 and 5);
 * result in Q0 (exp(0) saturates to INT32_MAX, gemmlowp's "one" in Q0). */
static inline int32_t nn_fx_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* exp(-2^k) in Q0 for k = -2 .. 4: the barrel shifter's factors */
    static const int32_t factors[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = nn_fx_sub(a & mask, one_quarter);
    int32_t result = nn_fx_exp_on_interval_quarter(nn_fx_sat_shift_left(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = nn_fx_sub(a_mod_quarter_minus_quarter, a);
    for (int k = -2; k <= 4; k++) {
        if (integer_bits > k && (remainder & ((int32_t)1 << (fractional_bits + k))) != 0) {
            result = nn_sat_rounding_doubling_high_mul(result, factors[k + 2]);
        }
    }
    /* gemmlowp clamps inputs below -32 to 0 only when integer_bits > 5: never here */
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a (Q0) in [0, 1): Newton-Raphson in Q2, three iterations. Result Q0. */
static inline int32_t nn_fx_one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = nn_fx_rounding_half_sum(a, INT32_MAX); /* (a + 1) / 2, Q0 */
    const int32_t c48_17 = 1515870810;                                       /* 48/17 in Q2 */
    const int32_t c_neg32_17 = -1010580540;                                  /* -32/17 in Q2 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = nn_fx_add(c48_17, nn_sat_rounding_doubling_high_mul(half_denominator, c_neg32_17));
    for (int i = 0; i < 3; i++) {
        const int32_t hd_x = nn_sat_rounding_doubling_high_mul(half_denominator, x); /* Q2 */
        const int32_t one_minus = nn_fx_sub(one_q2, hd_x);                          /* Q2 */
        /* Q2 * Q2 = Q4, rescaled to Q2 */
        x = nn_fx_add(x, nn_fx_sat_shift_left(nn_sat_rounding_doubling_high_mul(x, one_minus), 2));
    }
    /* x / 2 (Q2 read as Q1), rescaled to Q0 */
    return nn_fx_sat_shift_left(x, 1);
}

#endif
