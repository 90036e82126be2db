#include "dsp/biquad_cascade_q30.h"

#if (-1 >> 1) != -1
#error biquad_cascade_q30 needs arithmetic right shifts of negative values
#endif

void biquad_cascade_q30_init(biquad_cascade_q30_t *s, uint8_t n_sections, const int32_t (*coeffs)[BIQUAD_COEFFS],
                             int32_t (*state)[BIQUAD_STATE])
{
    s->coeffs = coeffs;
    s->state = state;
    s->n_sections = n_sections;
    for (uint8_t k = 0; k < n_sections; k++) {
        for (unsigned j = 0; j < BIQUAD_STATE; j++) {
            state[k][j] = 0;
        }
    }
}

void biquad_cascade_q30_prime_dc(biquad_cascade_q30_t *s, int32_t x0)
{
    for (uint8_t k = 0; k < s->n_sections; k++) {
        s->state[k][0] = k == 0 ? x0 : 0;
        s->state[k][1] = k == 0 ? x0 : 0;
        s->state[k][2] = 0;
        s->state[k][3] = 0;
        s->state[k][4] = 0;
    }
}

void biquad_cascade_q30(biquad_cascade_q30_t *s, const int32_t *src, int32_t *dst, size_t n)
{
    const int64_t half = (int64_t)1 << (BIQUAD_Q - 1);
    const int32_t *in = src;
    /* Section by section over the whole block: the coefficients and state stay in registers. */
    for (uint8_t k = 0; k < s->n_sections; k++) {
        const int32_t *c = s->coeffs[k];
        int32_t *st = s->state[k];
        const int64_t b0 = c[0], b1 = c[1], b2 = c[2], na1 = c[3], na2 = c[4];
        int32_t x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
        int64_t e1 = st[4];
        for (size_t i = 0; i < n; i++) {
            const int32_t x0 = in[i];
            const int64_t acc = b0 * x0 + b1 * x1 + b2 * x2 + na1 * y1 + na2 * y2 + e1;
            const int64_t q = (acc + half) >> BIQUAD_Q;
            int32_t y0;
            if (q > INT32_MAX) { /* saturation drops the error feedback, which no longer means anything */
                y0 = INT32_MAX;
                e1 = 0;
            } else if (q < INT32_MIN) {
                y0 = INT32_MIN;
                e1 = 0;
            } else {
                y0 = (int32_t)q;
                e1 = acc - q * ((int64_t)1 << BIQUAD_Q);
            }
            x2 = x1;
            x1 = x0;
            y2 = y1;
            y1 = y0;
            dst[i] = y0;
        }
        st[0] = x1;
        st[1] = x2;
        st[2] = y1;
        st[3] = y2;
        st[4] = (int32_t)e1;
        in = dst;
    }
}
