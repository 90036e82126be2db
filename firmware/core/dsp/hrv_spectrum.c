#include "dsp/hrv_spectrum.h"

#include <string.h>

/* x_j and re, im are floored with right shifts of negative values, which C leaves to the implementation. */
_Static_assert(((int64_t)-3 >> 1) == -2, "arithmetic right shift required");
_Static_assert(HRV_SPECTRUM_LF_HI == HRV_SPECTRUM_HF_LO, "one loop runs over the LF and then the HF bins");
_Static_assert(HRV_SPECTRUM_POINTS % 4u == 0u, "the sine is the cosine table read a quarter turn on");
_Static_assert(HRV_SPECTRUM_CAPACITY < 65536u, "head and count are uint16_t");

#define Q_ONE (1 << HRV_SPECTRUM_Q)              /* 32768: the Hann window is (Q_ONE - c) / 2 */
#define SIN_OFFSET (3u * HRV_SPECTRUM_POINTS / 4u) /* cos(a + 3 pi / 2) = sin(a) */
#define LFHF_SCALE 200u                          /* lfhf = (200 S_lf + S_hf) / (2 S_hf): 100 x ratio, half up */
#define LFHF_SHIFT 8u

/* The window's points: what steps 1 to 3 read. */
typedef struct window {
    uint32_t start, end;      /* sample indices, [start, end) */
    uint16_t ibi_min, ibi_max; /* the rate's accepted range */
} window_t;

void hrv_spectrum_reset(hrv_spectrum_t *s)
{
    memset(s, 0, sizeof *s);
}

static uint16_t slot(const hrv_spectrum_t *s, uint16_t i)
{
    return (uint16_t)((s->head + (uint32_t)i) % HRV_SPECTRUM_CAPACITY);
}

void hrv_spectrum_push(hrv_spectrum_t *s, uint32_t beat, uint16_t ibi)
{
    if (s->count > 0u && beat <= s->beat[slot(s, (uint16_t)(s->count - 1u))]) {
        return; /* out of order: two points at one position would divide by zero in the interpolation */
    }
    uint16_t at;
    if (s->count == HRV_SPECTRUM_CAPACITY) {
        at = s->head; /* overwrite the oldest */
        s->head = slot(s, 1u);
    } else {
        at = slot(s, s->count);
        s->count++;
    }
    s->beat[at] = beat;
    s->ibi[at] = ibi;
}

/* The first held pair at logical position >= i (0 = oldest) that is a point of the window, or s->count. */
static uint16_t next_point(const hrv_spectrum_t *s, const window_t *w, uint16_t i)
{
    for (; i < s->count; i++) {
        const uint16_t k = slot(s, i);
        if (s->beat[k] >= w->start && s->beat[k] < w->end && s->ibi[k] >= w->ibi_min && s->ibi[k] <= w->ibi_max) {
            break;
        }
    }
    return i;
}

/* floor(num / den) for den > 0: C's division truncates toward zero, which is one too high for a negative inexact
 * quotient. */
static int64_t floor_div(int64_t num, int64_t den)
{
    const int64_t q = num / den;
    return (num % den != 0 && num < 0) ? q - 1 : q;
}

/* Steps 2 and 3: the tachogram (Q8 samples) on the grid, into y. first, last: logical positions of the window's first
 * and last points. */
static void resample(const hrv_spectrum_t *s, const window_t *w, uint16_t fs_hz, uint16_t first, uint16_t last,
                     int32_t y[HRV_SPECTRUM_POINTS])
{
    const int64_t p_first = (int64_t)HRV_SPECTRUM_GRID_HZ * s->beat[slot(s, first)];
    const int64_t p_last = (int64_t)HRV_SPECTRUM_GRID_HZ * s->beat[slot(s, last)];
    const int32_t v_first = (int32_t)s->ibi[slot(s, first)] << HRV_SPECTRUM_IBI_FRAC;
    const int32_t v_last = (int32_t)s->ibi[slot(s, last)] << HRV_SPECTRUM_IBI_FRAC;
    uint16_t cur = first, nxt = next_point(s, w, (uint16_t)(first + 1u));
    int64_t t = (int64_t)HRV_SPECTRUM_GRID_HZ * w->start;
    for (uint32_t j = 0; j < HRV_SPECTRUM_POINTS; j++, t += fs_hz) {
        if (t <= p_first) {
            y[j] = v_first;
            continue;
        }
        if (t >= p_last) {
            y[j] = v_last;
            continue;
        }
        /* p_first < t < p_last: a next point exists while P_next <= t, and the grid only moves forward */
        while ((int64_t)HRV_SPECTRUM_GRID_HZ * s->beat[slot(s, nxt)] <= t) {
            cur = nxt;
            nxt = next_point(s, w, (uint16_t)(nxt + 1u));
        }
        const int64_t p0 = (int64_t)HRV_SPECTRUM_GRID_HZ * s->beat[slot(s, cur)];
        const int64_t p1 = (int64_t)HRV_SPECTRUM_GRID_HZ * s->beat[slot(s, nxt)];
        const int64_t v0 = (int64_t)s->ibi[slot(s, cur)] << HRV_SPECTRUM_IBI_FRAC;
        const int64_t v1 = (int64_t)s->ibi[slot(s, nxt)] << HRV_SPECTRUM_IBI_FRAC;
        y[j] = (int32_t)(v0 + floor_div((v1 - v0) * (t - p0), p1 - p0));
    }
}

