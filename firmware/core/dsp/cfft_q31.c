#include "dsp/stft_kernels.h"

#define ROUND_Q30 ((int64_t)1 << 29)

void cfft_q31(int32_t *z)
{
    for (size_t h = 1; h < STFT_CFFT_N; h <<= 1) {
        const size_t step = STFT_CFFT_N / h; /* W_{2h}^j = W_{2 CFFT_N}^(j * step) */
        for (size_t j = 0; j < h; j++) {
            /* twiddle W = c - i s, loaded once for every butterfly that uses it */
            const size_t k = j * step;
            const int32_t c = STFT_COS_Q30[k];
            const int32_t s = STFT_COS_Q30[k <= STFT_CFFT_N / 2u ? STFT_CFFT_N / 2u - k : k - STFT_CFFT_N / 2u];
            const int32_t ns = -s; /* bi c - br s as two multiply-accumulates */
            for (size_t g = j; g < STFT_CFFT_N; g += 2 * h) {
                int32_t *a = z + 2 * g;
                int32_t *b = z + 2 * (g + h);
                const int32_t ar = a[0], ai = a[1], br = b[0], bi = b[1];
                const int32_t tr = (int32_t)(((int64_t)br * c + (int64_t)bi * s + ROUND_Q30) >> 30);
                const int32_t ti = (int32_t)(((int64_t)bi * c + (int64_t)br * ns + ROUND_Q30) >> 30);
                a[0] = ar + tr;
                a[1] = ai + ti;
                b[0] = ar - tr;
                b[1] = ai - ti;
            }
        }
    }
}
