#include "dsp/ppg_quality.h"

#include "dsp/hrv_features.h"

void ppg_quality_reset(ppg_quality_t *q)
{
    *q = (ppg_quality_t){0};
}

void ppg_quality_update(ppg_quality_t *q, const int16_t *raw, size_t n)
{
    size_t i = 0;
    if (n > 0 && !q->started) {
        q->started = true;
        q->prev = q->max = q->min = raw[0];
        q->at_max = q->at_min = 0;
        q->run = q->longest = 1;
        i = 1;
    }
    for (; i < n; i++) {
        const int16_t x = raw[i];
        const bool same = x == q->prev;
        if (same) {
            if (q->run < UINT16_MAX) {
                q->run++;
            }
            if (q->run > q->longest) {
                q->longest = q->run;
            }
        } else {
            q->run = 1;
        }
        if (x > q->max) {
            q->max = x;
            q->at_max = 0;
        } else if (x == q->max && same && q->at_max < UINT16_MAX) {
            q->at_max++;
        }
        if (x < q->min) {
            q->min = x;
            q->at_min = 0;
        } else if (x == q->min && same && q->at_min < UINT16_MAX) {
            q->at_min++;
        }
        q->prev = x;
    }
}

uint8_t ppg_quality_flags(const ppg_quality_t *q, uint16_t flat_run, uint16_t clip_min)
{
    uint8_t flags = 0;
    if (!q->started) {
        return flags;
    }
    if (q->longest >= flat_run) {
        flags |= HRV_FLAG_FLAT;
    }
    if (q->max > q->min && (uint32_t)q->at_max + q->at_min >= clip_min) {
        flags |= HRV_FLAG_CLIPPED;
    }
    return flags;
}