/* Steps 4 and 5, in place: y (Q8 samples) -> x = Hann-windowed deviation from the floored mean. */
static void detrend_window(int32_t y[HRV_SPECTRUM_POINTS])
{
    int64_t sum = 0;
    for (uint32_t j = 0; j < HRV_SPECTRUM_POINTS; j++) {
        sum += y[j];
    }
    const int64_t m = sum / (int64_t)HRV_SPECTRUM_POINTS; /* sum >= 0: truncation is the floor */
    for (uint32_t j = 0; j < HRV_SPECTRUM_POINTS; j++) {
        const int64_t hann = (Q_ONE - HRV_SPECTRUM_COS_Q15[j]) >> 1;
        y[j] = (int32_t)(((y[j] - m) * hann) >> HRV_SPECTRUM_Q);
    }
}

/* Step 6: |X_k|^2 of bin k. The table index k j mod N advances by k per point, wrapped by one subtraction (k < N). */
static uint64_t bin_power(const int32_t x[HRV_SPECTRUM_POINTS], uint32_t k)
{
    int64_t re = 0, im = 0;
    uint32_t ic = 0, is = SIN_OFFSET;
    for (uint32_t j = 0; j < HRV_SPECTRUM_POINTS; j++) {
        re += (int64_t)x[j] * HRV_SPECTRUM_COS_Q15[ic];
        im += (int64_t)x[j] * HRV_SPECTRUM_COS_Q15[is];
        ic += k;
        is += k;
        ic -= ic >= HRV_SPECTRUM_POINTS ? HRV_SPECTRUM_POINTS : 0u;
        is -= is >= HRV_SPECTRUM_POINTS ? HRV_SPECTRUM_POINTS : 0u;
    }
    re >>= HRV_SPECTRUM_Q;
    im >>= HRV_SPECTRUM_Q;
    return (uint64_t)(re * re) + (uint64_t)(im * im); /* |re|, |im| < 2^25 (ppg_tables.spectrum_bounds) */
}

static int32_t clamp_i32(uint64_t v)
{
    return v > (uint64_t)INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* Step 9: round(100 S_lf / S_hf) in 0.01, saturated. */
static int32_t lf_hf_ratio(uint64_t s_lf, uint64_t s_hf)
{
    if (s_hf == 0u) {
        return 0;
    }
    while (s_lf >= HRV_SPECTRUM_LFHF_LIMIT) { /* keeps 200 s_lf + s_hf < 2^64 */
        s_lf >>= LFHF_SHIFT;
        s_hf >>= LFHF_SHIFT;
    }
    if (s_hf == 0u) {
        return INT32_MAX; /* the ratio exceeds 2^48 */
    }
    return clamp_i32((LFHF_SCALE * s_lf + s_hf) / (2u * s_hf));
}

void hrv_spectrum_compute(const hrv_spectrum_t *s, uint32_t end, const ppg_rate_table_t *table,
                          hrv_spectrum_out_t *out)
{
    *out = (hrv_spectrum_out_t){0};
    if (table == NULL) {
        return;
    }
    const uint16_t fs_hz = (uint16_t)table->fs_hz;
    const uint32_t span = HRV_SPECTRUM_WINDOW_S * (uint32_t)fs_hz;
    if (end < span) {
        return;
    }
    const window_t w = {end - span, end, (uint16_t)table->ibi_min, (uint16_t)table->ibi_max};

    /* step 1: the window's points, their number and coverage */
    uint32_t n = 0;
    uint64_t covered = 0;
    uint16_t first = s->count, last = s->count;
    for (uint16_t i = next_point(s, &w, 0); i < s->count; i = next_point(s, &w, (uint16_t)(i + 1u))) {
        first = n == 0u ? i : first;
        last = i;
        n++;
        covered += s->ibi[slot(s, i)];
    }
    if (n < HRV_SPECTRUM_MIN_POINTS || 100u * covered < (uint64_t)HRV_SPECTRUM_MIN_COVER_PCT * span) {
        return;
    }

    int32_t x[HRV_SPECTRUM_POINTS]; /* the tachogram, then its windowed deviation */
    resample(s, &w, fs_hz, first, last, x);
    detrend_window(x);

    uint64_t s_lf = 0, s_hf = 0;
    for (uint32_t k = HRV_SPECTRUM_LF_LO; k < HRV_SPECTRUM_HF_HI; k++) {
        const uint64_t p = bin_power(x, k);
        if (k < HRV_SPECTRUM_LF_HI) {
            s_lf += p;
        } else {
            s_hf += p;
        }
    }
    out->lf = clamp_i32(s_lf / table->spectrum_den);
    out->hf = clamp_i32(s_hf / table->spectrum_den);
    out->lfhf = lf_hf_ratio(s_lf, s_hf);
    out->ready = 1u;
}
