/* FULLY_CONNECTED, int8: bit-exact with TFLM's reference_integer_ops::FullyConnected (per-tensor)
 * and FullyConnectedPerChannel. Symmetric weights (what the converter emits) go four output channels per
 * pass over the input (nn_dot4_s8_offset); a weight zero point takes the plain loop. */
#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

static int32_t dot_with_filter_offset(const nn_fully_connected_params_t *p, const int8_t *x, const int8_t *w)
{
    int32_t acc = 0;
    for (int d = 0; d < p->input_depth; d++) {
        acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)x[d] + p->input_offset);
    }
    return acc;
}

static int8_t requantize(const nn_fully_connected_params_t *p, int32_t acc, int oc)
{
    const int q = p->per_channel ? oc : 0;
    return nn_requantize_s8(acc, p->output_multiplier[q], p->output_shift[q], p->output_offset, p->activation_min,
                            p->activation_max);
}

void nn_fully_connected_s8(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    const int depth = p->input_depth, oc_n = p->output_c;
    for (int b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        int8_t *out = output + (size_t)b * (size_t)oc_n;
        int oc = 0;
        if (p->filter_offset == 0) {
            for (; oc + 4 <= oc_n; oc += 4) {
                int32_t acc[4] = {0, 0, 0, 0};
                if (bias != NULL) {
                    acc[0] = bias[oc];
                    acc[1] = bias[oc + 1];
                    acc[2] = bias[oc + 2];
                    acc[3] = bias[oc + 3];
                }
                nn_dot4_s8_offset(x, filter + (size_t)oc * (size_t)depth, (size_t)depth, depth, p->input_offset, acc);
                for (int r = 0; r < 4; r++) {
                    out[oc + r] = requantize(p, acc[r], oc + r);
                }
            }
        }
        for (; oc < oc_n; oc++) {
            const int8_t *w = filter + (size_t)oc * (size_t)depth;
            int32_t acc = p->filter_offset == 0 ? nn_dot_s8_offset(x, w, depth, p->input_offset)
                                                : dot_with_filter_offset(p, x, w);
            if (bias != NULL) {
                acc += bias[oc];
            }
            out[oc] = requantize(p, acc, oc);
        }
    }
}
