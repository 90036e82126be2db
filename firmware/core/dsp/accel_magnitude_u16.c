#include "dsp/isqrt.h"
#include "dsp/stft_kernels.h"

void accel_magnitude_u16(const int16_t *xyz, size_t n, uint16_t *mag)
{
    for (size_t i = 0; i < n; i++) {
        const int32_t x = xyz[3 * i], y = xyz[3 * i + 1], z = xyz[3 * i + 2];
        /* Each square is at most 2^30, so the sum (at most 3 * 2^30) fits only unsigned. */
        const uint32_t sq = (uint32_t)(x * x) + (uint32_t)(y * y) + (uint32_t)(z * z);
        mag[i] = isqrt_u32(sq);
    }
}
