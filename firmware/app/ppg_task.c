#include "ppg_task.h"

bool ppg_task_init(ppg_task_t *t, uint16_t rate_hz)
{
    /* Validate the rate on a scratch copy (a refused rate leaves the task unchanged), then initialize in place:
     * the pipeline points into itself (the biquad cascade's state), so a struct copy would leave that pointer
     * on this function's stack frame, where later calls overwrite it. */
    ppg_pipeline_t probe;
    if (!ppg_pipeline_init(&probe, rate_hz)) {
        return false;
    }
    (void)ppg_pipeline_init(&t->pipe, rate_hz);
    t->rate_hz = rate_hz;
    t->next_sample = 0;
    return true;
}

static void send_trace(ppg_task_t *t, size_t n, link_t *link)
{
    put_u32(t->out, t->next_sample);
    for (size_t i = 0; i < n; i++) {
        put_u32(t->out + 4 + 4 * i, (uint32_t)t->filtered[i]);
    }
    link_send(link, VIGIL_MSG_TRACE_PPG, t->out, (uint16_t)(4 + 4 * n));
}

#define HRV_EXTRA_AT (39u + 4u * HRV_FEATURE_COUNT)
_Static_assert(VIGIL_HRV_SIZE == HRV_EXTRA_AT + 4u * HRV_EXTRA_COUNT + 1u,
               "HRV: fields, baseline, relative features, the extra features, spectrum_ready");

static void send_hrv(ppg_task_t *t, const hrv_features_t *f, link_t *link)
{
    uint8_t *p = t->out;
    put_u32(p, f->segment);
    p[4] = f->valid;
    p[5] = f->flags;
    put_u16(p + 6, f->n_beats);
    put_u16(p + 8, f->n_ibis);
    put_u16(p + 10, f->n_rejected);
    int32_t values[HRV_FEATURE_COUNT];
    hrv_feature_values(f, values);
    for (size_t i = 0; i < HRV_FEATURE_COUNT; i++) {
        put_u32(p + 12 + 4 * i, (uint32_t)values[i]);
    }
    put_u16(p + 36, f->baseline_n);
    p[38] = f->baseline_ready;
    for (size_t i = 0; i < HRV_FEATURE_COUNT; i++) {
        put_u32(p + 39 + 4 * i, (uint32_t)f->rel[i]);
    }
    int32_t extra[HRV_EXTRA_COUNT];
    hrv_extra_values(f, extra);
    for (size_t i = 0; i < HRV_EXTRA_COUNT; i++) {
        put_u32(p + HRV_EXTRA_AT + 4 * i, (uint32_t)extra[i]);
    }
    p[HRV_EXTRA_AT + 4 * HRV_EXTRA_COUNT] = f->spectrum_ready;
    link_send(link, VIGIL_MSG_HRV, p, VIGIL_HRV_SIZE);
}

void ppg_task_motion(ppg_task_t *t, uint16_t level)
{
    ppg_pipeline_motion(&t->pipe, level);
}

void ppg_task_motion_second(ppg_task_t *t, uint16_t level)
{
    ppg_pipeline_motion_second(&t->pipe, level);
}

static void process_step(ppg_task_t *t, const int16_t *raw, size_t n, bool trace, link_t *link, stage_costs_t *costs,
                         models_t *models)
{
    uint64_t began = stage_begin();
    ppg_filter(&t->pipe, raw, n, t->filtered);
    stage_end(costs, VIGIL_STAGE_PPG_FILTER, began, (uint32_t)n);
    if (trace) {
        send_trace(t, n, link);
    }
    t->next_sample += (uint32_t)n;

    began = stage_begin();
    size_t n_beats = ppg_detect_beats(&t->pipe, t->filtered, n, t->beats, t->amps, PPG_MAX_BEATS(PPG_TASK_STEP));
    stage_end(costs, VIGIL_STAGE_PPG_BEATS, began, (uint32_t)n);
    for (size_t b = 0; b < n_beats; b++) {
        put_u32(t->out, t->beats[b]);
        link_send(link, VIGIL_MSG_BEAT, t->out, 4);
    }

    began = stage_begin();
    size_t n_seg = ppg_segments(&t->pipe, raw, n, t->beats, t->amps, n_beats, t->segments,
                                PPG_MAX_SEGMENTS(PPG_TASK_STEP));
    stage_end(costs, VIGIL_STAGE_HRV, began, (uint32_t)n);
    for (size_t s = 0; s < n_seg; s++) {
        send_hrv(t, &t->segments[s], link);
        models_on_segment(models, &t->segments[s], link, costs);
    }
}

void ppg_task_process(ppg_task_t *t, const int16_t *raw, size_t n, bool trace, link_t *link, stage_costs_t *costs,
                      models_t *models)
{
    for (size_t done = 0; done < n; done += PPG_TASK_STEP) {
        size_t step = n - done < PPG_TASK_STEP ? n - done : PPG_TASK_STEP;
        process_step(t, raw + done, step, trace, link, costs, models);
    }
}
