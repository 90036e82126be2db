/* Cascade of second-order IIR sections, direct form I, Q30 coefficients, int32 samples.
 * Twin: vigil.dsp.ppg.bandpass.
 *
 * Per section, with 64-bit accumulation, one rounding and first-order error feedback:
 *     acc  = b0*x[n] + b1*x[n-1] + b2*x[n-2] + (-a1)*y[n-1] + (-a2)*y[n-2] + e[n-1]   (int64)
 *     y[n] = sat32((acc + 2^29) >> 30)                                                (round half up)
 *     e[n] = acc - y[n] * 2^30                          (the rounding error, in [-2^29, 2^29))
 * Feeding the rounding error back puts a zero at DC in the rounding noise's path: without it, a
 * section whose poles sit near z = 1 (the 0.5 Hz high-pass at 128 Hz: 1 + a1 + a2 = 0.0009) has a
 * dead band of +-0.5 / (1 + a1 + a2) output steps in which the rounding holds any constant output
 * forever (a DC offset after every transient); with it, the only constant output of a zero input is 0.
 * Coefficients: Q30 in int32 (range [-2, 2)), stored {b0, b1, b2, -a1, -a2} per section.
 * Samples: any fixed Q format, the same at input and output (the PPG chain uses counts in Q12).
 * Direct form I keeps the state in the sample format (no internal gain), so a design whose partial
 * cascades have L1 gain G needs only |x| * G < 2^31 / 5 to rule out accumulator overflow
 * (vigil.dsp.ppg_tables.filter_bounds checks this for the PPG designs); the output saturation (which
 * also clears e) is a guard, not part of the expected behaviour. Assumes arithmetic right shift of negative values. */
#ifndef VIGIL_BIQUAD_CASCADE_Q30_H
#define VIGIL_BIQUAD_CASCADE_Q30_H

#include <stddef.h>
#include <stdint.h>

#define BIQUAD_COEFFS 5u /* {b0, b1, b2, -a1, -a2} */
#define BIQUAD_STATE 5u  /* {x[n-1], x[n-2], y[n-1], y[n-2], e[n-1]} */
#define BIQUAD_Q 30

typedef struct biquad_cascade_q30 {
    const int32_t (*coeffs)[BIQUAD_COEFFS]; /* n_sections rows */
    int32_t (*state)[BIQUAD_STATE];         /* n_sections rows, owned by the caller */
    uint8_t n_sections;
} biquad_cascade_q30_t;

/* Binds coefficients and state (zeroed). */
void biquad_cascade_q30_init(biquad_cascade_q30_t *s, uint8_t n_sections, const int32_t (*coeffs)[BIQUAD_COEFFS],
                             int32_t (*state)[BIQUAD_STATE]);

/* Sets the state to the steady state of a constant input x0, for cascades whose first section
 * blocks DC exactly (b0 + b1 + b2 == 0): its input history is x0, every output history is 0. */
void biquad_cascade_q30_prime_dc(biquad_cascade_q30_t *s, int32_t x0);

/* Filters n samples; dst may equal src. */
void biquad_cascade_q30(biquad_cascade_q30_t *s, const int32_t *src, int32_t *dst, size_t n);

#endif
