/* CONV_2D, int8, per-channel requantization: bit-exact with TFLM's
 * reference_integer_ops::ConvPerChannel (groups = 1).
 *
 * Two output pixels at a time: the pair's receptive fields are widened to int16 with the offset added
 * (nn_conv2d_patch_pair: straight from the input rows inside the input, else gathered first, taps in the
 * padding taking the input zero point so that with the offset added they contribute 0, as TFLM skips them)
 * and go against two output channels' weight rows at a time (nn_patch_pair_dot_2x2). 3x3 filters over one
 * input channel take the two-pixel row path of conv2d_patch.h (nn_conv3x3_c1_*) where the pair is inside. */
#include "nn/conv2d_patch.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

void nn_conv2d_s8(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                  int8_t *output, uint32_t *scratch)
{
    nn_conv2d_s8_rows(p, input, filter, bias, 0, p->geometry.output_h, output, scratch);
}

/* Output rows are produced strictly in increasing order and each pixel's channels are written only after
 * its taps were gathered, so the output may overlap the input as nn_plan.h's NN_OP_FLAG_OUT_OVERLAPS_IN
 * allows. */
/* A channel whose requantization shifts left (rare: real multiplier >= 1), kept out of the hot loop so that the
 * usual right-shift path there needs fewer registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void store_channel_left_shift(const nn_conv2d_params_t *p, int c, int32_t a, int32_t b, int two_px, int8_t *o0,
                                     int8_t *o1)
{
    const nn_quant_t *q = &p->quant;
    const nn_per_channel_quant_t *pc = &p->per_channel;
    const nn_requant_channel_t r = nn_requant_channel(pc->output_multiplier[c], pc->output_shift[c], q->output_offset,
                                                      q->activation_min, q->activation_max);
    o0[c] = nn_requant_apply(&r, a);
    if (two_px) {
        o1[c] = nn_requant_apply(&r, b);
    }
}

static inline void store_channel_pair(const nn_conv2d_params_t *p, const int32_t acc[4], int oc, int two_px,
                                      int8_t *o0, int8_t *o1)
{
    const nn_quant_t *q = &p->quant;
    for (int c = oc; c < oc + 2 && c < p->geometry.output_c; c++) {
        const int32_t a = acc[2 * (c - oc)], b = acc[2 * (c - oc) + 1];
        const int shift = p->per_channel.output_shift[c];
        if (shift > 0) {
            store_channel_left_shift(p, c, a, b, two_px, o0, o1);
            continue;
        }
        const int32_t m = p->per_channel.output_multiplier[c];
        o0[c] = nn_requantize_right_s8(a, m, -shift, q->output_offset, q->activation_min, q->activation_max);
        if (two_px) {
            o1[c] = nn_requantize_right_s8(b, m, -shift, q->output_offset, q->activation_min, q->activation_max);
        }
    }
}

void nn_conv2d_s8_rows(const nn_conv2d_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                       uint16_t row_begin, uint16_t row_end, int8_t *output, uint32_t *scratch)
{
    const nn_conv_geometry_t *g = &p->geometry;
    const int n = (int)g->filter_h * g->filter_w * g->input_c;
    const nn_conv2d_scratch_t s = nn_conv2d_scratch(scratch, n);
    const int ow = g->output_w, oc_n = g->output_c;
    const int small = nn_conv3x3_c1_applies(p);
    for (int oy = row_begin; oy < row_end; oy++) {
        int8_t *out_row = output + (size_t)(oy - row_begin) * (size_t)ow * (size_t)oc_n;
        for (int ox = 0; ox < ow; ox += 2) {
            /* an odd last pixel is paired with itself; only real outputs are stored */
            const int two_px = ox + 1 < ow;
            int8_t *o0 = out_row + (size_t)ox * (size_t)oc_n;
            int8_t *o1 = o0 + oc_n;
            int32_t acc[4];
            if (small && two_px && nn_conv3x3_c1_pair_inside(p, oy, ox)) {
                nn_conv3x3_c1_pair_t q;
                nn_conv3x3_c1_widen(p, input, oy, ox, &q);
                for (int oc = 0; oc < oc_n; oc += 2) {
                    nn_conv3x3_c1_channel_pair(p, filter, bias, &q, oc, acc);
                    store_channel_pair(p, acc, oc, two_px, o0, o1);
                }
                continue;
            }
            nn_conv2d_patch_pair(p, input, n, &s, oy, ox, oy, two_px ? ox + 1 : ox);
            for (int oc = 0; oc < oc_n; oc += 2) {
                nn_conv2d_channel_pair(p, filter, bias, s.patch, n, oc, acc);
                store_channel_pair(p, acc, oc, two_px, o0, o1);
            }
        }
    }
}
