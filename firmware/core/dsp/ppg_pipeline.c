#include "dsp/ppg_pipeline.h"

#include "dsp/dsp_config.h"

bool ppg_pipeline_init(ppg_pipeline_t *p, uint16_t fs_hz)
{
    const ppg_rate_table_t *table = ppg_rate_table(fs_hz);
    if (table == NULL) {
        return false;
    }
    *p = (ppg_pipeline_t){0};
    p->table = table;
    p->segment_len = DSP_SEGMENT_S * (uint32_t)fs_hz;
    p->hold = PPG_BEAT_HOLD_S * (uint32_t)fs_hz;
    biquad_cascade_q30_init(&p->bq, PPG_BIQUAD_SECTIONS, table->sos_q30, p->bq_state);
    const beat_terma_params_t det = {
        .fs_hz = fs_hz,
        .w1 = (uint16_t)table->w1,
        .w2 = (uint16_t)table->w2,
        .block_max = (uint16_t)table->block_max,
        .alpha_q16 = table->alpha_q16,
    };
    beat_detect_terma_init(&p->det, &det);
    const ibi_params_t ibi = {
        .ibi_min = (uint16_t)table->ibi_min,
        .ibi_max = (uint16_t)table->ibi_max,
        .change_pct = PPG_IBI_CHANGE_PCT,
    };
    ibi_filter_init(&p->ibi, &ibi);
    ppg_quality_reset(&p->quality);
    hrv_accum_reset(&p->acc);
    hrv_baseline_reset(&p->baseline);
    hrv_spectrum_reset(&p->spectrum);
    return true;
}

void ppg_pipeline_motion(ppg_pipeline_t *p, uint16_t level)
{
    p->motion[p->motion_epochs % PPG_MOTION_EPOCHS] = level;
    p->motion_epochs++;
}

void ppg_pipeline_motion_second(ppg_pipeline_t *p, uint16_t level)
{
    p->motion_s[p->motion_seconds % PPG_MOTION_SECONDS] = level;
    p->motion_seconds++;
}

/* Whether the wrist moved between beats a < b: a second from a's to b's arrived above PPG_BEAT_MOTION_MAX, or has not
 * arrived (or is no longer kept). */
static bool interval_moving(const ppg_pipeline_t *p, uint32_t a, uint32_t b)
{
    if (p->motion_seconds == 0u) {
        return false; /* no accelerometer: every interval is still */
    }
    const uint32_t fs = p->table->fs_hz;
    for (uint32_t k = a / fs; k <= b / fs; k++) {
        const bool kept = k < p->motion_seconds && p->motion_seconds - k <= PPG_MOTION_SECONDS;
        if (!kept || p->motion_s[k % PPG_MOTION_SECONDS] > PPG_BEAT_MOTION_MAX) {
            return true;
        }
    }
    return false;
}

/* Whether segment seg was still: both its epochs arrived, are kept and are at most HRV_BASELINE_MOTION_MAX. */
static bool segment_still(const ppg_pipeline_t *p, uint32_t seg)
{
    if (p->motion_epochs == 0u) {
        return true; /* no accelerometer: validity alone decides */
    }
    const uint32_t per_segment = DSP_SEGMENT_S / DSP_EPOCH_S;
    for (uint32_t e = seg * per_segment; e < (seg + 1u) * per_segment; e++) {
        const bool kept = e < p->motion_epochs && p->motion_epochs - e <= PPG_MOTION_EPOCHS;
        if (!kept || p->motion[e % PPG_MOTION_EPOCHS] > HRV_BASELINE_MOTION_MAX) {
            return false;
        }
    }
    return true;
}

void ppg_filter(ppg_pipeline_t *p, const int16_t *raw, size_t n, int32_t *filtered)
{
    if (n == 0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        filtered[i] = (int32_t)raw[i] * (1 << PPG_FILT_SHIFT);
    }
    if (!p->primed) {
        p->primed = true;
        biquad_cascade_q30_prime_dc(&p->bq, filtered[0]);
    }
    biquad_cascade_q30(&p->bq, filtered, filtered, n);
}

size_t ppg_detect_beats(ppg_pipeline_t *p, const int32_t *filtered, size_t n, uint32_t *beats, int32_t *amps,
                        size_t max_beats)
{
    return beat_detect_terma(&p->det, filtered, n, beats, amps, max_beats);
}

static void add_beat(ppg_pipeline_t *p, uint32_t beat, int32_t amp)
{
    hrv_accum_t *a = &p->acc;
    hrv_accum_beat(a, amp);
    /* a span too long to be accepted is rejected whatever the motion (ibi_filter.h), so an unkept second is moot */
    const bool moving = p->ibi.have_beat && interval_moving(p, p->ibi.last_beat, beat);
    const ibi_result_t r = ibi_filter_push(&p->ibi, beat, moving);
    if (r.verdict == IBI_ACCEPT) {
        a->n_accepted++;
        hrv_accum_ibi(a, r.ibi);
        hrv_spectrum_push(&p->spectrum, beat, r.ibi);
        if (r.has_diff) {
            hrv_accum_diff(a, r.diff, p->table->fs_hz);
        }
    } else if (r.verdict == IBI_INTERPOLATED) {
        a->n_interpolated++;
        hrv_accum_ibi(a, (uint16_t)(r.ibi / 2u));
        hrv_accum_ibi(a, (uint16_t)(r.ibi - r.ibi / 2u));
    } else if (r.verdict == IBI_REJECT_RANGE || r.verdict == IBI_REJECT_CHANGE) {
        a->n_rejected++;
    }
}

