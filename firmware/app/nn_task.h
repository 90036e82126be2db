/* The int8 engine on the device: a host-compiled plan (firmware/core/nn/nn_plan.h) run on
 * request. A firmware carries a model when built with -DVIGIL_ENGINE_MODEL and an
 * engine_model.h on the include path (written by vigil.engine), otherwise none. */
#ifndef VIGIL_NN_TASK_H
#define VIGIL_NN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

#ifdef VIGIL_ENGINE_MODEL
#include "engine_model.h"
#define NN_TASK_MODELS 1u
#define NN_TASK_ARENA_BYTES ENGINE_MODEL_ARENA_BYTES
#define NN_TASK_MAX_OPS ENGINE_MODEL_OPS
#else
#define NN_TASK_MODELS 0u
#define NN_TASK_ARENA_BYTES 4u
#define NN_TASK_MAX_OPS 1u
#endif

typedef struct nn_task {
    _Alignas(4) uint8_t arena[NN_TASK_ARENA_BYTES];
    uint32_t op_ticks[NN_TASK_MAX_OPS];
    uint64_t op_began;
    uint8_t out[VIGIL_FRAME_MAX_PAYLOAD];
} nn_task_t;

size_t nn_task_models(void);
const char *nn_task_model_name(size_t model);
const uint8_t *nn_task_model_hash(size_t model); /* VIGIL_MODEL_HASH_SIZE bytes */

/* NN_INPUT: offset:u16 then bytes of the input tensor. False if they do not fit it. */
bool nn_task_input(nn_task_t *t, const uint8_t *payload, uint16_t len);

/* NN_RUN: run the model, answer NN_RESULT, NN_OUTPUT chunks and NN_OP_COST frames. */
void nn_task_run(nn_task_t *t, uint8_t model, link_t *link);

#endif
