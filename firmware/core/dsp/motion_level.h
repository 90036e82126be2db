/* The accelerometer's motion level per 30-s epoch, for the stress alert's context (twin:
 * vigil.bundle.consensus_twin.motion_levels): level = floor(sum of |derivative| over the epoch's DSP_EPOCH_SAMPLES
 * samples / DSP_EPOCH_SAMPLES), saturated to uint16, in milli-g per sample. The derivative is the accelerometer
 * magnitude's first difference (dsp/accel_stft.h). Sum bound: 1500 * 32768 < 2^32. */
#ifndef VIGIL_MOTION_LEVEL_H
#define VIGIL_MOTION_LEVEL_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

#define MOTION_LEVEL_MAX 0xFFFFu

typedef struct motion_level {
    uint32_t sum;    /* of |derivative| in the current epoch */
    uint32_t filled; /* samples of the current epoch so far */
    uint32_t epoch;  /* the current epoch */
} motion_level_t;

void motion_level_init(motion_level_t *m);

/* Add n derivative samples; writes the level of each epoch they complete to levels (at most max, the caller
 * sizes it as n / DSP_EPOCH_SAMPLES + 1) and returns how many. The first completed epoch is m->epoch before
 * the call. */
size_t motion_level_push(motion_level_t *m, const int16_t *deriv, size_t n, uint16_t *levels, size_t max);

#endif
