/* Frequency-domain HRV (dsp/hrv_spectrum.c): hand-checkable unit checks, and the harness that
 * tests/test_dsp_hrv_spectrum.py uses to compare the C with its twin (vigil.dsp.hrv_spectrum).
 *
 * Harness, `program harness hrv_spectrum` (all integers little-endian): requests one after the other until the
 * input ends, each
 *   in:  u16 fs, u32 end, u32 count, count x (u32 beat, u16 ibi)
 *        (a fresh hrv_spectrum_t; every pair pushed in order, ring drops and ignored beats included; then one
 *        hrv_spectrum_compute(end, ppg_rate_table(fs)); an unsupported rate gives NULL: not ready)
 *   out: i32 lf, i32 hf, i32 lfhf, u8 ready                                          (13 bytes per request)
 * Exit status 0; 1 on a request cut short (the answers to the complete ones are written). */
#include <string.h>

#include "check.h"
#include "dsp/hrv_spectrum.h"
#include "harness_io.h"

/* Every check starts from its own ring; 6 KB each, off the stack. */
static hrv_spectrum_t u_ring, u_copy;

/* ------------------------------------------------------------------ signals */

/* A steady rhythm: IBIs of `ibi` samples whose beats end at `last`, going back to (at most) `first`. */
static void push_steady(hrv_spectrum_t *s, uint32_t first, uint32_t last, uint16_t ibi)
{
    uint32_t b = first + (last - first) % ibi; /* so that the last beat is exactly `last` */
    for (; b <= last; b += ibi) {
        hrv_spectrum_push(s, b, ibi);
    }
}

/* IBIs modulated at bin k (k / 240 Hz) without floating point: ibi = mean + amp * cos(2 pi k t / 240 s), the cosine
 * read from the kernel's own table at t = the previous beat, t_samples * 4k / fs in table steps. Beats from 0 until
 * `until`. */
static void push_modulated(hrv_spectrum_t *s, uint16_t fs, uint32_t until, uint16_t mean, int32_t amp, uint32_t k)
{
    uint32_t b = 0;
    while (b < until) {
        const uint32_t idx = (uint32_t)((uint64_t)b * 4u * k / fs % HRV_SPECTRUM_POINTS);
        const uint16_t ibi = (uint16_t)(mean + ((amp * HRV_SPECTRUM_COS_Q15[idx]) >> HRV_SPECTRUM_Q));
        b += ibi;
        hrv_spectrum_push(s, b, ibi);
    }
}

static uint16_t newest_slot(const hrv_spectrum_t *s)
{
    return (uint16_t)((s->head + s->count - 1u) % HRV_SPECTRUM_CAPACITY);
}

static uint32_t window_len(uint16_t fs)
{
    return HRV_SPECTRUM_WINDOW_S * (uint32_t)fs;
}

/* ------------------------------------------------------------------ checks */

static void check_constant(check_totals_t *t)
{
    for (unsigned r = 0; r < PPG_RATE_COUNT; r++) {
        const uint16_t fs = PPG_RATE_TABLES[r].fs_hz;
        const uint16_t ibi = (uint16_t)(fs * 4u / 5u); /* 75 bpm */
        const uint32_t end = window_len(fs) + 30u * fs;
        hrv_spectrum_reset(&u_ring);
        push_steady(&u_ring, 0, end - 1u, ibi);
        hrv_spectrum_out_t o;
        hrv_spectrum_compute(&u_ring, end, ppg_rate_table(fs), &o);
        /* a flat tachogram is its own mean: every d_j, x_j and bin is exactly 0 */
        CHECK(t, o.ready == 1 && o.lf == 0 && o.hf == 0 && o.lfhf == 0,
              "%u Hz constant: ready %u lf %ld hf %ld lfhf %ld", fs, o.ready, (long)o.lf, (long)o.hf, (long)o.lfhf);
    }
}

