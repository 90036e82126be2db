/* The seeded wrist (seeded_wrist.h): a wearer's accelerometer and PPG, made sample by sample from a seed. */
#include "sensors/seeded_wrist.h"
#include "mix32.h"

#include <string.h>

/* Posture: the direction of gravity in the chip's axes (milli-g, each of length 1000). */
#define SEEDED_POSTURES 8u
static const int16_t seeded_posture_mg[SEEDED_POSTURES][3] = {
    {0, 0, 1000}, {0, 0, -1000}, {0, 1000, 0}, {1000, 0, 0}, {600, 0, 800}, {0, -600, 800}, {-800, 600, 0},
    {480, 600, 640},
};

/* Accelerometer (milli-g) per activity: sensor noise, twitch odds (1 in N samples) and the walking arm swing. */
#define SEEDED_ACCEL_NOISE_MG 2
#define SEEDED_WALK_NOISE_MG 25
#define SEEDED_STILL_TWITCH_ODDS 3000u
#define SEEDED_FIDGET_TWITCH_ODDS 150u
#define SEEDED_TWITCH_MIN_SAMPLES 10u
#define SEEDED_TWITCH_SPREAD_SAMPLES 30u
#define SEEDED_TWITCH_MIN_MG 60u
#define SEEDED_TWITCH_SPREAD_MG 240u
#define SEEDED_SWING_PERIOD 28u /* samples: 1.8 Hz steps at 50 Hz */
#define SEEDED_SWING_MG_PER_STEP 60

/* PPG: mean interval, respiratory sinus arrhythmia (half range) and scatter, ms, per activity; pulse height in
 * counts; the pulse's shape in ms (upstroke, systolic fall, diastolic wave's delay and half width). */
static const int32_t seeded_ibi_ms[3] = {960, 820, 610};
static const int32_t seeded_rsa_ms[3] = {45, 25, 8};
static const int32_t seeded_scatter_ms[3] = {30, 20, 10};
static const int32_t seeded_pulse_counts[3] = {2500, 2200, 1800};
#define SEEDED_RESP_PERIOD_MS 4000u
#define SEEDED_RISE_MS 110
#define SEEDED_FALL_MS 280
#define SEEDED_DIA_DELAY_MS 330
#define SEEDED_DIA_HALF_MS 110
#define SEEDED_SHAPE_ONE 4096 /* Q12 */
#define SEEDED_WANDER_PERIOD_MS 17000u
#define SEEDED_WANDER_COUNTS 300
#define SEEDED_PPG_NOISE_COUNTS 20
#define SEEDED_ARTIFACT_PERIOD_MS 560u
#define SEEDED_ARTIFACT_COUNTS 900
#define SEEDED_PPG_MID 32768
#define SEEDED_PPG_MAX 65535

static uint32_t next_u32(uint32_t *state) /* xorshift32 */
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static int32_t uniform(uint32_t *state, int32_t half_range) /* in [-half_range, half_range] */
{
    return (int32_t)(next_u32(state) % (uint32_t)(2 * half_range + 1)) - half_range;
}

/* A triangle wave of the given period at `t`: 0 at the period's start and end, `period / 2` halfway. */
static uint32_t triangle(uint64_t t, uint32_t period)
{
    uint32_t ph = (uint32_t)(t % period);
    return ph < period / 2u ? ph : period - ph;
}

seeded_activity_t seeded_wrist_activity(uint32_t seed, uint32_t s)
{
    uint32_t draw = mix32(seed ^ mix32(s / SEEDED_WRIST_SCENE_S + 0x51ed270bu)) % 100u;
    return draw < 55u ? SEEDED_STILL : draw < 85u ? SEEDED_FIDGETING : SEEDED_WALKING;
}

static const int16_t *posture(uint32_t seed, uint32_t s)
{
    return seeded_posture_mg[mix32(seed + 0x9e3779b9u * (s / SEEDED_WRIST_POSTURE_S + 1u)) % SEEDED_POSTURES];
}

