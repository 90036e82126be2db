/* PPG -> band-pass -> beats -> IBIs -> HRV features per 60-s segment, streaming, in integers.
 * Twin: vigil.dsp.ppg.ppg_chain (stages: vigil.dsp.ppg.bandpass, vigil.dsp.ppg.detect_beats,
 * vigil.dsp.hrv.hrv_segments).
 *
 * The stages are separate calls so that the app can time each; call them in this order on every
 * block of samples (any block size; the outputs over a whole stream do not depend on it):
 *     ppg_filter(p, raw, n, filtered);                                  stage 1
 *     nb = ppg_detect_beats(p, filtered, n, beats, amps, PPG_MAX_BEATS(n));   stage 2
 *     ns = ppg_segments(p, raw, n, beats, amps, nb, out, PPG_MAX_SEGMENTS(n)); stages 3 + 4
 * Formats: raw int16 ADC counts; filtered int32 counts in Q12 (raw * 2^12 scale); beats absolute
 * sample indices (uint32, from the first sample after init) of the systolic peaks of the filtered
 * signal, which lag the raw systolic peaks by about the filter's group delay (ppg_rate_table_t), with
 * their amplitudes (the filtered peak values, int32 Q12);
 * features as in hrv_features.h.
 * Segment s covers samples [s * 60 * fs, (s + 1) * 60 * fs); a beat belongs to the segment of its
 * peak, an IBI (and a successive difference) to the segment of its later beat. A segment's features
 * come out of the ppg_segments call during which its last sample has been seen and no beat of it
 * can still be detected: a later beat was seen, or the detector has run `latency` samples past the
 * segment's end (<= 1.7 s at every rate). The partial segment at the end of a stream never comes out.
 * The accelerometer is the beats' motion reference: the IBI filter leaves out an interval during which any of the
 * accelerometer's 1-s motion levels was above PPG_BEAT_MOTION_MAX (IBI_MOVING, ibi_filter.h). So that those levels are
 * in, every beat waits until the detector has run PPG_BEAT_HOLD_S past it before the filter judges it (at most
 * PPG_HOLD_BEATS are held), and a segment comes out once its last beat is judged too.
 * Each segment's features also come relative to the wearer's baseline (dsp/hrv_baseline.h), and a valid segment
 * carries the spectrum of the HRV_SPECTRUM_WINDOW_S up to its end (dsp/hrv_spectrum.h) over the accepted IBIs (an
 * interpolated span is bridged by the tachogram's own interpolation). */
#ifndef VIGIL_PPG_PIPELINE_H
#define VIGIL_PPG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/beat_detect_terma.h"
#include "dsp/biquad_cascade_q30.h"
#include "dsp/hrv_baseline.h"
#include "dsp/hrv_features.h"
#include "dsp/hrv_spectrum.h"
#include "dsp/ibi_filter.h"
#include "dsp/ppg_quality.h"
#include "dsp/ppg_tables.h"

/* Output bounds for one call on n samples. */
#define PPG_MAX_BEATS(n) ((size_t)(n) / (PPG_W1_MIN + 1u) + 1u)
#define PPG_MAX_SEGMENTS(n) ((size_t)(n) / (DSP_SEGMENT_S * PPG_RATE_MIN_HZ) + 2u)