static void check_readiness(check_totals_t *t)
{
    const uint16_t fs = 100;
    const uint32_t w = window_len(fs); /* 24000 samples */
    hrv_spectrum_out_t o;

    /* coverage: 75 % of 24000 samples is 18000, 180 IBIs of 100 samples ending in [end - w, end) */
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 50000u - 180u * 100u, 50000u - 100u, 100); /* the last beat 100 samples before end */
    CHECK(t, u_ring.count == 180u, "coverage: %u pairs pushed, want 180", u_ring.count);
    hrv_spectrum_compute(&u_ring, 50000u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 1, "180 x 100 samples = 75 %% of the window must be ready");
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 50000u - 179u * 100u, 50000u - 100u, 100);
    hrv_spectrum_compute(&u_ring, 50000u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0 && o.lf == 0 && o.hf == 0 && o.lfhf == 0, "179 x 100 samples (74.6 %%) must not be ready");

    /* the window is [end - w, end): a beat at end does not count, one at end - w does */
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 50000u - 179u * 100u, 50000u, 100);
    hrv_spectrum_compute(&u_ring, 50000u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0, "a beat at `end` is outside the window");
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 50000u - w, 50000u - w + 179u * 100u, 100); /* 180 beats from exactly end - w */
    hrv_spectrum_compute(&u_ring, 50000u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 1, "a beat at end - w is inside the window");

    /* one point is not a tachogram, whatever it covers */
    hrv_spectrum_reset(&u_ring);
    hrv_spectrum_push(&u_ring, 49000u, 200u);
    hrv_spectrum_compute(&u_ring, 50000u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0, "a single point must not be ready");

    /* end before a full window: not ready; from end == w on, the window [0, w) is */
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 0, w - 1u, 80);
    hrv_spectrum_compute(&u_ring, w - 1u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0, "end = w - 1 < the window length must not be ready");
    hrv_spectrum_compute(&u_ring, 0, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0, "end = 0 must not be ready");
    hrv_spectrum_compute(&u_ring, w, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 1 && o.lf == 0 && o.hf == 0, "end = w with full coverage must be ready");

    /* a rate without a table */
    hrv_spectrum_compute(&u_ring, w, ppg_rate_table(50), &o);
    CHECK(t, o.ready == 0, "50 Hz has no table: not ready");
    /* IBIs outside the rate's accepted range are not points: 130 samples is 2.03 s at 64 Hz (ibi_max 128) */
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 0, window_len(64) - 1u, 130);
    hrv_spectrum_compute(&u_ring, window_len(64), ppg_rate_table(64), &o);
    CHECK(t, o.ready == 0, "IBIs above ibi_max are ignored: not ready");
    hrv_spectrum_reset(&u_ring);
    push_steady(&u_ring, 0, window_len(100) - 1u, 130); /* the same 130-sample IBIs are 1.3 s at 100 Hz */
    hrv_spectrum_compute(&u_ring, window_len(100), ppg_rate_table(100), &o);
    CHECK(t, o.ready == 1, "130-sample IBIs at 100 Hz are points");
}

static void check_ring(check_totals_t *t)
{
    const uint32_t extra = 50u;
    hrv_spectrum_reset(&u_ring);
    for (uint32_t i = 0; i < HRV_SPECTRUM_CAPACITY + extra; i++) {
        hrv_spectrum_push(&u_ring, 1000u + 80u * i, (uint16_t)(80u + i % 7u));
    }
    CHECK(t, u_ring.count == HRV_SPECTRUM_CAPACITY, "ring holds %u, want %u", u_ring.count, HRV_SPECTRUM_CAPACITY);
    CHECK(t, u_ring.beat[u_ring.head] == 1000u + 80u * extra && u_ring.ibi[u_ring.head] == 80u + extra % 7u,
          "oldest held beat %lu, want the %lu-th pushed", (unsigned long)u_ring.beat[u_ring.head],
          (unsigned long)extra);
    const uint32_t last = 1000u + 80u * (HRV_SPECTRUM_CAPACITY + extra - 1u);
    CHECK(t, u_ring.beat[newest_slot(&u_ring)] == last, "newest held beat %lu, want %lu",
          (unsigned long)u_ring.beat[newest_slot(&u_ring)], (unsigned long)last);

    /* out of order or repeated beats are ignored: the ring is left exactly as it was */
    memcpy(&u_copy, &u_ring, sizeof u_copy);
    hrv_spectrum_push(&u_ring, last, 90);
    hrv_spectrum_push(&u_ring, last - 5u, 90);
    hrv_spectrum_push(&u_ring, 0, 90);
    CHECK(t, memcmp(&u_copy, &u_ring, sizeof u_copy) == 0, "a beat not after the newest must be ignored");
    hrv_spectrum_push(&u_ring, last + 1u, 1);
    CHECK(t, u_ring.beat[newest_slot(&u_ring)] == last + 1u && u_ring.ibi[newest_slot(&u_ring)] == 1u,
          "a beat after the newest must be held");

    /* the dropped pairs are gone: a window that only they covered is not ready, the next one is */
    const uint16_t fs = 100;
    hrv_spectrum_reset(&u_ring);
    const uint32_t newest_beat = 12u * 60u * fs;
    push_steady(&u_ring, 0, newest_beat, 60); /* 1201 IBIs of 0.6 s over 12 minutes: the ring keeps the last 10 */
    const uint32_t oldest = u_ring.beat[u_ring.head];
    CHECK(t, u_ring.count == HRV_SPECTRUM_CAPACITY && oldest == newest_beat - 60u * (HRV_SPECTRUM_CAPACITY - 1u),
          "oldest held beat %lu", (unsigned long)oldest);
    hrv_spectrum_out_t o;
    /* half of this window lies before the oldest held beat: 50 % covered (100 % had nothing been dropped) */
    hrv_spectrum_compute(&u_ring, oldest + window_len(fs) / 2u, ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 0, "a window half before the oldest held beat must not be ready");
    hrv_spectrum_compute(&u_ring, oldest + window_len(fs), ppg_rate_table(fs), &o);
    CHECK(t, o.ready == 1, "the window just after the oldest held beat must be ready");

    /* compute leaves the ring as it was */
    memcpy(&u_copy, &u_ring, sizeof u_copy);
    hrv_spectrum_compute(&u_ring, newest_beat, ppg_rate_table(fs), &o);
    CHECK(t, memcmp(&u_copy, &u_ring, sizeof u_copy) == 0, "compute must not modify the ring");
}

