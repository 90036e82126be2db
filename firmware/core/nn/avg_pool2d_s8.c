/* AVERAGE_POOL_2D, int8: bit-exact with TFLM's reference_integer_ops::AveragePool. The average is
 * over the window's part inside the input (padding is not counted), rounded half away from zero
 * with truncating integer division, as TFLM does. */
#include "nn/nn_kernels.h"
#include "nn/nn_pool_window.h"
#include "nn/nn_requant.h"

void nn_avg_pool2d_s8(const nn_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int in_h = p->input_h, in_w = p->input_w, ch = p->channels;
    for (int oy = 0; oy < p->output_h; oy++) {
        const nn_window_span_t sy = nn_window_span(oy, p->stride_h, p->pad_h, p->filter_h, in_h);
        const int y0 = sy.origin, fy_start = sy.start, fy_end = sy.end;
        for (int ox = 0; ox < p->output_w; ox++) {
            const nn_window_span_t sx = nn_window_span(ox, p->stride_w, p->pad_w, p->filter_w, in_w);
            const int x0 = sx.origin, fx_start = sx.start, fx_end = sx.end;
            const int32_t count = (int32_t)(fy_end - fy_start) * (int32_t)(fx_end - fx_start);
            for (int c = 0; c < ch; c++) {
                int32_t acc = 0;
                for (int fy = fy_start; fy < fy_end; fy++) {
                    for (int fx = fx_start; fx < fx_end; fx++) {
                        acc += input[((size_t)(y0 + fy) * in_w + (size_t)(x0 + fx)) * ch + (size_t)c];
                    }
                }
                /* An empty window (count 0) cannot occur with TFLite's SAME/VALID output sizes
                 * (TFLM would fail the op); guard the division anyway. */
                if (count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                acc = nn_clamp_i32(acc, p->activation_min, p->activation_max);
                output[((size_t)oy * p->output_w + (size_t)ox) * ch + (size_t)c] = (int8_t)acc;
            }
        }
    }
}
