/* Per-epoch features and the sleep context: hand-checkable unit checks, and the harness that
 * tests/test_dsp_epoch_features.py uses to compare the C with its twin (vigil.dsp.epoch_features).
 *
 * Harness, `program harness epoch_features` (all integers little-endian):
 *   in:  u32 n, then n x (int16 x, int16 y, int16 z), then optionally u32 chunking:
 *          0 (or absent)          one call with all n samples
 *          1 .. 0x7FFFFFFF        calls of that many samples (the last one shorter)
 *          0x80000000 | seed      calls of pseudo-random sizes 1 .. HARNESS_MAX_RANDOM_CHUNK
 *                                 (LCG seeded with the low 31 bits)
 *   out: u32 n_epochs, n_epochs x DSP_EPOCH_FEATURES int8 vectors, then u32 n_decided and per decided epoch
 *        u32 epoch + DSP_SLEEP_CONTEXT_INPUT int8 (the unrolled context, in the order decided).
 *   Each call feeds the block to accel_stft_derivative, then epoch_features_push with
 *   max = EPOCH_FEATURES_MAX_EPOCHS(block), then each vector to sleep_context_push (and unroll when due).
 *   Exit status 0, or 1 on a malformed request or a dropped epoch. */
#include <string.h>

#include "check.h"
#include "harness_io.h"
#include "dsp/accel_stft.h"
#include "dsp/epoch_features.h"
#include "dsp/sleep_context.h"

#define HARNESS_MAX_SAMPLES (1u << 21)
#define HARNESS_MAX_RANDOM_CHUNK 3001u
#define HARNESS_RANDOM_FLAG 0x80000000u
#define UNIT_EPOCHS 3u
#define UNIT_SAMPLES (UNIT_EPOCHS * DSP_EPOCH_SAMPLES)
#define CAP_EPOCHS (2u * DSP_FEATURE_CODE_MAX + 10u) /* past the elapsed code's cap (epoch 510) */
#define Q(code) ((int8_t)((int32_t)(code) + DSP_FEATURE_ZERO_POINT))

/* ------------------------------------------------------------------ unit checks */

static int16_t u_xyz[3 * UNIT_SAMPLES];
static int16_t u_deriv[UNIT_SAMPLES];

/* Features of u_xyz's first n samples pushed in blocks of `block` samples (derivative included). */
static size_t features_of(size_t n, size_t block, int8_t *out, size_t max)
{
    accel_stft_t a;
    epoch_features_t s;
    accel_stft_init(&a);
    epoch_features_init(&s);
    size_t done = 0, got = 0;
    while (done < n) {
        size_t m = n - done < block ? n - done : block;
        accel_stft_derivative(&a, u_xyz + 3 * done, m, u_deriv + done);
        got += epoch_features_push(&s, u_xyz + 3 * done, u_deriv + done, m, out + got * DSP_EPOCH_FEATURES,
                                   max - got);
        done += m;
    }
    return got;
}

static void fill(size_t from, size_t to, int16_t x, int16_t y, int16_t z)
{
    for (size_t i = from; i < to; i++) {
        u_xyz[3 * i] = x;
        u_xyz[3 * i + 1] = y;
        u_xyz[3 * i + 2] = z;
    }
}

static void check_log_code(check_totals_t *t)
{
    /* floor(10 log2(v + 1)): 0 -> 0, 1 -> 10, 3 -> 20, 1023 -> 100, 5792 -> 125 (log2 5793 = 12.5001) */
    static const uint32_t v[] = {0u, 1u, 3u, 1023u, 5792u, 1500u * 32767u, UINT32_MAX};
    static const uint8_t want[] = {0u, 10u, 20u, 100u, 125u, 255u, 255u};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const uint8_t got = epoch_features_log_code(v[i]);
        CHECK(t, got == want[i], "log_code(%lu) = %u, want %u", (unsigned long)v[i], got, want[i]);
    }
}

static void check_still_arm(check_totals_t *t)
{
    /* a constant 1 g along z: no activity, no direction change, every window still; elapsed 0, 0, 1 minutes */
    fill(0, UNIT_SAMPLES, 0, 0, 1000);
    int8_t f[UNIT_EPOCHS * DSP_EPOCH_FEATURES];
    CHECK(t, features_of(UNIT_SAMPLES, UNIT_SAMPLES, f, UNIT_EPOCHS) == UNIT_EPOCHS, "three epochs");
    for (uint32_t e = 0; e < UNIT_EPOCHS; e++) {
        const int8_t *v = f + e * DSP_EPOCH_FEATURES;
        CHECK(t, v[0] == Q(0) && v[1] == Q(0) && v[2] == Q(DSP_POSTURE_WINDOWS) && v[3] == Q(e >> DSP_ELAPSED_SHIFT),
              "still epoch %u: %d %d %d %d", (unsigned)e, v[0], v[1], v[2], v[3]);
    }
}

