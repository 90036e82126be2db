/* Four integer features per 30-s epoch of the accelerometer, streaming: the context sleep model's input
 * (dsp/sleep_context.h keeps the last epochs of them). Twin: vigil.dsp.epoch_features (bit-exact, whatever the
 * block sizes fed here; its module doc states every formula).
 *
 *   xyz int16 milli-g, and the magnitude derivative d (accel_stft_derivative) of the same samples
 *   per 5-s posture window k (DSP_POSTURE_WINDOW_SAMPLES): S_k = per-axis sums (int32),
 *       u_k = S_k * DSP_DIRECTION_ONE / isqrt_u64(|S_k|^2) (Q12 unit vector, C division; 0 when S_k = 0),
 *       c_k = isqrt_u32(|u_k - u_{k-1}|^2), c_0 = 0 for the stream's first window
 *   per epoch e (DSP_POSTURE_WINDOWS windows, DSP_EPOCH_SAMPLES samples), codes 0..DSP_FEATURE_CODE_MAX:
 *       f0 activity  = log_code(sum max(0, |d| - DSP_ACTIVITY_DEADBAND_MG))   (a dead band: sensor noise is still)
 *       f1 direction change = log_code(sum c_k)
 *       f2 still     = windows with c_k <= DSP_STILL_CHANGE_Q12          f3 elapsed = min(e >> DSP_ELAPSED_SHIFT, 255)
 *       log_code(v)  = min(255, (DSP_LOG_CODE_PER_OCTAVE * log2_u64_q30(v + 1)) >> 30)
 *   the epoch's vector: int8[DSP_EPOCH_FEATURES] = code + DSP_FEATURE_ZERO_POINT (the model's input quantization:
 *   scale 1.0, zero point -128, so the real value is the code).
 * Bounds: |S| <= 250 * 32768 < 2^23, |S|^2 < 2^48; |u_k - u_{k-1}|^2 <= 3 * 8192^2 < 2^28; sum |d| over an epoch
 * <= 1500 * 32768 < 2^26. */
#ifndef VIGIL_EPOCH_FEATURES_H
#define VIGIL_EPOCH_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

#define EPOCH_FEATURES_ELAPSED_MAX DSP_FEATURE_CODE_MAX

/* Worst case of epochs completed by n samples, whatever came before. */
#define EPOCH_FEATURES_MAX_EPOCHS(n) (((size_t)(n) + DSP_EPOCH_SAMPLES - 1u) / DSP_EPOCH_SAMPLES)

typedef struct epoch_features {
    int32_t sum[3];          /* per-axis sums of the current posture window */
    int32_t prev_dir[3];     /* u of the previous window (Q12) */
    uint32_t window_filled;  /* samples of the current window so far */
    uint32_t windows;        /* posture windows completed since the stream started */
    uint32_t activity;       /* sum |d| of the current epoch so far */
    uint32_t change;         /* sum c_k of the current epoch's completed windows */
    uint32_t still;          /* windows of the current epoch with c_k <= DSP_STILL_CHANGE_Q12 */
    uint32_t epoch;          /* the current epoch: the next one to complete */
    uint32_t epochs_dropped; /* epochs completed while the caller's buffer was full (never silent) */
} epoch_features_t;

void epoch_features_init(epoch_features_t *s);

/* log_code(v) above. */
uint8_t epoch_features_log_code(uint32_t v);

/* Push n samples (xyz: 3n int16, deriv: their n derivative values). Each epoch they complete writes its vector to
 * out + k * DSP_EPOCH_FEATURES (k = 0, 1, ...); returns how many were written, at most max (pass
 * max >= EPOCH_FEATURES_MAX_EPOCHS(n): epochs beyond it are counted in epochs_dropped). The first epoch written is
 * s->epoch before the call. */
size_t epoch_features_push(epoch_features_t *s, const int16_t *xyz, const int16_t *deriv, size_t n, int8_t *out,
                           size_t max);

#endif /* VIGIL_EPOCH_FEATURES_H */