static hrv_features_t finish_segment(const ppg_pipeline_t *p)
{
    const hrv_accum_t *a = &p->acc;
    hrv_features_t f = {0};
    f.segment = p->seg;
    f.flags = p->q_flags[p->seg & 1u];
    if (a->n_ibis < PPG_MIN_IBIS || a->n_diffs < PPG_MIN_DIFFS) {
        f.flags |= HRV_FLAG_TOO_FEW_BEATS;
    }
    if (100u * (uint32_t)a->n_rejected > PPG_MAX_REJECT_PCT * ((uint32_t)a->n_ibis + a->n_rejected)) {
        f.flags |= HRV_FLAG_REJECTS;
    }
    const uint32_t spans = (uint32_t)a->n_accepted + a->n_interpolated + a->n_rejected;
    if (100u * (uint32_t)a->n_accepted < PPG_MIN_CLEAN_PCT * spans) {
        f.flags |= HRV_FLAG_FEW_CLEAN;
    }
    f.n_beats = a->n_beats;
    f.n_ibis = a->n_ibis;
    f.n_rejected = a->n_rejected;
    f.valid = f.flags == 0;
    if (f.valid) {
        hrv_features_compute(a, p->table->fs_hz, &f);
        hrv_spectrum_out_t sp;
        hrv_spectrum_compute(&p->spectrum, (p->seg + 1u) * p->segment_len, p->table, &sp);
        f.lf = sp.lf;
        f.hf = sp.hf;
        f.lfhf = sp.lfhf;
        f.spectrum_ready = sp.ready;
    }
    return f;
}

/* The oldest beat not yet judged: a held one, else the call's beat j. false: none. */
static bool next_beat(const ppg_pipeline_t *p, const uint32_t *beats, size_t n_beats, size_t j, uint32_t *beat)
{
    if (p->held_n > 0u) {
        *beat = p->held_beat[p->held_first];
        return true;
    }
    if (j < n_beats) {
        *beat = beats[j];
        return true;
    }
    return false;
}

/* The newest beat not yet judged: the call's last beat, else the newest held one. false: none. Every beat seen at or
 * after the open segment's end is one of them (only beats before it are judged). */
static bool newest_beat(const ppg_pipeline_t *p, const uint32_t *beats, size_t n_beats, size_t j, uint32_t *beat)
{
    if (j < n_beats) {
        *beat = beats[n_beats - 1u];
        return true;
    }
    if (p->held_n > 0u) {
        *beat = p->held_beat[(p->held_first + p->held_n - 1u) % PPG_HOLD_BEATS];
        return true;
    }
    return false;
}

/* Judge, oldest first, the beats before end whose hold has passed. */
static void judge_beats(ppg_pipeline_t *p, uint32_t end, const uint32_t *beats, const int32_t *amps, size_t n_beats,
                        size_t *j)
{
    uint32_t beat;
    while (next_beat(p, beats, n_beats, *j, &beat) && beat < end && p->det.t - beat >= p->hold) {
        if (p->held_n > 0u) {
            add_beat(p, beat, p->held_amp[p->held_first]);
            p->held_first = (p->held_first + 1u) % PPG_HOLD_BEATS;
            p->held_n--;
        } else {
            add_beat(p, beat, amps[*j]);
            (*j)++;
        }
    }
}

size_t ppg_segments(ppg_pipeline_t *p, const int16_t *raw, size_t n, const uint32_t *beats, const int32_t *amps,
                    size_t n_beats, hrv_features_t *out, size_t max_out)
{
    const uint32_t len = p->segment_len;
    size_t i = 0, j = 0, k = 0;
    for (;;) {
        const uint32_t end = (p->seg + 1u) * len;
        judge_beats(p, end, beats, amps, n_beats, &j);
        /* Raw quality runs at most one segment ahead of the features (two verdict slots); under the
         * calling order above it never has to wait, since the detector is then as far as the raw. */
        while (i < n && p->q_seg <= p->seg + 1u) {
            const uint32_t q_end = (p->q_seg + 1u) * len;
            const size_t room = q_end - p->q_pos;
            const size_t take = n - i < room ? n - i : room;
            ppg_quality_update(&p->quality, raw + i, take);
            i += take;
            p->q_pos += (uint32_t)take;
            if (p->q_pos == q_end) {
                p->q_flags[p->q_seg & 1u] = ppg_quality_flags(&p->quality, (uint16_t)p->table->flat_run,
                                                              (uint16_t)p->table->clip_min);
                ppg_quality_reset(&p->quality);
                p->q_seg++;
            }
        }
        const bool raw_done = p->q_seg > p->seg;
        uint32_t oldest, newest;
        const bool judged = !next_beat(p, beats, n_beats, j, &oldest) || oldest >= end;
        const bool later_beat = newest_beat(p, beats, n_beats, j, &newest) && newest >= end;
        const bool beats_done =
            judged && (later_beat || p->det.t >= end + p->table->latency || p->q_seg > p->seg + 1u);
        if (!(raw_done && beats_done)) {
            break;
        }
        hrv_features_t f = finish_segment(p);
        /* every segment, kept or dropped: the baseline is the stream's */
        hrv_baseline_admit(&p->baseline, p->seg > 0u && segment_still(p, p->seg - 1u));
        hrv_baseline_apply(&p->baseline, &f);
        if (k < max_out) {
            out[k++] = f;
        } else {
            p->segments_dropped++;
        }
        p->seg++;
        hrv_accum_reset(&p->acc);
    }
    for (; j < n_beats; j++) { /* the rest wait for their motion */
        if (p->held_n == PPG_HOLD_BEATS) {
            p->beats_dropped++; /* more beats than the detector can find in the hold: calling order broken */
            continue;
        }
        const uint32_t slot = (p->held_first + p->held_n) % PPG_HOLD_BEATS;
        p->held_beat[slot] = beats[j];
        p->held_amp[slot] = amps[j];
        p->held_n++;
    }
    return k;
}
