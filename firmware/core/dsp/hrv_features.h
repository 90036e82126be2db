/* Time-domain HRV features of one 60-s segment, in integers. Twin: vigil.dsp.hrv.hrv_features.
 *
 * Accumulated from the segment's accepted IBIs x_i (samples, n of them) and the successive
 * differences d_j of adjacent accepted IBIs (m of them); fs is the sampling rate in Hz.
 * Units and rounding (all exact integer arithmetic, 64-bit, once per segment):
 *   avrr  mean IBI,              0.01 ms:  round(100000 * sum(x) / (fs * n))
 *   avhr  60000 / mean IBI,      0.01 bpm: round(6000 * fs * n / sum(x))   (so avhr * avrr ~ 6e8,
 *                                          the dataset's AVHR x AVRR = 60000 ms)
 *   sdrr  sample SD (n - 1),     0.01 ms:  floor(sqrt((n sum(x^2) - sum(x)^2) * 10^10 / (fs^2 n (n-1))))
 *   rmssd sqrt(mean d^2),        0.01 ms:  floor(sqrt(sum(d^2) * 10^10 / (fs^2 m)))
 *   pnn50, pnn20  share of |d| > 50 ms / > 20 ms (|d| * 1000 > 50 * fs), 0.01 %: round(10000 * count / m)
 * Beyond the proposal's six (carried in the record; the models read the six, docs/stress.md says why):
 *   sd1   Poincare SD1 = RMSSD / sqrt(2), 0.01 ms: floor(sqrt(floor(sum(d^2) * 10^10 / (2 fs^2 m))))
 *   sd2   Poincare SD2 = sqrt(2 SDRR^2 - SD1^2), 0.01 ms: floor(sqrt(max(0, 2 q_sdrr - q_sd1))), where q_sdrr and
 *         q_sd1 are the floored squares inside the square roots of sdrr and sd1 (so no new product can overflow)
 *   pamp  pulse amplitude, the mean peak A = f[beat] of the band-passed PPG over the segment's n_beats beats,
 *         0.01 raw ADC counts: round(100 * sum(A) / (n_beats * 2^PPG_FILT_SHIFT)) (sum(A) < 206 * 2^31 < 2^39)
 *   lf, hf, lfhf  the spectrum of the last HRV_SPECTRUM_WINDOW_S of accepted IBIs up to the segment's end
 *         (dsp/hrv_spectrum.h): 0.01 ms^2, 0.01 ms^2, 0.01; spectrum_ready says whether the window held enough
 * round() is half up; the integer square root is exact (isqrt_u64), floor(sqrt(floor(v))) =
 * floor(sqrt(v)). Bounds: x in [ibi_min, ibi_max] (<= 256), n <= 206, so every product fits in uint64
 * (vigil.dsp.ppg_tables checks it for each rate). */
#ifndef VIGIL_HRV_FEATURES_H
#define VIGIL_HRV_FEATURES_H

#include <stdint.h>

#include "dsp/ppg_tables.h" /* HRV_FLAG_*: the reasons a segment is invalid */

typedef struct hrv_features {
    uint32_t segment; /* segment s covers samples [s * 60 * fs, (s + 1) * 60 * fs) */
    uint8_t valid;    /* 1 when flags == 0; otherwise every feature below is 0 */
    uint8_t flags;    /* HRV_FLAG_* */
    uint16_t n_beats; /* beats whose peak lies in the segment */
    uint16_t n_ibis;  /* IBIs ending in the segment: accepted, plus two per interpolated span */
    uint16_t n_rejected;
    int32_t avhr;  /* 0.01 bpm */
    int32_t avrr;  /* 0.01 ms */
    int32_t sdrr;  /* 0.01 ms */
    int32_t rmssd; /* 0.01 ms */
    int32_t pnn50; /* 0.01 % */
    int32_t pnn20; /* 0.01 % */
    /* relative to the wearer's own baseline (dsp/hrv_baseline.h): feature - baseline median, same units and order
     * as avhr .. pnn20; all 0 unless the segment is valid and the baseline ready */
    uint16_t baseline_n;    /* valid segments in the baseline (including this one when valid) */
    uint8_t baseline_ready; /* baseline_n >= HRV_BASELINE_WARMUP */
    int32_t rel[HRV_FEATURE_COUNT];
    /* beyond the proposal's six (see above); 0 unless valid (and, for lf .. lfhf, spectrum_ready) */
    int32_t sd1;  /* 0.01 ms */
    int32_t sd2;  /* 0.01 ms */
    int32_t pamp; /* 0.01 raw counts */
    int32_t lf;   /* 0.01 ms^2, 0.04-0.15 Hz */
    int32_t hf;   /* 0.01 ms^2, 0.15-0.40 Hz */
    int32_t lfhf; /* 0.01 */
    uint8_t spectrum_ready;
} hrv_features_t;

typedef struct hrv_accum {
    uint16_t n_beats, n_ibis, n_rejected, n_diffs;
    uint16_t n_accepted, n_interpolated; /* spans accepted as measured / split at a missed beat */
    uint16_t nn50, nn20;
    uint32_t sum;    /* sum of accepted IBIs, samples */
    uint32_t sum_sq; /* sum of their squares (< 205 * 256^2) */
    uint32_t sum_d2; /* sum of squared successive differences */
    uint64_t amp_sum; /* sum of the beats' peak amplitudes, Q12 counts */
} hrv_accum_t;

/* The six features in HRV_FEATURE_COUNT order (avhr .. pnn20: the record's, the baseline's, the models'). */
static inline void hrv_feature_values(const hrv_features_t *f, int32_t out[HRV_FEATURE_COUNT])
{
    out[0] = f->avhr;
    out[1] = f->avrr;
    out[2] = f->sdrr;
    out[3] = f->rmssd;
    out[4] = f->pnn50;
    out[5] = f->pnn20;
}

/* The features beyond the six in HRV_EXTRA_COUNT order (sd1 .. lfhf: the record's). */
static inline void hrv_extra_values(const hrv_features_t *f, int32_t out[HRV_EXTRA_COUNT])
{
    out[0] = f->sd1;
    out[1] = f->sd2;
    out[2] = f->pamp;
    out[3] = f->lf;
    out[4] = f->hf;
    out[5] = f->lfhf;
}

void hrv_accum_reset(hrv_accum_t *a);
void hrv_accum_beat(hrv_accum_t *a, int32_t amp);                     /* a beat of the segment, its peak A */
void hrv_accum_ibi(hrv_accum_t *a, uint16_t ibi);                     /* an accepted IBI */
void hrv_accum_diff(hrv_accum_t *a, int32_t diff, uint16_t fs_hz);    /* a successive difference */

/* Fills the feature fields of out (not segment/valid/flags) from a, for n >= 2 and m >= 1. */
void hrv_features_compute(const hrv_accum_t *a, uint16_t fs_hz, hrv_features_t *out);

#endif
