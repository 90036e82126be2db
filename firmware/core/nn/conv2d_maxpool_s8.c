/* CONV_2D followed by MAX_POOL_2D whose windows do not overlap (pool stride >= window), one pooled output at a
 * time: the convolution's output never exists, not even a strip of it. Same numbers as the two TFLM reference
 * kernels one after the other.
 *
 * Requantization (multiplier >= 0, then the output zero point and a clamp) never decreases when the
 * accumulator grows, so the max of requantized values is the requantized max of the accumulators: a channel
 * is requantized once per pooled output instead of once per window pixel. That fails only where TFLM's
 * left shift (output_shift > 0) can wrap the accumulator around; such channels are requantized per pixel.
 * A 2x2 window of a 3x3 single-channel convolution inside the input has its own path (conv3x3_c1_pool2x2). */
#include "nn/conv2d_patch.h"
#include "nn/nn_kernels.h"
#include "nn/nn_pool_window.h"
#include "nn/nn_requant.h"

static int32_t conv_value(const nn_conv2d_params_t *cp, int any_left_shift, int32_t acc, int oc)
{
    /* channels with a left shift are requantized here, the others after the max */
    const nn_per_channel_quant_t *pc = &cp->per_channel;
    if (any_left_shift && pc->output_shift[oc] > 0) {
        return nn_requantize_s8(acc, pc->output_multiplier[oc], pc->output_shift[oc], cp->quant.output_offset,
                                cp->quant.activation_min, cp->quant.activation_max);
    }
    return acc;
}

static void update_max(int32_t *best, int oc, int32_t v)
{
    best[oc] = v > best[oc] ? v : best[oc];
}

/* acc: {a.oc, b.oc, a.oc+1, b.oc+1} (nn_conv2d_channel_pair) */
static inline void update_channel_pair(const nn_conv2d_params_t *cp, int any_left_shift, int32_t *best,
                                       const int32_t acc[4], int oc)
{
    update_max(best, oc, conv_value(cp, any_left_shift, acc[0], oc));
    update_max(best, oc, conv_value(cp, any_left_shift, acc[1], oc));
    if (oc + 1 < cp->geometry.output_c) {
        update_max(best, oc + 1, conv_value(cp, any_left_shift, acc[2], oc + 1));
        update_max(best, oc + 1, conv_value(cp, any_left_shift, acc[3], oc + 1));
    }
}

/* A 2x2 pool window of 3x3 single-channel convolution outputs, all inside the input (nn_conv3x3_c1_*): the two
 * rows' pixel pairs widened once, each channel's weights unpacked once for the four pixels, the window's max
 * requantized at once (per pixel for a channel with a left shift), no running maxima. */
static void conv3x3_c1_pool2x2(const nn_conv2d_params_t *cp, const nn_pool2d_params_t *pp, const int8_t *input,
                               const int8_t *filter, const int32_t *bias, int y, int x, int8_t *out)
{
    nn_conv3x3_c1_pair_t top, bottom;
    nn_conv3x3_c1_widen(cp, input, y, x, &top);
    if (cp->geometry.stride_h == 1u) {
        /* the bottom pair's first two input rows are the top pair's last two: 8 distinct words, not 12 */
        for (int r = 0; r + 1 < NN_CONV3X3_ROWS; r++) {
            bottom.q[r][0] = top.q[r + 1][0];
            bottom.q[r][1] = top.q[r + 1][1];
        }
        const int8_t *last = input + (size_t)(y + NN_CONV3X3_ROWS - cp->geometry.pad_h) * cp->geometry.input_w +
                             (size_t)(x - cp->geometry.pad_w);
        nn_conv3x3_c1_widen_row(&bottom, NN_CONV3X3_ROWS - 1, last, cp->quant.input_offset);
    } else {
        nn_conv3x3_c1_widen(cp, input, y + 1, x, &bottom);
    }
    const nn_quant_t *q = &cp->quant;
    const nn_per_channel_quant_t *pc = &cp->per_channel;
    for (int oc = 0; oc < cp->geometry.output_c; oc++) {
        const int32_t b = bias != NULL ? bias[oc] : 0;
        int32_t acc[4] = {b, b, b, b};
        nn_conv3x3_c1_dot_quad(&top, &bottom, filter + (size_t)oc * 9u, acc);
        const int shift = pc->output_shift[oc];
        int32_t v;
        if (shift <= 0) {
            const int32_t m01 = acc[0] > acc[1] ? acc[0] : acc[1];
            const int32_t m23 = acc[2] > acc[3] ? acc[2] : acc[3];
            v = nn_requantize_right_s8(m01 > m23 ? m01 : m23, pc->output_multiplier[oc], -shift, q->output_offset,
                                       q->activation_min, q->activation_max);
        } else {
            const nn_requant_channel_t r = nn_requant_channel(pc->output_multiplier[oc], shift, q->output_offset,
                                                              q->activation_min, q->activation_max);
            v = nn_requant_apply(&r, acc[0]);
            for (int i = 1; i < 4; i++) {
                const int32_t u = nn_requant_apply(&r, acc[i]);
                v = u > v ? u : v;
            }
        }
        out[oc] = (int8_t)nn_clamp_i32(v, pp->activation_min, pp->activation_max);
    }
}

