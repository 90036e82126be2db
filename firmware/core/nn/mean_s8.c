/* MEAN over spatial axes, int8: bit-exact with TFLM's int8 MEAN (reference_ops::QuantizedMeanOrSum,
 * compute_sum = false). */
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_mean_s8(const nn_mean_params_t *p, const int8_t *input, int8_t *output)
{
    const int h = p->input_h, w = p->input_w, ch = p->channels;
    const int out_h = p->reduce_h ? 1 : h;
    const int out_w = p->reduce_w ? 1 : w;
    const int span_h = p->reduce_h ? h : 1;
    const int span_w = p->reduce_w ? w : 1;
    const int32_t count = (int32_t)span_h * (int32_t)span_w;
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            for (int c = 0; c < ch; c++) {
                int32_t sum = 0;
                for (int y = oy; y < oy + span_h; y++) {
                    for (int x = ox; x < ox + span_w; x++) {
                        sum += input[((size_t)y * w + (size_t)x) * ch + (size_t)c];
                    }
                }
                /* TFLM subtracts the zero point from the sum, not from each element */
                sum -= p->input_zero_point * count;
                int32_t v = nn_multiply_by_quantized_multiplier(sum, p->output_multiplier, p->output_shift);
                v = nn_clamp_i32(v + p->output_offset, NN_INT8_MIN, NN_INT8_MAX);
                output[((size_t)oy * out_w + (size_t)ox) * ch + (size_t)c] = (int8_t)v;
            }
        }
    }
}
