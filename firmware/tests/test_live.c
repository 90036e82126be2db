/* The seeded wrist (core/sensors/seeded_wrist.c) and live mode's chunking (app/live_task.c), on a simulated clock. */
#include <string.h>

#include "check.h"
#include "fake_i2c.h"
#include "../app/live_task.h"
#include "protocol/frame.h"
#include "sensors/lsm9ds1_accel.h"
#include "sensors/max3010x.h"
#include "sensors/seeded_wrist.h"

#define TPS 1000000u /* a microsecond clock */

static uint32_t fnv(uint32_t h, const void *data, size_t n) /* FNV-1a: a fingerprint of what a source delivered */
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* A minute of one seed, read in two different patterns: the same samples, whatever the interleaving. */
static void test_same_seed_same_samples(check_totals_t *t)
{
    static seeded_wrist_t a, b;
    seeded_wrist_init(&a, 42u, 64u, 1u);
    seeded_wrist_init(&b, 42u, 64u, 1u);
    uint32_t ha_acc = 2166136261u, ha_ppg = 2166136261u, hb_acc = 2166136261u, hb_ppg = 2166136261u;
    accel_mg_t xyz[SEEDED_WRIST_FIFO_DEPTH];
    uint32_t ppg[SEEDED_WRIST_FIFO_DEPTH];
    size_t n;
    for (uint64_t ms = 10u; ms <= 60000u; ms += 10u) { /* a: every 10 ms, accelerometer first */
        seeded_wrist_advance(&a, ms * 1000u, TPS);
        accel_source_read(&a.accel_source, xyz, SEEDED_WRIST_FIFO_DEPTH, &n);
        ha_acc = fnv(ha_acc, xyz, n * sizeof xyz[0]);
        ppg_source_read(&a.ppg_source, ppg, SEEDED_WRIST_FIFO_DEPTH, &n);
        ha_ppg = fnv(ha_ppg, ppg, n * sizeof ppg[0]);
    }
    for (uint64_t ms = 250u; ms <= 60000u; ms += 250u) { /* b: every 250 ms, PPG first, a few at a time */
        seeded_wrist_advance(&b, ms * 1000u, TPS);
        do {
            ppg_source_read(&b.ppg_source, ppg, 3u, &n);
            hb_ppg = fnv(hb_ppg, ppg, n * sizeof ppg[0]);
        } while (n);
        do {
            accel_source_read(&b.accel_source, xyz, 7u, &n);
            hb_acc = fnv(hb_acc, xyz, n * sizeof xyz[0]);
        } while (n);
    }
    CHECK(t, a.accel.counters.delivered == 3000u && b.accel.counters.delivered == 3000u, "a minute is 3000 samples");
    CHECK(t, a.ppg.counters.delivered == 3840u && b.ppg.counters.delivered == 3840u, "a minute is 3840 PPG samples");
    CHECK(t, ha_acc == hb_acc && ha_ppg == hb_ppg, "the reads' pattern changed the samples");
    CHECK(t, a.accel.counters.dropped == 0u && b.ppg.counters.dropped == 0u, "nothing dropped when read in time");
    static seeded_wrist_t c;
    seeded_wrist_init(&c, 43u, 64u, 1u);
    seeded_wrist_advance(&c, 60000000u, TPS); /* a minute unread: the FIFO keeps its depth, drops the rest */
    CHECK(t, c.accel.counters.dropped == 3000u - SEEDED_WRIST_FIFO_DEPTH && c.accel.counters.overruns == 1u,
          "accelerometer dropped %u", (unsigned)c.accel.counters.dropped);
    CHECK(t, c.ppg.counters.dropped == 3840u - SEEDED_WRIST_FIFO_DEPTH, "PPG dropped %u",
          (unsigned)c.ppg.counters.dropped);
}

