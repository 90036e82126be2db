#include "dsp/hrv_baseline.h"

void hrv_baseline_reset(hrv_baseline_t *b)
{
    *b = (hrv_baseline_t){0};
}

static int32_t column_median(const hrv_baseline_t *b, unsigned feature)
{
    int32_t v[HRV_BASELINE_SEGMENTS];
    const unsigned n = b->n;
    for (unsigned i = 0; i < n; i++) {
        const int32_t x = b->ring[i][feature];
        unsigned j = i;
        while (j > 0 && v[j - 1] > x) { /* insertion sort, built as the values are read */
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return v[n / 2u];
}

void hrv_baseline_admit(hrv_baseline_t *b, bool still)
{
    if (b->has_pending && still) {
        for (unsigned i = 0; i < HRV_FEATURE_COUNT; i++) {
            b->ring[b->next][i] = b->pending[i];
        }
        b->next = (uint16_t)((b->next + 1u) % HRV_BASELINE_SEGMENTS);
        if (b->n < HRV_BASELINE_SEGMENTS) {
            b->n++;
        }
    }
    b->has_pending = false;
}

void hrv_baseline_apply(hrv_baseline_t *b, hrv_features_t *f)
{
    int32_t x[HRV_FEATURE_COUNT];
    hrv_feature_values(f, x);
    f->baseline_n = b->n;
    f->baseline_ready = b->n >= HRV_BASELINE_WARMUP;
    for (unsigned i = 0; i < HRV_FEATURE_COUNT; i++) {
        f->rel[i] = f->valid && f->baseline_ready ? x[i] - column_median(b, i) : 0;
        b->pending[i] = x[i];
    }
    b->has_pending = f->valid != 0u;
}
