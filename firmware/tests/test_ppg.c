/* PPG chain: unit checks of each kernel and of the streaming pipeline, and the harness that
 * tests/test_dsp_ppg.py uses to compare the C with its twin (vigil.dsp.ppg / vigil.dsp.hrv).
 *
 * Harness, `program harness ppg` (all integers little-endian):
 *   in:  u16 fs, u32 n, n x int16 raw, then optionally u32 chunking:
 *          0 (or absent)          one call of each stage with all n samples
 *          1 .. 0x7FFFFFFF        calls of that many samples (the last one shorter)
 *          0x80000000 | seed      calls of pseudo-random sizes 1 .. HARNESS_MAX_RANDOM_CHUNK
 *                                 (LCG seeded with the low 31 bits)
 *        then optionally u32 n_motion, n_motion x u16: the accelerometer's motion level per 30-s epoch. The levels
 *          go in in time order, as a replay interleaves them: each call is also cut at the epoch boundaries, and
 *          before it every epoch that ends by the call's last sample is passed to ppg_pipeline_motion;
 *        then optionally u32 n_seconds, n_seconds x u16: its motion level per second, passed the same way (each call
 *          also cut at the second boundaries) to ppg_pipeline_motion_second.
 *   out: n x int32 filtered (counts in Q12),
 *        u32 n_beats, n_beats x u32 beat indices, n_beats x i32 beat amplitudes (Q12),
 *        u32 n_segments, then per segment the fields of hrv_features_t in order, packed:
 *          u32 segment, u8 valid, u8 flags, u16 n_beats, u16 n_ibis, u16 n_rejected,
 *          i32 avhr, i32 avrr, i32 sdrr, i32 rmssd, i32 pnn50, i32 pnn20,
 *          u16 baseline_n, u8 baseline_ready, 6 x i32 rel,
 *          i32 sd1, i32 sd2, i32 pamp, i32 lf, i32 hf, i32 lfhf, u8 spectrum_ready   (88 bytes)
 *   Each call runs ppg_filter, ppg_detect_beats (max PPG_MAX_BEATS(block)) and ppg_segments
 *   (max PPG_MAX_SEGMENTS(block)) on the block. Exit status 0; 1 on a malformed request;
 *   3 when ppg_pipeline_init refuses the rate (nothing is written). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness_io.h"
#include "dsp/ppg_pipeline.h"

#define HARNESS_MAX_SAMPLES (1u << 21)
#define HARNESS_MAX_BEATS PPG_MAX_BEATS(HARNESS_MAX_SAMPLES)
#define HARNESS_MAX_SEGMENTS PPG_MAX_SEGMENTS(HARNESS_MAX_SAMPLES)
#define HARNESS_MAX_RANDOM_CHUNK 253u
#define HARNESS_MAX_EPOCHS (HARNESS_MAX_SAMPLES / (DSP_EPOCH_S * PPG_RATE_MIN_HZ) + 1u)
#define HARNESS_MAX_SECONDS (HARNESS_MAX_SAMPLES / PPG_RATE_MIN_HZ + 1u)
#define HARNESS_RANDOM_FLAG 0x80000000u

/* Test signals live in static buffers: the test program runs on the host, the kernels never see them. */
#define UNIT_MAX_SAMPLES (4u * 60u * 128u)
static int16_t u_raw[UNIT_MAX_SAMPLES];
static int32_t u_filt[UNIT_MAX_SAMPLES];
static uint32_t u_beats[PPG_MAX_BEATS(UNIT_MAX_SAMPLES)];
static int32_t u_amps[PPG_MAX_BEATS(UNIT_MAX_SAMPLES)];
static hrv_features_t u_segs[PPG_MAX_SEGMENTS(UNIT_MAX_SAMPLES)];

/* ------------------------------------------------------------------ signals */

static uint32_t lcg_next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

/* A pulse train without floating point: a linear rise and a parabolic decay with a small second
 * (diastolic) hump, period `period` samples, on an ADC offset that steps by a few counts from one
 * period to the next (as a real baseline moves, so that not every trough hits the segment's
 * minimum). Peaks at k * period + rise. */
static void pulse_train(int16_t *x, size_t n, uint32_t period, uint32_t rise, int32_t amplitude, int32_t offset)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t ph = (uint32_t)(i % period);
        int32_t v;
        if (ph < rise) {
            v = amplitude * (int32_t)ph / (int32_t)rise;
        } else {
            const int32_t tail = (int32_t)(ph - rise);
            const int32_t span = (int32_t)(period - rise);
            v = amplitude * (span - tail) * (span - tail) / (span * span);
            const int32_t hump = tail - span / 3;
            if (hump > -(int32_t)rise && hump < (int32_t)rise) {
                v += amplitude / 8 * ((int32_t)rise - (hump < 0 ? -hump : hump)) / (int32_t)rise;
            }
        }
        x[i] = (int16_t)(offset + (int32_t)(i / period * 5u % 13u) + v);
    }
}

