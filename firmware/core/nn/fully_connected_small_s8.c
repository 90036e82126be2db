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

/* v clamped to [-128, 127]: one SSAT on the Cortex-M4. The common case of the activation range (no activation,
 * and RELU whose output zero point is -128, as the converter makes it), so the row loop has its own copy. */
#if NN_DOT_FOUR_LANES && !defined(NN_EMULATE_DSP)
static inline int32_t saturate_s8(int32_t v)
{
    return __ssat(v, 8);
}
#else
static inline int32_t saturate_s8(int32_t v)
{
    return v < NN_INT8_MIN ? NN_INT8_MIN : (v > NN_INT8_MAX ? NN_INT8_MAX : v);
}
#endif

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

/* The widened input: x[2k] = bytes {4k, 4k + 2}, x[2k + 1] = bytes {4k + 1, 4k + 3}, as int16 pairs. Written out
 * per word (not as a loop) so that, inlined with a constant word count, x lives in registers. */
typedef struct widened {
    uint32_t x[NN_FC_SMALL_MAX_INPUTS / 2];
} widened_t;

#if NN_DOT_FOUR_LANES
/* the next two words of a record, *row moved past them: one LDRD with post-increment */
static inline void next_pair(const int8_t **row, uint32_t *a, uint32_t *b)
{
    nn_load_word_pair(row, a, b);
}

static inline void widen_word(const int8_t *input, int k, widened_t *w)
{
    uint32_t v;
    memcpy(&v, input + 4 * k, sizeof v); /* word-aligned: one LDR */
    w->x[2 * k] = nn_sxtb16(v);
    w->x[2 * k + 1] = nn_sxtb16_ror8(v);
}

static inline int32_t smlad_pair(uint32_t x, uint32_t weights, int32_t acc)
{
    return nn_smlad(x, weights, acc);
}
#else
/* The portable form: the same sums, one product at a time from the int16 halves. */
static inline void next_pair(const int8_t **row, uint32_t *a, uint32_t *b)
{
    memcpy(a, *row, sizeof *a);
    memcpy(b, *row + 4, sizeof *b);
    *row += 8;
}

static inline uint32_t pair16(int8_t lo, int8_t hi)
{
    return (uint32_t)(uint16_t)(int16_t)lo | (uint32_t)(uint16_t)(int16_t)hi << 16;
}

static inline void widen_word(const int8_t *input, int k, widened_t *w)
{
    const int8_t *b = input + 4 * k;
    w->x[2 * k] = pair16(b[0], b[2]);
    w->x[2 * k + 1] = pair16(b[1], b[3]);
}

static inline int32_t dot_pair(uint32_t x, uint32_t p)
{
    return (int32_t)(int16_t)(x & 0xFFFFu) * (int16_t)(p & 0xFFFFu) + (int32_t)(int16_t)(x >> 16) * (int16_t)(p >> 16);
}

static inline int32_t smlad_pair(uint32_t x, uint32_t weights, int32_t acc)
{
    return acc + dot_pair(x, weights);
}
#endif

/* One record's words (nn_kernels.h), in the order they are used, loaded two at a time (one LDRD each) just
 * before use so that few registers are live at once. */
typedef struct record {
    uint32_t word[NN_FC_SMALL_ROW_WORDS(NN_FC_SMALL_MAX_INPUTS / 4)];
} record_t;

/* All rows of a layer whose input is `words` words long; inlined with a constant `words` (every `words > k`
 * test folds away, the loops over words are unrolled by hand) and a constant `full_range` (the activation range
 * is all of int8: SSAT instead of two compares). */
static inline void small_rows(const nn_fc_small_params_t *p, const int8_t *input, int8_t *output, int words,
                              int full_range)
{
    widened_t w = {{0}}; /* every lane the layer reads is set below; the rest quiets -Wmaybe-uninitialized */
    widen_word(input, 0, &w);
    if (words > 1) {
        widen_word(input, 1, &w);
    }
    if (words > 2) {
        widen_word(input, 2, &w);
    }
    if (words > 3) {
        widen_word(input, 3, &w);
    }
    const int32_t lo = p->activation_min, hi = p->activation_max;
    const int8_t *row = (const int8_t *)(const void *)p->rows;
    int8_t *const end = output + p->output_c;
    const int m = 2 * words + 1; /* record: [0] bias, [1..2w] weights, [m] multiplier, [m+1] rounding, [m+2] shift */
    for (int8_t *out = output; out != end; out++) {
        record_t r;
        next_pair(&row, &r.word[0], &r.word[1]);
        int32_t acc = smlad_pair(w.x[0], r.word[1], (int32_t)r.word[0]);
        next_pair(&row, &r.word[2], &r.word[3]);
        acc = smlad_pair(w.x[1], r.word[2], acc);
        if (words > 1) {
            acc = smlad_pair(w.x[2], r.word[3], acc);
            next_pair(&row, &r.word[4], &r.word[5]);
            acc = smlad_pair(w.x[3], r.word[4], acc);
        }
        if (words > 2) {
            acc = smlad_pair(w.x[4], r.word[5], acc);
            next_pair(&row, &r.word[6], &r.word[7]);
            acc = smlad_pair(w.x[5], r.word[6], acc);
        }
        if (words > 3) {
            acc = smlad_pair(w.x[6], r.word[7], acc);
            next_pair(&row, &r.word[8], &r.word[9]);
            acc = smlad_pair(w.x[7], r.word[8], acc);
        }
        next_pair(&row, &r.word[m + 1], &r.word[m + 2]);
        const int32_t h = smmulr(acc, (int32_t)r.word[m]);
        /* h >> 31 is -1 for h < 0: ties go away from zero (TFLM's RoundingDivideByPOT) */
        int32_t v = (h + (int32_t)r.word[m + 1] + (h >> 31)) >> r.word[m + 2];
        if (full_range) {
            *out = (int8_t)saturate_s8(v);
        } else {
            v = v < lo ? lo : v;
            *out = (int8_t)(v > hi ? hi : v);
        }
    }
}

void nn_fully_connected_s8_small(const nn_fc_small_params_t *p, const int8_t *input, int8_t *output)
{
    const int full = p->activation_min == NN_INT8_MIN && p->activation_max == NN_INT8_MAX;
    switch (p->input_words * 2 + full) {
    case 2:
        small_rows(p, input, output, 1, 0);
        break;
    case 3:
        small_rows(p, input, output, 1, 1);
        break;
    case 4:
        small_rows(p, input, output, 2, 0);
        break;
    case 5:
        small_rows(p, input, output, 2, 1);
        break;
    case 6:
        small_rows(p, input, output, 3, 0);
        break;
    case 7:
        small_rows(p, input, output, 3, 1);
        break;
    case 8:
        small_rows(p, input, output, 4, 0);
        break;
    default:
        small_rows(p, input, output, 4, 1);
        break;
    }
}
