/* Streaming PPG beat detector after Elgendi's "two event-related moving averages" (TERMA; Elgendi
 * et al. 2013, PLoS ONE 8(10): e76585), in integers. Twin: vigil.dsp.ppg.detect_beats.
 *
 * Input: band-passed PPG f[t] (int32, counts in Q12). Per sample:
 *     z[t] = min(max(f[t], 0) >> 8, PPG_Z_MAX)      clipped to the positive part, counts in Q4
 *     y[t] = z[t]^2                                  energy, < 2^44 (uint64)
 *     S1(c) = sum y[c-h1 .. c+h1], S2(c) = sum y[c-h2 .. c+h2]   centred windows W1 = 2h1+1, W2 = 2h2+1
 *     Q(t)  = sum of y over the last PPG_ALPHA_BLOCKS complete one-second blocks ([k*fs, (k+1)*fs))
 *     B(c)  = S1(c) * W2 > S2(c) * W1 + (((Q(t) >> 8) * alpha_q16) >> 8)     evaluated at t = c + h2
 * i.e. MA_peak > MA_beat + beta * mean(y) with the paper's windows (111 ms, 667 ms) and beta = 0.02,
 * the mean taken over the last 4 s instead of the whole record so that it streams. Samples before
 * index 0 count as 0. A run of B that is true for W1..block_max consecutive centres is a block of
 * interest; its candidate beat is the index of the largest f in the run (the first one on ties),
 * decided when the run ends. Runs longer than block_max are artifacts and give no beat.
 * Amplitude gate (our addition, in the spirit of qppg's adaptive threshold): a candidate whose peak
 * A = f[beat] has A <= 0 or 4 * A < R is dropped (a diastolic wave or a noise bump between beats,
 * which TERMA alone takes for a beat when the heart rate is low) and R decays: R -= R >> 3; otherwise
 * the beat is emitted and R follows it: R = A for the first beat, then R += (A - R) >> 3 (floor).
 * The decay lets R come down within a few blocks after a real drop of amplitude.
 * Every beat with index < E is emitted once E + latency (= block_max + h2) samples have been processed. */
#ifndef VIGIL_BEAT_DETECT_TERMA_H
#define VIGIL_BEAT_DETECT_TERMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsp/ppg_tables.h" /* PPG_RING, PPG_DET_SHIFT, PPG_Z_MAX, PPG_ALPHA_*, PPG_GATE_MUL, PPG_AMP_SHIFT */

typedef struct beat_terma_params {
    uint16_t fs_hz;     /* samples per energy block */
    uint16_t w1;        /* odd */
    uint16_t w2;        /* odd, w2 + 1 <= PPG_RING */
    uint16_t block_max; /* samples */
    uint32_t alpha_q16;
} beat_terma_params_t;

typedef struct beat_detect_terma {
    beat_terma_params_t prm;
    int32_t ring[PPG_RING];   /* f[t - PPG_RING + 1 .. t] */
    uint32_t t;               /* samples processed so far (index of the next one) */
    uint64_t s1, s2;          /* window sums at the current centre */
    uint64_t block_sum;       /* energy of the current, incomplete one-second block */
    uint64_t blocks[PPG_ALPHA_BLOCKS]; /* the last complete blocks' energies, oldest first */
    uint64_t q;               /* sum of blocks[] */
    uint16_t block_fill;      /* samples in the current block */
    bool in_run;              /* B was true at the previous centre */
    bool overlong;            /* the current run passed block_max */
    uint16_t run_len;
    int32_t best_f;
    uint32_t best_i;
    int32_t amp_ref;          /* R: running beat amplitude, filtered counts (Q12), 0 before the first beat */
    uint32_t dropped;         /* beats lost because the caller's buffer was full */
} beat_detect_terma_t;

void beat_detect_terma_init(beat_detect_terma_t *d, const beat_terma_params_t *prm);

/* Consumes n filtered samples, writes the beats completed meanwhile (absolute sample indices,
 * increasing) to beats and their peaks' amplitudes A = f[beat] (> 0, Q12 counts) to amps, at most
 * max_beats (more are counted in d->dropped); returns their number.
 * At most n / (w1 + 1) + 1 beats complete during one call. */
size_t beat_detect_terma(beat_detect_terma_t *d, const int32_t *filtered, size_t n, uint32_t *beats, int32_t *amps,
                         size_t max_beats);

#endif
