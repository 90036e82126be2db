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

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(NN_PORTABLE_ONLY)
#include <arm_acle.h>
#define NN_DOT_FOUR_LANES 1
#define nn_smlad(a, b, acc) __smlad((a), (b), (acc))
#define nn_sxtb16(a) __sxtb16(a)
#define nn_sadd16(a, b) __sadd16((a), (b))
/* bytes 1 and 3: SXTB16 with its built-in rotation, one instruction (ACLE has no intrinsic for it) */
static inline uint32_t nn_sxtb16_ror8(uint32_t a)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(a));
    return r;
}
/* Two consecutive words from a word-aligned address, the pointer moved past them: one LDRD with post-increment
 * (gcc splits a 64-bit memcpy into two LDRs). The 8 bytes are an input operand, so the compiler orders the load
 * after any store to them (the conv patches are written just before they are read). */
static inline void nn_load_word_pair(const int8_t **p, uint32_t *lo, uint32_t *hi)
{
    uint32_t a, b;
    const int8_t *q = *p;
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(a), "=r"(b), "+r"(q) : "m"(*(const int8_t(*)[8])q));
    *p = q;
    *lo = a;
    *hi = b;
}
/* Two words from memory at the point of use, p word-aligned: a volatile LDRD the compiler neither hoists nor
 * keeps in registers. For a hot loop that re-reads a few words per iteration (the 3x3 window path): left to
 * itself, gcc holds them all in registers and spills the rest of the loop around them. */