typedef struct chain_out {
    size_t n_beats, n_segs;
} chain_out_t;

/* The whole pipeline in blocks of `chunk` samples (0: one call). */
static chain_out_t run_chain(uint16_t fs, const int16_t *raw, size_t n, size_t chunk, int32_t *filt, uint32_t *beats,
                             int32_t *amps, hrv_features_t *segs)
{
    ppg_pipeline_t p;
    chain_out_t r = {0, 0};
    if (!ppg_pipeline_init(&p, fs)) {
        return r;
    }
    const size_t step = chunk ? chunk : (n ? n : 1u);
    for (size_t i = 0; i < n; i += step) {
        const size_t m = n - i < step ? n - i : step;
        ppg_filter(&p, raw + i, m, filt + i);
        const size_t nb = ppg_detect_beats(&p, filt + i, m, beats + r.n_beats, amps + r.n_beats, PPG_MAX_BEATS(m));
        r.n_segs += ppg_segments(&p, raw + i, m, beats + r.n_beats, amps + r.n_beats, nb, segs + r.n_segs,
                                 PPG_MAX_SEGMENTS(m));
        r.n_beats += nb;
    }
    return r;
}

/* ------------------------------------------------------------------ stage 1: band-pass */

static void check_filter(check_totals_t *t)
{
    ppg_pipeline_t p;
    CHECK(t, !ppg_pipeline_init(&p, 50), "50 Hz must be refused");
    CHECK(t, !ppg_pipeline_init(&p, 0), "0 Hz must be refused");
    for (unsigned k = 0; k < PPG_RATE_COUNT; k++) {
        const uint16_t fs = PPG_RATE_TABLES[k].fs_hz;
        const size_t n = 30u * fs;
        CHECK(t, PPG_RATE_TABLES[k].sos_q30[0][0] + PPG_RATE_TABLES[k].sos_q30[0][1] + PPG_RATE_TABLES[k].sos_q30[0][2] == 0,
              "%u Hz: the first section must block DC exactly", fs);

        /* a constant (any ADC offset) gives exactly 0: the filter starts in its steady state */
        for (size_t i = 0; i < n; i++) {
            u_raw[i] = 1234;
        }
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, n, u_filt);
        size_t nonzero = 0;
        for (size_t i = 0; i < n; i++) {
            nonzero += u_filt[i] != 0;
        }
        CHECK(t, nonzero == 0, "%u Hz: constant input gave %zu non-zero outputs", fs, nonzero);

        /* impulse: positive first, sums to ~0 (no DC gain), decays; peak below the passband gain */
        memset(u_raw, 0, n * sizeof u_raw[0]);
        u_raw[0] = 0;
        u_raw[1] = 1000;
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, n, u_filt);
        int64_t sum = 0;
        int32_t peak = 0;
        for (size_t i = 0; i < n; i++) {
            sum += u_filt[i];
            peak = u_filt[i] > peak ? u_filt[i] : peak;
        }
        const int32_t unit = 1000 << PPG_FILT_SHIFT;
        CHECK(t, u_filt[0] == 0 && u_filt[1] > 0, "%u Hz: impulse response must start at sample 1, positive", fs);
        CHECK(t, peak < unit / 2, "%u Hz: impulse peak %ld too high", fs, (long)peak);
        CHECK(t, sum > -(int64_t)unit / 100 && sum < unit / 100, "%u Hz: impulse response sums to %lld, want ~0", fs,
              (long long)sum);
        int32_t tail = 0;
        for (size_t i = n - fs; i < n; i++) {
            tail = u_filt[i] > tail ? u_filt[i] : (-u_filt[i] > tail ? -u_filt[i] : tail);
        }
        CHECK(t, tail < 64, "%u Hz: impulse response still %ld after 29 s", fs, (long)tail);

        /* step 0 -> 1000 counts: jumps up, then returns to 0 (high-pass), without saturating */
        for (size_t i = 0; i < n; i++) {
            u_raw[i] = i < (size_t)fs ? 0 : 1000;
        }
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, n, u_filt);
        peak = 0;
        for (size_t i = 0; i < n; i++) {
            peak = u_filt[i] > peak ? u_filt[i] : peak;
        }
        CHECK(t, peak > unit / 2 && peak < unit, "%u Hz: step peak %ld", fs, (long)peak);
        CHECK(t, u_filt[n - 1] > -unit / 1000 && u_filt[n - 1] < unit / 1000, "%u Hz: step response ends at %ld", fs,
              (long)u_filt[n - 1]);

        /* Nyquist at full scale is removed; the worst case for the magnitude (an input whose sign
         * follows the time-reversed impulse response) stays far from the int32 limits */
        for (size_t i = 0; i < n; i++) {
            u_raw[i] = (i & 1u) ? 32767 : -32768;
        }
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, n, u_filt);
        peak = 0;
        for (size_t i = 5u * fs; i < n; i++) {
            peak = u_filt[i] > peak ? u_filt[i] : (-u_filt[i] > peak ? -u_filt[i] : peak);
        }
        CHECK(t, peak < (32768 << PPG_FILT_SHIFT) / 100, "%u Hz: Nyquist passes at %ld", fs, (long)peak);
    }
}

