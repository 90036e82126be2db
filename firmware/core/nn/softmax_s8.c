/* SOFTMAX, int8 in and out: bit-exact with TFLM's reference_ops::Softmax<int8_t, int8_t>
 * (gemmlowp fixed point: exp of the Q5 scaled differences, sum in Q12, reciprocal by
 * Newton-Raphson). */
#include "nn/nn_fixedpoint.h"
#include "nn/nn_kernels.h"

#define SOFTMAX_DIFF_INTEGER_BITS 5
#define SOFTMAX_ACCUM_INTEGER_BITS 12
#define SOFTMAX_OUTPUT_BITS 8
#define SOFTMAX_OUTPUT_ZERO_POINT (-128)

/* Leading zero bits of a nonzero value. */
static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        n++;
    }
    return n;
}

/* exp(beta * input_scale * diff) in Q0, for diff >= diff_min */
static int32_t scaled_exp(const nn_softmax_params_t *p, int32_t diff)
{
    /* TFLM's MultiplyByQuantizedMultiplierGreaterThanOne: an int32 left shift (no overflow for
     * diff >= diff_min), then the high multiply, giving a Q5 value. When beta * scale is so large
     * that TFLM clamps it, the shift is 31 or 32 and diff_min is 0: only diff = 0 gets here (a
     * shift of 32 would be undefined behaviour, so it is not applied to 0). */
    const int32_t shifted = diff == 0 ? 0 : (int32_t)((uint32_t)diff << p->input_left_shift);
    const int32_t q5 = nn_sat_rounding_doubling_high_mul(shifted, p->input_multiplier);
    return nn_fx_exp_on_negative_values(q5, SOFTMAX_DIFF_INTEGER_BITS);
}

void nn_softmax_s8(const nn_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    const int depth = p->depth;
    for (int r = 0; r < p->rows; r++) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        int32_t max = NN_INT8_MIN;
        for (int c = 0; c < depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        int32_t sum_q12 = 0;
        for (int c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            if (diff >= p->diff_min) {
                /* Q0 -> Q12: 12 fewer fractional bits, rounded */
                const int32_t e_q12 = nn_rounding_divide_by_pot(scaled_exp(p, diff), SOFTMAX_ACCUM_INTEGER_BITS);
                sum_q12 = nn_fx_add(sum_q12, e_q12);
            }
        }
        /* 1 / sum: sum = 2^bits_over_unit * (1 + m), m in [0, 1); the row's max contributes
         * exp(0), so sum > 0 */
        const int headroom_plus_one = count_leading_zeros((uint32_t)sum_q12);
        const int bits_over_unit = SOFTMAX_ACCUM_INTEGER_BITS - headroom_plus_one;
        const int32_t m = (int32_t)(((uint32_t)sum_q12 << headroom_plus_one) - 0x80000000u);
        const int32_t scale = nn_fx_one_over_one_plus_x(m);
        const int exponent = bits_over_unit + 31 - SOFTMAX_OUTPUT_BITS;
        for (int c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t v = NN_INT8_MIN;
            if (diff >= p->diff_min) {
                v = nn_rounding_divide_by_pot(nn_sat_rounding_doubling_high_mul(scale, scaled_exp(p, diff)), exponent);
                v = nn_clamp_i32(v + SOFTMAX_OUTPUT_ZERO_POINT, NN_INT8_MIN, NN_INT8_MAX);
            }
            y[c] = (int8_t)v;
        }
    }
}
