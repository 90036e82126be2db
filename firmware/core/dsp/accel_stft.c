#include "dsp/accel_stft.h"

#include "dsp/stft_kernels.h"

_Static_assert(DSP_STFT_N <= UINT16_MAX && DSP_STFT_HOP <= DSP_STFT_N, "ring indexes are uint16");

void accel_stft_init(accel_stft_t *s)
{
    for (size_t i = 0; i < DSP_STFT_N; i++) {
        s->ring[i] = 0;
    }
    s->prev_mag = 0;
    s->pos = 0;
    s->to_next = DSP_STFT_N;
    s->started = 0;
    s->reserved = 0;
    s->columns_dropped = 0;
}

void accel_stft_derivative(accel_stft_t *s, const int16_t *xyz, size_t n, int16_t *deriv)
{
    if (n == 0) {
        return;
    }
    /* The magnitudes go through deriv itself (uint16 and int16 may alias), then are differenced in place. */
    uint16_t *mag = (uint16_t *)deriv;
    accel_magnitude_u16(xyz, n, mag);
    if (!s->started) {
        s->prev_mag = mag[0];
        s->started = 1;
    }
    const uint16_t last = mag[n - 1];
    diff_sat_i16(mag, n, s->prev_mag, deriv);
    s->prev_mag = last;
}

size_t accel_stft_columns_db(accel_stft_t *s, const int16_t *deriv, size_t n, int8_t *columns, int32_t *db,
                             size_t max_columns)
{
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        s->ring[s->pos] = deriv[i];
        s->pos = (uint16_t)((s->pos + 1u) & (DSP_STFT_N - 1u));
        if (--s->to_next != 0) {
            continue;
        }
        s->to_next = DSP_STFT_HOP;
        if (written == max_columns) {
            s->columns_dropped++;
            continue;
        }
        stft_column_q31(s->ring, s->pos, columns + written * DSP_STFT_BINS, db ? db + written * DSP_STFT_BINS : NULL);
        written++;
    }
    return written;
}

size_t accel_stft_columns(accel_stft_t *s, const int16_t *deriv, size_t n, int8_t *columns, size_t max_columns)
{
    return accel_stft_columns_db(s, deriv, n, columns, NULL, max_columns);
}