static void check_turn(check_totals_t *t)
{
    /* 90 degrees between windows 0 and 1: c_1 = isqrt(2 * 4096^2) = 5792 -> code 125; window 1 is not still. The
     * one-sample step of the magnitude is 0 (both 1000 milli-g): no activity. */
    fill(0, DSP_POSTURE_WINDOW_SAMPLES, 1000, 0, 0);
    fill(DSP_POSTURE_WINDOW_SAMPLES, DSP_EPOCH_SAMPLES, 0, 1000, 0);
    int8_t f[DSP_EPOCH_FEATURES];
    CHECK(t, features_of(DSP_EPOCH_SAMPLES, 7, f, 1) == 1, "one epoch");
    CHECK(t, f[0] == Q(0) && f[1] == Q(125) && f[2] == Q(DSP_POSTURE_WINDOWS - 1u), "turn: %d %d %d", f[0], f[1], f[2]);

    /* a window of exact zeros has direction 0: the change into the next (1 g along z) is one unit, 4096 -> 120 */
    fill(0, DSP_POSTURE_WINDOW_SAMPLES, 0, 0, 0);
    fill(DSP_POSTURE_WINDOW_SAMPLES, DSP_EPOCH_SAMPLES, 0, 0, 1000);
    CHECK(t, features_of(DSP_EPOCH_SAMPLES, 250, f, 1) == 1, "one epoch");
    /* activity: the magnitude steps 0 -> 1000 once, 990 above the dead band */
    CHECK(t, f[0] == Q(epoch_features_log_code(1000u - DSP_ACTIVITY_DEADBAND_MG)) && f[1] == Q(120) && f[2] == Q(DSP_POSTURE_WINDOWS - 1u),
          "zero window: %d %d %d", f[0], f[1], f[2]);
}

static void check_blocks(check_totals_t *t)
{
    /* any block sizes give the same vectors */
    uint32_t lcg = 12345u;
    for (size_t i = 0; i < 3u * UNIT_SAMPLES; i++) {
        lcg = lcg * 1664525u + 1013904223u;
        u_xyz[i] = (int16_t)((lcg >> 16) % 4001u) - 2000;
    }
    int8_t whole[UNIT_EPOCHS * DSP_EPOCH_FEATURES], part[UNIT_EPOCHS * DSP_EPOCH_FEATURES];
    CHECK(t, features_of(UNIT_SAMPLES, UNIT_SAMPLES, whole, UNIT_EPOCHS) == UNIT_EPOCHS, "whole");
    static const size_t blocks[] = {1u, 7u, 250u, 1499u, 1500u, 3001u};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        memset(part, 0, sizeof part);
        const size_t got = features_of(UNIT_SAMPLES, blocks[b], part, UNIT_EPOCHS);
        CHECK(t, got == UNIT_EPOCHS && memcmp(whole, part, sizeof whole) == 0, "blocks of %zu differ", blocks[b]);
    }
    /* a full buffer: the epoch is counted, not silently lost */
    epoch_features_t s;
    epoch_features_init(&s);
    CHECK(t, epoch_features_push(&s, u_xyz, u_deriv, DSP_EPOCH_SAMPLES, part, 0) == 0 && s.epochs_dropped == 1u &&
                 s.epoch == 1u,
          "dropped %u", (unsigned)s.epochs_dropped);
}

static void check_dead_band(check_totals_t *t)
{
    /* |d| 9, 10, 11, 30, -30, then 0: 0 + 0 + 1 + 20 + 20 = 41 above the 10 mg dead band -> floor(10 log2 42) = 53 */
    fill(0, DSP_EPOCH_SAMPLES, 0, 0, 1000);
    memset(u_deriv, 0, sizeof u_deriv);
    static const int16_t d[] = {9, 10, 11, 30, -30};
    memcpy(u_deriv, d, sizeof d);
    epoch_features_t s;
    epoch_features_init(&s);
    int8_t v[DSP_EPOCH_FEATURES];
    CHECK(t, DSP_ACTIVITY_DEADBAND_MG == 10u && epoch_features_push(&s, u_xyz, u_deriv, DSP_EPOCH_SAMPLES, v, 1) == 1 &&
                 v[0] == Q(53),
          "dead band: code %d", v[0] - DSP_FEATURE_ZERO_POINT);
}

static void check_elapsed_cap(check_totals_t *t)
{
    fill(0, DSP_EPOCH_SAMPLES, 0, 0, 1000);
    memset(u_deriv, 0, sizeof u_deriv);
    epoch_features_t s;
    epoch_features_init(&s);
    unsigned bad = 0;
    for (uint32_t e = 0; e < CAP_EPOCHS; e++) {
        int8_t v[DSP_EPOCH_FEATURES];
        bad += epoch_features_push(&s, u_xyz, u_deriv, DSP_EPOCH_SAMPLES, v, 1) != 1;
        const uint32_t want = e >> DSP_ELAPSED_SHIFT < DSP_FEATURE_CODE_MAX ? e >> DSP_ELAPSED_SHIFT : DSP_FEATURE_CODE_MAX;
        bad += v[3] != Q(want);
    }
    CHECK(t, bad == 0, "elapsed codes: %u wrong", bad);
}

