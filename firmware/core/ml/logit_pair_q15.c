#include "ml/logit_pair_q15.h"

uint16_t logit_pair_q15(const uint16_t table[LOGIT_PAIR_TABLE_SIZE], int8_t q0, int8_t q1)
{
    /* q1 - q0 is in -255..255 for any int8 pair: always inside the table */
    return table[(int32_t)q1 - (int32_t)q0 + LOGIT_PAIR_SPAN];
}