static void check_filter_worst_case(check_totals_t *t)
{
    for (unsigned k = 0; k < PPG_RATE_COUNT; k++) {
        const uint16_t fs = PPG_RATE_TABLES[k].fs_hz;
        const size_t len = 20u * fs;
        ppg_pipeline_t p;
        memset(u_raw, 0, sizeof u_raw);
        u_raw[1] = 1;
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, len, u_filt); /* impulse response, scaled by 2^12 */
        /* h[k] = u_filt[k + 1]; x[len - 1 - k] = sign(h[k]) makes y[len - 1] = sum |h[k]| */
        u_raw[0] = 0;
        for (size_t i = 1; i < len; i++) {
            u_raw[i] = u_filt[len - i] >= 0 ? 32767 : -32768;
        }
        ppg_pipeline_init(&p, fs);
        ppg_filter(&p, u_raw, len, u_filt);
        int32_t peak = 0;
        for (size_t i = 0; i < len; i++) {
            peak = u_filt[i] > peak ? u_filt[i] : (-u_filt[i] > peak ? -u_filt[i] : peak);
        }
        /* L1 gain ~2.2 at every rate: the largest output is ~2.2 * 2^27, far from 2^31 */
        CHECK(t, peak > (int32_t)(2.0 * 32767 * 4096) && peak < (int32_t)(2.5 * 32768 * 4096), "%u Hz: worst case %ld", fs,
              (long)peak);
    }
}

/* ------------------------------------------------------------------ stage 2: beats */

static void check_detector(check_totals_t *t)
{
    for (unsigned k = 0; k < PPG_RATE_COUNT; k++) {
        const uint16_t fs = PPG_RATE_TABLES[k].fs_hz;
        const uint32_t period = fs * 4u / 5u; /* 75 bpm */
        const size_t n = 60u * fs;
        pulse_train(u_raw, n, period, fs / 10u, 300, 2000);
        const chain_out_t r = run_chain(fs, u_raw, n, 0, u_filt, u_beats, u_amps, u_segs);
        const size_t want = n / period;
        CHECK(t, r.n_beats + 2u >= want && r.n_beats <= want, "%u Hz: %zu beats, want ~%zu", fs, r.n_beats, want);
        size_t regular = 0;
        for (size_t i = 1; i < r.n_beats; i++) {
            regular += u_beats[i] - u_beats[i - 1] == period;
        }
        CHECK(t, r.n_beats > 2 && regular == r.n_beats - 1u, "%u Hz: %zu of %zu intervals exact", fs, regular,
              r.n_beats - 1u);
        /* each beat within the filter's delay after the pulse's peak */
        for (size_t i = 0; i < r.n_beats; i++) {
            const uint32_t after = (u_beats[i] + period - fs / 10u) % period;
            CHECK(t, after <= 2u * PPG_RATE_TABLES[k].group_delay, "%u Hz: beat %zu is %lu samples after the peak", fs, i,
                  (unsigned long)after);
        }
        /* latency: every beat is out once `latency` samples past it went through the detector */
        beat_detect_terma_t d;
        const beat_terma_params_t prm = {fs, (uint16_t)PPG_RATE_TABLES[k].w1, (uint16_t)PPG_RATE_TABLES[k].w2,
                                         (uint16_t)PPG_RATE_TABLES[k].block_max, PPG_RATE_TABLES[k].alpha_q16};
        beat_detect_terma_init(&d, &prm);
        size_t seen = 0;
        uint32_t late = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t b[2];
            int32_t a[2];
            const size_t got = beat_detect_terma(&d, u_filt + i, 1, b, a, 2);
            for (size_t j = 0; j < got; j++, seen++) {
                const uint32_t lag = (uint32_t)i - b[j];
                late = lag > late ? lag : late;
                CHECK(t, b[j] == u_beats[seen], "%u Hz: sample-by-sample beat %zu differs", fs, seen);
            }
        }
        CHECK(t, seen == r.n_beats && late < PPG_RATE_TABLES[k].latency, "%u Hz: largest lag %lu, bound %lu", fs,
              (unsigned long)late, (unsigned long)PPG_RATE_TABLES[k].latency);
    }
    /* a silent or constant input gives no beat */
    memset(u_raw, 0, sizeof u_raw);
    const chain_out_t r = run_chain(100, u_raw, 6000, 0, u_filt, u_beats, u_amps, u_segs);
    CHECK(t, r.n_beats == 0, "silence gave %zu beats", r.n_beats);
}

