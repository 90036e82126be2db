/* Live mode (live_task.h): sources -> chunks laid out as SAMPLES payloads. */
#include "live_task.h"

#include <string.h>

#include "dsp/dsp_config.h"
#include "dsp/ppg_tables.h"
#include "protocol/frame.h"

/* Both sources taken: the rates the pipelines run at, one PPG value per sample. */
static bool begin(live_task_t *t, const accel_source_t *accel, const ppg_source_t *ppg, uint64_t now)
{
    if (!live_task_sources_usable(accel, ppg)) {
        return false;
    }
    t->accel = accel;
    t->ppg = ppg;
    t->start_tick = now;
    t->ppg_last = ppg->full_scale_counts / 2u; /* mid-scale until a sample came */
    t->on = true;
    return true;
}

bool live_task_sources_usable(const accel_source_t *accel, const ppg_source_t *ppg)
{
    return accel && ppg && accel->read && ppg->read && accel->counters && ppg->counters &&
           accel->rate_hz == DSP_ACCEL_RATE_HZ && ppg->channels == 1u && ppg_rate_table(ppg->rate_hz) != NULL &&
           ppg->full_scale_counts >= 2u;
}

bool live_task_start(live_task_t *t, uint32_t seed, uint16_t ppg_rate_hz, uint16_t speed, uint64_t now)
{
    memset(t, 0, sizeof *t);
    if (seeded_wrist_init(&t->wrist, seed, ppg_rate_hz, speed) != SENSOR_OK) {
        return false;
    }
    return begin(t, &t->wrist.accel_source, &t->wrist.ppg_source, now);
}

bool live_task_start_sources(live_task_t *t, const accel_source_t *accel, const ppg_source_t *ppg, uint64_t now)
{
    memset(t, 0, sizeof *t);
    return begin(t, accel, ppg, now);
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

static uint16_t lay_out(live_task_t *t, uint8_t channel, uint8_t flags)
{
    live_channel_t *c = &t->channel[channel];
    uint8_t *p = t->payload;
    p[0] = channel;
    p[1] = flags;
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

/* A chunk of held samples standing in for dropped ones: the last delivered sample, repeated. */
static uint16_t hold(live_task_t *t, uint8_t channel, size_t chunk)
{
    live_channel_t *c = &t->channel[channel];
    c->n = c->to_hold < chunk ? c->to_hold : chunk;
    for (size_t i = 0; i < c->n; i++) {
        if (channel == VIGIL_CHANNEL_ACCEL) {
            t->accel_chunk[i] = t->accel_last;
        } else {
            t->ppg_chunk[i] = t->ppg_last;
        }
    }
    c->to_hold -= (uint32_t)c->n;
    return lay_out(t, channel, VIGIL_RAW_FLAG_HELD);
}

/* One channel: a chunk ready to go out (its length), or 0. `last`: the session ends, so an unfinished chunk goes
 * out as it is once the source has nothing more. */
static uint16_t poll_channel(live_task_t *t, uint8_t channel, bool last)
{
    const sensor_counters_t *counters = channel == VIGIL_CHANNEL_ACCEL ? t->accel->counters : t->ppg->counters;
    const size_t chunk = channel == VIGIL_CHANNEL_ACCEL ? LIVE_ACCEL_CHUNK : LIVE_PPG_CHUNK;
    live_channel_t *c = &t->channel[channel];
    if (counters->dropped != c->dropped_seen) {
        if (c->n) {
            return lay_out(t, channel, 0u); /* the samples after a drop do not follow on: the chunk ends here */
        }
        c->to_hold += counters->dropped - c->dropped_seen;
        c->dropped_seen = counters->dropped;
    }
    if (c->to_hold) {
        return hold(t, channel, chunk);
    }
    size_t got = 0;
    if (channel == VIGIL_CHANNEL_ACCEL) {
        (void)accel_source_read(t->accel, t->accel_chunk + c->n, chunk - c->n, &got);
        if (got) {
            t->accel_last = t->accel_chunk[c->n + got - 1u];
        }
    } else {
        (void)ppg_source_read(t->ppg, t->ppg_chunk + c->n, chunk - c->n, &got);
        if (got) {
            t->ppg_last = t->ppg_chunk[c->n + got - 1u];
        }
    }
    c->n += got;
    return c->n == chunk || (last && c->n) ? lay_out(t, channel, 0u) : 0u; /* last: the source is empty */
}

/* Whether the accelerometer's next chunk starts no later than the PPG's (in time). */
static bool accel_behind(const live_task_t *t)
{
    uint64_t accel_at = (uint64_t)t->channel[VIGIL_CHANNEL_ACCEL].first_index * t->ppg->rate_hz;
    uint64_t ppg_at = (uint64_t)t->channel[VIGIL_CHANNEL_PPG].first_index * t->accel->rate_hz;
    return accel_at <= ppg_at;
}

/* The next chunk of the channel further behind in time, else of the other. */
static uint16_t next_chunk(live_task_t *t, bool last)
{
    uint8_t first = accel_behind(t) ? VIGIL_CHANNEL_ACCEL : VIGIL_CHANNEL_PPG;
    uint16_t len = poll_channel(t, first, last);
    return len ? len : poll_channel(t, (uint8_t)(VIGIL_CHANNEL_ACCEL + VIGIL_CHANNEL_PPG - first), last);
}

uint16_t live_task_flush(live_task_t *t)
{
    return t->on ? next_chunk(t, true) : 0u;
}

uint16_t live_task_poll(live_task_t *t, uint64_t now, uint32_t ticks_per_second)
{
    if (!t->on) {
        return 0u;
    }
    if (t->accel == &t->wrist.accel_source) { /* a chip samples on its own clock; the seeded wrist on the board's */
        seeded_wrist_advance(&t->wrist, now - t->start_tick, ticks_per_second);
    }
    /* the channel further behind in time first, so that neither runs ahead when the device is busy (as a replay
     * sends frames in order of their start): the baseline needs the accelerometer's epochs with the PPG's minutes */
    return next_chunk(t, false);
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
