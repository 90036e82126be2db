#include "dsp/stft_kernels.h"

void diff_sat_i16(const uint16_t *x, size_t n, uint16_t prev, int16_t *d)
{
    for (size_t i = 0; i < n; i++) {
        const uint16_t cur = x[i]; /* read before d[i] may overwrite it (in place) */
        int32_t v = (int32_t)cur - (int32_t)prev;
        if (v > INT16_MAX) {
            v = INT16_MAX;
        } else if (v < INT16_MIN) {
            v = INT16_MIN;
        }
        d[i] = (int16_t)v;
        prev = cur;
    }
}
