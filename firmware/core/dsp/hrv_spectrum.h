/* Frequency-domain HRV: LF and HF power and LF/HF of the tachogram over the last 4 minutes, in integers.
 * Twin: vigil.dsp.hrv_spectrum (the same integers exactly). Constants: dsp/ppg_tables.h (vigil.dsp.ppg_tables).
 *
 * The pipeline pushes each accepted IBI with the sample index of the beat that ends it; once in a while (every
 * segment) it asks for the spectrum of the window that ends at sample `end`. The beats are irregular in time, so the
 * tachogram is resampled on a 4-Hz grid (the usual rate for HRV spectra; linear interpolation, which needs no
 * solver), given a periodic Hann window and a direct DFT over the LF and HF bins only (86 of the 481 bins: 960 is
 * not a power of two, and direct sums need no per-stage scaling, so they are exact in integers).
 * N = HRV_SPECTRUM_POINTS (960), Q = HRV_SPECTRUM_Q (15), c = HRV_SPECTRUM_COS_Q15, fs = the rate (Hz),
 * W = HRV_SPECTRUM_WINDOW_S * fs samples.
 *
 * 0. Rate: the caller's rate table (ppg_rate_table(fs); NULL: not ready); its ibi_min, ibi_max and spectrum_den
 *    are used.
 * 1. Points: the held (beat, ibi) pairs with start <= beat < end, start = end - W, and ibi_min <= ibi <= ibi_max
 *    (the pipeline never pushes another; ignoring one keeps every product within the bounds that
 *    vigil.dsp.ppg_tables.spectrum_bounds proves). end < W: not ready. Ready iff at least HRV_SPECTRUM_MIN_POINTS
 *    points and 100 * (sum of their ibis) >= HRV_SPECTRUM_MIN_COVER_PCT * W. Not ready: lf = hf = lfhf = 0.
 * 2. Grid, in 1/GRID_HZ of a sample so that it is exact at every rate: T_j = GRID_HZ * start + j * fs,
 *    j = 0 .. N - 1. Point i sits at P_i = GRID_HZ * beat_i with value v_i = ibi_i << 8 (Q8 samples).
 * 3. y_j = v_0 when T_j <= P_0, v_last when T_j >= P_last, else, with P_i <= T_j < P_{i+1},
 *    y_j = v_i + floor((v_{i+1} - v_i) * (T_j - P_i) / (P_{i+1} - P_i))    (floor toward -inf; int64).
 * 4. m = floor(sum_j y_j / N); d_j = y_j - m.
 * 5. w_j = (32768 - c[j]) >> 1 (periodic Hann, Q15); x_j = (d_j * w_j) >> 15 (arithmetic shift = floor; int64).
 * 6. For each bin k in [HRV_SPECTRUM_LF_LO, HRV_SPECTRUM_HF_HI) (bin k is k * GRID_HZ / N Hz):
 *      re = (sum_j x_j c[(k j) mod N]) >> 15, im = (sum_j x_j c[(k j + 3N/4) mod N]) >> 15 (the sine),
 *      P_k = re^2 + im^2 (int64 sums, arithmetic shifts, uint64 P_k).
 * 7. S_lf = sum of P_k over [LF_LO, LF_HI), S_hf over [HF_LO, HF_HI) (uint64).
 * 8. lf = min(floor(S_lf / spectrum_den), INT32_MAX), hf likewise, in 0.01 ms^2: the one-sided periodogram's band
 *    power 2 sum|X|^2 / (N sum w^2) with x in ms is S / spectrum_den, spectrum_den = round(fs^2 N W2 / (2^15 10^8)),
 *    W2 = sum_j w_j^2 (vigil.dsp.ppg_tables.spectrum_den derives it).
 * 9. lfhf, in 0.01: 0 when S_hf == 0; else while S_lf >= HRV_SPECTRUM_LFHF_LIMIT (2^56) shift S_lf and S_hf right
 *    by 8; then INT32_MAX when S_hf became 0, else min((200 S_lf + S_hf) / (2 S_hf), INT32_MAX) (round half up).
 *    (The bounds give S_lf < 2^56 for IBIs in range, so the shifts never happen; with S_hf's bound the limit alone
 *    keeps 200 S_lf + S_hf < 2^64.)
 *
 * Cost of one compute: two passes over the held pairs, at most N interpolations (one 64-bit division each), N
 * window products, then 2 * N * (HF_HI - LF_LO) = 165 120 multiply-accumulates (32 x 16 -> 64 bits) for the 86
 * bins. Measured: 165 us on an x86-64 host (-O2); for Cortex-M4 arm-none-eabi-gcc -O2 makes the DFT's inner loop
 * 16 instructions per point (its two SMLALs), about 1.3 M instructions per compute, once per segment.
 * Memory: the ring (6 KB, HRV_SPECTRUM_CAPACITY pairs), N int32 (3.75 KB) on the stack during compute, and the
 * cosine table (1.9 KB of flash). */
#ifndef VIGIL_HRV_SPECTRUM_H
#define VIGIL_HRV_SPECTRUM_H

#include <stdint.h>

#include "dsp/ppg_tables.h" /* HRV_SPECTRUM_*, PPG_RATE_TABLES */

typedef struct hrv_spectrum {
    uint32_t beat[HRV_SPECTRUM_CAPACITY]; /* sample index of the beat ending each accepted IBI, oldest first (ring) */
    uint16_t ibi[HRV_SPECTRUM_CAPACITY];  /* the IBI, samples */
    uint16_t head, count;                 /* ring slot of the oldest pair; pairs held */
} hrv_spectrum_t;

typedef struct hrv_spectrum_out {
    int32_t lf;    /* 0.04-0.15 Hz power, 0.01 ms^2 */
    int32_t hf;    /* 0.15-0.40 Hz power, 0.01 ms^2 */
    int32_t lfhf;  /* LF / HF, 0.01 */
    uint8_t ready; /* 0: the window is not covered (lf = hf = lfhf = 0) */
} hrv_spectrum_out_t;

void hrv_spectrum_reset(hrv_spectrum_t *s);

/* An accepted IBI ending at `beat`. Beats come in increasing order; a beat not after the newest held one is ignored
 * (so that no two points share a position). When full the oldest pair is dropped. */
void hrv_spectrum_push(hrv_spectrum_t *s, uint32_t beat, uint16_t ibi);

/* The spectrum of the window [end - HRV_SPECTRUM_WINDOW_S * fs, end) (sample indices) at the rate of `table`
 * (ppg_rate_table(fs); NULL gives not ready). Does not modify s. */
void hrv_spectrum_compute(const hrv_spectrum_t *s, uint32_t end, const ppg_rate_table_t *table,
                          hrv_spectrum_out_t *out);

#endif
