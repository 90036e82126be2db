#include "dsp/ibi_filter.h"

void ibi_filter_init(ibi_filter_t *f, const ibi_params_t *prm)
{
    *f = (ibi_filter_t){0};
    f->prm = *prm;
}

static uint32_t abs_diff(uint32_t a, uint32_t b)
{
    return a > b ? a - b : b - a;
}

static uint16_t history_median(const ibi_filter_t *f)
{
    uint16_t v[PPG_IBI_HISTORY];
    const unsigned k = f->hist_n;
    for (unsigned i = 0; i < k; i++) {
        v[i] = f->history[i];
    }
    for (unsigned i = 1; i < k; i++) { /* insertion sort of at most 5 values, once per beat */
        const uint16_t x = v[i];
        unsigned j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return v[k / 2u];
}

/* Whether the motion reference judges a span: one that could be accepted or interpolated (at most 2 ibi_max + 1);
 * a longer one is rejected by range whatever the motion. */
static bool judges_motion(const ibi_filter_t *f, uint32_t span)
{
    return span <= 2u * (uint32_t)f->prm.ibi_max + 1u;
}

ibi_result_t ibi_filter_push(ibi_filter_t *f, uint32_t beat, bool moving)
{
    ibi_result_t r = {IBI_NONE, 0, false, 0};
    if (!f->have_beat) {
        f->have_beat = true;
        f->last_beat = beat;
        return r;
    }
    const uint32_t span = beat - f->last_beat;
    f->last_beat = beat;
    r.ibi = span > UINT16_MAX ? UINT16_MAX : (uint16_t)span;
    if (moving && judges_motion(f, span)) {
        r.verdict = IBI_MOVING;
        f->prev_accepted = false;
        f->prev_ibi = r.ibi;
        return r;
    }
    const bool have_ref = f->hist_n >= PPG_IBI_MIN_HISTORY;
    const uint32_t ref = have_ref ? history_median(f) : 0u;
    const uint32_t pct = f->prm.change_pct;
    if (span < f->prm.ibi_min || span > f->prm.ibi_max) {
        r.verdict = IBI_REJECT_RANGE;
    } else {
        r.verdict = IBI_REJECT_CHANGE;
        if (have_ref && 100u * abs_diff(span, ref) <= pct * ref) {
            r.verdict = IBI_ACCEPT;
        }
        f->history[f->hist_next] = r.ibi;
        f->hist_next = (uint8_t)((f->hist_next + 1u) % PPG_IBI_HISTORY);
        if (f->hist_n < PPG_IBI_HISTORY) {
            f->hist_n++;
        }
    }
    /* One missed beat: the previous span was accepted (so the reference is a rhythm, not a burst of
     * noise's half intervals), the span is two reference intervals within change_pct of one, and both
     * halves are in range (checked first: the span is then at most 2 * ibi_max + 1, the products fit). */
    if (r.verdict != IBI_ACCEPT && have_ref && f->prev_accepted && span / 2u >= f->prm.ibi_min &&
        span - span / 2u <= f->prm.ibi_max && 100u * abs_diff(span, 2u * ref) <= pct * ref) {
        r.verdict = IBI_INTERPOLATED;
    }
    if (r.verdict == IBI_ACCEPT && f->prev_accepted) {
        r.has_diff = true;
        r.diff = (int32_t)r.ibi - (int32_t)f->prev_ibi;
    }
    f->prev_accepted = r.verdict == IBI_ACCEPT;
    f->prev_ibi = r.ibi;
    return r;
}
