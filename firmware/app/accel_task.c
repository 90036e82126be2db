#include "accel_task.h"

#include <string.h>

void accel_task_init(accel_task_t *t)
{
    accel_stft_init(&t->stft);
#if SLEEP_MODEL_INPUT_CONTEXT
    epoch_features_init(&t->features);
    sleep_context_init(&t->context);
#else
    epoch_image_init(&t->images);
#endif
    motion_level_init(&t->motion, MOTION_WINDOW_EPOCH);
    motion_level_init(&t->second_motion, MOTION_WINDOW_SECOND);
    t->n_new_seconds = 0;
    t->next_sample = 0;
}

static void send_trace(accel_task_t *t, size_t n, link_t *link)
{
    put_u32(t->out, t->next_sample);
    for (size_t i = 0; i < n; i++) {
        put_u16(t->out + 4 + 2 * i, (uint16_t)t->deriv[i]);
    }
    link_send(link, VIGIL_MSG_TRACE_DERIV, t->out, (uint16_t)(4 + 2 * n));
}

/* The motion level of a completed epoch while it is kept, else MOTION_LEVEL_MAX. */
static uint16_t motion_of(const accel_task_t *t, uint32_t epoch)
{
    bool kept = epoch < t->motion.epoch && t->motion.epoch - epoch <= ACCEL_TASK_MOTION_EPOCHS;
    return kept ? t->motion_levels[epoch % ACCEL_TASK_MOTION_EPOCHS] : MOTION_LEVEL_MAX;
}

#if SLEEP_MODEL_INPUT_CONTEXT
_Static_assert(VIGIL_EPOCH_FEATURES_SIZE == 4u + DSP_EPOCH_FEATURES, "EPOCH_FEATURES: epoch u32 + the vector");

static void send_features(accel_task_t *t, uint32_t epoch, const int8_t *vector, link_t *link)
{
    put_u32(t->out, epoch);
    memcpy(t->out + 4, vector, DSP_EPOCH_FEATURES);
    link_send(link, VIGIL_MSG_EPOCH_FEATURES, t->out, VIGIL_EPOCH_FEATURES_SIZE);
}

static void sleep_input(accel_task_t *t, const int16_t *xyz, size_t n, link_t *link, stage_costs_t *costs,
                        models_t *models)
{
    uint64_t began = stage_begin();
    uint32_t first_epoch = t->features.epoch;
    size_t n_epochs = epoch_features_push(&t->features, xyz, t->deriv, n, t->new_vectors,
                                          EPOCH_FEATURES_MAX_EPOCHS(ACCEL_TASK_MAX_BLOCK));
    stage_end(costs, VIGIL_STAGE_EPOCH_FEATURES, began, (uint32_t)n);
    for (size_t k = 0; k < n_epochs; k++) {
        const int8_t *vector = t->new_vectors + k * DSP_EPOCH_FEATURES;
        send_features(t, first_epoch + (uint32_t)k, vector, link);
        uint32_t decided = 0u;
        began = stage_begin();
        bool due = sleep_context_push(&t->context, vector, &decided);
        stage_end(costs, VIGIL_STAGE_EPOCH_FEATURES, began, 0);
        if (due) {
            models_on_context(models, &t->context, decided, motion_of(t, decided), link, costs);
        }
    }
}
#else
static void send_column(accel_task_t *t, uint32_t index, const int8_t *column, link_t *link)
{
    put_u32(t->out, index);
    memcpy(t->out + 4, column, DSP_STFT_BINS);
    link_send(link, VIGIL_MSG_SPEC_COLUMN, t->out, 4 + DSP_STFT_BINS);
}

static void send_image(accel_task_t *t, const epoch_image_info_t *info, link_t *link)
{
    put_u32(t->out, info->epoch);
    put_u32(t->out + 4, (uint32_t)info->first_column);
    put_u16(t->out + 8, DSP_IMAGE_FRAMES);
    put_u16(t->out + 10, DSP_STFT_BINS);
    put_u32(t->out + 12, info->crc);
    link_send(link, VIGIL_MSG_EPOCH_IMAGE, t->out, 16);
}

static void sleep_input(accel_task_t *t, const int16_t *xyz, size_t n, link_t *link, stage_costs_t *costs,
                        models_t *models)
{
    (void)xyz;
    uint64_t began = stage_begin();
    size_t first_column = t->images.columns;
    size_t n_cols = accel_stft_columns(&t->stft, t->deriv, n, t->columns, ACCEL_STFT_MAX_COLUMNS(ACCEL_TASK_MAX_BLOCK));
    stage_end(costs, VIGIL_STAGE_STFT, began, (uint32_t)n);

    for (size_t c = 0; c < n_cols; c++) {
        const int8_t *column = t->columns + c * DSP_STFT_BINS;
        send_column(t, (uint32_t)(first_column + c), column, link);
        epoch_image_info_t info;
        began = stage_begin();
        bool complete = epoch_image_push(&t->images, column, &info);
        stage_end(costs, VIGIL_STAGE_EPOCH_IMAGE, began, 0);
        if (complete) {
            send_image(t, &info, link);
            models_on_epoch(models, &t->images, &info, motion_of(t, info.epoch), link, costs);
        }
    }
}
#endif

size_t accel_task_process(accel_task_t *t, const int16_t *xyz, size_t n, bool trace, link_t *link,
                          stage_costs_t *costs, models_t *models)
{
    if (n > ACCEL_TASK_MAX_BLOCK) {
        n = ACCEL_TASK_MAX_BLOCK; /* the caller bounds blocks by the frame size; never overrun */
    }
    uint64_t began = stage_begin();
    accel_stft_derivative(&t->stft, xyz, n, t->deriv);
    uint32_t first_level = t->motion.epoch;
    size_t n_levels = motion_level_push(&t->motion, t->deriv, n, t->new_levels, ACCEL_TASK_MAX_LEVELS);
    for (size_t i = 0; i < n_levels; i++) {
        t->motion_levels[(first_level + i) % ACCEL_TASK_MOTION_EPOCHS] = t->new_levels[i];
    }
    t->n_new_seconds =
        motion_level_push(&t->second_motion, t->deriv, n, t->new_second_levels, ACCEL_TASK_MAX_SECOND_LEVELS);
    stage_end(costs, VIGIL_STAGE_ACCEL_DERIVATIVE, began, (uint32_t)n);
    if (trace) {
        send_trace(t, n, link);
    }
    sleep_input(t, xyz, n, link, costs, models);
    t->next_sample += (uint32_t)n;
    return n_levels;
}
