/* CONV_2D followed by MAX_POOL_2D whose windows do not overlap (pool stride >= window), one pooled output at a
 * time: the convolution's output never exists, not even a strip of it. Same numbers as the two TFLM reference
 * kernels one after the other.
 *
 * Requantization (multiplier >= 0, then the output zero point and a clamp) never decreases when the
 * accumulator grows, so the max of requantized values is the requantized max of the accumulators: a channel
 * is requantized once per pooled output instead of once per window pixel. That fails only where TFLM's
 * left shift (output_shift > 0) can wrap the accumulator around; such channels are requantized per pixel. */
#include "nn/conv2d_patch.h"
#include "nn/nn_kernels.h"
#include "nn/nn_pool_window.h"
#include "nn/nn_requant.h"

static int32_t conv_value(const nn_conv2d_params_t *cp, int any_left_shift, int32_t acc, int oc)
{
    /* channels with a left shift are requantized here, the others after the max */
    if (any_left_shift && cp->output_shift[oc] > 0) {
        return nn_requantize_s8(acc, cp->output_multiplier[oc], cp->output_shift[oc], cp->output_offset,
                                cp->activation_min, cp->activation_max);
    }
    return acc;
}

static void update_max(int32_t *best, int oc, int32_t v)
{
    best[oc] = v > best[oc] ? v : best[oc];
}

void nn_conv2d_maxpool_s8(const nn_conv2d_params_t *cp, const nn_pool2d_params_t *pp, const int8_t *input,
                          const int8_t *filter, const int32_t *bias, int8_t *output, uint32_t *scratch)
{
    const int n = (int)cp->filter_h * cp->filter_w * cp->input_c;
    const int oc_n = cp->output_c;
    const nn_conv2d_scratch_t s = nn_conv2d_scratch(scratch, n);
    int32_t *best = (int32_t *)s.end;
    int any_left_shift = 0;
    for (int oc = 0; oc < oc_n; oc++) {
        any_left_shift |= cp->output_shift[oc] > 0;
    }
    for (int py = 0; py < pp->output_h; py++) {
        const nn_window_span_t sy = nn_window_span(py, pp->stride_h, pp->pad_h, pp->filter_h, pp->input_h);
        for (int px = 0; px < pp->output_w; px++) {
            const nn_window_span_t sx = nn_window_span(px, pp->stride_w, pp->pad_w, pp->filter_w, pp->input_w);
            const int y0 = sy.origin + sy.start, x0 = sx.origin + sx.start; /* the window's first pixel inside */
            const int cols = sx.end - sx.start;
            const int count = (sy.end - sy.start) * (cols > 0 ? cols : 0);
            for (int oc = 0; oc < oc_n; oc++) {
                best[oc] = INT32_MIN;
            }
            /* the window's pixels in row order, two at a time (an odd last one paired with itself) */
            for (int k = 0; k < count; k += 2) {
                const int kb = k + 1 < count ? k + 1 : k;
                nn_conv2d_patch_pair(cp, input, n, &s, y0 + k / cols, x0 + k % cols, y0 + kb / cols, x0 + kb % cols);
                for (int oc = 0; oc < oc_n; oc += 2) {
                    int32_t acc[4];
                    nn_conv2d_channel_pair(cp, filter, bias, s.patch, n, oc, acc);
                    update_max(best, oc, conv_value(cp, any_left_shift, acc[0], oc));
                    update_max(best, oc, conv_value(cp, any_left_shift, acc[1], oc));
                    if (oc + 1 < oc_n) {
                        update_max(best, oc + 1, conv_value(cp, any_left_shift, acc[2], oc + 1));
                        update_max(best, oc + 1, conv_value(cp, any_left_shift, acc[3], oc + 1));
                    }
                }
            }
            int8_t *out = output + ((size_t)py * pp->output_w + (size_t)px) * (size_t)oc_n;
            for (int oc = 0; oc < oc_n; oc++) {
                int32_t v = NN_INT8_MIN; /* a window with no pixel inside: TFLM's max starts at the lowest */
                if (count > 0) {
                    v = cp->output_shift[oc] > 0
                            ? best[oc]
                            : nn_requantize_s8(best[oc], cp->output_multiplier[oc], cp->output_shift[oc],
                                               cp->output_offset, cp->activation_min, cp->activation_max);
                }
                out[oc] = (int8_t)nn_clamp_i32(v, pp->activation_min, pp->activation_max);
            }
        }
    }
}
