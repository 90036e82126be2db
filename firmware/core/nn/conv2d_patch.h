/* The CONV_2D inner steps shared by conv2d_s8.c and conv2d_maxpool_s8.c: gathering one output pixel's receptive
 * field (the int8 taps in filter order (filter_h, filter_w, input_c); taps in the padding take the input zero
 * point, so that with the input offset added they contribute 0, as TFLM skips them), widening two pixels'
 * fields into a patch pair (nn_dot.h), and the accumulators of two output channels for that pair. */
#ifndef VIGIL_NN_CONV2D_PATCH_H
#define VIGIL_NN_CONV2D_PATCH_H

#include <stdint.h>
#include <string.h>

#include "nn/nn_dot.h"
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

/* Where the parts of a CONV_2D scratch (NN_CONV2D_SCRATCH_BYTES, nn_kernels.h) lie. */
typedef struct nn_conv2d_scratch {
    uint32_t *patch;  /* NN_PATCH_PAIR_WORDS(taps) words */
    int8_t *gather_a; /* NN_CONV2D_GATHER_BYTES(taps) each */
    int8_t *gather_b;
    void *end;        /* what a kernel may use after them (conv + max pool: its running maxima) */
} nn_conv2d_scratch_t;

static inline nn_conv2d_scratch_t nn_conv2d_scratch(uint32_t *scratch, int taps)
{
    nn_conv2d_scratch_t s;
    s.patch = scratch;
    s.gather_a = (int8_t *)(void *)(scratch + NN_PATCH_PAIR_WORDS(taps));
    s.gather_b = s.gather_a + NN_CONV2D_GATHER_BYTES(taps);
    s.end = s.gather_b + NN_CONV2D_GATHER_BYTES(taps);
    return s;
}

/* The patch pair of output pixels a = (ya, xa) and b = (yb, xb) into s->patch. */
static inline void nn_conv2d_patch_pair(const nn_conv2d_params_t *p, const int8_t *input, int taps,
                                        const nn_conv2d_scratch_t *s, int ya, int xa, int yb, int xb)
{
    nn_conv2d_gather(p, input, ya, xa, s->gather_a);
    nn_conv2d_gather(p, input, yb, xb, s->gather_b);
    nn_patch_pair_q15(s->gather_a, s->gather_b, s->patch, taps, p->input_offset);
}

/* The accumulators (bias included) of output channels oc and oc + 1 for the patch pair:
 * {a.oc, b.oc, a.oc+1, b.oc+1}. Past the last channel, oc + 1 repeats oc (callers store only real ones). */
static inline void nn_conv2d_channel_pair(const nn_conv2d_params_t *p, const int8_t *filter, const int32_t *bias,
                                          const uint32_t *patch, int taps, int oc, int32_t acc[4])
{
    const int second = oc + 1 < p->output_c ? oc + 1 : oc;
    const int32_t b0 = bias != NULL ? bias[oc] : 0;
    const int32_t b1 = bias != NULL ? bias[second] : 0;
    acc[0] = b0;
    acc[1] = b0;
    acc[2] = b1;
    acc[3] = b1;
    nn_patch_pair_dot_2x2(patch, filter + (size_t)oc * (size_t)taps, filter + (size_t)second * (size_t)taps, taps,
                          acc);
}

#endif
