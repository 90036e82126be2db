/* The context sleep model's input: the feature vectors (dsp/epoch_features.h) of the last DSP_SLEEP_CONTEXT_EPOCHS
 * epochs in a ring. Twin: vigil.dsp.epoch_features.context_inputs.
 *
 * When epoch e's vector is pushed and e >= DSP_SLEEP_CONTEXT_DELAY, epoch t = e - DSP_SLEEP_CONTEXT_DELAY is due:
 * its input is int8[DSP_SLEEP_CONTEXT_INPUT] = the vectors of epochs e - 53 .. e, oldest first (row r, feature j at
 * index DSP_EPOCH_FEATURES * r + j); rows of epochs before the stream are SLEEP_CONTEXT_EMPTY_VALUE. The last
 * DSP_SLEEP_CONTEXT_DELAY epochs of a stream are never decided. */
#ifndef VIGIL_SLEEP_CONTEXT_H
#define VIGIL_SLEEP_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "dsp/dsp_config.h"

#define SLEEP_CONTEXT_EMPTY_VALUE DSP_FEATURE_ZERO_POINT /* every feature of an epoch before the stream: code 0 */

typedef struct sleep_context {
    int8_t ring[DSP_SLEEP_CONTEXT_EPOCHS][DSP_EPOCH_FEATURES]; /* epoch e at row e % DSP_SLEEP_CONTEXT_EPOCHS */
    uint32_t epochs;                                           /* vectors pushed so far */
} sleep_context_t;

void sleep_context_init(sleep_context_t *c);

/* Add the next epoch's vector. True when an epoch is due (then *decided is it: the epoch DSP_SLEEP_CONTEXT_DELAY
 * before the one just pushed). */
bool sleep_context_push(sleep_context_t *c, const int8_t vector[DSP_EPOCH_FEATURES], uint32_t *decided);

/* The input of the epoch due after the last push (oldest first, padded), DSP_SLEEP_CONTEXT_INPUT bytes. */
void sleep_context_unroll(const sleep_context_t *c, int8_t *input);

#endif /* VIGIL_SLEEP_CONTEXT_H */
