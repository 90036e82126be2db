/* Accelerometer -> spectrogram columns (the sleep model's input), streaming, in fixed point.
 * Twin: vigil.dsp.accel / vigil.dsp.stft (bit-exact, whatever the block sizes fed here).
 *
 *   xyz int16 milli-g --accel_stft_derivative--> derivative int16 --accel_stft_columns--> int8 columns
 *
 * Column j covers derivative samples 64j .. 64j+127 of the stream (DSP_STFT_N, DSP_STFT_HOP): the first
 * column completes with sample 127, then one every 64 samples. Each column holds DSP_STFT_BINS int8
 * values q = clamp(round(P_dB / IMAGE_SCALE_DB) + DSP_IMAGE_ZERO_POINT, -128, 127), P_dB = 10 log10 |X_k|^2
 * with X the DFT of the Hann-windowed derivative in milli-g (no 1/N); zero power gives -128.
 * Formats and kernels: dsp/stft_kernels.h. */
#ifndef VIGIL_ACCEL_STFT_H
#define VIGIL_ACCEL_STFT_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

/* Worst case of columns completed by n derivative samples, whatever came before. */
#define ACCEL_STFT_MAX_COLUMNS(n) (((size_t)(n) + DSP_STFT_HOP - 1u) / DSP_STFT_HOP)

typedef struct accel_stft {
    int16_t ring[DSP_STFT_N]; /* the last DSP_STFT_N derivative samples; ring[pos] is the oldest */
    uint16_t prev_mag;        /* magnitude of the last sample seen by accel_stft_derivative */
    uint16_t pos;             /* where the next derivative sample goes */
    uint16_t to_next;         /* derivative samples still needed to complete the next column */
    uint8_t started;          /* 0 until the first xyz sample (whose derivative is 0) */
    uint8_t reserved;
    uint32_t columns_dropped; /* columns completed while the caller's buffer was full (never silent) */
} accel_stft_t;

void accel_stft_init(accel_stft_t *s);

/* Stages 1+2 on a block of n samples (xyz: 3n int16): deriv[i] = sat16(|a_i| - |a_{i-1}|); the
 * stream's very first sample has derivative 0. */
void accel_stft_derivative(accel_stft_t *s, const int16_t *xyz, size_t n, int16_t *deriv);

/* Stages 3+4: push n derivative samples; each completed column goes to columns + k*DSP_STFT_BINS
 * (k = 0, 1, ...); returns how many were written, at most max_columns. Pass
 * max_columns >= ACCEL_STFT_MAX_COLUMNS(n): columns beyond it are not computed and are counted
 * in s->columns_dropped (the samples are still consumed, so later columns stay aligned). */
size_t accel_stft_columns(accel_stft_t *s, const int16_t *deriv, size_t n, int8_t *columns, size_t max_columns);

/* As accel_stft_columns, and also writes each written column's DSP_STFT_BINS dB values before int8
 * rounding to db + k*DSP_STFT_BINS (Q16 int32 = dB * 2^16; INT32_MIN for zero power), unless db is NULL.
 * For SNR tests and diagnostics; the state keeps no copy. */
size_t accel_stft_columns_db(accel_stft_t *s, const int16_t *deriv, size_t n, int8_t *columns, int32_t *db,
                             size_t max_columns);

#endif /* VIGIL_ACCEL_STFT_H */
