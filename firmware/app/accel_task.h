/* Sleep input on the device: accelerometer samples -> derivative -> STFT columns -> epoch
 * images, each output streamed to the host (SPEC_COLUMN, EPOCH_IMAGE, TRACE_DERIV). */
#ifndef VIGIL_ACCEL_TASK_H
#define VIGIL_ACCEL_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/accel_stft.h"
#include "dsp/epoch_image.h"
#include "dsp/motion_level.h"
#include "link.h"
#include "models.h"
#include "stage_cost.h"

/* Largest block of xyz samples one SAMPLES frame can carry. */
#define ACCEL_TASK_MAX_BLOCK ((VIGIL_FRAME_MAX_PAYLOAD - VIGIL_SAMPLE_HEADER_SIZE) / 6u)
/* Motion levels of the last epochs: an epoch's image completes < 2 epochs after the epoch itself, so the level
 * of the image's epoch is always among the last 4 (accel_task.c checks and sends 0xFFFF if not). */
#define ACCEL_TASK_MOTION_EPOCHS 4u
#define ACCEL_TASK_MAX_LEVELS (ACCEL_TASK_MAX_BLOCK / DSP_EPOCH_SAMPLES + 1u)

typedef struct accel_task {
    accel_stft_t stft;
    epoch_image_t images;
    uint32_t next_sample; /* index of the next xyz sample */
    motion_level_t motion;
    uint16_t motion_levels[ACCEL_TASK_MOTION_EPOCHS]; /* epoch e at e % ACCEL_TASK_MOTION_EPOCHS */
    uint16_t new_levels[ACCEL_TASK_MAX_LEVELS];
    int16_t deriv[ACCEL_TASK_MAX_BLOCK];
    int8_t columns[ACCEL_STFT_MAX_COLUMNS(ACCEL_TASK_MAX_BLOCK) * DSP_STFT_BINS];
    uint8_t out[VIGIL_FRAME_MAX_PAYLOAD];
} accel_task_t;

void accel_task_init(accel_task_t *t);

/* Process n xyz samples (3n int16); trace: also stream the derivative. */
/* Process n xyz samples (3n int16); trace: also stream the derivative. Completed epoch images go to the
 * models (sleep CNN, stress context). */
void accel_task_process(accel_task_t *t, const int16_t *xyz, size_t n, bool trace, link_t *link,
                        stage_costs_t *costs, models_t *models);

#endif
