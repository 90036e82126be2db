#include "dsp/sleep_context.h"

#include <string.h>

_Static_assert(DSP_SLEEP_CONTEXT_INPUT == DSP_SLEEP_CONTEXT_EPOCHS * DSP_EPOCH_FEATURES, "rows x features");
_Static_assert(DSP_SLEEP_CONTEXT_DELAY < DSP_SLEEP_CONTEXT_EPOCHS, "the decided epoch is in the context");

void sleep_context_init(sleep_context_t *c)
{
    memset(c, 0, sizeof *c);
}

bool sleep_context_push(sleep_context_t *c, const int8_t vector[DSP_EPOCH_FEATURES], uint32_t *decided)
{
    memcpy(c->ring[c->epochs % DSP_SLEEP_CONTEXT_EPOCHS], vector, DSP_EPOCH_FEATURES);
    const uint32_t newest = c->epochs++;
    if (newest < DSP_SLEEP_CONTEXT_DELAY) {
        return false;
    }
    *decided = newest - DSP_SLEEP_CONTEXT_DELAY;
    return true;
}

void sleep_context_unroll(const sleep_context_t *c, int8_t *input)
{
    /* row r holds epoch newest - (DSP_SLEEP_CONTEXT_EPOCHS - 1) + r, i.e. (epochs - DSP_SLEEP_CONTEXT_EPOCHS) + r */
    for (uint32_t r = 0; r < DSP_SLEEP_CONTEXT_EPOCHS; r++) {
        int8_t *row = input + r * DSP_EPOCH_FEATURES;
        if (c->epochs + r < DSP_SLEEP_CONTEXT_EPOCHS) {
            memset(row, (uint8_t)SLEEP_CONTEXT_EMPTY_VALUE, DSP_EPOCH_FEATURES);
        } else {
            const uint32_t epoch = c->epochs + r - DSP_SLEEP_CONTEXT_EPOCHS;
            memcpy(row, c->ring[epoch % DSP_SLEEP_CONTEXT_EPOCHS], DSP_EPOCH_FEATURES);
        }
    }
}
