/* Stress input on the device: PPG samples -> band-pass -> beats -> IBIs -> HRV features per
 * segment, each output streamed to the host (BEAT, HRV, TRACE_PPG). */
#ifndef VIGIL_PPG_TASK_H
#define VIGIL_PPG_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/ppg_pipeline.h"
#include "link.h"
#include "models.h"
#include "stage_cost.h"

/* Samples filtered per step: one TRACE_PPG frame's worth. */
#define PPG_TASK_STEP VIGIL_TRACE_PPG_MAX

typedef struct ppg_task {
    ppg_pipeline_t pipe;
    uint16_t rate_hz;
    uint32_t next_sample;
    int32_t filtered[PPG_TASK_STEP];
    uint32_t beats[PPG_MAX_BEATS(PPG_TASK_STEP)];
    int32_t amps[PPG_MAX_BEATS(PPG_TASK_STEP)];
    hrv_features_t segments[PPG_MAX_SEGMENTS(PPG_TASK_STEP)];
    uint8_t out[VIGIL_FRAME_MAX_PAYLOAD];
} ppg_task_t;

/* False if the rate is not supported (the task is then unchanged). */
bool ppg_task_init(ppg_task_t *t, uint16_t rate_hz);

/* Closed HRV segments go to the models (stress trio + consensus). */
/* The motion level of the accelerometer's next epoch, for the wearer's baseline (ppg_pipeline_motion). */
void ppg_task_motion(ppg_task_t *t, uint16_t level);

/* The accelerometer's next 1-s motion level: the beats' motion reference (ppg_pipeline_motion_second). */
void ppg_task_motion_second(ppg_task_t *t, uint16_t level);

void ppg_task_process(ppg_task_t *t, const int16_t *raw, size_t n, bool trace, link_t *link, stage_costs_t *costs,
                      models_t *models);

#endif
