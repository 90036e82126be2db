#include "dsp/epoch_features.h"

#include <string.h>

#include "dsp/isqrt.h"
#include "dsp/stft_kernels.h" /* log2_u64_q30 */

_Static_assert(DSP_POSTURE_WINDOWS * DSP_POSTURE_WINDOW_SAMPLES == DSP_EPOCH_SAMPLES,
               "an epoch is a whole number of posture windows");
_Static_assert(DSP_EPOCH_FEATURES == 4u, "epoch_features_push writes four features");

void epoch_features_init(epoch_features_t *s)
{
    memset(s, 0, sizeof *s);
}

uint8_t epoch_features_log_code(uint32_t v)
{
    const int64_t code = ((int64_t)DSP_LOG_CODE_PER_OCTAVE * log2_u64_q30((uint64_t)v + 1u)) >> 30;
    return (uint8_t)(code > (int64_t)DSP_FEATURE_CODE_MAX ? DSP_FEATURE_CODE_MAX : code);
}

/* The window just filled: its direction, its change from the previous window's, into the epoch's sums. */
static void close_window(epoch_features_t *s)
{
    int64_t sq = 0;
    for (size_t a = 0; a < 3u; a++) {
        sq += (int64_t)s->sum[a] * s->sum[a];
    }
    const int64_t norm = (int64_t)isqrt_u64((uint64_t)sq);
    int32_t dir[3] = {0, 0, 0};
    if (norm != 0) {
        for (size_t a = 0; a < 3u; a++) {
            dir[a] = (int32_t)((int64_t)s->sum[a] * DSP_DIRECTION_ONE / norm); /* C division: towards zero */
        }
    }
    uint32_t change = 0u;
    if (s->windows != 0u) {
        uint32_t d2 = 0u;
        for (size_t a = 0; a < 3u; a++) {
            const int32_t d = dir[a] - s->prev_dir[a];
            d2 += (uint32_t)(d * d);
        }
        change = isqrt_u32(d2);
    }
    memcpy(s->prev_dir, dir, sizeof dir);
    memset(s->sum, 0, sizeof s->sum);
    s->window_filled = 0u;
    s->windows++;
    s->change += change;
    s->still += change <= DSP_STILL_CHANGE_Q12 ? 1u : 0u;
}

size_t epoch_features_push(epoch_features_t *s, const int16_t *xyz, const int16_t *deriv, size_t n, int8_t *out,
                           size_t max)
{
    size_t done = 0u;
    for (size_t i = 0; i < n; i++) {
        s->sum[0] += xyz[3u * i];
        s->sum[1] += xyz[3u * i + 1u];
        s->sum[2] += xyz[3u * i + 2u];
        const int32_t d = deriv[i];
        const int32_t above = (d < 0 ? -d : d) - (int32_t)DSP_ACTIVITY_DEADBAND_MG;
        s->activity += above > 0 ? (uint32_t)above : 0u;
        if (++s->window_filled < DSP_POSTURE_WINDOW_SAMPLES) {
            continue;
        }
        close_window(s);
        if (s->windows % DSP_POSTURE_WINDOWS != 0u) {
            continue;
        }
        if (done < max) {
            const uint32_t elapsed = s->epoch >> DSP_ELAPSED_SHIFT;
            int8_t *v = out + done * DSP_EPOCH_FEATURES;
            v[0] = (int8_t)(epoch_features_log_code(s->activity) + DSP_FEATURE_ZERO_POINT);
            v[1] = (int8_t)(epoch_features_log_code(s->change) + DSP_FEATURE_ZERO_POINT);
            v[2] = (int8_t)((int32_t)s->still + DSP_FEATURE_ZERO_POINT);
            v[3] = (int8_t)((int32_t)(elapsed > EPOCH_FEATURES_ELAPSED_MAX ? EPOCH_FEATURES_ELAPSED_MAX : elapsed) +
                            DSP_FEATURE_ZERO_POINT);
            done++;
        } else {
            s->epochs_dropped++;
        }
        s->activity = 0u;
        s->change = 0u;
        s->still = 0u;
        s->epoch++;
    }
    return done;
}
