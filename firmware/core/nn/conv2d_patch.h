/* Gathering one output pixel's receptive field for CONV_2D (conv2d_s8.c, conv2d_maxpool_s8.c): the int8 taps in
 * filter order (filter_h, filter_w, input_c); taps in the padding take the input zero point, so that with the
 * input offset added they contribute 0, as TFLM skips them. */
#ifndef VIGIL_NN_CONV2D_PATCH_H
#define VIGIL_NN_CONV2D_PATCH_H

#include <stdint.h>
#include <string.h>

#include "nn/nn_kernels.h"

/* Runs are short (a few taps): word copies and at most three byte copies, written out so the compiler keeps
 * them inline instead of calling memcpy for each. */
static inline void nn_copy_taps(int8_t *dst, const int8_t *src, size_t n)
{
    for (; n >= 4u; n -= 4u, dst += 4, src += 4) {
        uint32_t w;
        memcpy(&w, src, sizeof w);
        memcpy(dst, &w, sizeof w);
    }
    if (n >= 2u) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst += 2;
        src += 2;
        n -= 2u;
    }
    if (n == 1u) {
        dst[0] = src[0];
    }
}

static inline void nn_fill_taps(int8_t *dst, int8_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = v;
    }
}

static inline void nn_conv2d_gather(const nn_conv2d_params_t *p, const int8_t *input, int oy, int ox, int8_t *dst)
{
    const int in_h = p->input_h, in_w = p->input_w, fw = p->filter_w;
    const size_t in_c = p->input_c;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const size_t row = (size_t)fw * in_c;
    const int y0 = oy * p->stride_h - p->pad_h;
    const int x0 = ox * p->stride_w - p->pad_w;
    if (p->dilation_w == 1 && y0 >= 0 && x0 >= 0 && x0 + fw <= in_w &&
        y0 + (p->filter_h - 1) * p->dilation_h < in_h) {
        /* inside the input (most pixels): one run per filter row */
        const size_t in_row = (size_t)in_w * in_c * p->dilation_h;
        const int8_t *src = input + ((size_t)y0 * (size_t)in_w + (size_t)x0) * in_c;
        for (int fy = 0; fy < p->filter_h; fy++, dst += row, src += in_row) {
            nn_copy_taps(dst, src, row);
        }
        return;
    }
    for (int fy = 0; fy < p->filter_h; fy++, dst += row) {
        const int iy = y0 + fy * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            nn_fill_taps(dst, zero_point, row);
            continue;
        }
        const int8_t *src = input + (size_t)iy * (size_t)in_w * in_c;
        if (p->dilation_w == 1) {
            /* taps [lo, hi) lie inside the row: one contiguous run */
            const int lo = x0 < 0 ? -x0 : 0;
            int hi = in_w - x0 < fw ? in_w - x0 : fw;
            hi = hi < lo ? lo : hi;
            nn_copy_taps(dst + (size_t)lo * in_c, src + (size_t)(x0 + lo) * in_c, (size_t)(hi - lo) * in_c);
            if (lo > 0 || hi < fw) { /* only at the borders */
                nn_fill_taps(dst, zero_point, (size_t)lo * in_c);
                nn_fill_taps(dst + (size_t)hi * in_c, zero_point, (size_t)(fw - hi) * in_c);
            }
            continue;
        }
        for (int fx = 0; fx < fw; fx++) {
            const int ix = x0 + fx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                nn_fill_taps(dst + (size_t)fx * in_c, zero_point, in_c);
            } else {
                nn_copy_taps(dst + (size_t)fx * in_c, src + (size_t)ix * in_c, in_c);
            }
        }
    }
}

#endif
