/* A seeded wrist: an accelerometer and a PPG front end generated on the device, behind the same sample sources as
 * the chips (sensor_source.h). Boards without sensors (native, vwrist, f405 under QEMU) run live mode on it, so live
 * mode with its raw tap is tested where no chip exists.
 *
 * Like a chip, it samples on its own clock: the caller tells it how much time has passed (seeded_wrist_advance),
 * the samples that fell due wait in a FIFO of SEEDED_WRIST_FIFO_DEPTH samples per channel (the MAX3010x's and the
 * LSM9DS1's depth), and what overflows it is dropped and counted, never silent. At speed N its clock runs N times
 * faster and its FIFO holds N times as many samples, so it covers the same wall time.
 *
 * The wearer: a posture that changes every few minutes, and per SEEDED_WRIST_SCENE_S an activity drawn from the
 * seed (still, fidgeting or walking) that sets the arm's movement and the heart: rate, respiratory sinus
 * arrhythmia and beat-to-beat scatter. Integer arithmetic only, and each channel draws from its own generator, so
 * a seed gives the same samples on every board however the channels' reads interleave. The signal need not match
 * any Python generator: live mode streams the samples it processed (the raw tap) and the host's twins check the
 * device on those. */
#ifndef VIGIL_SEEDED_WRIST_H
#define VIGIL_SEEDED_WRIST_H

#include <stdint.h>

#include "sensors/sensor_source.h"

#define SEEDED_WRIST_FIFO_DEPTH 32u   /* samples per channel at speed 1 */
#define SEEDED_WRIST_ACCEL_RATE_HZ 50u
#define SEEDED_WRIST_ACCEL_FULL_SCALE_G 8u
#define SEEDED_WRIST_PPG_FULL_SCALE_COUNTS 65536u /* 16-bit counts, mid-scale 32768 */
#define SEEDED_WRIST_PPG_ADC_BITS 16u
#define SEEDED_WRIST_PPG_FULL_SCALE_NA 32768u
#define SEEDED_WRIST_SCENE_S 120u     /* one activity per two minutes */
#define SEEDED_WRIST_POSTURE_S 420u   /* one posture per seven minutes */
#define SEEDED_WRIST_SPEED_MAX 1000u

typedef enum seeded_activity {
    SEEDED_STILL = 0,
    SEEDED_FIDGETING = 1,
    SEEDED_WALKING = 2,
} seeded_activity_t;

typedef struct seeded_channel {
    uint32_t rng;       /* xorshift32 state: this channel's own draws */
    uint64_t made;      /* samples generated since the start: delivered + dropped */
    uint64_t due;       /* samples the clock has made due since the start */
    uint32_t rate_hz;
    sensor_counters_t counters;
} seeded_channel_t;

typedef struct seeded_wrist {
    uint32_t seed;
    uint32_t speed;
    seeded_channel_t accel, ppg;
    /* accelerometer: a twitch in progress */
    uint32_t twitch_left;  /* samples */
    uint32_t twitch_len;
    int32_t twitch_mg;
    uint8_t twitch_axis;
    /* PPG: the beats around the current sample, in 1/256 sample */
    uint64_t last_beat_q8;
    uint64_t next_beat_q8;
    accel_source_t accel_source;
    ppg_source_t ppg_source;
} seeded_wrist_t;

/* Start a wearer: seed (any value), the PPG rate (Hz, 1..1000) and the speed (1..SEEDED_WRIST_SPEED_MAX). Returns
 * SENSOR_ERR_BAD_CONFIG for a rate or speed out of range. The sources (w->accel_source, w->ppg_source) read it. */
sensor_status_t seeded_wrist_init(seeded_wrist_t *w, uint32_t seed, uint16_t ppg_rate_hz, uint32_t speed);

/* The clock: `elapsed` ticks of a `ticks_per_second` clock since init (monotonic). Samples due by then enter the
 * FIFOs; a full FIFO drops the oldest (counted). */
void seeded_wrist_advance(seeded_wrist_t *w, uint64_t elapsed, uint32_t ticks_per_second);

/* The activity at second `s` of the wearer's day. */
seeded_activity_t seeded_wrist_activity(uint32_t seed, uint32_t s);

#endif