static void check_context(check_totals_t *t)
{
    static sleep_context_t c;
    sleep_context_init(&c);
    int8_t in[DSP_SLEEP_CONTEXT_INPUT];
    unsigned bad = 0, due = 0;
    for (uint32_t e = 0; e < DSP_SLEEP_CONTEXT_EPOCHS + 10u; e++) {
        const int8_t v[DSP_EPOCH_FEATURES] = {(int8_t)e, (int8_t)(e + 1u), (int8_t)(e + 2u), (int8_t)(e + 3u)};
        uint32_t decided = 0xFFFFFFFFu;
        const bool ready = sleep_context_push(&c, v, &decided);
        if (ready != (e >= DSP_SLEEP_CONTEXT_DELAY) || (ready && decided != e - DSP_SLEEP_CONTEXT_DELAY)) {
            bad++;
        }
        if (!ready) {
            continue;
        }
        due++;
        sleep_context_unroll(&c, in);
        /* row r is epoch e - 53 + r: feature j = epoch + j, or -128 before the stream */
        for (uint32_t r = 0; r < DSP_SLEEP_CONTEXT_EPOCHS; r++) {
            const int64_t epoch = (int64_t)e - (DSP_SLEEP_CONTEXT_EPOCHS - 1u) + r;
            for (uint32_t j = 0; j < DSP_EPOCH_FEATURES; j++) {
                const int8_t want = epoch < 0 ? (int8_t)SLEEP_CONTEXT_EMPTY_VALUE : (int8_t)(epoch + j);
                bad += in[r * DSP_EPOCH_FEATURES + j] != want;
            }
        }
    }
    CHECK(t, bad == 0 && due == DSP_SLEEP_CONTEXT_EPOCHS + 10u - DSP_SLEEP_CONTEXT_DELAY, "context: %u wrong, %u due",
          bad, due);
}

void run_epoch_features_tests(check_totals_t *t)
{
    check_log_code(t);
    check_still_arm(t);
    check_turn(t);
    check_blocks(t);
    check_dead_band(t);
    check_elapsed_cap(t);
    check_context(t);
}

/* ------------------------------------------------------------------ harness */

static int16_t h_xyz[3 * HARNESS_MAX_SAMPLES];
static int16_t h_deriv[HARNESS_MAX_SAMPLES];
static int8_t h_vectors[(HARNESS_MAX_SAMPLES / DSP_EPOCH_SAMPLES + 1u) * DSP_EPOCH_FEATURES];
static uint32_t h_decided[HARNESS_MAX_SAMPLES / DSP_EPOCH_SAMPLES + 1u];
static int8_t h_inputs[(HARNESS_MAX_SAMPLES / DSP_EPOCH_SAMPLES + 1u) * DSP_SLEEP_CONTEXT_INPUT];
static sleep_context_t h_context;

int harness_epoch_features(FILE *in, FILE *out)
{
    uint32_t n = 0, chunking = 0;
    if (!harness_read_xyz(in, "epoch_features", h_xyz, HARNESS_MAX_SAMPLES, &n, &chunking)) {
        return 1;
    }
    uint32_t lcg = chunking & ~HARNESS_RANDOM_FLAG;

    accel_stft_t a;
    epoch_features_t s;
    accel_stft_init(&a);
    epoch_features_init(&s);
    sleep_context_init(&h_context);
    size_t done = 0, n_epochs = 0, n_decided = 0;
    while (done < n) {
        size_t m = n - done;
        if (chunking & HARNESS_RANDOM_FLAG) {
            lcg = lcg * 1664525u + 1013904223u;
            m = 1u + (lcg >> 16) % HARNESS_MAX_RANDOM_CHUNK;
        } else if (chunking != 0) {
            m = chunking;
        }
        m = m < n - done ? m : n - done;
        accel_stft_derivative(&a, h_xyz + 3 * done, m, h_deriv + done);
        const size_t got = epoch_features_push(&s, h_xyz + 3 * done, h_deriv + done, m,
                                               h_vectors + n_epochs * DSP_EPOCH_FEATURES, EPOCH_FEATURES_MAX_EPOCHS(m));
        for (size_t k = 0; k < got; k++) {
            if (sleep_context_push(&h_context, h_vectors + (n_epochs + k) * DSP_EPOCH_FEATURES, &h_decided[n_decided])) {
                sleep_context_unroll(&h_context, h_inputs + n_decided * DSP_SLEEP_CONTEXT_INPUT);
                n_decided++;
            }
        }
        n_epochs += got;
        done += m;
    }
    if (s.epochs_dropped != 0) {
        fprintf(stderr, "harness epoch_features: %lu epochs dropped\n", (unsigned long)s.epochs_dropped);
        return 1;
    }
    harness_write_u32(out, (uint32_t)n_epochs);
    fwrite(h_vectors, 1, n_epochs * DSP_EPOCH_FEATURES, out);
    harness_write_u32(out, (uint32_t)n_decided);
    for (size_t k = 0; k < n_decided; k++) {
        harness_write_u32(out, h_decided[k]);
        fwrite(h_inputs + k * DSP_SLEEP_CONTEXT_INPUT, 1, DSP_SLEEP_CONTEXT_INPUT, out);
    }
    return 0;
}
