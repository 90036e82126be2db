/* The accelerometer's motion level per window: per 30-s epoch for the stress alert's context and the baseline's
 * stillness, per second for the beats' motion reference (twin: vigil.dsp.accel.motion_levels): level = floor(sum of
 * |derivative| over the window's samples / window), saturated to uint16, in milli-g per sample. The derivative is the
 * accelerometer magnitude's first difference (dsp/accel_stft.h). Sum bound: MOTION_WINDOW_MAX * 32768 < 2^32. */
#ifndef VIGIL_MOTION_LEVEL_H
#define VIGIL_MOTION_LEVEL_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

#define MOTION_LEVEL_MAX 0xFFFFu
#define MOTION_WINDOW_EPOCH DSP_EPOCH_SAMPLES       /* a 30-s epoch */
#define MOTION_WINDOW_SECOND DSP_ACCEL_RATE_HZ      /* one second */
#define MOTION_WINDOW_MAX (1u << 16)                /* keeps the sum in 32 bits */

typedef struct motion_level {
    uint32_t window; /* samples per level */
    uint32_t sum;    /* of |derivative| in the current window */
    uint32_t filled; /* samples of the current window so far */
    uint32_t epoch;  /* the current window's index */
} motion_level_t;

/* window: samples per level, 1 .. MOTION_WINDOW_MAX (MOTION_WINDOW_EPOCH, MOTION_WINDOW_SECOND). */
void motion_level_init(motion_level_t *m, uint32_t window);

/* Add n derivative samples; writes the level of each window they complete to levels (at most max, the caller
 * sizes it as n / window + 1) and returns how many. The first completed window is m->epoch before the call. */
size_t motion_level_push(motion_level_t *m, const int16_t *deriv, size_t n, uint16_t *levels, size_t max);

#endif
