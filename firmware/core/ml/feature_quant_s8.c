#include "ml/feature_quant_s8.h"

#define FEATURE_QUANT_S8_MIN (-128)
#define FEATURE_QUANT_S8_MAX 127

void feature_quant_s8(const feature_quant_s8_t *q, const int32_t *raw, int8_t *out)
{
    for (uint32_t f = 0u; f < q->n_features; f++) {
        /* Arithmetic right shift of a negative int64: floor on every compiler this project targets (gcc, clang);
         * the twin uses numpy's >>, also floor. */
        int64_t v = ((int64_t)raw[f] * q->mul[f] + q->add[f]) >> q->shift[f];
        if (v < FEATURE_QUANT_S8_MIN) {
            v = FEATURE_QUANT_S8_MIN;
        } else if (v > FEATURE_QUANT_S8_MAX) {
            v = FEATURE_QUANT_S8_MAX;
        }
        out[f] = (int8_t)v;
    }
}
