/* Sleep input on the device: accelerometer samples -> derivative -> the sleep model's input, each output streamed to
 * the host. Which input is compiled follows the models (vigil_models.h, SLEEP_MODEL_INPUT_CONTEXT):
 *   context model: derivative -> per-epoch features (EPOCH_FEATURES) -> the last epochs' context -> models_on_context
 *                  for the epoch DSP_SLEEP_CONTEXT_DELAY back;
 *   epoch image:   derivative -> STFT columns (SPEC_COLUMN) -> epoch images (EPOCH_IMAGE) -> models_on_epoch.
 * Both: the derivative trace (TRACE_DERIV) and each epoch's motion level for the SLEEP record and the stress context. */
#ifndef VIGIL_ACCEL_TASK_H
#define VIGIL_ACCEL_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/accel_stft.h"
#include "dsp/motion_level.h"
#include "link.h"
#include "models.h"
#include "stage_cost.h"
#if SLEEP_MODEL_INPUT_CONTEXT
#include "dsp/epoch_features.h"
#include "dsp/sleep_context.h"
#else
#include "dsp/epoch_image.h"
#endif

/* Largest block of xyz samples one SAMPLES frame can carry. */
#define ACCEL_TASK_MAX_BLOCK ((VIGIL_FRAME_MAX_PAYLOAD - VIGIL_SAMPLE_HEADER_SIZE) / 6u)
/* Motion levels of the last epochs: the sleep model decides epoch t by the end of epoch t + MODELS_SLEEP_DELAY_EPOCHS,
 * so the level of the decided epoch is always among the last MODELS_SLEEP_DELAY_EPOCHS + 2 (accel_task.c checks and
 * sends 0xFFFF if not). */
#define ACCEL_TASK_MOTION_EPOCHS (MODELS_SLEEP_DELAY_EPOCHS + 2u)
#define ACCEL_TASK_MAX_LEVELS (ACCEL_TASK_MAX_BLOCK / DSP_EPOCH_SAMPLES + 1u)
#define ACCEL_TASK_MAX_SECOND_LEVELS (ACCEL_TASK_MAX_BLOCK / MOTION_WINDOW_SECOND + 1u)

typedef struct accel_task {
    accel_stft_t stft; /* the derivative's state (and the STFT's, for the epoch image) */
#if SLEEP_MODEL_INPUT_CONTEXT
    epoch_features_t features;
    sleep_context_t context;
    int8_t new_vectors[EPOCH_FEATURES_MAX_EPOCHS(ACCEL_TASK_MAX_BLOCK) * DSP_EPOCH_FEATURES];
#else
    epoch_image_t images;
    int8_t columns[ACCEL_STFT_MAX_COLUMNS(ACCEL_TASK_MAX_BLOCK) * DSP_STFT_BINS];
#endif
    uint32_t next_sample; /* index of the next xyz sample */
    motion_level_t motion;
    uint16_t motion_levels[ACCEL_TASK_MOTION_EPOCHS]; /* epoch e at e % ACCEL_TASK_MOTION_EPOCHS */
    uint16_t new_levels[ACCEL_TASK_MAX_LEVELS];
    motion_level_t second_motion;                          /* per second: the PPG beats' motion reference */
    uint16_t new_second_levels[ACCEL_TASK_MAX_SECOND_LEVELS];
    size_t n_new_seconds;                                  /* seconds the last block completed */
    int16_t deriv[ACCEL_TASK_MAX_BLOCK];
    uint8_t out[VIGIL_FRAME_MAX_PAYLOAD];
} accel_task_t;

void accel_task_init(accel_task_t *t);

/* Process n xyz samples (3n int16); trace: also stream the derivative. Each epoch the sleep model can decide goes to
 * the models (sleep model, stress context). Returns how many epochs these samples completed; their motion levels are
 * t->new_levels[0 ..] (for the PPG pipeline's baseline); the levels of the seconds they completed are
 * t->new_second_levels[0 .. t->n_new_seconds) (for the PPG pipeline's beats). */
size_t accel_task_process(accel_task_t *t, const int16_t *xyz, size_t n, bool trace, link_t *link,
                          stage_costs_t *costs, models_t *models);

#endif
