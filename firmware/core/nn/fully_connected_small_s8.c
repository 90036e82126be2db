/* FULLY_CONNECTED, int8, for small layers (at most NN_FC_SMALL_MAX_INPUTS inputs) in the NN_FC_WEIGHTS_SMALL
 * layout (nn_kernels.h, written by vigil.export.plan.fc_small_rows): bit-exact with TFLM's
 * reference_integer_ops::FullyConnected[PerChannel] for symmetric weights and right shifts.
 *
 * Why a kernel of its own: in a 6-11-5-2 MLP each layer has a few dozen MACs, so the cost is the per-layer set-up
 * and the per-output requantization, not the dot products. Here the input is loaded and widened once per layer
 * (SXTB16: lanes 0,2 and 1,3 as int16 pairs, kept in registers), and each output row is one record walked by one
 * pointer: its bias, requantization constants and pre-widened weights (two SMLADs per four inputs, no unpacking
 * of weights). Requantization is TFLM's double rounding in four instructions, with the constants the host
 * worked out (nn_kernels.h):
 *   h = SMMULR(2 * acc, m)                    = round(acc * m / 2^31), ties up: the nudged doubling high multiply
 *   v = (h + 2^(e-1) + zp * 2^e + (h >> 31)) >> e = RoundingDivideByPOT(h, e) + zp (ties away from zero)
 * then the activation's clamp. The doubled accumulator comes from doubled bias and weights (free: the host
 * stores them that way). The host checks that |2 * acc| < 2^31 and that the sum before the last shift stays in
 * int32 for every input, and keeps the four-row kernel for a layer where it could not. */
#include <string.h>

#include "nn/nn_dot.h"
#include "nn/nn_kernels.h"

#if NN_DOT_FOUR_LANES && !defined(NN_EMULATE_DSP)
/* round(a * b / 2^32), ties up: one SMMULR (ACLE has no intrinsic for it) */
static inline int32_t smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else
static inline int32_t smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
#endif

#if NN_DOT_FOUR_LANES
/* Input word k widened: x[2k] = bytes {0, 2}, x[2k + 1] = bytes {1, 3}, as int16 pairs. */
static inline void widen_input(const int8_t *input, int words, uint32_t *x)
{
    for (int k = 0; k < words; k++) {
        uint32_t w;
        memcpy(&w, input + 4 * k, sizeof w); /* word-aligned: one LDR */
        x[2 * k] = nn_sxtb16(w);
        x[2 * k + 1] = nn_sxtb16_ror8(w);
    }
}

static inline int32_t row_dot(const int32_t *row, int words, const uint32_t *x)
{
    int32_t acc = row[0];
    for (int k = 0; k < 2 * words; k++) {
        acc = nn_smlad(x[k], (uint32_t)row[NN_FC_SMALL_HEAD_WORDS + k], acc);
    }
    return acc;
}
#else
/* The portable form: the same sum, one product at a time from the int16 halves of the weight words. */
static inline void widen_input(const int8_t *input, int words, uint32_t *x)
{
    for (int k = 0; k < words; k++) {
        const int8_t *b = input + 4 * k;
        x[2 * k] = (uint32_t)(uint16_t)(int16_t)b[0] | (uint32_t)(uint16_t)(int16_t)b[2] << 16;
        x[2 * k + 1] = (uint32_t)(uint16_t)(int16_t)b[1] | (uint32_t)(uint16_t)(int16_t)b[3] << 16;
    }
}

static inline int32_t row_dot(const int32_t *row, int words, const uint32_t *x)
{
    int32_t acc = row[0];
    for (int k = 0; k < 2 * words; k++) {
        const uint32_t w = (uint32_t)row[NN_FC_SMALL_HEAD_WORDS + k];
        acc += (int32_t)(int16_t)(x[k] & 0xFFFFu) * (int16_t)(w & 0xFFFFu) +
               (int32_t)(int16_t)(x[k] >> 16) * (int16_t)(w >> 16);
    }
    return acc;
}
#endif

/* All rows of a layer whose input is `words` words long; inlined with a constant `words`, so x stays in
 * registers and the dot product is unrolled. */
static inline void small_rows(const nn_fc_small_params_t *p, const int8_t *input, int8_t *output, int words)
{
    uint32_t x[NN_FC_SMALL_MAX_INPUTS / 2];
    widen_input(input, words, x);
    const int32_t lo = p->activation_min, hi = p->activation_max;
    const int32_t *row = p->rows;
    int8_t *const end = output + p->output_c;
    for (int8_t *out = output; out != end; out++, row += NN_FC_SMALL_ROW_WORDS(words)) {
        const int32_t h = smmulr(row_dot(row, words, x), row[1]);
        /* h >> 31 is -1 for h < 0: ties go away from zero (TFLM's RoundingDivideByPOT) */
        int32_t v = (h + row[2] + (h >> 31)) >> row[3];
        v = v < lo ? lo : v;
        *out = (int8_t)(v > hi ? hi : v);
    }
}

void nn_fully_connected_s8_small(const nn_fc_small_params_t *p, const int8_t *input, int8_t *output)
{
    switch (p->input_words) {
    case 1:
        small_rows(p, input, output, 1);
        break;
    case 2:
        small_rows(p, input, output, 2);
        break;
    case 3:
        small_rows(p, input, output, 3);
        break;
    default:
        small_rows(p, input, output, 4);
        break;
    }
}
