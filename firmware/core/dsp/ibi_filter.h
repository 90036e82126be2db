/* Inter-beat intervals with artifact rejection. Twin: vigil.dsp.hrv.IbiFilter.
 *
 * IBIs are kept in samples (exact differences of beat indices); milliseconds only appear in the
 * features. For each beat after the first, the IBI to the previous beat is:
 *   - REJECT_RANGE  if it is outside [ibi_min, ibi_max] (300 ms .. 2000 ms, i.e. 200 .. 30 bpm);
 *   - REJECT_CHANGE if fewer than PPG_IBI_MIN_HISTORY in-range IBIs have been seen (no reference yet), or
 *                   if 100 * |ibi - ref| > change_pct * ref, where ref is the median (element
 *                   [k/2] of the k sorted values, k <= PPG_IBI_HISTORY) of the last PPG_IBI_HISTORY in-range
 *                   IBIs, rejected ones included, so that the reference follows a real change of
 *                   heart rate within three beats and one artifact cannot drag it;
 *   - ACCEPT        otherwise;
 *   - INTERPOLATED  instead of either reject when one beat was missed: the previous IBI was accepted,
 *                   100 * |ibi - 2 ref| <= change_pct * ref, and both halves, ibi / 2 and ibi - ibi / 2,
 *                   are in range. The caller counts the two halves as IBIs (a wrist PPG misses single
 *                   beats often; condemning the interval cost more segments than any other rule). Without
 *                   the previous acceptance, a burst of noise that halves the history's median would have
 *                   true intervals split in two (heart rate doubled).
 *   - MOVING        before all of these, when the caller says the wrist moved during the span (the accelerometer
 *                   is the motion reference, ppg_pipeline.h) and the span is at most 2 ibi_max + 1 (one that could
 *                   otherwise be accepted or interpolated): left out, neither accepted nor rejected, and not in the
 *                   history; the next IBI has no previous accepted one. A moving wrist's intervals say nothing about
 *                   the heart, neither for the features nor against the segment's validity.
 * A successive difference (for RMSSD, pNN) exists only between two adjacent accepted IBIs: never
 * across an interpolated one, whose halves are equal by construction. */
#ifndef VIGIL_IBI_FILTER_H
#define VIGIL_IBI_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "dsp/ppg_tables.h" /* PPG_IBI_HISTORY, PPG_IBI_MIN_HISTORY */

typedef enum ibi_verdict {
    IBI_NONE = 0,      /* the first beat: no interval yet */
    IBI_ACCEPT,
    IBI_REJECT_RANGE,
    IBI_REJECT_CHANGE,
    IBI_INTERPOLATED, /* one missed beat: two IBIs of ibi / 2 and ibi - ibi / 2 */
    IBI_MOVING,       /* the wrist moved during the interval: left out */
} ibi_verdict_t;

typedef struct ibi_params {
    uint16_t ibi_min;    /* samples */
    uint16_t ibi_max;    /* samples */
    uint16_t change_pct; /* successive-change limit, percent of the reference */
} ibi_params_t;

typedef struct ibi_filter {
    ibi_params_t prm;
    uint16_t history[PPG_IBI_HISTORY]; /* ring of the last in-range IBIs */
    uint8_t hist_n, hist_next;
    bool have_beat;
    bool prev_accepted; /* the previous IBI was accepted */
    uint32_t last_beat;
    uint16_t prev_ibi;
} ibi_filter_t;

typedef struct ibi_result {
    ibi_verdict_t verdict;
    uint16_t ibi;   /* samples (0 for IBI_NONE; saturated at 65535) */
    bool has_diff;  /* this and the previous IBI are both accepted and adjacent */
    int32_t diff;   /* ibi - previous ibi, samples */
} ibi_result_t;

void ibi_filter_init(ibi_filter_t *f, const ibi_params_t *prm);

/* The next beat (absolute sample index, increasing); moving: the wrist moved since the previous beat. */
ibi_result_t ibi_filter_push(ibi_filter_t *f, uint32_t beat, bool moving);

#endif
