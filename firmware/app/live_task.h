/* Live mode: the device reads its own sample sources on its own clock and hands what they deliver to the same
 * processing as the host's SAMPLES, chunk by chunk. Each chunk is laid out as a SAMPLES payload (channel, flags,
 * first_index, int16 values), so the raw tap can send it to the host as it is (RAW_SAMPLES) and the host's twins can
 * check every output on exactly what the device processed.
 *
 * The sources are the board's sensors where it has them; on boards without (native, vwrist, f405 under QEMU) the
 * seeded wrist (sensors/seeded_wrist.h) stands in. A sample a source's FIFO dropped is held in its place (the last
 * delivered sample repeated, in chunks of their own flagged VIGIL_RAW_FLAG_HELD), so the pipelines keep the
 * source's timeline (the accelerometer's epochs stay aligned with the PPG's segments) and the host's twins see what
 * the device processed; the drops are also counted in STATS (live_dropped). */
#ifndef VIGIL_LIVE_TASK_H
#define VIGIL_LIVE_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/vigil_protocol.h"
#include "sensors/seeded_wrist.h"
#include "sensors/sensor_source.h"

/* Samples per processed chunk: about half a second each, so the raw tap's frames stay few and a chunk's outputs
 * follow soon after its samples. */
#define LIVE_ACCEL_CHUNK 25u
#define LIVE_PPG_CHUNK 32u
#define LIVE_PAYLOAD_MAX (VIGIL_SAMPLE_HEADER_SIZE + 2u * 3u * LIVE_ACCEL_CHUNK)
_Static_assert(LIVE_PAYLOAD_MAX <= VIGIL_FRAME_MAX_PAYLOAD, "a live chunk must fit one frame");
_Static_assert(SEEDED_WRIST_SPEED_MAX == VIGIL_LIVE_SPEED_MAX, "the seeded wrist takes every speed the protocol allows");
_Static_assert(LIVE_PPG_CHUNK <= 3u * LIVE_ACCEL_CHUNK, "the payload buffer is sized by the accelerometer chunk");

typedef struct live_channel {
    uint32_t first_index; /* the source's number of the chunk's first sample */
    uint32_t dropped_seen; /* the source's drop count already held (or queued to be) */
    uint32_t to_hold;      /* dropped samples still to be held in their place */
    size_t n;              /* samples in the chunk so far */
} live_channel_t;

typedef struct live_task {
    bool on;
    seeded_wrist_t wrist;
    const accel_source_t *accel;
    const ppg_source_t *ppg;
    uint64_t start_tick;
    accel_mg_t accel_chunk[LIVE_ACCEL_CHUNK];
    uint32_t ppg_chunk[LIVE_PPG_CHUNK];
    accel_mg_t accel_last; /* the last sample delivered: what a dropped one is held at */
    uint32_t ppg_last;
    live_channel_t channel[2]; /* VIGIL_CHANNEL_ACCEL, VIGIL_CHANNEL_PPG */
    uint8_t payload[LIVE_PAYLOAD_MAX];
} live_task_t;

typedef struct live_totals {
    uint32_t samples;  /* samples delivered by the sources (xyz triplets and PPG samples) */
    uint32_t dropped;  /* samples the sources lost to FIFO overflow */
    uint32_t overruns; /* reads that found a FIFO overflowed */
} live_totals_t;

/* Start live mode on the seeded wrist (seed, PPG rate, speed: see seeded_wrist_init) from the board tick `now`.
 * False (and live mode off) for settings the source cannot take. */
bool live_task_start(live_task_t *t, uint32_t seed, uint16_t ppg_rate_hz, uint16_t speed, uint64_t now);

/* Start live mode on a board's own sources (its sensor drivers: sensors/max3010x.h, lsm9ds1_accel.h,
 * bmi270_accel.h), which sample on their own clocks; they must outlive the session. False (and live mode off) unless
 * live_task_sources_usable. */
bool live_task_start_sources(live_task_t *t, const accel_source_t *accel, const ppg_source_t *ppg, uint64_t now);

/* Whether the pipelines can take these sources as they are: the accelerometer at DSP_ACCEL_RATE_HZ, the PPG at one
 * of DSP_PPG_RATES_HZ with one value per sample (a MAX3010x in heart-rate mode, not SpO2). */
bool live_task_sources_usable(const accel_source_t *accel, const ppg_source_t *ppg);

void live_task_stop(live_task_t *t);

/* The end of a session: what the sources still hold and the channels' unfinished chunks, with every dropped sample
 * held, a chunk per call (of the channel further behind in time), laid out in t->payload (length returned; 0: nothing
 * left), so that a session that ends loses nothing its sources sampled. */
uint16_t live_task_flush(live_task_t *t);

/* Read the sources at board tick `now`; when a channel's chunk is complete (or a drop ends it early), or held
 * samples are due, lay them out as a SAMPLES payload in t->payload and return its length, else 0. One chunk per
 * call, of the channel further behind in time. */
uint16_t live_task_poll(live_task_t *t, uint64_t now, uint32_t ticks_per_second);

/* What the sources delivered and lost since live_task_start (zeros when live mode never ran). */
live_totals_t live_task_totals(const live_task_t *t);

#endif
