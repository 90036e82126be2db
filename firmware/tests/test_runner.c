/* C core tests, built by `pio run -e ctest` and run by tests/test_c_core.py.
 *     program [SUITE]          run the unit tests (all, or one suite)
 *     program harness NAME     run a kernel harness on stdin/stdout (tests/test_dsp_*.py) */
#include <string.h>

#include "check.h"

typedef struct suite {
    const char *name;
    void (*run)(check_totals_t *t);
} suite_t;

static const suite_t SUITES[] = {
    {"cobs", run_cobs_tests},
    {"crc32", run_crc32_tests},
    {"frame", run_frame_tests},
    {"accel", run_accel_tests},
    {"ppg", run_ppg_tests},
    {"hrv_spectrum", run_hrv_spectrum_tests},
    {"epoch_image", run_epoch_image_tests},
    {"epoch_features", run_epoch_features_tests},
    {"nn", run_nn_tests},
    {"plan", run_plan_tests},
    {"models", run_models_tests},
    {"sensors", run_sensors_tests},
    {"live", run_live_tests},
};

typedef struct harness {
    const char *name;
    int (*run)(FILE *in, FILE *out);
} harness_t;

static const harness_t HARNESSES[] = {
    {"accel", harness_accel},
    {"ppg", harness_ppg},
    {"hrv_spectrum", harness_hrv_spectrum},
    {"epoch_image", harness_epoch_image},
    {"epoch_features", harness_epoch_features},
    {"nn", harness_nn},
    {"consensus", harness_consensus},
    {"frame_stream", harness_frame_stream},
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "harness") == 0) {
        for (size_t i = 0; i < sizeof HARNESSES / sizeof HARNESSES[0]; i++) {
            if (strcmp(argv[2], HARNESSES[i].name) == 0) {
                return HARNESSES[i].run(stdin, stdout);
            }
        }
        fprintf(stderr, "no harness %s\n", argv[2]);
        return 2;
    }
    check_totals_t all = {0, 0};
    for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++) {
        if (argc > 1 && strcmp(argv[1], SUITES[i].name) != 0) {
            continue;
        }
        check_totals_t t = {0, 0};
        SUITES[i].run(&t);
        printf("%-12s %u checks passed, %u failed\n", SUITES[i].name, t.passed, t.failed);
        all.passed += t.passed;
        all.failed += t.failed;
    }
    printf("%u passed, %u failed\n", all.passed, all.failed);
    return all.failed ? 1 : 0;
}