/* The wearer looks like one: gravity near 1 g when still, a pulse of about the activity's rate. */
static void test_wrist_like(check_totals_t *t)
{
    static seeded_wrist_t w;
    seeded_wrist_init(&w, 7u, 64u, 1000u);
    uint32_t still_s = 0u;
    while (seeded_wrist_activity(7u, still_s) != SEEDED_STILL) {
        still_s += SEEDED_WRIST_SCENE_S;
    }
    seeded_wrist_advance(&w, (uint64_t)(still_s + SEEDED_WRIST_SCENE_S) * TPS / 1000u, TPS);
    static accel_mg_t xyz[SEEDED_WRIST_FIFO_DEPTH * 1000u];
    static uint32_t ppg[SEEDED_WRIST_FIFO_DEPTH * 1000u];
    size_t n_acc, n_ppg;
    accel_source_read(&w.accel_source, xyz, sizeof xyz / sizeof xyz[0], &n_acc);
    ppg_source_read(&w.ppg_source, ppg, sizeof ppg / sizeof ppg[0], &n_ppg);
    /* the FIFO kept the last 32000 samples: all of the still scene's 120 s are in it */
    size_t first = n_acc - SEEDED_WRIST_SCENE_S * SEEDED_WRIST_ACCEL_RATE_HZ;
    size_t near_1g = 0u; /* |a| within 10 % of 1 g; the rest are the still wearer's rare twitches */
    for (size_t i = first; i < n_acc; i++) {
        int64_t m2 = (int64_t)xyz[i].x * xyz[i].x + (int64_t)xyz[i].y * xyz[i].y + (int64_t)xyz[i].z * xyz[i].z;
        near_1g += m2 > 810000 && m2 < 1210000;
    }
    CHECK(t, near_1g * 100u >= (n_acc - first) * 97u, "a still wrist: %u of %u samples near 1 g", (unsigned)near_1g,
          (unsigned)(n_acc - first));
    /* beats: upward crossings of the middle between the scene's extremes */
    size_t p0 = n_ppg - SEEDED_WRIST_SCENE_S * 64u;
    uint32_t lo = 0xFFFFFFFFu, hi = 0u;
    for (size_t i = p0; i < n_ppg; i++) {
        lo = ppg[i] < lo ? ppg[i] : lo;
        hi = ppg[i] > hi ? ppg[i] : hi;
    }
    uint32_t mid = lo + (hi - lo) / 2u, beats = 0u;
    for (size_t i = p0 + 1u; i < n_ppg; i++) {
        beats += ppg[i - 1u] < mid && ppg[i] >= mid;
    }
    CHECK(t, beats >= 110u && beats <= 140u, "%u beats in a still 2 minutes (about 62 per minute expected)",
          (unsigned)beats);
    CHECK(t, hi - lo > 2000u && hi < 65535u && lo > 0u, "PPG range %u..%u", (unsigned)lo, (unsigned)hi);
}

static void test_bad_settings_refused(check_totals_t *t)
{
    static seeded_wrist_t w;
    CHECK(t, seeded_wrist_init(&w, 1u, 64u, 0u) == SENSOR_ERR_BAD_CONFIG, "speed 0 taken");
    CHECK(t, seeded_wrist_init(&w, 1u, 64u, SEEDED_WRIST_SPEED_MAX + 1u) == SENSOR_ERR_BAD_CONFIG, "speed too high");
    CHECK(t, seeded_wrist_init(&w, 1u, 0u, 1u) == SENSOR_ERR_BAD_CONFIG, "rate 0 taken");
    CHECK(t, seeded_wrist_init(&w, 1u, 64u, SEEDED_WRIST_SPEED_MAX) == SENSOR_OK, "speed max refused");
}

typedef struct tap_position {
    uint32_t next[2]; /* the next sample index expected per channel */
    uint32_t held[2];
    uint32_t chunks;
    double worst_lead_s; /* how far one channel ran ahead of the other */
    int gap;
} tap_position_t;

