/* Fixed-point kernels of the accelerometer spectrogram, one per file (CMSIS style). The streaming
 * wrapper that chains them is dsp/accel_stft.h. Twin: vigil.dsp.accel and vigil.dsp.stft (bit-exact).
 *
 * Number formats
 *   xyz        int16 milli-g, interleaved x y z
 *   magnitude  uint16 milli-g, floor(sqrt(x^2 + y^2 + z^2)) <= 56755
 *   derivative int16 milli-g per sample, saturated
 *   frame      int32 "q31" buffer of STFT_CFFT_N complex values (re, im interleaved) with a per-frame
 *              power-of-two gain g: x = d * w * 2^g (w = Hann in [0, 1]); |x| < 2^22 after scaling,
 *              and every FFT value stays below 2^30 in magnitude, so no stage needs scaling
 *   twiddles   Q30 (STFT_COS_Q30); products are 64-bit, rounded half up: (a*b + 2^29) >> 30
 *   log2       Q30 in int64 (log2_u64_q30)
 *   dB         Q16 in int32: dB of |X|^2, X the DFT of the windowed derivative in milli-g;
 *              STFT_DB_ZERO_POWER (INT32_MIN) for a bin of zero power
 *   column     int8 image value q = clamp(round(dB / IMAGE_SCALE_DB) + DSP_IMAGE_ZERO_POINT) */
#ifndef VIGIL_STFT_KERNELS_H
#define VIGIL_STFT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "dsp/stft_tables.h"

/* The kernels round with right shifts of negative values, which C leaves to the implementation:
 * require the arithmetic shift that GCC, Clang and Arm's compilers all do. */
_Static_assert(((int64_t)-3 >> 1) == -2 && ((int32_t)-3 >> 1) == -2, "arithmetic right shift required");
_Static_assert((DSP_STFT_N & (DSP_STFT_N - 1u)) == 0u, "the STFT ring indexes with a mask");

/* Gain exponent returned for a frame that is all zero (its FFT is skipped). */
#define STFT_SILENT (-1)

/* mag[i] = floor(sqrt(x^2 + y^2 + z^2)) of n samples (xyz: 3n values). */
void accel_magnitude_u16(const int16_t *xyz, size_t n, uint16_t *mag);

/* d[i] = saturate_int16(x[i] - x[i-1]) with x[-1] = prev. d may alias x (in place). */
void diff_sat_i16(const uint16_t *x, size_t n, uint16_t prev, int16_t *d);

/* Hann window + block scaling of the DSP_STFT_N samples ring[(oldest + n) mod N], n = 0..N-1, into
 * z (2*STFT_CFFT_N int32) as complex x[2m] + i x[2m+1] at bit-reversed position STFT_BITREV[m].
 * Returns the gain exponent g (6..32), or STFT_SILENT when the windowed frame is all zero. */
int32_t stft_window_scale_q31(const int16_t *ring, size_t oldest, int32_t *z);

/* In-place STFT_CFFT_N-point complex FFT (radix 2, decimation in time): input in bit-reversed
 * order, output in natural order, unscaled (inputs must leave the headroom stft_window_scale_q31 does). */
void cfft_q31(int32_t *z);

/* In place: Z = FFT of the packed real sequence -> 2 X[k] of the DSP_STFT_N-point real FFT, packed as
 * z[0] = 2 X[0], z[1] = 2 X[N/2] (both real), z[2k], z[2k+1] = re, im of 2 X[k] for 0 < k < N/2. */
void rfft_split_q31(int32_t *z);

/* log2(x) in Q30 for x >= 1 (CLZ + STFT_LOG2_Q30 with linear interpolation; error < 1.2e-5). */
int64_t log2_u64_q30(uint64_t x);

/* 10 log10(p * 2^-exp2) in Q16; STFT_DB_ZERO_POWER when p = 0. Needs p < 2^63, 0 <= exp2 <= 66. */
int32_t power_db_q16(uint64_t p, int32_t exp2);

/* One spectrogram column from the ring (as stft_window_scale_q31): DSP_STFT_BINS int8 values into
 * column, and their Q16 dB values into db unless db is NULL. Uses 4*2*STFT_CFFT_N bytes of stack. */
void stft_column_q31(const int16_t *ring, size_t oldest, int8_t *column, int32_t *db);

#endif /* VIGIL_STFT_KERNELS_H */
