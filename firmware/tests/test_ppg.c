/* Placeholder until the ppg kernels land: no checks, and the harness refuses. */
#include "check.h"

void run_ppg_tests(check_totals_t *t)
{
    (void)t;
}

int harness_ppg(FILE *in, FILE *out)
{
    (void)in;
    (void)out;
    return 2;
}
