/* Fixed-point requantization helpers, bit-exact with TensorFlow Lite Micro's reference kernels.
 *
 * TFLM's tensorflow/lite/kernels/internal/common.h has two variants of
 * MultiplyByQuantizedMultiplier, chosen at build time by TFLITE_SINGLE_ROUNDING. The tflite-micro
 * Python package (the project's oracle) is built without it, i.e. with the "double rounding"
 * (gemmlowp) variant: a saturating rounding doubling high multiply (round half away from zero),
 * then a rounding right shift (round half away from zero). tests/test_nn_kernels.py checks this
 * against the interpreter (the single-rounding variant disagrees on a share of outputs).
 *
 * A quantized multiplier is a Q31 significand m in [2^30, 2^31) (or 0) and a power-of-two
 * exponent `shift` in [-31, 30]: real multiplier = m * 2^(shift - 31).
 * All arithmetic is integer; int64 products are exact. */
#ifndef VIGIL_NN_REQUANT_H
#define VIGIL_NN_REQUANT_H

#include <stdint.h>

/* round(a * b / 2^31), ties away from zero, saturated: the only overflow case is
 * INT32_MIN * INT32_MIN, which would give 2^31. */
static inline int32_t nn_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    /* gemmlowp adds a nudge (2^30, or 1 - 2^30 when a*b < 0) and divides by 2^31 truncating toward zero. For
     * a*b < 0 that is ceil((a*b + 1 - 2^30) / 2^31) = floor((a*b + 1 - 2^30 + 2^31 - 1) / 2^31)
     * = floor((a*b + 2^30) / 2^31), the same expression as for a*b >= 0: one add and an arithmetic shift
     * instead of a sign test and a 64-bit division. */
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31], mask = 2^exponent - 1 (kernels
 * that reuse one exponent keep the mask with it, nn_requant_channel_t).
 * Relies on arithmetic right shift of negative values (gcc and clang guarantee it). */
static inline int32_t nn_rounding_divide_by_pot_masked(int32_t x, int exponent, int32_t mask)
{
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
}

/* 2^exponent - 1 for exponent in [0, 31], in 32-bit arithmetic (a 64-bit shift costs several instructions on
 * the Cortex-M4): 1u << 31 is defined, and minus 1 gives INT32_MAX. */
static inline int32_t nn_pot_mask(int exponent)
{
    return (int32_t)((1u << exponent) - 1u);
}

static inline int32_t nn_rounding_divide_by_pot(int32_t x, int exponent)
{
    return nn_rounding_divide_by_pot_masked(x, exponent, nn_pot_mask(exponent));
}

/* Clamp an int32 to [lo, hi] (the fused activation range, itself within int8). */
static inline int32_t nn_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* x * multiplier * 2^(shift - 31), TFLM's MultiplyByQuantizedMultiplier (double rounding).
 * A positive shift is applied first as a left shift; TFLM does it in int32 arithmetic, and so do
 * we (through uint32 to keep it defined behaviour with the same wrap-around result). */
static inline int32_t nn_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    const int right_shift = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return nn_rounding_divide_by_pot(nn_sat_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

/* TFLM's MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0 (used by ADD). */
static inline int32_t nn_multiply_by_quantized_multiplier_le1(int32_t x, int32_t multiplier, int shift)
{
    return nn_rounding_divide_by_pot(nn_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

/* One output channel's requantization, TFLM's MultiplyByQuantizedMultiplier then the output zero point and
 * the fused activation's clamp, with what depends only on the channel (shifts, rounding mask and threshold)
 * worked out once for the pixels that share it. The multiplier is QuantizeMultiplier's, in [0, 2^31): never
 * INT32_MIN, so the one saturating case of the doubling high multiply (INT32_MIN * INT32_MIN) cannot occur and
 * nn_requant_apply does not test for it (nn_sat_rounding_doubling_high_mul keeps the test for other callers). */
typedef struct nn_requant_channel {
    int32_t multiplier;
    int32_t left_shift;
    int32_t right_shift;
    int32_t mask; /* 2^right_shift - 1 */
    int32_t half; /* mask >> 1: the rounding threshold of a non-negative value */
    int32_t output_offset;
    int32_t lo, hi;
} nn_requant_channel_t;

static inline nn_requant_channel_t nn_requant_channel(int32_t multiplier, int shift, int32_t output_offset,
                                                      int32_t lo, int32_t hi)
{
    nn_requant_channel_t c;
    c.multiplier = multiplier;
    c.left_shift = shift > 0 ? shift : 0;
    c.right_shift = shift > 0 ? 0 : -shift;
    c.mask = nn_pot_mask(c.right_shift);
    c.half = c.mask >> 1;
    c.output_offset = output_offset;
    c.lo = lo;
    c.hi = hi;
    return c;
}

/* round(acc * multiplier / 2^31) as TFLM's doubling high multiply, for a multiplier in [0, 2^31) (no saturation
 * case): one multiply-accumulate with the 2^30 nudge and a 64-bit shift. */
static inline int32_t nn_high_mul_nudged(int32_t acc, int32_t multiplier)
{
    return (int32_t)(((int64_t)acc * multiplier + ((int64_t)1 << 30)) >> 31);
}

static inline int8_t nn_requant_apply(const nn_requant_channel_t *c, int32_t acc)
{
    /* TFLM shifts left first, in int32 (wrapping, as here through uint32); with a left shift the right shift
     * is 0, mask and half are 0, and the rounding below adds nothing: one branch-free path for both */
    const int32_t x = nn_high_mul_nudged((int32_t)((uint32_t)acc << c->left_shift), c->multiplier);
    /* nn_rounding_divide_by_pot_masked with the threshold's constant part precomputed (x >> 31 is -1 for x < 0) */
    const int32_t v = (x >> c->right_shift) + ((x & c->mask) > c->half - (x >> 31) ? 1 : 0);
    return (int8_t)nn_clamp_i32(v + c->output_offset, c->lo, c->hi);
}

/* nn_requantize_s8 for a shift <= 0 (right_shift = -shift in [0, 31]), the usual case: no left shift to apply,
 * the mask worked out inline. For kernels whose ops never shift left (the interleaved FULLY_CONNECTED) and
 * channels known to shift right. */
static inline int8_t nn_requantize_right_s8(int32_t acc, int32_t multiplier, int right_shift, int32_t output_offset,
                                            int32_t lo, int32_t hi)
{
    const int32_t x = nn_high_mul_nudged(acc, multiplier);
    const int32_t mask = nn_pot_mask(right_shift);
    const int32_t v = (x >> right_shift) + ((x & mask) > (mask >> 1) - (x >> 31) ? 1 : 0);
    return (int8_t)nn_clamp_i32(v + output_offset, lo, hi);
}

/* The whole requantization of one convolution or dense accumulator. */
static inline int8_t nn_requantize_s8(int32_t acc, int32_t multiplier, int shift, int32_t output_offset, int32_t lo,
                                      int32_t hi)
{
    const nn_requant_channel_t c = nn_requant_channel(multiplier, shift, output_offset, lo, hi);
    return nn_requant_apply(&c, acc);
}

#endif