/* What a host checks of each tapped chunk: indices that follow on, and the channels kept together in time. */
static void take(const live_task_t *lt, uint16_t len, tap_position_t *pos)
{
    uint8_t ch = lt->payload[0];
    uint32_t first = get_u32(lt->payload + 2);
    uint32_t count = (uint32_t)(len - VIGIL_SAMPLE_HEADER_SIZE) / (ch == VIGIL_CHANNEL_ACCEL ? 6u : 2u);
    pos->gap |= first != pos->next[ch];
    pos->next[ch] = first + count;
    pos->held[ch] += (lt->payload[1] & VIGIL_RAW_FLAG_HELD) ? count : 0u;
    pos->chunks++;
    double lead = (double)pos->next[VIGIL_CHANNEL_ACCEL] / lt->accel->rate_hz -
                  (double)pos->next[VIGIL_CHANNEL_PPG] / lt->ppg->rate_hz;
    lead = lead < 0 ? -lead : lead;
    pos->worst_lead_s = lead > pos->worst_lead_s ? lead : pos->worst_lead_s;
}

static void drain(live_task_t *lt, uint64_t now, tap_position_t *pos)
{
    uint16_t len;
    while ((len = live_task_poll(lt, now, TPS)) != 0u) {
        take(lt, len, pos);
    }
}

/* Live mode with a stall: the device does not poll for 3 s at speed 1000. The FIFOs drop, the drops are held in
 * their place, the indices follow on, and neither channel runs ahead of the other by more than a chunk or two. */
static void test_live_holds_drops_and_keeps_channels_together(check_totals_t *t)
{
    static live_task_t lt;
    CHECK(t, live_task_start(&lt, 5u, 64u, 1000u, 0u), "live start refused");
    tap_position_t pos;
    memset(&pos, 0, sizeof pos);
    uint64_t now = 0u;
    for (int step = 0; step < 200; step++) {
        now += (step == 50) ? 3u * TPS : TPS / 100u; /* a 3-s stall once, else every 10 ms */
        drain(&lt, now, &pos);
    }
    now += 3u * TPS; /* and one more just before the session ends: the end flushes a backlog */
    uint16_t len = live_task_poll(&lt, now, TPS);
    take(&lt, len, &pos);
    while ((len = live_task_flush(&lt)) != 0u) { /* the end of the session: the rest, still in time order */
        take(&lt, len, &pos);
    }
    live_totals_t totals = live_task_totals(&lt);
    CHECK(t, !pos.gap, "the tap's indices jumped");
    CHECK(t, totals.dropped > 0u && totals.overruns >= 2u, "the stall dropped nothing (%u)", (unsigned)totals.dropped);
    CHECK(t, pos.held[0] + pos.held[1] == totals.dropped, "held %u + %u, dropped %u", (unsigned)pos.held[0],
          (unsigned)pos.held[1], (unsigned)totals.dropped);
    CHECK(t, pos.next[0] + pos.next[1] == totals.samples + totals.dropped, "delivered + dropped != tapped");
    CHECK(t, pos.worst_lead_s <= 1.0, "one channel ran %.1f s ahead of the other", pos.worst_lead_s);
}

/* A session that ends with samples still in the sources' FIFOs and no chunk begun: the flush takes them all (it
 * once stopped at the first partial read and lost them). */
static void test_the_end_of_a_session_takes_what_the_fifos_hold(check_totals_t *t)
{
    static live_task_t lt;
    live_task_start(&lt, 8u, 64u, 1u, 0u);
    seeded_wrist_advance(&lt.wrist, TPS / 5u, TPS); /* 0.2 s: 10 accelerometer and 12 PPG samples, none read */
    tap_position_t pos;
    memset(&pos, 0, sizeof pos);
    uint16_t len;
    while ((len = live_task_flush(&lt)) != 0u) {
        take(&lt, len, &pos);
    }
    live_totals_t totals = live_task_totals(&lt);
    CHECK(t, pos.next[0] == 10u && pos.next[1] == 12u, "flushed %u + %u samples of 10 + 12", (unsigned)pos.next[0],
          (unsigned)pos.next[1]);
    CHECK(t, totals.samples == 22u && totals.dropped == 0u, "delivered %u", (unsigned)totals.samples);
}


