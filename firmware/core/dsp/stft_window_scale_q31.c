#include "dsp/stft_kernels.h"

int32_t stft_window_scale_q31(const int16_t *ring, size_t oldest, int32_t *z)
{
    const size_t mask = DSP_STFT_N - 1u;
    /* Scale on the windowed samples, not the raw ones: a spike where the window is ~0 must not
     * steal the headroom of the rest of the frame. Only the peak's top bit matters, and the OR of
     * all |y| has the same top bit as their maximum (one OR instead of a 64-bit compare). */
    uint64_t bits = 0;
    for (size_t n = 1; n < DSP_STFT_N; n++) { /* STFT_HANN_Q30[0] = 0 */
        const int32_t d = ring[(oldest + n) & mask];
        bits |= (uint64_t)(uint32_t)(d < 0 ? -d : d) * (uint32_t)STFT_HANN_Q30[n];
    }
    if (bits == 0) {
        return STFT_SILENT;
    }
    /* peak < 2^46; put it in [2^NORM, 2^(NORM+1)): then sum |x| < 2^(NORM+1+7), the bound of every
     * FFT value, and 2 X[k] < 2^30. */
    const int32_t shift = STFT_NORM_BITS - (63 - __builtin_clzll(bits));
    if (shift >= 0) {
        /* small frame: every |y| <= peak < 2^(NORM+1), so y and y << shift fit in 32 bits */
        for (size_t m = 0; m < STFT_CFFT_N; m++) {
            int32_t *out = z + 2u * STFT_BITREV[m];
            out[0] = ring[(oldest + 2u * m) & mask] * STFT_HANN_Q30[2u * m] * (1 << shift);
            out[1] = ring[(oldest + 2u * m + 1u) & mask] * STFT_HANN_Q30[2u * m + 1u] * (1 << shift);
        }
    } else {
        /* (y + 2^(right-1)) >> right fits in 32 bits: its low word is (lo >> right) | (hi << (32 - right)) */
        const uint32_t right = (uint32_t)-shift;
        const int64_t half = (int64_t)1 << (right - 1u);
        for (size_t n = 0; n < DSP_STFT_N; n++) {
            const int64_t y = (int64_t)ring[(oldest + n) & mask] * STFT_HANN_Q30[n] + half;
            const uint32_t lo = (uint32_t)y, hi = (uint32_t)(y >> 32);
            z[2u * STFT_BITREV[n >> 1] + (n & 1u)] = (int32_t)((lo >> right) | (hi << (32u - right)));
        }
    }
    return 30 + shift;
}