static void make_accel(seeded_wrist_t *w, accel_mg_t *out)
{
    seeded_channel_t *c = &w->accel;
    uint32_t s = (uint32_t)(c->made / SEEDED_WRIST_ACCEL_RATE_HZ);
    seeded_activity_t act = seeded_wrist_activity(w->seed, s);
    const int16_t *g = posture(w->seed, s);
    int32_t v[3] = {g[0], g[1], g[2]};
    int32_t noise = act == SEEDED_WALKING ? SEEDED_WALK_NOISE_MG : SEEDED_ACCEL_NOISE_MG;
    for (unsigned a = 0; a < 3u; a++) {
        v[a] += uniform(&c->rng, noise);
    }
    uint32_t odds = act == SEEDED_FIDGETING ? SEEDED_FIDGET_TWITCH_ODDS : SEEDED_STILL_TWITCH_ODDS;
    if (w->twitch_left == 0u && act != SEEDED_WALKING && next_u32(&c->rng) % odds == 0u) {
        w->twitch_len = SEEDED_TWITCH_MIN_SAMPLES + next_u32(&c->rng) % SEEDED_TWITCH_SPREAD_SAMPLES;
        w->twitch_left = w->twitch_len;
        w->twitch_mg = (int32_t)(SEEDED_TWITCH_MIN_MG + next_u32(&c->rng) % SEEDED_TWITCH_SPREAD_MG);
        w->twitch_mg = next_u32(&c->rng) & 1u ? w->twitch_mg : -w->twitch_mg;
        w->twitch_axis = (uint8_t)(next_u32(&c->rng) % 3u);
    }
    if (w->twitch_left) {
        uint32_t at = w->twitch_len - w->twitch_left;
        v[w->twitch_axis] += w->twitch_mg * (int32_t)triangle(at, w->twitch_len) / (int32_t)(w->twitch_len / 2u);
        w->twitch_left--;
    }
    if (act == SEEDED_WALKING) {
        int32_t swing = ((int32_t)triangle(c->made, SEEDED_SWING_PERIOD) - (int32_t)SEEDED_SWING_PERIOD / 4) *
                        SEEDED_SWING_MG_PER_STEP;
        v[0] += swing;
        v[2] += swing / 2;
    }
    out->x = (int16_t)v[0];
    out->y = (int16_t)v[1];
    out->z = (int16_t)v[2];
}

static uint64_t q8_to_ms(const seeded_wrist_t *w, uint64_t q8)
{
    return q8 * 1000u / (256u * w->ppg.rate_hz);
}

/* The next beat's systolic peak after the one at `beat_q8`, its interval set by the activity of that moment. */
static uint64_t next_beat(seeded_wrist_t *w, uint64_t beat_q8)
{
    uint64_t t_ms = q8_to_ms(w, beat_q8);
    seeded_activity_t act = seeded_wrist_activity(w->seed, (uint32_t)(t_ms / 1000u));
    int32_t rsa = ((int32_t)triangle(t_ms, SEEDED_RESP_PERIOD_MS) - (int32_t)SEEDED_RESP_PERIOD_MS / 4) *
                  seeded_rsa_ms[act] / ((int32_t)SEEDED_RESP_PERIOD_MS / 4);
    int32_t ibi_ms = seeded_ibi_ms[act] + rsa + uniform(&w->ppg.rng, seeded_scatter_ms[act]);
    return beat_q8 + (uint64_t)ibi_ms * w->ppg.rate_hz * 256u / 1000u;
}

static int32_t bump(int64_t ms, int32_t half_ms) /* (1 - (ms / half)^2)+ in Q12 */
{
    if (ms <= -half_ms || ms >= half_ms) {
        return 0;
    }
    return (int32_t)(SEEDED_SHAPE_ONE - ms * ms * SEEDED_SHAPE_ONE / ((int64_t)half_ms * half_ms));
}

static int32_t rising(int64_t to_peak_ms) /* the upstroke: ((rise - t) / rise)^2 in Q12 */
{
    if (to_peak_ms < 0 || to_peak_ms >= SEEDED_RISE_MS) {
        return 0;
    }
    int64_t d = SEEDED_RISE_MS - to_peak_ms;
    return (int32_t)(d * d * SEEDED_SHAPE_ONE / (SEEDED_RISE_MS * SEEDED_RISE_MS));
}

static int32_t falling(int64_t since_ms) /* the systolic fall: ((fall - t) / fall)^2 in Q12 */
{
    if (since_ms < 0 || since_ms >= SEEDED_FALL_MS) {
        return 0;
    }
    int64_t d = SEEDED_FALL_MS - since_ms;
    return (int32_t)(d * d * SEEDED_SHAPE_ONE / (SEEDED_FALL_MS * SEEDED_FALL_MS));
}

static uint32_t make_ppg(seeded_wrist_t *w)
{
    seeded_channel_t *c = &w->ppg;
    uint64_t now_q8 = c->made << 8;
    while (now_q8 >= w->next_beat_q8) {
        w->last_beat_q8 = w->next_beat_q8;
        w->next_beat_q8 = next_beat(w, w->last_beat_q8);
    }
    uint64_t t_ms = q8_to_ms(w, now_q8);
    seeded_activity_t act = seeded_wrist_activity(w->seed, (uint32_t)(t_ms / 1000u));
    int64_t since = (int64_t)q8_to_ms(w, now_q8 - w->last_beat_q8);
    int64_t to_next = (int64_t)q8_to_ms(w, w->next_beat_q8 - now_q8);
    int32_t up = rising(to_next), down = falling(since);
    int32_t shape = (up > down ? up : down) + bump(since - SEEDED_DIA_DELAY_MS, SEEDED_DIA_HALF_MS) * 2 / 5;
    int32_t v = SEEDED_PPG_MID + seeded_pulse_counts[act] * shape / SEEDED_SHAPE_ONE;
    v += ((int32_t)triangle(t_ms, SEEDED_WANDER_PERIOD_MS) - (int32_t)SEEDED_WANDER_PERIOD_MS / 4) *
         SEEDED_WANDER_COUNTS / ((int32_t)SEEDED_WANDER_PERIOD_MS / 4);
    v += uniform(&c->rng, SEEDED_PPG_NOISE_COUNTS);
    if (act == SEEDED_WALKING) {
        v += ((int32_t)triangle(t_ms, SEEDED_ARTIFACT_PERIOD_MS) - (int32_t)SEEDED_ARTIFACT_PERIOD_MS / 4) *
             SEEDED_ARTIFACT_COUNTS / ((int32_t)SEEDED_ARTIFACT_PERIOD_MS / 4);
    }
    return (uint32_t)(v < 0 ? 0 : v > SEEDED_PPG_MAX ? SEEDED_PPG_MAX : v);
}

