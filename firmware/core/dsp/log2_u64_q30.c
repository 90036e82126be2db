#include "dsp/stft_kernels.h"

#define SEG_SHIFT (31u - STFT_LOG2_BITS) /* fraction bits below the table index */

int64_t log2_u64_q30(uint64_t x)
{
    if (x == 0) {
        return INT64_MIN;
    }
    const int32_t e = 63 - __builtin_clzll(x);
    /* mantissa in [2^31, 2^32): 31 fraction bits, truncated (relative error < 2^-31) */
    const uint32_t top = e >= 31 ? (uint32_t)(x >> (e - 31)) : (uint32_t)(x << (31 - e));
    const uint32_t f = top - (1u << 31);
    const uint32_t i = f >> SEG_SHIFT;
    const uint32_t r = f & ((1u << SEG_SHIFT) - 1u);
    const uint32_t lo = STFT_LOG2_Q30[i];
    const uint32_t step = STFT_LOG2_Q30[i + 1u] - lo;
    const uint32_t y = lo + (uint32_t)(((uint64_t)step * r + (1u << (SEG_SHIFT - 1u))) >> SEG_SHIFT);
    return (int64_t)e * ((int64_t)1 << 30) + y;
}
