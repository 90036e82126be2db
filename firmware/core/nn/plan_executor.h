/* The plan executor: runs a compiled plan (NAME_plan.h, layout in nn_plan.h) on a caller-owned arena.
 * No parsing, no allocation, no float: it walks plan->ops and fills each kernel's parameter struct from the
 * nn_op fields the host computed. The input is written by the caller at arena + plan->in_offset
 * (plan->in_bytes int8 values), the output is read at arena + plan->out_offset after a successful run.
 * It does not depend on the board: an optional hook called before and after every op lets the firmware
 * count cycles/instructions per op. */
#ifndef VIGIL_NN_PLAN_EXECUTOR_H
#define VIGIL_NN_PLAN_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn_plan.h"

typedef enum nn_status {
    NN_OK = 0,
    NN_ERR_ARGS = 1,          /* NULL plan or arena, or an arena not NN_ARENA_ALIGN-aligned */
    NN_ERR_ARENA_TOO_SMALL = 2,
    NN_ERR_UNSUPPORTED = 3    /* an op kind or operand shape this executor does not know */
} nn_status;

typedef enum nn_op_phase {
    NN_OP_BEFORE = 0,
    NN_OP_AFTER = 1
} nn_op_phase;

/* Called with the op's index in plan->ops, before it runs and after it ran. */
typedef void (*nn_op_hook_fn)(void *ctx, uint16_t op_index, nn_op_phase phase);

/* Runs every op of the plan in order. arena: at least plan->arena_bytes bytes, NN_ARENA_ALIGN-aligned.
 * hook may be NULL. On an error the arena's contents are unspecified. */
nn_status nn_plan_run(const nn_plan *plan, uint8_t *arena, size_t arena_bytes, nn_op_hook_fn hook, void *ctx);

/* One op of a plan (what nn_plan_run does per op, without the hook). */
nn_status nn_plan_run_op(const nn_op *op, uint8_t *arena);

#endif /* VIGIL_NN_PLAN_EXECUTOR_H */