/* What the chips test reads back from the tap: the delivered (not held) PPG values in order, and the accelerometer's
 * x and y against what the LSM9DS1 was given (x = 8 LSB per sample number, y = -8192 LSB). */
typedef struct chip_values {
    int16_t ppg_values[400];
    uint32_t ppg, accel, accel_wrong;
} chip_values_t;

static void collect(const live_task_t *lt, uint16_t len, chip_values_t *seen)
{
    uint32_t first = get_u32(lt->payload + 2);
    bool held = (lt->payload[1] & VIGIL_RAW_FLAG_HELD) != 0u;
    const uint8_t *v = lt->payload + VIGIL_SAMPLE_HEADER_SIZE;
    if (lt->payload[0] == VIGIL_CHANNEL_PPG && !held) {
        for (uint32_t j = 0u; j < (uint32_t)(len - VIGIL_SAMPLE_HEADER_SIZE) / 2u; j++) {
            if (seen->ppg < 400u) {
                seen->ppg_values[seen->ppg] = (int16_t)get_u16(v + 2u * j);
            }
            seen->ppg++;
        }
    } else if (lt->payload[0] == VIGIL_CHANNEL_ACCEL) {
        for (uint32_t j = 0u; j < (uint32_t)(len - VIGIL_SAMPLE_HEADER_SIZE) / 6u; j++) {
            int16_t want_x = lsm9ds1_accel_raw_to_mg((int16_t)(8u * (first + j)), 4u);
            seen->accel_wrong += (int16_t)get_u16(v + 6u * j) != want_x || (int16_t)get_u16(v + 6u * j + 2u) != -999;
            seen->accel++;
        }
    }
}

/* Live mode on a board's chips (fake_i2c.h: an LSM9DS1 at 50 Hz and a MAX3010x in heart-rate mode at 100 Hz, as
 * their datasheets behave): the tap carries what the chips' FIFOs held, in order, the PPG's 18-bit counts as the
 * pipeline's int16; a MAX3010x overflow (its OVF_COUNTER) is held in place and accounted for; sources the pipelines
 * cannot take are refused. */
