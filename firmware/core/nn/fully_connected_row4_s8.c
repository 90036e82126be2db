/* FULLY_CONNECTED, int8, with the weights in vigil's four-row interleaved layout (NN_FC_WEIGHTS_ROW4,
 * nn_kernels.h, written by vigil.export.plan.interleave_fc_weights): bit-exact with TFLM's
 * reference_integer_ops::FullyConnected[PerChannel] for symmetric weights.
 *
 * Four output rows per pass over the input, as nn_fully_connected_s8, but their weights come in the order the
 * pass reads them: one pointer walks 16 bytes (four input lanes of four rows: two LDRDs on the Cortex-M4) per
 * step, where the row-major layout needs four row pointers and four loads. Rows and inputs are zero-padded to
 * multiples of four, so there is no tail loop and no single-row pass: the last inputs go through one more block
 * (zeros after them), the last group computes its padded rows and stores only the real ones. The plan folds the
 * input offset into the bias (bias - in_zp * sum(row), vigil.export.plan.fold_fc_input_offset): this kernel
 * takes no input offset (p->input_offset and p->filter_offset are not read; both are 0 in effect). It also takes
 * only right shifts (every output_shift <= 0, a multiplier below one: the converter's usual case); the plan
 * keeps TFLite's layout and nn_fully_connected_s8 for an op with a left shift. */
#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

/* The four rows' accumulators of a group, by value so they stay in registers through the block loop. */
typedef struct acc4 {
    int32_t r0, r1, r2, r3;
} acc4_t;

/* One 16-byte block of a group against four inputs x[0..3]: row r += sum_k w[4r + k] * x[k]; w moves past it. */
static inline acc4_t block4(const int8_t *x, const int8_t **w, acc4_t a)
{
#if NN_DOT_FOUR_LANES
    uint32_t xw, w0, w1, w2, w3;
    memcpy(&xw, x, sizeof xw);
    nn_load_word_pair(w, &w0, &w1); /* the group is word-aligned: two LDRDs */
    nn_load_word_pair(w, &w2, &w3);
    const uint32_t x02 = nn_sxtb16(xw), x13 = nn_sxtb16_ror8(xw);
    a.r0 = nn_smlad(x13, nn_sxtb16_ror8(w0), nn_smlad(x02, nn_sxtb16(w0), a.r0));
    a.r1 = nn_smlad(x13, nn_sxtb16_ror8(w1), nn_smlad(x02, nn_sxtb16(w1), a.r1));
    a.r2 = nn_smlad(x13, nn_sxtb16_ror8(w2), nn_smlad(x02, nn_sxtb16(w2), a.r2));
    a.r3 = nn_smlad(x13, nn_sxtb16_ror8(w3), nn_smlad(x02, nn_sxtb16(w3), a.r3));
#else
    const int8_t *b = *w;
    for (int k = 0; k < 4; k++) {
        a.r0 += (int32_t)b[k] * x[k];
        a.r1 += (int32_t)b[4 + k] * x[k];
        a.r2 += (int32_t)b[8 + k] * x[k];
        a.r3 += (int32_t)b[12 + k] * x[k];
    }
    *w = b + 16;
#endif
    return a;
}

void nn_fully_connected_s8_row4(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output)
{
    const int depth = p->input_depth, oc_n = p->output_c;
    const int whole = depth / 4, tail = depth % 4;
    for (int b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        int8_t *out = output + (size_t)b * (size_t)oc_n;
        /* the last depth % 4 inputs and zeros: the padded block's weights there are zeros too */
        int8_t x_tail[4] = {0, 0, 0, 0};
        for (int k = 0; k < tail; k++) {
            x_tail[k] = x[4 * whole + k];
        }
        const int8_t *w = filter;
        for (int oc = 0; oc < oc_n; oc += 4) {
            acc4_t a = {0, 0, 0, 0};
            if (bias != NULL) { /* padded to a multiple of four rows */
                a.r0 = bias[oc];
                a.r1 = bias[oc + 1];
                a.r2 = bias[oc + 2];
                a.r3 = bias[oc + 3];
            }
            const int8_t *xk = x;
            for (int k = 0; k < whole; k++, xk += 4) {
                a = block4(xk, &w, a);
            }
            if (tail != 0) {
                a = block4(x_tail, &w, a);
            }
            const int32_t acc[4] = {a.r0, a.r1, a.r2, a.r3};
            const int rows = oc_n - oc < 4 ? oc_n - oc : 4;
            for (int r = 0; r < rows; r++) {
                const int q = p->per_channel ? oc + r : 0;
                out[oc + r] = nn_requantize_right_s8(acc[r], p->output_multiplier[q], -p->output_shift[q],
                                                     p->output_offset, p->activation_min, p->activation_max);
            }
        }
    }
}
