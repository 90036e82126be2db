#include "dsp/stft_kernels.h"

int32_t power_db_q16(uint64_t p, int32_t exp2)
{
    if (p == 0) {
        return STFT_DB_ZERO_POWER;
    }
    /* |log2| <= 66 in Q30 times 10 log10(2) in Q24 stays below 2^62. */
    const int64_t lg = log2_u64_q30(p) - (int64_t)exp2 * ((int64_t)1 << 30);
    return (int32_t)((lg * STFT_DB_PER_LOG2_Q24 + ((int64_t)1 << 37)) >> 38);
}
