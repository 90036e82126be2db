/* The CONV_2D inner steps shared by conv2d_s8.c and conv2d_maxpool_s8.c: gathering one output pixel's receptive
 * field (the int8 taps in filter order (filter_h, filter_w, input_c); taps in the padding take the input zero
 * point, so that with the input offset added they contribute 0, as TFLM skips them), widening two pixels'
 * fields into a patch pair (nn_dot.h), and the accumulators of two output channels for that pair.
 * The hot helpers read the parameters as p->geometry.x, not through a pointer to the part: with such pointers
 * gcc -O2 schedules the loops differently (tried: 1,440 more instructions per seed-CNN inference). */
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
    const nn_conv_geometry_t *g = &p->geometry;
    const int in_h = g->input_h, in_w = g->input_w, fw = g->filter_w;
    const size_t in_c = g->input_c;
    const int8_t zero_point = (int8_t)(-p->quant.input_offset);
    const size_t row = (size_t)fw * in_c;
    const int y0 = oy * g->stride_h - g->pad_h;
    const int x0 = ox * g->stride_w - g->pad_w;
    if (g->dilation_w == 1 && y0 >= 0 && x0 >= 0 && x0 + fw <= in_w &&
        y0 + (g->filter_h - 1) * g->dilation_h < in_h) {
        /* inside the input (most pixels): one run per filter row */
        const size_t in_row = (size_t)in_w * in_c * g->dilation_h;
        const int8_t *src = input + ((size_t)y0 * (size_t)in_w + (size_t)x0) * in_c;
        for (int fy = 0; fy < g->filter_h; fy++, dst += row, src += in_row) {
            nn_copy_taps(dst, src, row);
        }
        return;
    }
    for (int fy = 0; fy < g->filter_h; fy++, dst += row) {
        const int iy = y0 + fy * g->dilation_h;
        if (iy < 0 || iy >= in_h) {
            nn_fill_taps(dst, zero_point, row);
            continue;
        }
        const int8_t *src = input + (size_t)iy * (size_t)in_w * in_c;
        if (g->dilation_w == 1) {
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
            const int ix = x0 + fx * g->dilation_w;
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

/* The receptive field of output pixel (y, x) lies inside the input, one contiguous run per filter row
 * (dilation_w 1). */
static inline int nn_conv2d_pixel_inside(const nn_conv2d_params_t *p, int y, int x)
{
    const int y0 = y * p->geometry.stride_h - p->geometry.pad_h, x0 = x * p->geometry.stride_w - p->geometry.pad_w;
    return p->geometry.dilation_w == 1 && y0 >= 0 && x0 >= 0 && x0 + p->geometry.filter_w <= p->geometry.input_w &&
           y0 + (p->geometry.filter_h - 1) * p->geometry.dilation_h < p->geometry.input_h;
}

/* The patch pair of output pixels a = (ya, xa) and b = (yb, xb) into s->patch. */
static inline void nn_conv2d_patch_pair(const nn_conv2d_params_t *p, const int8_t *input, int taps,
                                        const nn_conv2d_scratch_t *s, int ya, int xa, int yb, int xb)
{
    const size_t row = (size_t)p->geometry.filter_w * p->geometry.input_c;
    if (row % 4u == 0u && nn_conv2d_pixel_inside(p, ya, xa) && nn_conv2d_pixel_inside(p, yb, xb)) {
        /* both fields inside and each filter row a whole number of four-tap groups: widen straight from the
         * input rows, the same words as from the gathers (groups never straddle two filter rows) */
        const size_t in_row = (size_t)p->geometry.input_w * p->geometry.input_c * p->geometry.dilation_h;
        const int8_t *ra = input + ((size_t)(ya * p->geometry.stride_h - p->geometry.pad_h) * p->geometry.input_w +
                                    (size_t)(xa * p->geometry.stride_w - p->geometry.pad_w)) * p->geometry.input_c;
        const int8_t *rb = input + ((size_t)(yb * p->geometry.stride_h - p->geometry.pad_h) * p->geometry.input_w +
                                    (size_t)(xb * p->geometry.stride_w - p->geometry.pad_w)) * p->geometry.input_c;
        uint32_t *dst = s->patch;
        for (int fy = 0; fy < p->geometry.filter_h; fy++, ra += in_row, rb += in_row, dst += NN_PATCH_PAIR_WORDS(row)) {
            nn_patch_pair_q15(ra, rb, dst, (int)row, p->quant.input_offset);
        }
        return;
    }
    nn_conv2d_gather(p, input, ya, xa, s->gather_a);
    nn_conv2d_gather(p, input, yb, xb, s->gather_b);
    nn_patch_pair_q15(s->gather_a, s->gather_b, s->patch, taps, p->quant.input_offset);
}

/* The accumulators (bias included) of output channels oc and oc + 1 for the patch pair:
 * {a.oc, b.oc, a.oc+1, b.oc+1}. Past the last channel, oc + 1 repeats oc (callers store only real ones). */
static inline void nn_conv2d_channel_pair(const nn_conv2d_params_t *p, const int8_t *filter, const int32_t *bias,
                                          const uint32_t *patch, int taps, int oc, int32_t acc[4])
{
    const int second = oc + 1 < p->geometry.output_c ? oc + 1 : oc;
    const int32_t b0 = bias != NULL ? bias[oc] : 0;
    const int32_t b1 = bias != NULL ? bias[second] : 0;
    acc[0] = b0;
    acc[1] = b0;
    acc[2] = b1;
    acc[3] = b1;
    nn_patch_pair_dot_2x2(patch, filter + (size_t)oc * (size_t)taps, filter + (size_t)second * (size_t)taps, taps,
                          acc);
}


/* 3x3 filters over one input channel (a spectrogram's first layer), stride_w 1, no dilation: the generic
 * path spends more on gathering and widening 9 taps than on the 9 MACs. Two horizontally adjacent output
 * pixels a = (y, x) and b = (y, x + 1) read, in each filter row, the four inputs x0..x3 of one 32-bit load;
 * widened with the offset as SXTB16 gives them, q02 = {x0, x2} and q13 = {x1, x3}, and with a filter row
 * {w0, w1, w2}:
 *     a = q02 . {w0, w2} + q13 . {w1, 0}        b = q02 . {0, w1} + q13 . {w0, w2}
 * four SMLADs per row for the pair, the input words shared by every output channel. Only pairs whose
 * receptive field lies inside the input take this path (no padding taps); the others are gathered. */
#define NN_CONV3X3_ROWS 3

typedef struct nn_conv3x3_c1_pair {
    uint32_t q[NN_CONV3X3_ROWS][2]; /* per filter row {q02, q13}, adjacent for one LDRD */
} nn_conv3x3_c1_pair_t;

static inline int nn_conv3x3_c1_applies(const nn_conv2d_params_t *p)
{
    return p->geometry.input_c == 1u && p->geometry.filter_h == NN_CONV3X3_ROWS && p->geometry.filter_w == 3u &&
           p->geometry.dilation_h == 1u && p->geometry.dilation_w == 1u && p->geometry.stride_w == 1u;
}

/* Output pixels (y, x) and (y, x + 1) read only inputs inside the tensor (the four columns of each row too). */
static inline int nn_conv3x3_c1_pair_inside(const nn_conv2d_params_t *p, int y, int x)
{
    const int y0 = y * p->geometry.stride_h - p->geometry.pad_h, x0 = x - p->geometry.pad_w;
    return y0 >= 0 && x0 >= 0 && x0 + 4 <= (int)p->geometry.input_w && y0 + NN_CONV3X3_ROWS <= (int)p->geometry.input_h;
}

static inline void nn_conv3x3_c1_widen_row(nn_conv3x3_c1_pair_t *q, int r, const int8_t *src, int32_t offset)
{
#if NN_DOT_FOUR_LANES
    const uint32_t off2 = ((uint32_t)offset & 0xFFFFu) * 0x00010001u;
    uint32_t v;
    memcpy(&v, src, sizeof v);
    q->q[r][0] = nn_sadd16(nn_sxtb16(v), off2);
    q->q[r][1] = nn_sadd16(nn_sxtb16_ror8(v), off2);
#else
    q->q[r][0] = nn_pack_q15(src[0] + offset, src[2] + offset);
    q->q[r][1] = nn_pack_q15(src[1] + offset, src[3] + offset);
#endif
}

static inline void nn_conv3x3_c1_widen(const nn_conv2d_params_t *p, const int8_t *input, int y, int x,
                                       nn_conv3x3_c1_pair_t *q)
{
    const size_t w = p->geometry.input_w;
    const int8_t *src =
        input + (size_t)(y * p->geometry.stride_h - p->geometry.pad_h) * w + (size_t)(x - p->geometry.pad_w);
    nn_conv3x3_c1_widen_row(q, 0, src, p->quant.input_offset);
    nn_conv3x3_c1_widen_row(q, 1, src + w, p->quant.input_offset);
    nn_conv3x3_c1_widen_row(q, 2, src + 2 * w, p->quant.input_offset);
}

/* One channel's 3x3 weights as the SMLADs above take them, per filter row: {w0, w2}, {w1, 0} and {0, w1}
 * (the portable variant keeps the plain taps). */
typedef struct nn_conv3x3_c1_weights {
#if NN_DOT_FOUR_LANES
    uint32_t w02[NN_CONV3X3_ROWS], w1_lo[NN_CONV3X3_ROWS], w1_hi[NN_CONV3X3_ROWS];
#else
    int32_t w[NN_CONV3X3_ROWS][3];
#endif
} nn_conv3x3_c1_weights_t;

#if NN_DOT_FOUR_LANES
/* Filter row r of one channel's weights w (9 int8) as {w0, w2}, {w1, 0}, {0, w1}. Rows 0 and 1: w0 w1 w2 and
 * the next row's first tap in one load; the last row ends the channel's weights (maybe the array), so it is
 * loaded from one byte before it instead. */
static inline void nn_conv3x3_c1_weight_words(const int8_t *w, int r, uint32_t *w02, uint32_t *w1_lo,
                                              uint32_t *w1_hi)
{
    uint32_t v;
    if (r + 1 < NN_CONV3X3_ROWS) {
        memcpy(&v, w + 3 * r, sizeof v);
        *w02 = nn_sxtb16(v);
        const uint32_t w13 = nn_sxtb16_ror8(v);
        *w1_lo = w13 & 0xFFFFu;
        *w1_hi = w13 << 16;
    } else {
        memcpy(&v, w + 3 * r - 1, sizeof v); /* the previous tap, w0 w1 w2 */
        *w02 = nn_sxtb16_ror8(v);
        const uint32_t prev_w1 = nn_sxtb16(v);
        *w1_lo = prev_w1 >> 16;
        *w1_hi = prev_w1 & 0xFFFF0000u;
    }
}
#endif

static inline nn_conv3x3_c1_weights_t nn_conv3x3_c1_weights(const int8_t *w)
{
    nn_conv3x3_c1_weights_t k;
#if NN_DOT_FOUR_LANES
    /* rows written out: gcc -O2 keeps a 3-trip loop rolled, with the words on the stack */
    nn_conv3x3_c1_weight_words(w, 0, &k.w02[0], &k.w1_lo[0], &k.w1_hi[0]);
    nn_conv3x3_c1_weight_words(w, 1, &k.w02[1], &k.w1_lo[1], &k.w1_hi[1]);
    nn_conv3x3_c1_weight_words(w, 2, &k.w02[2], &k.w1_lo[2], &k.w1_hi[2]);
#else
    for (int r = 0; r < NN_CONV3X3_ROWS; r++) {
        for (int c = 0; c < 3; c++) {
            k.w[r][c] = w[3 * r + c];
        }
    }
#endif
    return k;
}

#if NN_DOT_FOUR_LANES
static inline void nn_conv3x3_c1_row_dot(const nn_conv3x3_c1_pair_t *q, const nn_conv3x3_c1_weights_t *k, int r,
                                         int32_t *a, int32_t *b)
{
    uint32_t q02, q13;
    nn_reload_word_pair(q->q[r], &q02, &q13); /* from memory each time: see nn_reload_word_pair */
    *a = nn_smlad(q13, k->w1_lo[r], nn_smlad(q02, k->w02[r], *a));
    *b = nn_smlad(q13, k->w02[r], nn_smlad(q02, k->w1_hi[r], *b));
}
#endif

/* acc[0] += a . w, acc[1] += b . w for the pair q and one channel's weights k. */
static inline void nn_conv3x3_c1_dot(const nn_conv3x3_c1_pair_t *q, const nn_conv3x3_c1_weights_t *k, int32_t acc[2])
{
    int32_t a = acc[0], b = acc[1];
#if NN_DOT_FOUR_LANES
    nn_conv3x3_c1_row_dot(q, k, 0, &a, &b);
    nn_conv3x3_c1_row_dot(q, k, 1, &a, &b);
    nn_conv3x3_c1_row_dot(q, k, 2, &a, &b);
#else
    for (int r = 0; r < NN_CONV3X3_ROWS; r++) {
        const int32_t x0 = nn_lo_q15(q->q[r][0]), x2 = nn_hi_q15(q->q[r][0]);
        const int32_t x1 = nn_lo_q15(q->q[r][1]), x3 = nn_hi_q15(q->q[r][1]);
        a += k->w[r][0] * x0 + k->w[r][1] * x1 + k->w[r][2] * x2;
        b += k->w[r][0] * x1 + k->w[r][1] * x2 + k->w[r][2] * x3;
    }
#endif
    acc[0] = a;
    acc[1] = b;
}

static inline void nn_conv3x3_c1_channel(const nn_conv3x3_c1_pair_t *q, const int8_t *w, int32_t acc[2])
{
    const nn_conv3x3_c1_weights_t k = nn_conv3x3_c1_weights(w);
    nn_conv3x3_c1_dot(q, &k, acc);
}

/* Two pairs (top: acc[0], acc[1]; bottom: acc[2], acc[3]) against one channel's weights w (9 int8): each filter
 * row's weight words unpacked just before both pairs use them and the pairs' words reloaded from memory, so few
 * values are live at once (a 2x2 pool window of outputs: nn_conv2d_maxpool_s8). */
#if NN_DOT_FOUR_LANES
static inline void nn_conv3x3_c1_quad_row(const nn_conv3x3_c1_pair_t *top, const nn_conv3x3_c1_pair_t *bottom,
                                          const int8_t *w, int r, int32_t *a0, int32_t *b0, int32_t *a1, int32_t *b1)
{
    uint32_t w02, w1_lo, w1_hi, q02, q13;
    nn_conv3x3_c1_weight_words(w, r, &w02, &w1_lo, &w1_hi);
    nn_reload_word_pair(top->q[r], &q02, &q13);
    *a0 = nn_smlad(q13, w1_lo, nn_smlad(q02, w02, *a0));
    *b0 = nn_smlad(q13, w02, nn_smlad(q02, w1_hi, *b0));
    nn_reload_word_pair(bottom->q[r], &q02, &q13);
    *a1 = nn_smlad(q13, w1_lo, nn_smlad(q02, w02, *a1));
    *b1 = nn_smlad(q13, w02, nn_smlad(q02, w1_hi, *b1));
}
#endif

static inline void nn_conv3x3_c1_dot_quad(const nn_conv3x3_c1_pair_t *top, const nn_conv3x3_c1_pair_t *bottom,
                                          const int8_t *w, int32_t acc[4])
{
#if NN_DOT_FOUR_LANES
    int32_t a0 = acc[0], b0 = acc[1], a1 = acc[2], b1 = acc[3];
    nn_conv3x3_c1_quad_row(top, bottom, w, 0, &a0, &b0, &a1, &b1);
    nn_conv3x3_c1_quad_row(top, bottom, w, 1, &a0, &b0, &a1, &b1);
    nn_conv3x3_c1_quad_row(top, bottom, w, 2, &a0, &b0, &a1, &b1);
    acc[0] = a0;
    acc[1] = b0;
    acc[2] = a1;
    acc[3] = b1;
#else
    const nn_conv3x3_c1_weights_t k = nn_conv3x3_c1_weights(w);
    nn_conv3x3_c1_dot(top, &k, acc);
    nn_conv3x3_c1_dot(bottom, &k, acc + 2);
#endif
}

/* nn_conv2d_channel_pair for a pair widened by nn_conv3x3_c1_widen: {a.oc, b.oc, a.oc+1, b.oc+1}. */
static inline void nn_conv3x3_c1_channel_pair(const nn_conv2d_params_t *p, const int8_t *filter,
                                              const int32_t *bias, const nn_conv3x3_c1_pair_t *q, int oc,
                                              int32_t acc[4])
{
    const int second = oc + 1 < p->geometry.output_c ? oc + 1 : oc;
    acc[0] = acc[1] = bias != NULL ? bias[oc] : 0;
    acc[2] = acc[3] = bias != NULL ? bias[second] : 0;
    nn_conv3x3_c1_channel(q, filter + (size_t)oc * 9u, acc);
    nn_conv3x3_c1_channel(q, filter + (size_t)second * 9u, acc + 2);
}

#endif
