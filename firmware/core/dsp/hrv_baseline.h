/* The wearer's own baseline of each HRV feature, and the features relative to it. Twin: vigil.dsp.hrv_baseline.
 *
 * People differ in resting heart rate and variability more than stress moves them; a feature taken relative to the
 * same person's usual value travels between people better. The baseline is causal (the device never sees the
 * future): the median of each feature over the last HRV_BASELINE_SEGMENTS valid segments, this one included, element
 * [n/2] of the n sorted values (the upper median for even n, as the IBI filter's). It is ready once
 * HRV_BASELINE_WARMUP valid segments are in it; before that, and for invalid segments, the relative features are 0.
 * rel[i] = feature[i] - median[i], in the feature's units (|rel| < 2^31: features are far below 2^30).
 * Cost: one insertion sort of at most HRV_BASELINE_SEGMENTS values per feature per segment (once a minute). */
#ifndef VIGIL_HRV_BASELINE_H
#define VIGIL_HRV_BASELINE_H

#include <stdint.h>

#include "dsp/hrv_features.h"
#include "dsp/ppg_tables.h" /* HRV_BASELINE_SEGMENTS, HRV_BASELINE_WARMUP, HRV_FEATURE_COUNT */

typedef struct hrv_baseline {
    int32_t ring[HRV_BASELINE_SEGMENTS][HRV_FEATURE_COUNT]; /* the last valid segments' features */
    uint16_t n;                                             /* segments held, <= HRV_BASELINE_SEGMENTS */
    uint16_t next;                                          /* ring slot of the next one */
} hrv_baseline_t;

void hrv_baseline_reset(hrv_baseline_t *b);

/* A finished segment: when valid its features join the baseline; then f's baseline_n, baseline_ready and rel. */
void hrv_baseline_apply(hrv_baseline_t *b, hrv_features_t *f);

#endif
