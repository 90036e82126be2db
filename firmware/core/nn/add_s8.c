/* ADD, int8: bit-exact with TFLM's reference_integer_ops::Add (same shapes, AddElementwise) and
 * BroadcastAdd4DSlow (broadcasting); both apply the same per-element arithmetic (AddFunc). */
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

static inline int8_t add_one(const nn_add_params_t *p, int8_t x1, int8_t x2)
{
    /* |x + offset| <= 255 and left_shift = 20: the shifted value fits in int32 */
    const int32_t a = ((int32_t)x1 + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t b = ((int32_t)x2 + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t sa = nn_multiply_by_quantized_multiplier_le1(a, p->input1_multiplier, p->input1_shift);
    const int32_t sb = nn_multiply_by_quantized_multiplier_le1(b, p->input2_multiplier, p->input2_shift);
    int32_t out = nn_multiply_by_quantized_multiplier_le1(sa + sb, p->output_multiplier, p->output_shift);
    out += p->output_offset;
    return (int8_t)nn_clamp_i32(out, p->activation_min, p->activation_max);
}

void nn_add_s8(const nn_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    for (uint32_t i = 0; i < p->size; i++) {
        output[i] = add_one(p, input1[i], input2[i]);
    }
}

void nn_add_broadcast_s8(const nn_add_params_t *p, const nn_broadcast4d_t *b, const int8_t *input1,
                         const int8_t *input2, int8_t *output)
{
    size_t o = 0;
    for (uint32_t n = 0; n < b->out_dims[0]; n++) {
        for (uint32_t y = 0; y < b->out_dims[1]; y++) {
            for (uint32_t x = 0; x < b->out_dims[2]; x++) {
                const size_t i1 = n * b->in1_strides[0] + y * b->in1_strides[1] + x * b->in1_strides[2];
                const size_t i2 = n * b->in2_strides[0] + y * b->in2_strides[1] + x * b->in2_strides[2];
                for (uint32_t c = 0; c < b->out_dims[3]; c++) {
                    output[o++] = add_one(p, input1[i1 + c * b->in1_strides[3]], input2[i2 + c * b->in2_strides[3]]);
                }
            }
        }
    }
}