/* ------------------------------------------------------------------ stage 3: IBI rules */

static void check_ibi_rules(check_totals_t *t)
{
    ibi_filter_t f;
    const ibi_params_t prm = {30, 200, 25}; /* 100 Hz */
    ibi_filter_init(&f, &prm);
    /* beats and the verdict each one's IBI gets */
    static const struct {
        uint32_t beat;
        ibi_verdict_t v;
        bool has_diff;
        int32_t diff;
    } seq[] = {
        {1000, IBI_NONE, false, 0},
        {1080, IBI_REJECT_CHANGE, false, 0}, /* 80: no reference yet (1 in history after) */
        {1162, IBI_REJECT_CHANGE, false, 0}, /* 82 */
        {1240, IBI_REJECT_CHANGE, false, 0}, /* 78: three in range now */
        {1320, IBI_ACCEPT, false, 0},        /* 80 vs median(80, 82, 78) = 80 */
        {1404, IBI_ACCEPT, true, 4},         /* 84 vs 80 */
        {1434, IBI_REJECT_CHANGE, false, 0}, /* 30: in range, 62 % short (a dicrotic notch) */
        {1484, IBI_REJECT_CHANGE, false, 0}, /* 50: 38 % short */
        {1504, IBI_REJECT_RANGE, false, 0},  /* 20 < 30 */
        {1584, IBI_ACCEPT, false, 0},        /* 80 vs median(78,80,84,30,50) = 78; no diff: the previous was rejected */
        {1664, IBI_ACCEPT, true, 0},         /* 80 */
        {1964, IBI_REJECT_RANGE, false, 0},  /* 300 > 200 (missed beats) */
        {2064, IBI_ACCEPT, false, 0},        /* 100 vs median(84,30,50,80,80) = 80: 25 % exactly -> accepted */
        {2189, IBI_REJECT_CHANGE, false, 0}, /* 125 vs median(30,50,80,80,100) = 80; not 160 +/- 20, no missed beat */
    };
    const size_t count = sizeof seq / sizeof seq[0];
    for (size_t i = 0; i < count; i++) {
        const ibi_result_t r = ibi_filter_push(&f, seq[i].beat, false);
        CHECK(t, r.verdict == seq[i].v, "IBI rule row %zu: verdict %d, want %d", i, (int)r.verdict, (int)seq[i].v);
        CHECK(t, r.has_diff == seq[i].has_diff && (!r.has_diff || r.diff == seq[i].diff), "IBI rule row %zu: diff", i);
    }
    /* a real change of rate (80 -> 105 samples) is followed within two beats: 105 vs
     * median(50,80,80,100,125) = 80 rejected (31 %; 34 % off two references, not a missed beat), then vs
     * median(80,80,100,125,105) = 100: 5 %, accepted */
    ibi_verdict_t v[4];
    uint32_t b = seq[count - 1u].beat;
    for (size_t i = 0; i < 4; i++) {
        b += 105u;
        v[i] = ibi_filter_push(&f, b, false).verdict;
    }
    CHECK(t, v[0] == IBI_REJECT_CHANGE && v[1] == IBI_ACCEPT && v[2] == IBI_ACCEPT && v[3] == IBI_ACCEPT,
          "rate change: verdicts %d %d %d %d", (int)v[0], (int)v[1], (int)v[2], (int)v[3]);

    /* one missed beat in a steady 80-sample rhythm: the 160-sample span becomes two IBIs of 80, and
     * no successive difference is formed across it */
    ibi_filter_init(&f, &prm);
    static const struct {
        uint32_t beat;
        ibi_verdict_t v;
        bool has_diff;
    } missed[] = {
        {0, IBI_NONE, false},          {80, IBI_REJECT_CHANGE, false}, {160, IBI_REJECT_CHANGE, false},
        {240, IBI_REJECT_CHANGE, false}, {320, IBI_ACCEPT, false},     {480, IBI_INTERPOLATED, false},
        {560, IBI_ACCEPT, false},      {640, IBI_ACCEPT, true},        {900, IBI_REJECT_RANGE, false},
    };
    for (size_t i = 0; i < sizeof missed / sizeof missed[0]; i++) {
        const ibi_result_t r = ibi_filter_push(&f, missed[i].beat, false);
        CHECK(t, r.verdict == missed[i].v && r.has_diff == missed[i].has_diff, "missed beat row %zu: verdict %d, want %d",
              i, (int)r.verdict, (int)missed[i].v);
    }
}

/* ------------------------------------------------------------------ stage 4: features, validity */