void nn_conv2d_maxpool_s8(const nn_conv2d_params_t *cp, const nn_pool2d_params_t *pp, const int8_t *input,
                          const int8_t *filter, const int32_t *bias, int8_t *output, uint32_t *scratch)
{
    const nn_per_channel_quant_t *pc = &cp->per_channel;
    const int n = (int)cp->geometry.filter_h * cp->geometry.filter_w * cp->geometry.input_c;
    const int oc_n = cp->geometry.output_c;
    const nn_conv2d_scratch_t s = nn_conv2d_scratch(scratch, n);
    int32_t *best = (int32_t *)s.end;
    const int small = nn_conv3x3_c1_applies(cp);
    int any_left_shift = 0;
    for (int oc = 0; oc < oc_n; oc++) {
        any_left_shift |= pc->output_shift[oc] > 0;
    }
    for (int py = 0; py < pp->output_h; py++) {
        const nn_window_span_t sy = nn_window_span(py, pp->stride_h, pp->pad_h, pp->filter_h, pp->input_h);
        for (int px = 0; px < pp->output_w; px++) {
            const nn_window_span_t sx = nn_window_span(px, pp->stride_w, pp->pad_w, pp->filter_w, pp->input_w);
            const int y0 = sy.origin + sy.start, x0 = sx.origin + sx.start; /* the window's first pixel inside */
            const int cols = sx.end - sx.start;
            const int count = (sy.end - sy.start) * (cols > 0 ? cols : 0);
            int8_t *out = output + ((size_t)py * pp->output_w + (size_t)px) * (size_t)oc_n;
            if (small && cols == 2 && count == 4 && nn_conv3x3_c1_pair_inside(cp, y0, x0) &&
                nn_conv3x3_c1_pair_inside(cp, y0 + 1, x0)) {
                conv3x3_c1_pool2x2(cp, pp, input, filter, bias, y0, x0, out);
                continue;
            }
            for (int oc = 0; oc < oc_n; oc++) {
                best[oc] = INT32_MIN;
            }
            /* the window's pixels in row order, two at a time (an odd last one paired with itself) */
            for (int k = 0; k < count; k += 2) {
                const int kb = k + 1 < count ? k + 1 : k;
                const int ya = y0 + k / cols, xa = x0 + k % cols, yb = y0 + kb / cols, xb = x0 + kb % cols;
                int32_t acc[4];
                nn_conv2d_patch_pair(cp, input, n, &s, ya, xa, yb, xb);
                for (int oc = 0; oc < oc_n; oc += 2) {
                    nn_conv2d_channel_pair(cp, filter, bias, s.patch, n, oc, acc);
                    update_channel_pair(cp, any_left_shift, best, acc, oc);
                }
            }
            for (int oc = 0; oc < oc_n; oc++) {
                int32_t v = NN_INT8_MIN; /* a window with no pixel inside: TFLM's max starts at the lowest */
                if (count > 0) {
                    const nn_quant_t *q = &cp->quant;
                    v = pc->output_shift[oc] > 0
                            ? best[oc]
                            : nn_requantize_s8(best[oc], pc->output_multiplier[oc], pc->output_shift[oc],
                                               q->output_offset, q->activation_min, q->activation_max);
                }
                out[oc] = (int8_t)nn_clamp_i32(v, pp->activation_min, pp->activation_max);
            }
        }
    }
}
