/* Raw-signal quality of one segment: flat line and clipping. Twin: vigil.dsp.hrv.segment_quality.
 *
 * Over the raw int16 samples of the segment (the first sample of a segment has no predecessor):
 *   FLAT     the longest run of exactly equal consecutive samples is >= flat_run (2 s): a detached or
 *            saturated sensor; real PPG never holds one ADC value that long.
 *   CLIPPED  max > min and the number of samples equal to the segment's max whose predecessor is
 *            also equal to it, plus the same at the min, is >= clip_min (1 % of the segment): a
 *            signal cut by the ADC's range piles up on plateaus at its extremes, an intact one only
 *            touches its extremes briefly. A constant segment is FLAT, not CLIPPED.
 * O(1) per sample, no buffer: the counts are reset whenever a new extreme appears. */
#ifndef VIGIL_PPG_QUALITY_H
#define VIGIL_PPG_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ppg_quality {
    bool started;     /* a sample of this segment has been seen */
    int16_t prev;
    int16_t max, min;
    uint16_t at_max, at_min; /* plateau samples at the running max / min */
    uint16_t run, longest;   /* current and longest run of equal samples */
} ppg_quality_t;

void ppg_quality_reset(ppg_quality_t *q);
void ppg_quality_update(ppg_quality_t *q, const int16_t *raw, size_t n);

/* HRV_FLAG_FLAT | HRV_FLAG_CLIPPED as they apply to the samples seen since the reset. */
uint8_t ppg_quality_flags(const ppg_quality_t *q, uint16_t flat_run, uint16_t clip_min);

#endif