static void check_features(check_totals_t *t)
{
    /* 100 Hz, IBIs 800, 840, 780, 820 ms: mean 810 ms, SD sqrt(2000/3) = 25.82 ms, differences
     * 40, -60, 40 ms: RMSSD sqrt(6800/3) = 47.61 ms, one of three above 50 ms, all above 20 ms. */
    hrv_accum_t a;
    hrv_accum_reset(&a);
    static const uint16_t ibis[] = {80, 84, 78, 82};
    for (size_t i = 0; i < 4; i++) {
        hrv_accum_ibi(&a, ibis[i]);
        if (i > 0) {
            hrv_accum_diff(&a, (int32_t)ibis[i] - (int32_t)ibis[i - 1], 100);
        }
    }
    hrv_features_t f = {0};
    hrv_features_compute(&a, 100, &f);
    CHECK(t, f.avrr == 81000, "avrr %ld", (long)f.avrr);     /* 810.00 ms */
    CHECK(t, f.avhr == 7407, "avhr %ld", (long)f.avhr);      /* 60000 / 810 = 74.074 bpm */
    CHECK(t, f.sdrr == 2581, "sdrr %ld", (long)f.sdrr);      /* 25.819 ms, floor */
    CHECK(t, f.rmssd == 4760, "rmssd %ld", (long)f.rmssd);   /* 47.609 ms, floor */
    CHECK(t, f.pnn50 == 3333, "pnn50 %ld", (long)f.pnn50);   /* 1/3 */
    CHECK(t, f.pnn20 == 10000, "pnn20 %ld", (long)f.pnn20);  /* 3/3 */
    CHECK(t, f.sd1 == 3366, "sd1 %ld", (long)f.sd1);         /* RMSSD / sqrt(2) = 33.665 ms, floor */
    CHECK(t, f.sd2 == 1414, "sd2 %ld", (long)f.sd2);         /* sqrt(2 * 666.67 - 1133.33) = 14.142 ms, floor */
    CHECK(t, f.pamp == 0, "pamp %ld without beats", (long)f.pamp);
    /* three peaks of 2, 3 and 3.5 counts (Q12): mean 2.8333 counts, rounded to 0.01 */
    static const int32_t peaks[] = {2 << PPG_FILT_SHIFT, 3 << PPG_FILT_SHIFT, 7 << (PPG_FILT_SHIFT - 1)};
    for (size_t i = 0; i < 3; i++) {
        hrv_accum_beat(&a, peaks[i]);
    }
    hrv_features_compute(&a, 100, &f);
    CHECK(t, f.pamp == 283, "pamp %ld", (long)f.pamp);

    /* 64 Hz: one-sample differences are 15.6 ms (not > 20 ms), two are 31.3 ms, four 62.5 ms */
    hrv_accum_reset(&a);
    static const uint16_t ibis64[] = {50, 51, 53, 57, 57};
    for (size_t i = 0; i < 5; i++) {
        hrv_accum_ibi(&a, ibis64[i]);
        if (i > 0) {
            hrv_accum_diff(&a, (int32_t)ibis64[i] - (int32_t)ibis64[i - 1], 64);
        }
    }
    hrv_features_compute(&a, 64, &f);
    CHECK(t, f.pnn20 == 5000 && f.pnn50 == 2500, "64 Hz pNN20 %ld pNN50 %ld", (long)f.pnn20, (long)f.pnn50);
    CHECK(t, f.avrr == 83750 && f.avhr == 7164, "64 Hz avrr %ld avhr %ld", (long)f.avrr, (long)f.avhr);
}

static void check_quality(check_totals_t *t)
{
    ppg_quality_t q;
    int16_t x[400];
    for (size_t i = 0; i < 400; i++) {
        x[i] = (int16_t)(i % 40u < 20u ? i % 40u : 40u - i % 40u); /* triangle 0..20 */
    }
    ppg_quality_reset(&q);
    ppg_quality_update(&q, x, 400);
    CHECK(t, ppg_quality_flags(&q, 100, 10) == 0, "triangle flagged %u", ppg_quality_flags(&q, 100, 10));
    for (size_t i = 0; i < 400; i++) {
        x[i] = x[i] > 15 ? 15 : x[i]; /* clipped at 15: plateaus of 11 samples per period, 10 counted */
    }
    ppg_quality_reset(&q);
    ppg_quality_update(&q, x, 200);
    ppg_quality_update(&q, x + 200, 200); /* in two parts: same result */
    CHECK(t, ppg_quality_flags(&q, 100, 10) == HRV_FLAG_CLIPPED, "clipped: flags %u", ppg_quality_flags(&q, 100, 10));
    CHECK(t, q.at_max == 10u * 10u, "clipped: %u plateau samples, want 100", q.at_max);
    for (size_t i = 100; i < 300; i++) {
        x[i] = 7;
    }
    ppg_quality_reset(&q);
    ppg_quality_update(&q, x, 400);
    CHECK(t, (ppg_quality_flags(&q, 200, 1000) & HRV_FLAG_FLAT) && !(ppg_quality_flags(&q, 201, 1000) & HRV_FLAG_FLAT),
          "flat run of 200: flags %u", ppg_quality_flags(&q, 200, 1000));
    memset(x, 0, sizeof x);
    ppg_quality_reset(&q);
    ppg_quality_update(&q, x, 400);
    CHECK(t, ppg_quality_flags(&q, 100, 10) == HRV_FLAG_FLAT, "constant: flags %u", ppg_quality_flags(&q, 100, 10));
}

