/* A minimal test harness for the C core: each test file exposes run_<kernel>_tests(),
 * test_runner.c calls them and prints pytest-style totals. */
#ifndef VIGIL_CHECK_H
#define VIGIL_CHECK_H

#include <stdio.h>

typedef struct check_totals {
    unsigned passed;
    unsigned failed;
} check_totals_t;

#define CHECK(totals, cond, ...)                                                                                     \
    do {                                                                                                             \
        if (cond) {                                                                                                  \
            (totals)->passed++;                                                                                      \
        } else {                                                                                                     \
            (totals)->failed++;                                                                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                              \
            printf(__VA_ARGS__);                                                                                     \
            printf("\n");                                                                                            \
        }                                                                                                            \
    } while (0)

void run_cobs_tests(check_totals_t *t);
void run_crc32_tests(check_totals_t *t);
void run_frame_tests(check_totals_t *t);
void run_accel_tests(check_totals_t *t); /* test_accel.c */
void run_ppg_tests(check_totals_t *t);   /* test_ppg.c */
void run_epoch_image_tests(check_totals_t *t);
void run_epoch_features_tests(check_totals_t *t); /* test_epoch_features.c */
void run_nn_tests(check_totals_t *t); /* test_nn_kernels.c */
void run_plan_tests(check_totals_t *t); /* test_plan_executor.c */
void run_models_tests(check_totals_t *t); /* test_models.c */
void run_hrv_spectrum_tests(check_totals_t *t); /* test_hrv_spectrum.c */
void run_sensors_tests(check_totals_t *t); /* test_sensors.c */
void run_live_tests(check_totals_t *t);    /* test_live.c */

/* Harnesses: read a binary request on `in`, write the kernel's outputs on `out`, for the
 * Python tests that compare C and twin on many signals (tests/test_dsp_*.py).
 * Return 0 on success. */
int harness_accel(FILE *in, FILE *out); /* test_accel.c */
int harness_ppg(FILE *in, FILE *out);   /* test_ppg.c */
int harness_epoch_image(FILE *in, FILE *out);
int harness_epoch_features(FILE *in, FILE *out); /* test_epoch_features.c */
int harness_nn(FILE *in, FILE *out); /* test_nn_kernels.c */
int harness_consensus(FILE *in, FILE *out); /* test_models.c */
int harness_frame_stream(FILE *in, FILE *out); /* test_frame.c */
int harness_hrv_spectrum(FILE *in, FILE *out); /* test_hrv_spectrum.c */

#endif
