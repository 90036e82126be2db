/* FULLY_CONNECTED, int8: bit-exact with TFLM's reference_integer_ops::FullyConnected (per-tensor)
 * and FullyConnectedPerChannel. */
#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_fully_connected_s8(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    const int depth = p->input_depth;
    for (int b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * depth;
        for (int oc = 0; oc < p->output_c; oc++) {
            const int8_t *w = filter + (size_t)oc * depth;
            int32_t acc;
            if (p->filter_offset == 0) {
                /* symmetric weights (what the converter emits): the DSP-friendly dot product */
                acc = nn_dot_s8_offset(x, w, depth, p->input_offset);
            } else {
                acc = 0;
                for (int d = 0; d < depth; d++) {
                    acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)x[d] + p->input_offset);
                }
            }
            if (bias != NULL) {
                acc += bias[oc];
            }
            const int q = p->per_channel ? oc : 0;
            acc = nn_multiply_by_quantized_multiplier(acc, p->output_multiplier[q], p->output_shift[q]);
            acc += p->output_offset;
            acc = nn_clamp_i32(acc, p->activation_min, p->activation_max);
            output[(size_t)b * p->output_c + (size_t)oc] = (int8_t)acc;
        }
    }
}