static void check_pipeline(check_totals_t *t)
{
    const uint16_t fs = 100;
    const size_t n = 3u * 60u * fs + 1000u; /* the last segment out needs PPG_BEAT_HOLD_S past its last beat */
    /* clean 75-bpm train: every segment valid, 75 bpm, no variability */
    pulse_train(u_raw, n, 80, 10, 300, 2000);
    chain_out_t r = run_chain(fs, u_raw, n, 0, u_filt, u_beats, u_amps, u_segs);
    CHECK(t, r.n_segs == 3, "%zu segments, want 3", r.n_segs);
    for (size_t s = 0; s < r.n_segs; s++) {
        const hrv_features_t *f = &u_segs[s];
        CHECK(t, f->segment == s && f->valid && f->flags == 0, "segment %zu: valid %u flags %u", s, f->valid, f->flags);
        CHECK(t, f->avhr == 7500 && f->avrr == 80000 && f->sdrr == 0 && f->rmssd == 0 && f->pnn20 == 0,
              "segment %zu: avhr %ld avrr %ld sdrr %ld rmssd %ld", s, (long)f->avhr, (long)f->avrr, (long)f->sdrr,
              (long)f->rmssd);
        CHECK(t, f->n_beats >= 74 && f->n_beats <= 76 && f->n_rejected <= (s == 0 ? 3 : 0), "segment %zu: %u beats %u rejected",
              s, f->n_beats, f->n_rejected);
    }
    /* the same in blocks of 1, 7 and 253 samples */
    static hrv_features_t segs2[PPG_MAX_SEGMENTS(UNIT_MAX_SAMPLES)];
    static uint32_t beats2[PPG_MAX_BEATS(UNIT_MAX_SAMPLES)];
    static int32_t amps2[PPG_MAX_BEATS(UNIT_MAX_SAMPLES)];
    static int32_t filt2[UNIT_MAX_SAMPLES];
    static const size_t chunks[] = {1, 7, 253};
    for (size_t c = 0; c < 3; c++) {
        const chain_out_t r2 = run_chain(fs, u_raw, n, chunks[c], filt2, beats2, amps2, segs2);
        CHECK(t, r2.n_beats == r.n_beats && r2.n_segs == r.n_segs && memcmp(filt2, u_filt, n * sizeof filt2[0]) == 0 &&
                     memcmp(beats2, u_beats, r.n_beats * sizeof beats2[0]) == 0 &&
                     memcmp(amps2, u_amps, r.n_beats * sizeof amps2[0]) == 0 &&
                     memcmp(segs2, u_segs, r.n_segs * sizeof segs2[0]) == 0,
              "blocks of %zu differ from one call", chunks[c]);
    }
    /* silence: every segment invalid, flat and too few beats, features 0 */
    memset(u_raw, 0, n * sizeof u_raw[0]);
    r = run_chain(fs, u_raw, n, 0, u_filt, u_beats, u_amps, u_segs);
    CHECK(t, r.n_segs == 3 && u_segs[1].valid == 0 && u_segs[1].flags == (HRV_FLAG_FLAT | HRV_FLAG_TOO_FEW_BEATS) &&
                 u_segs[1].avhr == 0 && u_segs[1].n_beats == 0,
          "silence: %zu segments, flags %u", r.n_segs, u_segs[1].flags);
    /* a pulse train cut by the ADC's range */
    pulse_train(u_raw, n, 80, 10, 3000, 0);
    for (size_t i = 0; i < n; i++) {
        u_raw[i] = u_raw[i] > 2400 ? 2400 : u_raw[i];
    }
    r = run_chain(fs, u_raw, n, 0, u_filt, u_beats, u_amps, u_segs);
    CHECK(t, r.n_segs == 3 && (u_segs[1].flags & HRV_FLAG_CLIPPED) && !u_segs[1].valid, "clipped: flags %u",
          u_segs[1].flags);
    /* irregular beats: noise, not a rhythm; the missed-beat rule splits some spans, but too few are clean */
    uint32_t lcg = 7;
    uint32_t beats[400];
    int32_t amps[400];
    uint32_t b = 0;
    for (size_t i = 0; i < 400; i++) {
        b += 40u + lcg_next(&lcg) % 120u; /* 0.4 .. 1.6 s at random */
        beats[i] = b;
        amps[i] = 1 << PPG_FILT_SHIFT;
    }
    ppg_pipeline_t p;
    ppg_pipeline_init(&p, fs);
    pulse_train(u_raw, n, 80, 10, 300, 2000);
    size_t nb = 0;
    while (nb < 400 && beats[nb] < n) {
        nb++;
    }
    p.det.t = (uint32_t)n; /* as if the detector had run: the segments stage only reads its progress */
    const size_t ns = ppg_segments(&p, u_raw, n, beats, amps, nb, u_segs, PPG_MAX_SEGMENTS(n));
    CHECK(t, ns == 3 && (u_segs[1].flags & HRV_FLAG_FEW_CLEAN) && !u_segs[1].valid && u_segs[2].flags != 0,
          "random beats: %zu segments, flags %u",
          ns, u_segs[1].flags);
}