static inline void nn_reload_word_pair(const uint32_t *p, uint32_t *lo, uint32_t *hi)
{
    uint32_t a, b;
    __asm__ volatile("ldrd %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(p), "m"(*(const uint32_t(*)[2])p));
    *lo = a;
    *hi = b;
}
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
static inline uint32_t nn_sxtb16_ror8(uint32_t a)
{
    return nn_sxtb16((a >> 8) | (a << 24));
}
static inline void nn_load_word_pair(const int8_t **p, uint32_t *lo, uint32_t *hi)
{
    memcpy(lo, *p, sizeof *lo);
    memcpy(hi, *p + 4, sizeof *hi);
    *p += 8;
}
static inline void nn_reload_word_pair(const uint32_t *p, uint32_t *lo, uint32_t *hi)
{
    *lo = p[0];
    *hi = p[1];
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
        const uint32_t x13 = nn_sadd16(nn_sxtb16_ror8(xw), off2);
        const uint32_t w02 = nn_sxtb16(ww);
        const uint32_t w13 = nn_sxtb16_ror8(ww);
        acc = nn_smlad(x02, w02, acc);
        acc = nn_smlad(x13, w13, acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
    }
    return acc;
}

/* Four dot products sharing one input vector x (with offset): acc[r] += sum_i w_r[i] * (x[i] + x_offset)
 * for the rows w_r = w + r * w_stride, r = 0..3 (FULLY_CONNECTED, four output channels per pass: the
 * unpacked input serves four weight rows). */
static inline void nn_dot4_s8_offset(const int8_t *x, const int8_t *w, size_t w_stride, int n, int32_t x_offset,
                                     int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
    int i = 0;
#if NN_DOT_FOUR_LANES
    const uint32_t off2 = ((uint32_t)x_offset & 0xFFFFu) * 0x00010001u;
    for (; i + 4 <= n; i += 4) {
        uint32_t xw, ww;
        memcpy(&xw, x + i, sizeof xw);
        const uint32_t x02 = nn_sadd16(nn_sxtb16(xw), off2);
        const uint32_t x13 = nn_sadd16(nn_sxtb16_ror8(xw), off2);
        memcpy(&ww, w0 + i, sizeof ww);
        a0 = nn_smlad(x13, nn_sxtb16_ror8(ww), nn_smlad(x02, nn_sxtb16(ww), a0));
        memcpy(&ww, w1 + i, sizeof ww);
        a1 = nn_smlad(x13, nn_sxtb16_ror8(ww), nn_smlad(x02, nn_sxtb16(ww), a1));
        memcpy(&ww, w2 + i, sizeof ww);
        a2 = nn_smlad(x13, nn_sxtb16_ror8(ww), nn_smlad(x02, nn_sxtb16(ww), a2));
        memcpy(&ww, w3 + i, sizeof ww);
        a3 = nn_smlad(x13, nn_sxtb16_ror8(ww), nn_smlad(x02, nn_sxtb16(ww), a3));
    }
#endif
    for (; i < n; i++) {
        const int32_t xi = (int32_t)x[i] + x_offset;
        a0 += (int32_t)w0[i] * xi;
        a1 += (int32_t)w1[i] * xi;
        a2 += (int32_t)w2[i] * xi;
        a3 += (int32_t)w3[i] * xi;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* A pair of convolution patches: the receptive fields of two output pixels a and b (n int8 taps each, in
 * filter order) with the input offset added, as int16 halves of 32-bit words, interleaved so one pointer walks
 * both: for each whole group k of four taps the words {a02, a13, b02, b13}, where a02 holds taps 4k (low half)
 * and 4k+2 (high half) and a13 taps 4k+1 and 4k+3 — what SXTB16 and SXTB16 ROR 8 give, so the int8 weights
 * are unpacked the same way and nothing is reordered; then one word {a_t, b_t} for each of the n % 4 last
 * taps. NN_PATCH_PAIR_WORDS(n) words, the same layout for every variant. |x + offset| <= 255. */
#define NN_PATCH_PAIR_WORDS(n) ((size_t)(n))

static inline uint32_t nn_pack_q15(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

static inline int32_t nn_lo_q15(uint32_t w)
{
    return (int32_t)(int16_t)(w & 0xFFFFu);
}

static inline int32_t nn_hi_q15(uint32_t w)
{
    return (int32_t)(int16_t)(w >> 16);
}

static inline void nn_patch_pair_q15(const int8_t *xa, const int8_t *xb, uint32_t *dst, int n, int32_t x_offset)
{
    int i = 0;
#if NN_DOT_FOUR_LANES
    const uint32_t off2 = ((uint32_t)x_offset & 0xFFFFu) * 0x00010001u;
    for (; i + 4 <= n; i += 4, dst += 4) {
        uint32_t a, b;
        memcpy(&a, xa + i, sizeof a);
        memcpy(&b, xb + i, sizeof b);
        dst[0] = nn_sadd16(nn_sxtb16(a), off2);
        dst[1] = nn_sadd16(nn_sxtb16_ror8(a), off2);
        dst[2] = nn_sadd16(nn_sxtb16(b), off2);
        dst[3] = nn_sadd16(nn_sxtb16_ror8(b), off2);
    }
#else
    for (; i + 4 <= n; i += 4, dst += 4) {
        dst[0] = nn_pack_q15(xa[i] + x_offset, xa[i + 2] + x_offset);
        dst[1] = nn_pack_q15(xa[i + 1] + x_offset, xa[i + 3] + x_offset);
        dst[2] = nn_pack_q15(xb[i] + x_offset, xb[i + 2] + x_offset);
        dst[3] = nn_pack_q15(xb[i + 1] + x_offset, xb[i + 3] + x_offset);
    }
#endif
    for (; i < n; i++) {
        *dst++ = nn_pack_q15(xa[i] + x_offset, xb[i] + x_offset);
    }
}

/* A patch pair (nn_patch_pair_q15) against two weight rows (w0, w1: two output channels), n taps:
 * acc += {a.w0, b.w0, a.w1, b.w1}. Each patch word and each unpacked weight word serves two multiply-
 * accumulates; the four patch words of a group come in two LDRDs on the Cortex-M4. */
static inline void nn_patch_pair_dot_2x2(const uint32_t *patch, const int8_t *w0, const int8_t *w1, int n,
                                         int32_t acc[4])
{
    int32_t a0 = acc[0], b0 = acc[1], a1 = acc[2], b1 = acc[3];
#if NN_DOT_FOUR_LANES
    /* one pointer over the patch words (two LDRDs per group), the weight rows' pointers moving too: no index
     * arithmetic and nothing spilled in the loop */
    const int8_t *pp = (const int8_t *)(const void *)patch;
    const int8_t *const w0_end = w0 + (n & ~3);
    for (; w0 < w0_end; w0 += 4, w1 += 4) {
        uint32_t pa02, pa13, pb02, pb13, ww;
        nn_load_word_pair(&pp, &pa02, &pa13);
        nn_load_word_pair(&pp, &pb02, &pb13);
        memcpy(&ww, w0, sizeof ww);
        uint32_t w02 = nn_sxtb16(ww), w13 = nn_sxtb16_ror8(ww);
        a0 = nn_smlad(pa13, w13, nn_smlad(pa02, w02, a0));
        b0 = nn_smlad(pb13, w13, nn_smlad(pb02, w02, b0));
        memcpy(&ww, w1, sizeof ww);
        w02 = nn_sxtb16(ww);
        w13 = nn_sxtb16_ror8(ww);
        a1 = nn_smlad(pa13, w13, nn_smlad(pa02, w02, a1));
        b1 = nn_smlad(pb13, w13, nn_smlad(pb02, w02, b1));
    }
    patch = (const uint32_t *)(const void *)pp;
    const int rest = n & 3;
    for (int k = 0; k < rest; k++) {
        const uint32_t ab = *patch++;
        a0 += nn_lo_q15(ab) * w0[k];
        b0 += nn_hi_q15(ab) * w0[k];
        a1 += nn_lo_q15(ab) * w1[k];
        b1 += nn_hi_q15(ab) * w1[k];
    }
#else
    int i = 0;
    for (; i + 4 <= n; i += 4, patch += 4) {
        const uint32_t pa02 = patch[0], pa13 = patch[1], pb02 = patch[2], pb13 = patch[3];
        const int32_t u0 = w0[i], u1 = w0[i + 1], u2 = w0[i + 2], u3 = w0[i + 3];
        const int32_t v0 = w1[i], v1 = w1[i + 1], v2 = w1[i + 2], v3 = w1[i + 3];
        a0 += nn_lo_q15(pa02) * u0 + nn_hi_q15(pa02) * u2 + nn_lo_q15(pa13) * u1 + nn_hi_q15(pa13) * u3;
        b0 += nn_lo_q15(pb02) * u0 + nn_hi_q15(pb02) * u2 + nn_lo_q15(pb13) * u1 + nn_hi_q15(pb13) * u3;
        a1 += nn_lo_q15(pa02) * v0 + nn_hi_q15(pa02) * v2 + nn_lo_q15(pa13) * v1 + nn_hi_q15(pa13) * v3;
        b1 += nn_lo_q15(pb02) * v0 + nn_hi_q15(pb02) * v2 + nn_lo_q15(pb13) * v1 + nn_hi_q15(pb13) * v3;
    }
    for (; i < n; i++) {
        const uint32_t ab = *patch++;
        a0 += nn_lo_q15(ab) * w0[i];
        b0 += nn_hi_q15(ab) * w0[i];
        a1 += nn_lo_q15(ab) * w1[i];
        b1 += nn_hi_q15(ab) * w1[i];
    }
#endif
    acc[0] = a0;
    acc[1] = b0;
    acc[2] = a1;
    acc[3] = b1;
}

#endif
