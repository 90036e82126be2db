#include "dsp/beat_detect_terma.h"

#define RING_MASK (PPG_RING - 1u)

#if (-1 >> 1) != -1
#error beat_detect_terma needs arithmetic right shifts of negative values
#endif

void beat_detect_terma_init(beat_detect_terma_t *d, const beat_terma_params_t *prm)
{
    *d = (beat_detect_terma_t){0};
    d->prm = *prm;
}

/* The amplitude gate: true when the candidate is a beat; updates R either way. */
static bool amplitude_gate(beat_detect_terma_t *d, int32_t a)
{
    if (a <= 0 || (int64_t)a * PPG_GATE_MUL < d->amp_ref) {
        d->amp_ref -= d->amp_ref >> PPG_AMP_SHIFT;
        return false;
    }
    d->amp_ref = d->amp_ref == 0 ? a : (int32_t)(d->amp_ref + (((int64_t)a - d->amp_ref) >> PPG_AMP_SHIFT));
    return true;
}

static inline uint64_t energy(int32_t f)
{
    if (f <= 0) {
        return 0;
    }
    uint32_t z = (uint32_t)f >> PPG_DET_SHIFT;
    if (z > PPG_Z_MAX) {
        z = PPG_Z_MAX;
    }
    return (uint64_t)z * z;
}

size_t beat_detect_terma(beat_detect_terma_t *d, const int32_t *filtered, size_t n, uint32_t *beats, int32_t *amps,
                         size_t max_beats)
{
    const uint32_t h1 = d->prm.w1 / 2u, h2 = d->prm.w2 / 2u;
    const uint64_t w1 = d->prm.w1, w2 = d->prm.w2;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t t = d->t++;
        d->ring[t & RING_MASK] = filtered[i];
        /* The ring starts zeroed and holds W2 + 1 samples, so every read below of an index before
         * 0 finds 0: no start-up branch. Unsigned wrap-around keeps the sums exact. */
        const uint64_t y = energy(filtered[i]);
        d->s2 += y - energy(d->ring[(t - d->prm.w2) & RING_MASK]);
        d->s1 += energy(d->ring[(t - h2 + h1) & RING_MASK]) - energy(d->ring[(t - h2 - h1 - 1u) & RING_MASK]);
        d->block_sum += y;
        if (++d->block_fill == d->prm.fs_hz) {
            d->q += d->block_sum - d->blocks[0];
            for (unsigned k = 0; k + 1u < PPG_ALPHA_BLOCKS; k++) {
                d->blocks[k] = d->blocks[k + 1u];
            }
            d->blocks[PPG_ALPHA_BLOCKS - 1u] = d->block_sum;
            d->block_sum = 0;
            d->block_fill = 0;
        }
        if (t < h2) {
            continue; /* the first centre, c = 0, is evaluated at t = h2 */
        }
        const uint32_t c = t - h2;
        const uint64_t alpha = ((d->q >> PPG_ALPHA_PRE_SHIFT) * d->prm.alpha_q16) >> (16 - PPG_ALPHA_PRE_SHIFT);
        const bool b = d->s1 * w2 > d->s2 * w1 + alpha;
        const int32_t fc = d->ring[c & RING_MASK];
        if (b) {
            if (!d->in_run) {
                d->in_run = true;
                d->overlong = false;
                d->run_len = 0;
                d->best_f = fc;
                d->best_i = c;
            } else if (fc > d->best_f) {
                d->best_f = fc;
                d->best_i = c;
            }
            if (d->run_len < UINT16_MAX) {
                d->run_len++;
            }
            if (d->run_len > d->prm.block_max) {
                d->overlong = true;
            }
        } else if (d->in_run) {
            d->in_run = false;
            if (!d->overlong && d->run_len >= d->prm.w1 && amplitude_gate(d, d->best_f)) {
                if (out < max_beats) {
                    amps[out] = d->best_f;
                    beats[out++] = d->best_i;
                } else {
                    d->dropped++;
                }
            }
        }
    }
    return out;
}
