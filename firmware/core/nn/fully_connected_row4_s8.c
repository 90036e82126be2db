/* FULLY_CONNECTED, int8, with the weights in vigil's four-row interleaved layout (NN_FC_WEIGHTS_ROW4,
 * nn_kernels.h, written by vigil.export.plan.interleave_fc_weights): bit-exact with TFLM's
 * reference_integer_ops::FullyConnected[PerChannel] for symmetric weights.
 *
 * Four output rows per pass over the input, as nn_fully_connected_s8, but their weights come in the order the
 * pass reads them: one pointer walks 16 bytes (four input lanes of four rows, one LDM on the Cortex-M4) per
 * step, where the row-major layout needs four row pointers and four loads. The plan also folds the input offset
 * into the bias (bias - in_zp * sum(row), vigil.export.plan.fold_fc_input_offset): this kernel takes no input
 * offset (p->input_offset and p->filter_offset are not read; both are 0 in effect). */
#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"
#include "nn/nn_requant.h"

/* acc[r] += sum_i w_r[i] * x[i], r = 0..3, the rows' weights in the interleaved order starting at w (16-byte
 * groups, then the tail: depth % 4 taps of row 0, row 1, row 2, row 3). No input offset: the plan folded it
 * into the bias. */
static void dot4_interleaved(const int8_t *x, const int8_t *w, int depth, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *const x_end = x + (depth & ~3);
#if NN_DOT_FOUR_LANES
    for (; x < x_end; x += 4) {
        uint32_t xw, w0, w1, w2, w3;
        memcpy(&xw, x, sizeof xw);
        nn_load_word_pair(&w, &w0, &w1); /* the group is word-aligned: two LDRDs */
        nn_load_word_pair(&w, &w2, &w3);
        const uint32_t x02 = nn_sxtb16(xw), x13 = nn_sxtb16_ror8(xw);
        a0 = nn_smlad(x13, nn_sxtb16_ror8(w0), nn_smlad(x02, nn_sxtb16(w0), a0));
        a1 = nn_smlad(x13, nn_sxtb16_ror8(w1), nn_smlad(x02, nn_sxtb16(w1), a1));
        a2 = nn_smlad(x13, nn_sxtb16_ror8(w2), nn_smlad(x02, nn_sxtb16(w2), a2));
        a3 = nn_smlad(x13, nn_sxtb16_ror8(w3), nn_smlad(x02, nn_sxtb16(w3), a3));
    }
#else
    for (; x < x_end; x += 4, w += 16) {
        for (int k = 0; k < 4; k++) {
            const int32_t xi = x[k];
            a0 += (int32_t)w[k] * xi;
            a1 += (int32_t)w[4 + k] * xi;
            a2 += (int32_t)w[8 + k] * xi;
            a3 += (int32_t)w[12 + k] * xi;
        }
    }
#endif
    const int tail = depth & 3;
    for (int k = 0; k < tail; k++) {
        const int32_t xi = x[k];
        a0 += (int32_t)w[k] * xi;
        a1 += (int32_t)w[tail + k] * xi;
        a2 += (int32_t)w[2 * tail + k] * xi;
        a3 += (int32_t)w[3 * tail + k] * xi;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static int8_t requantize(const nn_fully_connected_params_t *p, int32_t acc, int oc)
{
    const int q = p->per_channel ? oc : 0;
    return nn_requantize_s8(acc, p->output_multiplier[q], p->output_shift[q], p->output_offset, p->activation_min,
                            p->activation_max);
}

void nn_fully_connected_s8_row4(const nn_fully_connected_params_t *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output)
{
    const int depth = p->input_depth, oc_n = p->output_c;
    for (int b = 0; b < p->batches; b++) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        int8_t *out = output + (size_t)b * (size_t)oc_n;
        const int8_t *w = filter;
        int oc = 0;
        for (; oc + 4 <= oc_n; oc += 4, w += 4 * depth) {
            int32_t acc[4] = {0, 0, 0, 0};
            if (bias != NULL) {
                memcpy(acc, bias + oc, sizeof acc);
            }
            dot4_interleaved(x, w, depth, acc);
            for (int k = 0; k < 4; k++) {
                out[oc + k] = requantize(p, acc[k], oc + k);
            }
        }
        for (; oc < oc_n; oc++, w += depth) { /* the last out_c % 4 rows, row-major */
            const int32_t acc = nn_dot_s8_offset(x, w, depth, 0) + (bias != NULL ? bias[oc] : 0);
            out[oc] = requantize(p, acc, oc);
        }
    }
}
