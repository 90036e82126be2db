/* Live mode (live_task.h): sources -> chunks laid out as SAMPLES payloads. */
#include "live_task.h"

#include <string.h>

#include "protocol/frame.h"

bool live_task_start(live_task_t *t, uint32_t seed, uint16_t ppg_rate_hz, uint16_t speed, uint64_t now)
{
    memset(t, 0, sizeof *t);
    if (seeded_wrist_init(&t->wrist, seed, ppg_rate_hz, speed) != SENSOR_OK) {
        return false;
    }
    t->accel = &t->wrist.accel_source;
    t->ppg = &t->wrist.ppg_source;
    t->start_tick = now;
    t->on = true;
    return true;
}

void live_task_stop(live_task_t *t)
{
    t->on = false;
}

/* A PPG count as the pipeline's int16: the top 16 bits of the source's count field, centred on mid-scale. */
static int16_t ppg_value(uint32_t count, uint32_t full_scale_counts)
{
    while (full_scale_counts > 65536u) {
        count >>= 1;
        full_scale_counts >>= 1;
    }
    return (int16_t)((int32_t)(count & 0xFFFFu) - 32768);
}

static uint16_t lay_out(live_task_t *t, uint8_t channel)
{
    live_channel_t *c = &t->channel[channel];
    uint8_t *p = t->payload;
    p[0] = channel;
    p[1] = 0u;
    put_u32(p + 2, c->first_index);
    size_t n = VIGIL_SAMPLE_HEADER_SIZE;
    for (size_t i = 0; i < c->n; i++) {
        if (channel == VIGIL_CHANNEL_ACCEL) {
            put_u16(p + n, (uint16_t)t->accel_chunk[i].x);
            put_u16(p + n + 2, (uint16_t)t->accel_chunk[i].y);
            put_u16(p + n + 4, (uint16_t)t->accel_chunk[i].z);
            n += 6u;
        } else {
            put_u16(p + n, (uint16_t)ppg_value(t->ppg_chunk[i], t->ppg->full_scale_counts));
            n += 2u;
        }
    }
    c->first_index += (uint32_t)c->n;
    c->n = 0;
    return (uint16_t)n;
}

/* Fill one channel's chunk from its source; returns whether the chunk is ready to go out. */
static bool fill(live_task_t *t, uint8_t channel, const sensor_counters_t *counters, size_t chunk)
{
    live_channel_t *c = &t->channel[channel];
    if (counters->dropped != c->dropped_at_first) {
        if (c->n) {
            return true; /* the samples after a drop do not follow on: the chunk ends here */
        }
        c->first_index += counters->dropped - c->dropped_at_first;
        c->dropped_at_first = counters->dropped;
    }
    size_t got = 0;
    if (channel == VIGIL_CHANNEL_ACCEL) {
        (void)accel_source_read(t->accel, t->accel_chunk + c->n, chunk - c->n, &got);
    } else {
        (void)ppg_source_read(t->ppg, t->ppg_chunk + c->n, chunk - c->n, &got);
    }
    c->n += got;
    return c->n == chunk;
}

uint16_t live_task_flush(live_task_t *t, uint8_t channel)
{
    if (!t->on || channel > VIGIL_CHANNEL_PPG || t->channel[channel].n == 0u) {
        return 0u;
    }
    return lay_out(t, channel);
}

uint16_t live_task_poll(live_task_t *t, uint64_t now, uint32_t ticks_per_second)
{
    if (!t->on) {
        return 0u;
    }
    seeded_wrist_advance(&t->wrist, now - t->start_tick, ticks_per_second);
    if (fill(t, VIGIL_CHANNEL_ACCEL, t->accel->counters, LIVE_ACCEL_CHUNK)) {
        return lay_out(t, VIGIL_CHANNEL_ACCEL);
    }
    if (fill(t, VIGIL_CHANNEL_PPG, t->ppg->counters, LIVE_PPG_CHUNK)) {
        return lay_out(t, VIGIL_CHANNEL_PPG);
    }
    return 0u;
}

live_totals_t live_task_totals(const live_task_t *t)
{
    live_totals_t out = {0u, 0u, 0u};
    if (t->accel && t->ppg) {
        out.samples = t->accel->counters->delivered + t->ppg->counters->delivered;
        out.dropped = t->accel->counters->dropped + t->ppg->counters->dropped;
        out.overruns = t->accel->counters->overruns + t->ppg->counters->overruns;
    }
    return out;
}