static uint64_t pending(const seeded_channel_t *c)
{
    return c->due - c->made;
}

static sensor_status_t read_accel(void *driver, accel_mg_t *out, size_t max, size_t *n_read)
{
    seeded_wrist_t *w = driver;
    size_t n = 0;
    for (; n < max && pending(&w->accel); n++) {
        make_accel(w, &out[n]);
        w->accel.made++;
    }
    w->accel.counters.delivered += (uint32_t)n;
    *n_read = n;
    return SENSOR_OK;
}

static sensor_status_t read_ppg(void *driver, uint32_t *out, size_t max, size_t *n_read)
{
    seeded_wrist_t *w = driver;
    size_t n = 0;
    for (; n < max && pending(&w->ppg); n++) {
        out[n] = make_ppg(w);
        w->ppg.made++;
    }
    w->ppg.counters.delivered += (uint32_t)n;
    *n_read = n;
    return SENSOR_OK;
}

static void channel_init(seeded_channel_t *c, uint32_t seed, uint32_t salt, uint32_t rate_hz)
{
    memset(c, 0, sizeof *c);
    c->rng = mix32(seed ^ salt) | 1u; /* xorshift never leaves or reaches 0 */
    c->rate_hz = rate_hz;
}

sensor_status_t seeded_wrist_init(seeded_wrist_t *w, uint32_t seed, uint16_t ppg_rate_hz, uint32_t speed)
{
    if (ppg_rate_hz == 0u || ppg_rate_hz > 1000u || speed == 0u || speed > SEEDED_WRIST_SPEED_MAX) {
        return SENSOR_ERR_BAD_CONFIG;
    }
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->speed = speed;
    channel_init(&w->accel, seed, 0xacce1u, SEEDED_WRIST_ACCEL_RATE_HZ);
    channel_init(&w->ppg, seed, 0x9961u, ppg_rate_hz);
    w->last_beat_q8 = 0u;
    w->next_beat_q8 = (uint64_t)(next_u32(&w->ppg.rng) % ppg_rate_hz) << 8; /* the first beat within a second */
    w->accel_source = (accel_source_t){w, read_accel, &w->accel.counters, SEEDED_WRIST_ACCEL_RATE_HZ,
                                       SEEDED_WRIST_ACCEL_FULL_SCALE_G};
    w->ppg_source = (ppg_source_t){w, read_ppg, &w->ppg.counters, ppg_rate_hz, 1u, SEEDED_WRIST_PPG_ADC_BITS,
                                   SEEDED_WRIST_PPG_FULL_SCALE_COUNTS, SEEDED_WRIST_PPG_FULL_SCALE_NA};
    return SENSOR_OK;
}

/* Whole seconds and the remainder apart, so that a week of a GHz clock times the rate cannot overflow. */
static uint64_t samples_due(uint64_t elapsed, uint32_t ticks_per_second, uint64_t rate)
{
    return elapsed / ticks_per_second * rate + elapsed % ticks_per_second * rate / ticks_per_second;
}

static void fill(seeded_wrist_t *w, seeded_channel_t *c, uint64_t due, int is_accel)
{
    c->due = due;
    uint64_t depth = (uint64_t)SEEDED_WRIST_FIFO_DEPTH * w->speed;
    if (pending(c) <= depth) {
        return;
    }
    uint64_t lost = pending(c) - depth; /* the chip overwrote its oldest samples: made, never delivered */
    for (uint64_t i = 0; i < lost; i++) {
        if (is_accel) {
            accel_mg_t sink;
            make_accel(w, &sink);
        } else {
            (void)make_ppg(w);
        }
        c->made++;
    }
    c->counters.dropped += (uint32_t)lost;
    c->counters.overruns++;
}

void seeded_wrist_advance(seeded_wrist_t *w, uint64_t elapsed, uint32_t ticks_per_second)
{
    fill(w, &w->accel, samples_due(elapsed, ticks_per_second, (uint64_t)w->accel.rate_hz * w->speed), 1);
    fill(w, &w->ppg, samples_due(elapsed, ticks_per_second, (uint64_t)w->ppg.rate_hz * w->speed), 0);
}