typedef struct ppg_pipeline {
    const ppg_rate_table_t *table;
    uint32_t segment_len; /* samples */
    /* stage 1 */
    biquad_cascade_q30_t bq;
    int32_t bq_state[PPG_BIQUAD_SECTIONS][BIQUAD_STATE];
    bool primed; /* the first sample has set the filter's steady state */
    /* stage 2 */
    beat_detect_terma_t det;
    /* stages 3 + 4 */
    ibi_filter_t ibi;
    ppg_quality_t quality;  /* raw quality of segment q_seg */
    uint32_t q_pos;         /* raw samples scanned by ppg_segments */
    uint32_t q_seg;         /* segment whose raw is being scanned: seg, seg + 1 or (briefly) seg + 2 */
    uint8_t q_flags[2];     /* finished quality verdicts, by segment parity */
    uint32_t seg;           /* oldest segment not yet output */
    hrv_accum_t acc;        /* its beats and IBIs */
    hrv_baseline_t baseline; /* the wearer's baseline over the valid segments so far */
    hrv_spectrum_t spectrum; /* the accepted IBIs of the last minutes, for lf, hf, lfhf */
    uint16_t motion[PPG_MOTION_EPOCHS]; /* the accelerometer's motion levels, epoch e at e % PPG_MOTION_EPOCHS */
    uint32_t motion_epochs;             /* epochs whose level arrived (0: no accelerometer so far) */
    uint16_t motion_s[PPG_MOTION_SECONDS]; /* the accelerometer's 1-s motion levels, second k at k % PPG_MOTION_SECONDS */
    uint32_t motion_seconds;               /* seconds whose level arrived (0: no accelerometer so far) */
    uint32_t hold;                         /* PPG_BEAT_HOLD_S in samples */
    uint32_t held_beat[PPG_HOLD_BEATS];    /* beats waiting for their motion, oldest at held_first */
    int32_t held_amp[PPG_HOLD_BEATS];
    uint32_t held_first, held_n;
    uint32_t beats_dropped;    /* beats passed without their raw samples (calling order broken) */
    uint32_t segments_dropped; /* segments that did not fit in the caller's buffer */
} ppg_pipeline_t;

/* false: fs_hz is not one of DSP_PPG_RATES_HZ. */
bool ppg_pipeline_init(ppg_pipeline_t *p, uint16_t fs_hz);

/* The motion level (dsp/motion_level.h) of the accelerometer's next 30-s epoch (epochs come in order, from 0, the
 * accelerometer's first sample at the PPG's first). The baseline takes a segment only when still (hrv_baseline.h);
 * the levels of segment s's epochs 2s, 2s + 1 must arrive before segment s + 1 closes, and the accelerometer may run
 * ahead of the PPG by up to PPG_MOTION_EPOCHS - 4 epochs; an epoch not here (or no longer kept) counts as moving. */
void ppg_pipeline_motion(ppg_pipeline_t *p, uint16_t level);

/* The motion level of the accelerometer's next second (dsp/motion_level.h, MOTION_WINDOW_SECOND; seconds come in
 * order, from 0 at the PPG's first sample). Second k's level must arrive before the detector runs PPG_BEAT_HOLD_S - 1
 * seconds past the end of second k; the accelerometer may run ahead of the PPG by up to PPG_MOTION_SECONDS -
 * PPG_BEAT_HOLD_S - 6 seconds. A second not here (or no longer kept) counts as moving; with no second at all yet, there is no accelerometer and every
 * interval is still. */
void ppg_pipeline_motion_second(ppg_pipeline_t *p, uint16_t level);

/* Stage 1: band-pass n raw samples into filtered (int32, counts in Q12). */
void ppg_filter(ppg_pipeline_t *p, const int16_t *raw, size_t n, int32_t *filtered);

/* Stage 2: the beats completed by these n filtered samples and their amplitudes, at most max_beats
 * (PPG_MAX_BEATS(n) is always enough); returns their number. */
size_t ppg_detect_beats(ppg_pipeline_t *p, const int32_t *filtered, size_t n, uint32_t *beats, int32_t *amps,
                        size_t max_beats);

/* Stages 3 + 4: IBIs with artifact rejection, raw quality of the same n samples, and the features
 * of every segment completed by now, at most max_out (PPG_MAX_SEGMENTS(n) is always enough);
 * returns their number. raw, beats and amps are what was just passed to / returned by the two stages above. */
size_t ppg_segments(ppg_pipeline_t *p, const int16_t *raw, size_t n, const uint32_t *beats, const int32_t *amps,
                    size_t n_beats, hrv_features_t *out, size_t max_out);

#endif
