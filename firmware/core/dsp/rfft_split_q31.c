#include "dsp/stft_kernels.h"

#define ROUND_Q30 ((int64_t)1 << 29)
#define QUARTER (STFT_CFFT_N / 2u) /* k of theta = pi/2 in the cosine table */

/* 2 X[k] from A = Z[k], B = conj(Z[CFFT_N - k]): S = A + B, D = A - B, 2X = S + (-sin - i cos) D. */
static void split_bin(const int32_t *za, const int32_t *zb, size_t k, int32_t *out)
{
    const int32_t c = STFT_COS_Q30[k];
    const int32_t s = STFT_COS_Q30[k <= QUARTER ? QUARTER - k : k - QUARTER];
    const int32_t sr = za[0] + zb[0], si = za[1] - zb[1];
    const int32_t dr = za[0] - zb[0], di = za[1] + zb[1];
    out[0] = sr + (int32_t)(((int64_t)c * di - (int64_t)s * dr + ROUND_Q30) >> 30);
    out[1] = si + (int32_t)((-((int64_t)c * dr) - (int64_t)s * di + ROUND_Q30) >> 30);
}

void rfft_split_q31(int32_t *z)
{
    /* Bins k and CFFT_N - k read the same two values: compute both before overwriting them. */
    for (size_t k = 1; k < QUARTER; k++) {
        int32_t lo[2], hi[2];
        split_bin(z + 2 * k, z + 2 * (STFT_CFFT_N - k), k, lo);
        split_bin(z + 2 * (STFT_CFFT_N - k), z + 2 * k, STFT_CFFT_N - k, hi);
        z[2 * k] = lo[0];
        z[2 * k + 1] = lo[1];
        z[2 * (STFT_CFFT_N - k)] = hi[0];
        z[2 * (STFT_CFFT_N - k) + 1] = hi[1];
    }
    int32_t mid[2];
    split_bin(z + 2 * QUARTER, z + 2 * QUARTER, QUARTER, mid);
    z[2 * QUARTER] = mid[0];
    z[2 * QUARTER + 1] = mid[1];
    /* DC and Nyquist are real: 2 X[0] = 2 (re + im) and 2 X[N/2] = 2 (re - im) of Z[0] (the general
     * formula with cos = +-1, sin = 0, whose products are exact). */
    const int32_t r0 = z[0], i0 = z[1];
    z[0] = 2 * (r0 + i0);
    z[1] = 2 * (r0 - i0);
}
