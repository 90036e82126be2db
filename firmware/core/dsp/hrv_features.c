#include "dsp/hrv_features.h"

#include "dsp/isqrt.h"

#define TEN_POW_10 10000000000ull

void hrv_accum_reset(hrv_accum_t *a)
{
    *a = (hrv_accum_t){0};
}

void hrv_accum_beat(hrv_accum_t *a, int32_t amp)
{
    a->n_beats++;
    a->amp_sum += (uint32_t)amp; /* A > 0: the detector's amplitude gate */
}

void hrv_accum_ibi(hrv_accum_t *a, uint16_t ibi)
{
    a->n_ibis++;
    a->sum += ibi;
    a->sum_sq += (uint32_t)ibi * ibi;
}

void hrv_accum_diff(hrv_accum_t *a, int32_t diff, uint16_t fs_hz)
{
    const uint32_t ad = (uint32_t)(diff < 0 ? -diff : diff);
    a->n_diffs++;
    a->sum_d2 += ad * ad;
    /* |d| / fs s > 50 ms  <=>  |d| * 1000 > 50 * fs: no division, exact */
    a->nn50 += ad * 1000u > 50u * fs_hz;
    a->nn20 += ad * 1000u > 20u * fs_hz;
}

static int32_t round_div(uint64_t num, uint64_t den)
{
    return (int32_t)((2u * num + den) / (2u * den));
}

void hrv_features_compute(const hrv_accum_t *a, uint16_t fs_hz, hrv_features_t *out)
{
    const uint64_t n = a->n_ibis, m = a->n_diffs, fs = fs_hz, sum = a->sum;
    out->avrr = round_div(100000u * sum, fs * n);
    out->avhr = round_div(6000u * fs * n, sum);
    const uint64_t spread = n * a->sum_sq - sum * sum; /* n^2 * population variance, >= 0 */
    const uint64_t q_sdrr = spread * TEN_POW_10 / (fs * fs * n * (n - 1u));
    const uint64_t q_sd1 = (uint64_t)a->sum_d2 * TEN_POW_10 / (2u * fs * fs * m);
    out->sdrr = (int32_t)isqrt_u64(q_sdrr);
    out->rmssd = (int32_t)isqrt_u64((uint64_t)a->sum_d2 * TEN_POW_10 / (fs * fs * m));
    out->sd1 = (int32_t)isqrt_u64(q_sd1);
    out->sd2 = (int32_t)isqrt_u64(2u * q_sdrr > q_sd1 ? 2u * q_sdrr - q_sd1 : 0u);
    out->pamp = a->n_beats ? round_div(100u * a->amp_sum, (uint64_t)a->n_beats << PPG_FILT_SHIFT) : 0;
    out->pnn50 = round_div(10000u * (uint64_t)a->nn50, m);
    out->pnn20 = round_div(10000u * (uint64_t)a->nn20, m);
}
