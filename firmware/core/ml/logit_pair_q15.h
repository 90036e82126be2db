/* Two int8 logits -> P(second class) in Q15 (32768 = 1.0), through a host-generated table of the two-class
 * softmax: p = table[q1 - q0 + LOGIT_PAIR_SPAN] = round(32768 / (1 + exp(-s_out (q1 - q0)))). The output zero
 * point cancels in the difference; no exp on the device. Table: vigil.bundle.model_bundle.logit_pair_table_q15. */
#ifndef VIGIL_LOGIT_PAIR_Q15_H
#define VIGIL_LOGIT_PAIR_Q15_H

#include <stdint.h>

#define LOGIT_PAIR_SPAN 255
#define LOGIT_PAIR_TABLE_SIZE (2 * LOGIT_PAIR_SPAN + 1)

uint16_t logit_pair_q15(const uint16_t table[LOGIT_PAIR_TABLE_SIZE], int8_t q0, int8_t q1);

#endif
