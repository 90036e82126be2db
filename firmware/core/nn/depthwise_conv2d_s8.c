/* DEPTHWISE_CONV_2D, int8, per-channel requantization: bit-exact with TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel. */
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_depthwise_conv2d_s8(const nn_depthwise_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output)
{
    nn_depthwise_conv2d_s8_rows(p, input, filter, bias, 0, p->geometry.output_h, output);
}

/* Rows in increasing order, each pixel written after its taps were read: overlap-safe (see conv2d_s8.c). */
void nn_depthwise_conv2d_s8_rows(const nn_depthwise_conv2d_params_t *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, uint16_t row_begin, uint16_t row_end, int8_t *output)
{
    const nn_conv_geometry_t *g = &p->geometry;
    const nn_quant_t *q = &p->quant;
    const nn_per_channel_quant_t *pc = &p->per_channel;
    const int in_h = g->input_h, in_w = g->input_w, in_c = g->input_c;
    const int dm = p->depth_multiplier;
    const int out_c = in_c * dm;
    for (int oy = row_begin; oy < row_end; oy++) {
        const int y0 = oy * g->stride_h - g->pad_h;
        for (int ox = 0; ox < g->output_w; ox++) {
            const int x0 = ox * g->stride_w - g->pad_w;
            for (int ic = 0; ic < in_c; ic++) {
                for (int m = 0; m < dm; m++) {
                    const int oc = ic * dm + m;
                    int32_t acc = 0;
                    for (int fy = 0; fy < g->filter_h; fy++) {
                        const int iy = y0 + fy * g->dilation_h;
                        for (int fx = 0; fx < g->filter_w; fx++) {
                            const int ix = x0 + fx * g->dilation_w;
                            /* taps in the padding contribute nothing (see conv2d_s8.c) */
                            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const int32_t x = input[((size_t)iy * in_w + (size_t)ix) * in_c + (size_t)ic];
                            const int32_t w = filter[((size_t)fy * g->filter_w + (size_t)fx) * out_c + (size_t)oc];
                            acc += w * (x + q->input_offset);
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    output[((size_t)(oy - row_begin) * g->output_w + (size_t)ox) * out_c + (size_t)oc] =
                        nn_requantize_s8(acc, pc->output_multiplier[oc], pc->output_shift[oc], q->output_offset,
                                         q->activation_min, q->activation_max);
                }
            }
        }
    }
}
