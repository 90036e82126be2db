/* Accelerometer spectrogram: unit checks of the kernels and the streaming API, and the harness
 * that tests/test_dsp_accel.py uses to compare the C with its twin (vigil.dsp.accel / stft).
 *
 * Harness, `program harness accel` (all integers little-endian):
 *   in:  u32 n, then n x (int16 x, int16 y, int16 z), then optionally u32 chunking:
 *          0 (or absent)          one call with all n samples
 *          1 .. 0x7FFFFFFF        calls of that many samples (the last one shorter)
 *          0x80000000 | seed      calls of pseudo-random sizes 1 .. HARNESS_MAX_RANDOM_CHUNK
 *                                 (LCG seeded with the low 31 bits)
 *   out: n x int16 derivative, u32 n_cols, n_cols x DSP_STFT_BINS int8 columns,
 *        n_cols x DSP_STFT_BINS int32 dB values in Q16 (INT32_MIN = zero power).
 *   Each call feeds the block to accel_stft_derivative then accel_stft_columns_db with
 *   max_columns = ACCEL_STFT_MAX_COLUMNS(block). Exit status 0, or 1 on a malformed request. */
#include <string.h>

#include "check.h"
#include "harness_io.h"
#include "dsp/accel_stft.h"
#include "dsp/stft_kernels.h"

#define HARNESS_MAX_SAMPLES (1u << 20)
#define HARNESS_MAX_COLUMNS (HARNESS_MAX_SAMPLES / DSP_STFT_HOP + 1u)
#define HARNESS_MAX_RANDOM_CHUNK 253u
#define HARNESS_RANDOM_FLAG 0x80000000u

/* ------------------------------------------------------------------ unit checks */

static void check_magnitude(check_totals_t *t)
{
    static const int16_t xyz[] = {0, 0, 0, 3, 4, 12, 1, 1, 1, 2, 2, 1, -32768, 0, 0, 1000, 0, 0,
                                  32767, 32767, 32767, -32768, -32768, -32768};
    static const uint16_t want[] = {0, 13, 1, 3, 32768, 1000, 56754, 56755};
    uint16_t mag[sizeof want / sizeof want[0]];
    accel_magnitude_u16(xyz, sizeof want / sizeof want[0], mag);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK(t, mag[i] == want[i], "magnitude %zu: %u, want %u", i, mag[i], want[i]);
    }
}

static void check_derivative(check_totals_t *t)
{
    /* 0 -> full scale on all axes (+56755, saturates) -> 0 (-56755, saturates) -> 1000 */
    static const int16_t xyz[] = {0, 0, 0, -32768, -32768, -32768, 0, 0, 0, 1000, 0, 0};
    static const int16_t want[] = {0, INT16_MAX, INT16_MIN, 1000};
    accel_stft_t s;
    accel_stft_init(&s);
    int16_t d[4];
    accel_stft_derivative(&s, xyz, 4, d);
    for (size_t i = 0; i < 4; i++) {
        CHECK(t, d[i] == want[i], "derivative %zu: %d, want %d", i, d[i], want[i]);
    }
    /* the stream's first sample has derivative 0 even when it is large; blocks join seamlessly */
    accel_stft_init(&s);
    accel_stft_derivative(&s, xyz + 3, 1, d);
    accel_stft_derivative(&s, xyz + 6, 2, d + 1);
    CHECK(t, d[0] == 0 && d[1] == INT16_MIN && d[2] == 1000, "blocks: %d %d %d", d[0], d[1], d[2]);
    /* n = 0 changes nothing */
    accel_stft_derivative(&s, xyz, 0, d);
    accel_stft_derivative(&s, xyz + 9, 1, d);
    CHECK(t, d[0] == 0, "after an empty block: %d", d[0]);
}

static void check_log(check_totals_t *t)
{
    CHECK(t, log2_u64_q30(1) == 0, "log2(1)");
    CHECK(t, log2_u64_q30(2) == ((int64_t)1 << 30), "log2(2)");
    CHECK(t, log2_u64_q30((uint64_t)1 << 61) == 61 * ((int64_t)1 << 30), "log2(2^61)");
    /* log2(3) = 1.5849625007 -> 1701840526 in Q30; the table's error bound is 1.2e-5 * 2^30 */
    const int64_t l3 = log2_u64_q30(3) - 1701840526;
    CHECK(t, l3 > -13000 && l3 < 13000, "log2(3) off by %lld", (long long)l3);
    CHECK(t, power_db_q16(1, 0) == 0, "0 dB");
    CHECK(t, power_db_q16(0, 0) == STFT_DB_ZERO_POWER, "zero power");
    const int32_t db100 = power_db_q16(100, 0) - 20 * 65536; /* 20 dB */
    CHECK(t, db100 >= -3 && db100 <= 3, "100 -> 20 dB off by %d", (int)db100);
    const int32_t db_quarter = power_db_q16(1, 2) + 394566; /* -6.0206 dB */
    CHECK(t, db_quarter >= -3 && db_quarter <= 3, "2^-2 off by %d", (int)db_quarter);
}

