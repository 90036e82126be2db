/* Dot product of int8 vectors with an input offset, sum_i w[i] * (x[i] + x_offset), the inner
 * loop of CONV_2D and FULLY_CONNECTED.
 *
 * With the Cortex-M4 DSP extension (__ARM_FEATURE_DSP) four lanes go through two dual 16-bit
 * multiply-accumulates (SMLAD): bytes 0,2 and bytes 1,3 of a 32-bit load are sign-extended to
 * 16-bit pairs (SXTB16), the offset added to the input pairs (SADD16: |x + offset| <= 255 fits).
 * Elsewhere a portable loop computes the same integer sum. NN_EMULATE_DSP selects, on any target,
 * the four-lane algorithm with the three instructions emulated in C: the host tests build both
 * variants and require identical outputs. All sums are exact integers, so the order of the
 * additions does not matter (no int32 overflow for the tensor sizes TFLite int8 allows). */
#ifndef VIGIL_NN_DOT_H
#define VIGIL_NN_DOT_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(NN_PORTABLE_ONLY)
#include <arm_acle.h>
#define NN_DOT_FOUR_LANES 1
#define nn_smlad(a, b, acc) __smlad((a), (b), (acc))
#define nn_sxtb16(a) __sxtb16(a)
#define nn_sadd16(a, b) __sadd16((a), (b))
#elif defined(NN_EMULATE_DSP)
#define NN_DOT_FOUR_LANES 1
/* ARM's SMLAD: acc + lo(a) * lo(b) + hi(a) * hi(b), halves as int16 (wraps like the instruction) */
static inline int32_t nn_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const int32_t lo = (int32_t)(int16_t)(a & 0xFFFFu) * (int32_t)(int16_t)(b & 0xFFFFu);
    const int32_t hi = (int32_t)(int16_t)(a >> 16) * (int32_t)(int16_t)(b >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)lo + (uint32_t)hi);
}
/* ARM's SXTB16: bytes 0 and 2 sign-extended to the low and high halfwords */
static inline uint32_t nn_sxtb16(uint32_t a)
{
    const uint32_t lo = (uint32_t)(uint16_t)(int16_t)(int8_t)(a & 0xFFu);
    const uint32_t hi = (uint32_t)(uint16_t)(int16_t)(int8_t)((a >> 16) & 0xFFu);
    return lo | hi << 16;
}
/* ARM's SADD16: halfword-wise add, each wrapping */
static inline uint32_t nn_sadd16(uint32_t a, uint32_t b)
{
    const uint32_t lo = (a + b) & 0xFFFFu;
    const uint32_t hi = ((a >> 16) + (b >> 16)) & 0xFFFFu;
    return lo | hi << 16;
}
#else
#define NN_DOT_FOUR_LANES 0
#endif

static inline int32_t nn_dot_s8_offset(const int8_t *x, const int8_t *w, int n, int32_t x_offset)
{
    int32_t acc = 0;
    int i = 0;
#if NN_DOT_FOUR_LANES
    /* the offset in both halfwords (two's complement, so SADD16 adds a negative one too) */
    const uint32_t off2 = ((uint32_t)x_offset & 0xFFFFu) * 0x00010001u;
    for (; i + 4 <= n; i += 4) {
        uint32_t xw, ww;
        memcpy(&xw, x + i, sizeof xw); /* unaligned 32-bit loads (LDR on the M4) */
        memcpy(&ww, w + i, sizeof ww);
        const uint32_t x02 = nn_sadd16(nn_sxtb16(xw), off2);
        const uint32_t x13 = nn_sadd16(nn_sxtb16((xw >> 8) | (xw << 24)), off2);
        const uint32_t w02 = nn_sxtb16(ww);
        const uint32_t w13 = nn_sxtb16((ww >> 8) | (ww << 24));
        acc = nn_smlad(x02, w02, acc);
        acc = nn_smlad(x13, w13, acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
    }
    return acc;
}

#endif
