/* LOGISTIC, int8: bit-exact with TFLM's reference_integer_ops::Logistic (int8), i.e. gemmlowp's
 * fixed-point logistic on a Q4 input, the Q0 result rescaled to 8 bits. */
#include "nn/nn_fixedpoint.h"
#include "nn/nn_kernels.h"

#define LOGISTIC_INPUT_INTEGER_BITS 4
#define LOGISTIC_OUTPUT_SHIFT (31 - 8) /* Q0 (31 fractional bits) -> 1/256 steps */
#define LOGISTIC_OUTPUT_ZERO_POINT (-128)

/* logistic(a) for a in Q4, result in Q0 (1 = INT32_MAX). */
static int32_t logistic_q4(int32_t a)
{
    if (a == 0) {
        return (int32_t)1 << 30; /* 1/2 */
    }
    /* 1 / (1 + exp(-|a|)) for the positive side; the negative side is 1 minus it */
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t pos = nn_fx_one_over_one_plus_x(nn_fx_exp_on_negative_values(-abs_a, LOGISTIC_INPUT_INTEGER_BITS));
    return a > 0 ? pos : nn_fx_sub(INT32_MAX, pos);
}

void nn_logistic_s8(const nn_logistic_params_t *p, const int8_t *input, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = (int8_t)NN_INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = (int8_t)NN_INT8_MAX;
        } else {
            const int32_t q4 = nn_multiply_by_quantized_multiplier(x, p->input_multiplier, p->input_left_shift);
            int32_t v = nn_rounding_divide_by_pot(logistic_q4(q4), LOGISTIC_OUTPUT_SHIFT);
            v = nn_clamp_i32(v + LOGISTIC_OUTPUT_ZERO_POINT, NN_INT8_MIN, NN_INT8_MAX);
            output[i] = (int8_t)v;
        }
    }
}