static void check_max_columns_macro(check_totals_t *t)
{
    CHECK(t, ACCEL_STFT_MAX_COLUMNS(0) == 0, "0 samples");
    CHECK(t, ACCEL_STFT_MAX_COLUMNS(1) == 1, "1 sample");
    CHECK(t, ACCEL_STFT_MAX_COLUMNS(DSP_STFT_HOP) == 1, "a hop");
    CHECK(t, ACCEL_STFT_MAX_COLUMNS(DSP_STFT_HOP + 1) == 2, "a hop + 1");
    CHECK(t, ACCEL_STFT_MAX_COLUMNS(253) == 4, "253 samples");
}

static void check_column_timing(check_totals_t *t)
{
    /* one sample per call: columns complete at samples 127, 191, 255, ... (0-based) */
    accel_stft_t s;
    accel_stft_init(&s);
    int8_t col[DSP_STFT_BINS];
    int16_t one = 7;
    unsigned bad = 0, count = 0;
    for (size_t i = 0; i < 400; i++) {
        const size_t got = accel_stft_columns(&s, &one, 1, col, 1);
        const size_t want = (i + 1 >= DSP_STFT_N && (i + 1 - DSP_STFT_N) % DSP_STFT_HOP == 0) ? 1 : 0;
        bad += got != want;
        count += (unsigned)got;
    }
    CHECK(t, bad == 0 && count == 5, "column timing: %u wrong, %u columns", bad, count);

    /* a buffer too small: the extra columns are counted, not silently lost, and the stream stays aligned */
    int16_t d[2 * DSP_STFT_N];
    memset(d, 0, sizeof d);
    accel_stft_init(&s);
    const size_t got = accel_stft_columns(&s, d, 2 * DSP_STFT_N, col, 1);
    CHECK(t, got == 1 && s.columns_dropped == 2, "dropped: got %zu, dropped %u", got, (unsigned)s.columns_dropped);
    const size_t next = accel_stft_columns(&s, d, DSP_STFT_HOP, col, 1);
    CHECK(t, next == 1, "after dropping: %zu", next);
}

static void check_silence(check_totals_t *t)
{
    accel_stft_t s;
    accel_stft_init(&s);
    static const int16_t xyz[3 * 300] = {0}; /* also a constant magnitude: derivative 0 */
    int16_t d[300];
    int8_t cols[ACCEL_STFT_MAX_COLUMNS(300) * DSP_STFT_BINS];
    int32_t db[ACCEL_STFT_MAX_COLUMNS(300) * DSP_STFT_BINS];
    accel_stft_derivative(&s, xyz, 300, d);
    const size_t n = accel_stft_columns_db(&s, d, 300, cols, db, ACCEL_STFT_MAX_COLUMNS(300));
    CHECK(t, n == 3, "silence: %zu columns, want 3", n);
    unsigned bad = 0;
    for (size_t i = 0; i < n * DSP_STFT_BINS; i++) {
        bad += cols[i] != INT8_MIN || db[i] != STFT_DB_ZERO_POWER;
    }
    CHECK(t, bad == 0, "silence: %u bins not -128", bad);
}

/* cos(2 pi m / N) in Q30 for any m, from the window's cosine table */
static int32_t cos_q30(size_t m)
{
    m %= DSP_STFT_N;
    return STFT_COS_Q30[m <= DSP_STFT_N / 2 ? m : DSP_STFT_N - m];
}

