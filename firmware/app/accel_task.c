#include "accel_task.h"

#include <string.h>

void accel_task_init(accel_task_t *t)
{
    accel_stft_init(&t->stft);
    epoch_image_init(&t->images);
    motion_level_init(&t->motion);
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

void accel_task_process(accel_task_t *t, const int16_t *xyz, size_t n, bool trace, link_t *link,
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
    stage_end(costs, VIGIL_STAGE_ACCEL_DERIVATIVE, began, (uint32_t)n);
    if (trace) {
        send_trace(t, n, link);
    }

    began = stage_begin();
    size_t first_column = t->images.columns;
    size_t n_cols = accel_stft_columns(&t->stft, t->deriv, n, t->columns, ACCEL_STFT_MAX_COLUMNS(ACCEL_TASK_MAX_BLOCK));
    stage_end(costs, VIGIL_STAGE_STFT, began, (uint32_t)n);
    t->next_sample += (uint32_t)n;

    for (size_t c = 0; c < n_cols; c++) {
        const int8_t *column = t->columns + c * DSP_STFT_BINS;
        send_column(t, (uint32_t)(first_column + c), column, link);
        epoch_image_info_t info;
        began = stage_begin();
        bool complete = epoch_image_push(&t->images, column, &info);
        stage_end(costs, VIGIL_STAGE_EPOCH_IMAGE, began, 0);
        if (complete) {
            send_image(t, &info, link);
            bool kept = info.epoch < t->motion.epoch && t->motion.epoch - info.epoch <= ACCEL_TASK_MOTION_EPOCHS;
            uint16_t motion = kept ? t->motion_levels[info.epoch % ACCEL_TASK_MOTION_EPOCHS] : MOTION_LEVEL_MAX;
            models_on_epoch(models, &t->images, &info, motion, link, costs);
        }
    }
}