static void check_bands(check_totals_t *t)
{
    for (unsigned r = 0; r < PPG_RATE_COUNT; r++) {
        const uint16_t fs = PPG_RATE_TABLES[r].fs_hz;
        const uint16_t mean = (uint16_t)(fs * 4u / 5u); /* 0.8 s */
        const int32_t amp = fs / 8;                     /* 125 ms: 8 samples at 64 Hz, enough levels */
        /* a sinusoid of amplitude A ms has power A^2 / 2 ms^2: 7812 ms^2, 781 250 in 0.01 ms^2 */
        const int64_t expected = (int64_t)amp * amp * 1000000 * 100 / (2 * (int64_t)fs * fs);
        const uint32_t end = 5u * 60u * fs;
        hrv_spectrum_out_t o;

        hrv_spectrum_reset(&u_ring);
        push_modulated(&u_ring, fs, end, mean, amp, 24u); /* 0.1 Hz: LF */
        hrv_spectrum_compute(&u_ring, end, ppg_rate_table(fs), &o);
        CHECK(t, o.ready && o.lf > 20 * (int64_t)o.hf && o.lf > expected * 8 / 10 && o.lf < expected * 11 / 10,
              "%u Hz, 0.1 Hz modulation: lf %ld hf %ld (want lf ~%ld, hf < lf / 20)", fs, (long)o.lf, (long)o.hf,
              (long)expected);
        CHECK(t, o.lfhf > 2000, "%u Hz, 0.1 Hz modulation: lfhf %ld", fs, (long)o.lfhf);

        hrv_spectrum_reset(&u_ring);
        push_modulated(&u_ring, fs, end, mean, amp, 60u); /* 0.25 Hz: HF */
        hrv_spectrum_compute(&u_ring, end, ppg_rate_table(fs), &o);
        /* linear interpolation between beats 0.8 s apart passes a 0.25-Hz wave at sinc^4(0.2) = 77 % of its power */
        CHECK(t, o.ready && o.hf > 20 * (int64_t)o.lf && o.hf > expected * 7 / 10 && o.hf < expected * 11 / 10,
              "%u Hz, 0.25 Hz modulation: lf %ld hf %ld (want hf ~%ld, lf < hf / 20)", fs, (long)o.lf, (long)o.hf,
              (long)expected);
        CHECK(t, o.lfhf < 5, "%u Hz, 0.25 Hz modulation: lfhf %ld", fs, (long)o.lfhf);

        /* 0.03 Hz (bin 7, below LF) leaves both bands nearly empty; 0.5 Hz (bin 120, above HF) too */
        hrv_spectrum_reset(&u_ring);
        push_modulated(&u_ring, fs, end, mean, amp, 7u);
        hrv_spectrum_compute(&u_ring, end, ppg_rate_table(fs), &o);
        CHECK(t, o.ready && o.lf < expected / 10 && o.hf < expected / 100, "%u Hz, 0.03 Hz: lf %ld hf %ld", fs,
              (long)o.lf, (long)o.hf);
    }
}

/* Step 9 on hand-made sums through a whole compute is hard to reach; the arithmetic is checked on the twin side
 * (tests/test_dsp_hrv_spectrum.py) and here by the bands' lfhf. */

void run_hrv_spectrum_tests(check_totals_t *t)
{
    check_constant(t);
    check_readiness(t);
    check_ring(t);
    check_bands(t);
}

/* ------------------------------------------------------------------ harness */

static hrv_spectrum_t h_ring;

int harness_hrv_spectrum(FILE *in, FILE *out)
{
    for (unsigned long request = 0;; request++) {
        uint32_t fs = 0, end = 0, count = 0;
        if (!harness_read_le(in, 2, &fs)) {
            break; /* the input ended between requests */
        }
        if (!harness_read_le(in, 4, &end) || !harness_read_le(in, 4, &count)) {
            fprintf(stderr, "harness hrv_spectrum: request %lu: need u16 fs, u32 end, u32 count\n", request);
            return 1;
        }
        hrv_spectrum_reset(&h_ring);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t beat, ibi;
            if (!harness_read_le(in, 4, &beat) || !harness_read_le(in, 2, &ibi)) {
                fprintf(stderr, "harness hrv_spectrum: request %lu ends at pair %lu of %lu\n", request,
                        (unsigned long)i, (unsigned long)count);
                return 1;
            }
            hrv_spectrum_push(&h_ring, beat, (uint16_t)ibi);
        }
        hrv_spectrum_out_t o;
        hrv_spectrum_compute(&h_ring, end, ppg_rate_table((uint16_t)fs), &o);
        harness_write_u32(out, (uint32_t)o.lf);
        harness_write_u32(out, (uint32_t)o.hf);
        harness_write_u32(out, (uint32_t)o.lfhf);
        fputc(o.ready, out);
    }
    fflush(out);
    return 0;
}
