/* MAX_POOL_2D, int8: bit-exact with TFLM's reference_integer_ops::MaxPool. Only the window's
 * part inside the input counts (padding never wins the max). */
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_max_pool2d_s8(const nn_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int in_h = p->input_h, in_w = p->input_w, ch = p->channels;
    for (int oy = 0; oy < p->output_h; oy++) {
        const int y0 = oy * p->stride_h - p->pad_h;
        const int fy_start = y0 < 0 ? -y0 : 0;
        const int fy_end = (in_h - y0) < p->filter_h ? (in_h - y0) : p->filter_h;
        for (int ox = 0; ox < p->output_w; ox++) {
            const int x0 = ox * p->stride_w - p->pad_w;
            const int fx_start = x0 < 0 ? -x0 : 0;
            const int fx_end = (in_w - x0) < p->filter_w ? (in_w - x0) : p->filter_w;
            for (int c = 0; c < ch; c++) {
                int32_t m = NN_INT8_MIN;
                for (int fy = fy_start; fy < fy_end; fy++) {
                    for (int fx = fx_start; fx < fx_end; fx++) {
                        const int32_t v = input[((size_t)(y0 + fy) * in_w + (size_t)(x0 + fx)) * ch + (size_t)c];
                        m = v > m ? v : m;
                    }
                }
                m = nn_clamp_i32(m, p->activation_min, p->activation_max);
                output[((size_t)oy * p->output_w + (size_t)ox) * ch + (size_t)c] = (int8_t)m;
            }
        }
    }
}