static void check_tone(check_totals_t *t)
{
    for (size_t k0 = 3; k0 < DSP_STFT_BINS - 3; k0 += 15) {
        int16_t d[DSP_STFT_N];
        for (size_t n = 0; n < DSP_STFT_N; n++) {
            d[n] = (int16_t)(((int64_t)1000 * cos_q30(k0 * n) + ((int64_t)1 << 29)) >> 30);
        }
        accel_stft_t s;
        accel_stft_init(&s);
        int8_t col[DSP_STFT_BINS];
        int32_t db[DSP_STFT_BINS];
        CHECK(t, accel_stft_columns_db(&s, d, DSP_STFT_N, col, db, 1) == 1, "tone: one column");
        size_t peak = 0;
        for (size_t k = 1; k < DSP_STFT_BINS; k++) {
            peak = col[k] > col[peak] ? k : peak;
        }
        CHECK(t, peak == k0, "tone in bin %zu peaks in bin %zu", k0, peak);
        /* |X| = 1000 * N/4 = 32000: 90.10 dB -> q = 180 - 128 = 52; the Hann neighbours are 6 dB down */
        CHECK(t, col[k0] == 52 && col[k0 - 1] == 40 && col[k0 + 1] == 40, "tone levels %d %d %d", col[k0 - 1], col[k0],
              col[k0 + 1]);
        const int32_t err = db[k0] - 5904990; /* 20 log10(32000) in Q16 */
        CHECK(t, err > -100 && err < 100, "tone dB off by %d", (int)err);
        unsigned leak = 0;
        for (size_t k = 0; k < DSP_STFT_BINS; k++) {
            leak += (k + 1 < k0 || k > k0 + 1) && col[k] > col[k0] - 100; /* 50 dB below */
        }
        CHECK(t, leak == 0, "tone %zu: %u bins within 50 dB away from the peak", k0, leak);
    }
}

static void check_full_scale(check_totals_t *t)
{
    /* Alternating full-scale derivative: the largest possible Nyquist bin, no overflow. */
    int16_t d[DSP_STFT_N];
    for (size_t n = 0; n < DSP_STFT_N; n++) {
        d[n] = (n & 1u) ? INT16_MIN : INT16_MAX;
    }
    accel_stft_t s;
    accel_stft_init(&s);
    int8_t col[DSP_STFT_BINS];
    int32_t db[DSP_STFT_BINS];
    accel_stft_columns_db(&s, d, DSP_STFT_N, col, db, 1);
    /* X[64] = 32 * 32767 + 32 * 32768 (each parity of the window sums to 32) -> 126.43 dB */
    const int32_t err = db[DSP_STFT_BINS - 1] - 8285878;
    CHECK(t, err > -100 && err < 100, "full-scale Nyquist dB off by %d", (int)err);
    CHECK(t, col[DSP_STFT_BINS - 1] == 125, "full-scale Nyquist q %d", col[DSP_STFT_BINS - 1]);
}

void run_accel_tests(check_totals_t *t)
{
    check_magnitude(t);
    check_derivative(t);
    check_log(t);
    check_max_columns_macro(t);
    check_column_timing(t);
    check_silence(t);
    check_tone(t);
    check_full_scale(t);
}

/* ------------------------------------------------------------------ harness */

/* The harness holds a whole request: static buffers in the test program, not in the kernels. */
static int16_t h_xyz[3 * HARNESS_MAX_SAMPLES];
static int16_t h_deriv[HARNESS_MAX_SAMPLES];
static int8_t h_cols[HARNESS_MAX_COLUMNS * DSP_STFT_BINS];
static int32_t h_db[HARNESS_MAX_COLUMNS * DSP_STFT_BINS];

int harness_accel(FILE *in, FILE *out)
{
    uint32_t n = 0, chunking = 0;
    if (!harness_read_xyz(in, "accel", h_xyz, HARNESS_MAX_SAMPLES, &n, &chunking)) {
        return 1;
    }
    uint32_t lcg = chunking & ~HARNESS_RANDOM_FLAG;

    accel_stft_t s;
    accel_stft_init(&s);
    size_t done = 0, n_cols = 0;
    while (done < n) {
        size_t m = n - done;
        if (chunking & HARNESS_RANDOM_FLAG) {
            lcg = lcg * 1664525u + 1013904223u;
            m = 1u + (lcg >> 16) % HARNESS_MAX_RANDOM_CHUNK;
        } else if (chunking != 0) {
            m = chunking;
        }
        m = m < n - done ? m : n - done;
        accel_stft_derivative(&s, h_xyz + 3 * done, m, h_deriv + done);
        n_cols += accel_stft_columns_db(&s, h_deriv + done, m, h_cols + n_cols * DSP_STFT_BINS,
                                        h_db + n_cols * DSP_STFT_BINS, ACCEL_STFT_MAX_COLUMNS(m));
        done += m;
    }
    if (s.columns_dropped != 0) {
        fprintf(stderr, "harness accel: %u columns dropped\n", (unsigned)s.columns_dropped);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const uint16_t v = (uint16_t)h_deriv[i];
        const uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
        fwrite(b, 1, 2, out);
    }
    harness_write_u32(out, (uint32_t)n_cols);
    fwrite(h_cols, 1, n_cols * DSP_STFT_BINS, out);
    for (size_t i = 0; i < n_cols * DSP_STFT_BINS; i++) {
        harness_write_u32(out, (uint32_t)h_db[i]);
    }
    return fflush(out) == 0 ? 0 : 1;
}
