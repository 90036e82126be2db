/* Placeholder until the accel kernels land: no checks, and the harness refuses. */
#include "check.h"

void run_accel_tests(check_totals_t *t)
{
    (void)t;
}

int harness_accel(FILE *in, FILE *out)
{
    (void)in;
    (void)out;
    return 2;
}