/* ------------------------------------------------------------------ the personal baseline */

static int cmp_i32(const void *x, const void *y)
{
    const int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static void check_baseline(check_totals_t *t)
{
    /* avhr k on the k-th valid segment, every 7th segment invalid, every 5th moving (not still): segment s is measured
     * against the valid, still segments before it (the last 120), element [n/2] of them sorted. The reference keeps
     * the admitted values and sorts the last 120 of them with qsort. */
    static hrv_baseline_t b; /* 2.9 KB: off the stack */
    static int32_t admitted[200], window[HRV_BASELINE_SEGMENTS];
    hrv_baseline_reset(&b);
    int32_t k = 0, prev_avhr = 0;
    size_t n_admitted = 0;
    bool prev_valid = false, prev_still = false, ok = true;
    for (uint32_t s = 0; s < 200u; s++) {
        if (prev_valid && prev_still) {
            admitted[n_admitted++] = prev_avhr;
        }
        const size_t n = n_admitted < HRV_BASELINE_SEGMENTS ? n_admitted : HRV_BASELINE_SEGMENTS;
        memcpy(window, admitted + n_admitted - n, n * sizeof window[0]);
        qsort(window, n, sizeof window[0], cmp_i32);
        const bool ready = n >= HRV_BASELINE_WARMUP;

        hrv_features_t f = {0};
        f.segment = s;
        f.valid = s % 7u != 6u;
        f.avhr = f.valid ? k : 0;
        f.avrr = f.valid ? 5 : 0;
        hrv_baseline_admit(&b, s > 0 && prev_still);
        hrv_baseline_apply(&b, &f);
        ok = ok && f.baseline_n == n && f.baseline_ready == ready;
        ok = ok && f.rel[0] == (f.valid && ready ? k - window[n / 2u] : 0);
        ok = ok && f.rel[1] == 0 && f.rel[2] == 0; /* avrr always 5: at its own median */
        CHECK(t, ok, "baseline at segment %u (k %d): n %u ready %u rel %d %d", (unsigned)s, (int)k,
              (unsigned)f.baseline_n, (unsigned)f.baseline_ready, (int)f.rel[0], (int)f.rel[1]);
        if (!ok) {
            return;
        }
        prev_valid = f.valid;
        prev_still = s % 5u != 4u;
        prev_avhr = f.avhr;
        k += f.valid;
    }
    CHECK(t, n_admitted > 120u && n_admitted < 140u, "%zu segments admitted", n_admitted);
}

void run_ppg_tests(check_totals_t *t)
{
    check_baseline(t);
    check_filter(t);
    check_filter_worst_case(t);
    check_detector(t);
    check_ibi_rules(t);
    check_features(t);
    check_quality(t);
    check_pipeline(t);
}

/* ------------------------------------------------------------------ harness */

static int16_t h_raw[HARNESS_MAX_SAMPLES];
static int32_t h_filt[HARNESS_MAX_SAMPLES];
static uint32_t h_beats[HARNESS_MAX_BEATS];
static int32_t h_amps[HARNESS_MAX_BEATS];
static uint16_t h_motion[HARNESS_MAX_EPOCHS];
static uint16_t h_seconds[HARNESS_MAX_SECONDS];
static hrv_features_t h_segs[HARNESS_MAX_SEGMENTS];

/* Optional u32 n, then n x u16 levels (absent: n = 0). false on a malformed list. */
static bool read_levels(FILE *in, const char *what, uint32_t max, uint16_t *levels, uint32_t *n)
{
    *n = 0;
    if (!harness_read_le(in, 4, n)) {
        *n = 0;
        return true;
    }
    if (*n > max) {
        fprintf(stderr, "harness ppg: %lu %ss, at most %lu\n", (unsigned long)*n, what, (unsigned long)max);
        return false;
    }
    for (uint32_t k = 0; k < *n; k++) {
        uint32_t v;
        if (!harness_read_le(in, 2, &v)) {
            fprintf(stderr, "harness ppg: input ends at %s %lu of %lu\n", what, (unsigned long)k, (unsigned long)*n);
            return false;
        }
        levels[k] = (uint16_t)v;
    }
    return true;
}

int harness_ppg(FILE *in, FILE *out)
{
    uint32_t fs = 0, n = 0, chunking = 0;
    if (!harness_read_le(in, 2, &fs) || !harness_read_le(in, 4, &n) || n > HARNESS_MAX_SAMPLES) {
        fprintf(stderr, "harness ppg: need u16 fs, u32 n <= %lu\n", (unsigned long)HARNESS_MAX_SAMPLES);
        return 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v;
        if (!harness_read_le(in, 2, &v)) {
            fprintf(stderr, "harness ppg: input ends at sample %lu of %lu\n", (unsigned long)i, (unsigned long)n);
            return 1;
        }
        h_raw[i] = (int16_t)(uint16_t)v;
    }
    if (!harness_read_le(in, 4, &chunking)) {
        chunking = 0;
    }
    uint32_t n_motion = 0, n_seconds = 0;
    if (!read_levels(in, "motion level", HARNESS_MAX_EPOCHS, h_motion, &n_motion) ||
        !read_levels(in, "1-s motion level", HARNESS_MAX_SECONDS, h_seconds, &n_seconds)) {
        return 1;
    }
    ppg_pipeline_t p;
    if (!ppg_pipeline_init(&p, (uint16_t)fs)) {
        fprintf(stderr, "harness ppg: rate %lu Hz refused\n", (unsigned long)fs);
        return 3;
    }
    uint32_t lcg = chunking & ~HARNESS_RANDOM_FLAG;
    size_t nb = 0, ns = 0, motion_in = 0, seconds_in = 0;
    const size_t epoch_len = (size_t)DSP_EPOCH_S * fs;
    for (size_t i = 0; i < n;) {
        size_t m = n - i;
        if (chunking & HARNESS_RANDOM_FLAG) {
            const size_t want = 1u + lcg_next(&lcg) % HARNESS_MAX_RANDOM_CHUNK;
            m = want < m ? want : m;
        } else if (chunking != 0 && chunking < m) {
            m = chunking;
        }
        if (n_motion > 0) {
            const size_t to_boundary = epoch_len - i % epoch_len;
            m = to_boundary < m ? to_boundary : m;
            while (motion_in < n_motion && (motion_in + 1u) * epoch_len <= i + m) {
                ppg_pipeline_motion(&p, h_motion[motion_in++]);
            }
        }
        if (n_seconds > 0) {
            const size_t to_boundary = fs - i % fs;
            m = to_boundary < m ? to_boundary : m;
            while (seconds_in < n_seconds && (seconds_in + 1u) * fs <= i + m) {
                ppg_pipeline_motion_second(&p, h_seconds[seconds_in++]);
            }
        }
        ppg_filter(&p, h_raw + i, m, h_filt + i);
        const size_t got = ppg_detect_beats(&p, h_filt + i, m, h_beats + nb, h_amps + nb, PPG_MAX_BEATS(m));
        ns += ppg_segments(&p, h_raw + i, m, h_beats + nb, h_amps + nb, got, h_segs + ns, PPG_MAX_SEGMENTS(m));
        nb += got;
        i += m;
    }
    for (size_t i = 0; i < n; i++) {
        harness_write_le(out, 4, (uint32_t)h_filt[i]);
    }
    harness_write_le(out, 4, (uint32_t)nb);
    for (size_t i = 0; i < nb; i++) {
        harness_write_le(out, 4, h_beats[i]);
    }
    for (size_t i = 0; i < nb; i++) {
        harness_write_le(out, 4, (uint32_t)h_amps[i]);
    }
    harness_write_le(out, 4, (uint32_t)ns);
    for (size_t i = 0; i < ns; i++) {
        const hrv_features_t *f = &h_segs[i];
        harness_write_le(out, 4, f->segment);
        harness_write_le(out, 1, f->valid);
        harness_write_le(out, 1, f->flags);
        harness_write_le(out, 2, f->n_beats);
        harness_write_le(out, 2, f->n_ibis);
        harness_write_le(out, 2, f->n_rejected);
        int32_t feats[HRV_FEATURE_COUNT];
        hrv_feature_values(f, feats);
        for (size_t k = 0; k < HRV_FEATURE_COUNT; k++) {
            harness_write_le(out, 4, (uint32_t)feats[k]);
        }
        harness_write_le(out, 2, f->baseline_n);
        harness_write_le(out, 1, f->baseline_ready);
        for (size_t k = 0; k < HRV_FEATURE_COUNT; k++) {
            harness_write_le(out, 4, (uint32_t)f->rel[k]);
        }
        int32_t extra[HRV_EXTRA_COUNT];
        hrv_extra_values(f, extra);
        for (size_t k = 0; k < HRV_EXTRA_COUNT; k++) {
            harness_write_le(out, 4, (uint32_t)extra[k]);
        }
        harness_write_le(out, 1, f->spectrum_ready);
    }
    fflush(out);
    return p.beats_dropped || p.segments_dropped || p.det.dropped ? 4 : 0;
}
