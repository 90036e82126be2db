/* The int8 engine on the device: host-compiled plans (firmware/core/nn/nn_plan.h) run on request. A firmware
 * carries them when built with -DVIGIL_ENGINE_MODEL and an engine_model.h on the include path (written by
 * vigil.engine), otherwise none. engine_model.h names ENGINE_MODEL_COUNT plans (ENGINE_MODEL_PLANS, in NN_RUN's
 * model order; one for `vigil engine check`, a batch for `vigil engine fuzz`), each one's timing runs
 * (ENGINE_MODEL_TIMING_RUNS), the largest arena, op count and input among them, and one HELLO entry for the
 * whole set (ENGINE_MODEL_NAME, ENGINE_MODEL_HASH: the model's hash, or the batch's, vigil.engine.batch_identity). */
#ifndef VIGIL_NN_TASK_H
#define VIGIL_NN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

#ifdef VIGIL_ENGINE_MODEL
#include "engine_model.h"
#define NN_TASK_MODELS 1u /* HELLO entries: the set as one */
#define NN_TASK_PLANS ENGINE_MODEL_COUNT
#define NN_TASK_ARENA_BYTES ENGINE_MODEL_ARENA_BYTES
#define NN_TASK_MAX_OPS ENGINE_MODEL_OPS
#define NN_TASK_INPUT_BYTES ENGINE_MODEL_INPUT_BYTES
#else
#define NN_TASK_MODELS 0u
#define NN_TASK_PLANS 0u
#define NN_TASK_ARENA_BYTES 4u
#define NN_TASK_MAX_OPS 1u
#define NN_TASK_INPUT_BYTES 1u
#endif

/* Timing (NN_RUN): the model runs its timing-run count of times (vigil.engine picks it: 1 for large models, more
 * for small ones, whose single run is a few board ticks), each time from the same input, with no per-op hook; the
 * ticks of that loop minus those of the same loop restoring the input only are the NN_RESULT ticks, so
 * ticks / runs is one nn_plan_run. The per-op breakdown (NN_OP_COST) comes from a separate pass: each op's
 * nn_plan_run_op timed on its own, repeated as often when its output does not overwrite its input (else once, its
 * ticks then multiplied by the run count), so the same division applies; the board_ticks calls around each
 * measurement count once per measurement, not per run. */
typedef struct nn_task {
    _Alignas(4) uint8_t arena[NN_TASK_ARENA_BYTES];
    uint8_t input[NN_TASK_INPUT_BYTES]; /* the input as NN_INPUT wrote it: each timed run starts from it */
    uint32_t op_ticks[NN_TASK_MAX_OPS];
    uint8_t out[VIGIL_FRAME_MAX_PAYLOAD];
} nn_task_t;

/* HELLO entries (0 or 1), their names and hashes. */
size_t nn_task_models(void);
const char *nn_task_model_name(size_t model);
const uint8_t *nn_task_model_hash(size_t model); /* VIGIL_MODEL_HASH_SIZE bytes */

/* NN_INPUT: offset:u16 then bytes of the input tensor (of whichever model NN_RUN then names; the buffer holds the
 * largest). False if they do not fit it. */
bool nn_task_input(nn_task_t *t, const uint8_t *payload, uint16_t len);

/* NN_RUN: run model `model` (0 .. NN_TASK_PLANS - 1) on the first in_bytes of the input buffer, answer NN_RESULT
 * (ticks of its timing runs, above), NN_OUTPUT chunks and NN_OP_COST frames (per-op ticks, same scale). */
void nn_task_run(nn_task_t *t, uint8_t model, link_t *link);

#endif