static void test_live_on_the_chips(check_totals_t *t)
{
    static fake_i2c_t bus_state;
    fake_i2c_init(&bus_state);
    const i2c_bus_t bus = fake_i2c_bus(&bus_state);
    fake_device_t *lsm_chip = fake_i2c_add(&bus_state, FAKE_CHIP_LSM9DS1, 0x6Bu);
    fake_device_t *max_chip = fake_i2c_add(&bus_state, FAKE_CHIP_MAX3010X, MAX3010X_I2C_ADDR);
    static lsm9ds1_accel_t lsm;
    static max3010x_t max;
    const lsm9ds1_accel_config_t lsm_cfg = {.i2c_addr = 0x6Bu, .rate_hz = 50u, .full_scale_g = 4u};
    const max3010x_config_t max_cfg = {.mode = MAX3010X_MODE_HR, .sample_rate_hz = 100u, .averaging = 1u,
                                       .adc_bits = 18u, .adc_range_na = 4096u, .led_red_pa = 0x24u,
                                       .led_ir_pa = 0u, .rollover = false, .almost_full = 0x0Fu};
    CHECK(t, lsm9ds1_accel_init(&lsm, &bus, &lsm_cfg) == SENSOR_OK && max3010x_init(&max, &bus, &max_cfg) == SENSOR_OK,
          "the chips did not start");
    accel_source_t accel;
    ppg_source_t ppg;
    lsm9ds1_accel_source(&lsm, &accel);
    max3010x_ppg_source(&max, &ppg);
    static live_task_t lt;
    CHECK(t, live_task_start_sources(&lt, &accel, &ppg, 0u), "live mode refused the chips");

    tap_position_t pos;
    memset(&pos, 0, sizeof pos);
    static chip_values_t seen;
    memset(&seen, 0, sizeof seen);
    uint64_t now = 0u;
    for (uint32_t half_second = 0u; half_second < 8u; half_second++) {
        for (uint32_t k = 0u; k < 50u; k++) {
            uint32_t i = half_second * 50u + k; /* the PPG's sample number; every second one has an accelerometer */
            if (k % 2u == 0u) {
                fake_lsm9ds1_push(lsm_chip, (int16_t)(8 * (int32_t)(i / 2u)), -8192, 8192); /* 0.122 mg/LSB */
            }
            fake_max3010x_push(max_chip, 1000u + 4u * i, 0u); /* an 18-bit count, 4 per int16 step */
            if (half_second == 5u && k < 39u) {
                continue; /* 40 PPG samples unread: the 32-deep FIFO discards 8, OVF_COUNTER says so */
            }
            if (k % 10u == 9u) {
                now += TPS / 10u;
                uint16_t len;
                while ((len = live_task_poll(&lt, now, TPS)) != 0u) {
                    take(&lt, len, &pos);
                    collect(&lt, len, &seen);
                }
            }
        }
    }
    uint16_t len;
    while ((len = live_task_flush(&lt)) != 0u) {
        take(&lt, len, &pos);
        collect(&lt, len, &seen);
    }
    live_totals_t totals = live_task_totals(&lt);
    CHECK(t, totals.dropped == 8u && max.counters.dropped == 8u && max.counters.overruns == 1u,
          "the MAX3010x overflow: %u dropped", (unsigned)totals.dropped);
    CHECK(t, pos.held[VIGIL_CHANNEL_PPG] == 8u && pos.held[VIGIL_CHANNEL_ACCEL] == 0u && !pos.gap,
          "held %u PPG samples, gap %d", (unsigned)pos.held[VIGIL_CHANNEL_PPG], pos.gap);
    CHECK(t, pos.next[VIGIL_CHANNEL_ACCEL] == 200u && pos.next[VIGIL_CHANNEL_PPG] == 400u,
          "tapped %u + %u samples of 200 + 400", (unsigned)pos.next[0], (unsigned)pos.next[1]);
    CHECK(t, seen.accel == 200u && seen.accel_wrong == 0u, "accelerometer values: %u wrong of %u",
          (unsigned)seen.accel_wrong, (unsigned)seen.accel);
    /* with rollover off the full FIFO discarded the newest: samples 282..289 of the chip never came */
    uint32_t ppg_wrong = 0u, kept = 0u;
    for (uint32_t i = 0u; i < 400u && kept < seen.ppg; i++) {
        if (i >= 282u && i < 290u) {
            continue;
        }
        ppg_wrong += seen.ppg_values[kept++] != (int16_t)((int32_t)(1000u + 4u * i) / 4 - 32768);
    }
    CHECK(t, seen.ppg == 392u && kept == 392u && ppg_wrong == 0u, "PPG values: %u wrong of %u", (unsigned)ppg_wrong,
          (unsigned)seen.ppg);

    ppg_source_t two = ppg;
    two.channels = 2u; /* SpO2 mode: red and IR in a row */
    accel_source_t fast = accel;
    fast.rate_hz = 119u;
    ppg_source_t slow = ppg;
    slow.rate_hz = 50u;
    CHECK(t, !live_task_start_sources(&lt, &accel, &two, 0u) && !lt.on, "a two-channel PPG taken");
    CHECK(t, !live_task_start_sources(&lt, &fast, &ppg, 0u), "an accelerometer at 119 Hz taken");
    CHECK(t, !live_task_start_sources(&lt, &accel, &slow, 0u), "a PPG at 50 Hz taken");
    CHECK(t, !live_task_start_sources(&lt, NULL, &ppg, 0u), "no accelerometer taken");
}

void run_live_tests(check_totals_t *t)
{
    test_live_on_the_chips(t);
    test_the_end_of_a_session_takes_what_the_fifos_hold(t);
    test_same_seed_same_samples(t);
    test_wrist_like(t);
    test_bad_settings_refused(t);
    test_live_holds_drops_and_keeps_channels_together(t);
}
