/* The wearer's own baseline of each HRV feature, and the features relative to it. Twin: vigil.dsp.hrv_baseline.
 *
 * People differ in resting heart rate and variability more than stress moves them; a feature taken relative to the
 * same person's usual value travels between people better. The baseline is causal (the device never sees the
 * future): the median of each feature over the last HRV_BASELINE_SEGMENTS segments that were valid and still, element
 * [n/2] of the n sorted values (the upper median for even n, as the IBI filter's). A segment is still when the
 * accelerometer's motion level of both its 30-s epochs is <= HRV_BASELINE_MOTION_MAX (the caller judges, from
 * dsp/motion_level.h; with no accelerometer every segment counts as still): a usual value is a resting one. Whether
 * a segment is still is known only once its accelerometer epochs are in, so a valid segment waits (pending) and
 * joins when the next segment closes: segment s is measured against the segments before it.
 * The baseline is ready once HRV_BASELINE_WARMUP segments are in it; before that, and for invalid segments, the
 * relative features are 0. rel[i] = feature[i] - median[i], in the feature's units (|rel| < 2^31: features are far
 * below 2^30).
 * Per closed segment, in order: hrv_baseline_admit (the pending one joins or not), then hrv_baseline_apply.
 * Cost: one insertion sort of at most HRV_BASELINE_SEGMENTS values per feature per segment (once a minute). */
#ifndef VIGIL_HRV_BASELINE_H
#define VIGIL_HRV_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "dsp/hrv_features.h"
#include "dsp/ppg_tables.h" /* HRV_BASELINE_SEGMENTS, HRV_BASELINE_WARMUP, HRV_FEATURE_COUNT */

typedef struct hrv_baseline {
    int32_t ring[HRV_BASELINE_SEGMENTS][HRV_FEATURE_COUNT]; /* the last valid segments' features */
    uint16_t n;                                             /* segments held, <= HRV_BASELINE_SEGMENTS */
    uint16_t next;                                          /* ring slot of the next one */
    int32_t pending[HRV_FEATURE_COUNT];                     /* the last closed segment's features, if it was valid */
    bool has_pending;
} hrv_baseline_t;

void hrv_baseline_reset(hrv_baseline_t *b);

/* The previous segment, when it was valid, joins the baseline if `still`; either way it is no longer pending. */
void hrv_baseline_admit(hrv_baseline_t *b, bool still);

/* A closed segment: f's baseline_n, baseline_ready and rel against the baseline so far; f becomes pending if valid. */
void hrv_baseline_apply(hrv_baseline_t *b, hrv_features_t *f);

#endif
