/* CONV_2D, int8, per-channel requantization: bit-exact with TFLM's
 * reference_integer_ops::ConvPerChannel (groups = 1). */
#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_conv2d_s8(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                  int8_t *output)
{
    nn_conv2d_s8_rows(p, input, filter, bias, 0, p->output_h, output);
}

/* Output rows are produced strictly in increasing order and each pixel's channels are written only after
 * its taps were read, so the output may overlap the input as nn_plan.h's NN_OP_FLAG_OUT_OVERLAPS_IN allows. */
void nn_conv2d_s8_rows(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                       uint16_t row_begin, uint16_t row_end, int8_t *output)
{
    const int in_h = p->input_h, in_w = p->input_w, in_c = p->input_c;
    const size_t filter_stride = (size_t)p->filter_h * p->filter_w * (size_t)in_c; /* one output channel */
    for (int oy = row_begin; oy < row_end; oy++) {
        const int y0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->output_w; ox++) {
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < p->output_c; oc++) {
                const int8_t *f = filter + (size_t)oc * filter_stride;
                int32_t acc = 0;
                for (int fy = 0; fy < p->filter_h; fy++) {
                    const int iy = y0 + fy * p->dilation_h;
                    for (int fx = 0; fx < p->filter_w; fx++) {
                        const int ix = x0 + fx * p->dilation_w;
                        /* taps in the padding contribute (zero point + input_offset) * w = 0 */
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int8_t *x = input + ((size_t)iy * in_w + (size_t)ix) * in_c;
                        const int8_t *w = f + ((size_t)fy * p->filter_w + (size_t)fx) * in_c;
                        acc += nn_dot_s8_offset(x, w, in_c, p->input_offset);
                    }
                }
                if (bias != NULL) {
                    acc += bias[oc];
                }
                acc = nn_multiply_by_quantized_multiplier(acc, p->output_multiplier[oc], p->output_shift[oc]);
                acc += p->output_offset;
                acc = nn_clamp_i32(acc, p->activation_min, p->activation_max);
                output[((size_t)(oy - row_begin) * p->output_w + (size_t)ox) * p->output_c + (size_t)oc] = (int8_t)acc;
            }
        }
    }
}
