#include "dsp/stft_kernels.h"

static int8_t db_to_image(int32_t db)
{
    const int64_t steps = ((int64_t)db * STFT_DB_TO_IMAGE_MUL + ((int64_t)1 << (STFT_DB_TO_IMAGE_SHIFT - 1u))) >>
                          STFT_DB_TO_IMAGE_SHIFT;
    const int64_t q = steps + DSP_IMAGE_ZERO_POINT;
    return (int8_t)(q < INT8_MIN ? INT8_MIN : q > INT8_MAX ? INT8_MAX : q);
}

static void put_bin(int8_t *column, int32_t *db, size_t k, int32_t re, int32_t im, int32_t exp2)
{
    const int32_t v = power_db_q16((uint64_t)((int64_t)re * re + (int64_t)im * im), exp2);
    column[k] = db_to_image(v);
    if (db) {
        db[k] = v;
    }
}

void stft_column_q31(const int16_t *ring, size_t oldest, int8_t *column, int32_t *db)
{
    int32_t z[2 * STFT_CFFT_N];
    const int32_t g = stft_window_scale_q31(ring, oldest, z);
    if (g == STFT_SILENT) {
        for (size_t k = 0; k < DSP_STFT_BINS; k++) {
            column[k] = INT8_MIN;
            if (db) {
                db[k] = STFT_DB_ZERO_POWER;
            }
        }
        return;
    }
    cfft_q31(z);
    rfft_split_q31(z);
    /* z holds 2^(g+1) X: |X|^2 = p * 2^-(2g+2) */
    const int32_t exp2 = 2 * g + 2;
    put_bin(column, db, 0, z[0], 0, exp2);
    for (size_t k = 1; k < STFT_CFFT_N; k++) {
        put_bin(column, db, k, z[2 * k], z[2 * k + 1], exp2);
    }
    put_bin(column, db, STFT_CFFT_N, z[1], 0, exp2);
}
