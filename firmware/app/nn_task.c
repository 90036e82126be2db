#include "nn_task.h"

#include <string.h>

#include "board.h"

#ifdef VIGIL_ENGINE_MODEL
#include "nn/plan_executor.h"

static const uint8_t MODEL_HASH[VIGIL_MODEL_HASH_SIZE] = ENGINE_MODEL_HASH;
static const nn_plan *const PLANS[ENGINE_MODEL_COUNT] = ENGINE_MODEL_PLANS;
static const uint16_t TIMING_RUNS[ENGINE_MODEL_COUNT] = ENGINE_MODEL_TIMING_RUNS;

/* The input as NN_INPUT left it, back in the arena (ops may have overwritten it). */
static void restore_input(nn_task_t *t, const nn_plan *plan)
{
    memcpy(t->arena + plan->in_offset, t->input, plan->in_bytes);
}

/* Ticks of `runs` hook-less runs from the input, minus the ticks of restoring the input as often (nn_task.h).
 * The status of the last run goes to *status; its output stays in the arena. The restores alone are timed first:
 * the planner may give the output the input's bytes (their lifetimes do not meet), so a restore after the last
 * run would overwrite the result. */
static uint64_t time_inference(nn_task_t *t, const nn_plan *plan, uint32_t runs, nn_status *status)
{
    uint64_t began = board_ticks();
    for (uint32_t r = 0; r < runs; r++) {
        restore_input(t, plan);
        __asm__ volatile("" ::: "memory"); /* keep every copy, as in the loop below */
    }
    const uint64_t restores = board_ticks() - began;
    began = board_ticks();
    for (uint32_t r = 0; r < runs; r++) {
        restore_input(t, plan);
        *status = nn_plan_run(plan, t->arena, sizeof t->arena, NULL, NULL);
    }
    const uint64_t with_runs = board_ticks() - began;
    return with_runs > restores ? with_runs - restores : 0u;
}

/* Per-op ticks on the scale of time_inference (nn_task.h): op by op from the input, without the executor's loop. */
static void time_ops(nn_task_t *t, const nn_plan *plan, uint32_t runs)
{
    restore_input(t, plan);
    for (uint16_t i = 0; i < plan->n_ops && i < NN_TASK_MAX_OPS; i++) {
        const nn_op *op = &plan->ops[i];
        /* an op whose output overwrites its input gives a different result the second time: run it once */
        const uint32_t op_runs = (op->flags & NN_OP_FLAG_OUT_OVERLAPS_IN) ? 1u : runs;
        const uint64_t began = board_ticks();
        for (uint32_t r = 0; r < op_runs; r++) {
            (void)nn_plan_run_op(op, t->arena);
        }
        t->op_ticks[i] = (uint32_t)((board_ticks() - began) * (runs / op_runs));
    }
}
#endif

size_t nn_task_models(void)
{
    return NN_TASK_MODELS;
}

const char *nn_task_model_name(size_t model)
{
#ifdef VIGIL_ENGINE_MODEL
    return model == 0 ? ENGINE_MODEL_NAME : "";
#else
    (void)model;
    return "";
#endif
}

const uint8_t *nn_task_model_hash(size_t model)
{
#ifdef VIGIL_ENGINE_MODEL
    return model == 0 ? MODEL_HASH : NULL;
#else
    (void)model;
    return NULL;
#endif
}

bool nn_task_input(nn_task_t *t, const uint8_t *payload, uint16_t len)
{
#ifdef VIGIL_ENGINE_MODEL
    if (len < 2) {
        return false;
    }
    uint32_t offset = get_u16(payload);
    uint32_t n = len - 2u;
    if (offset + n > NN_TASK_INPUT_BYTES) {
        return false;
    }
    memcpy(t->input + offset, payload + 2, n);
    return true;
#else
    (void)t;
    (void)payload;
    (void)len;
    return false;
#endif
}

static void send_result(nn_task_t *t, link_t *link, uint8_t status, uint8_t model, uint16_t n_ops, uint64_t ticks,
                        uint16_t out_bytes)
{
    uint8_t *p = t->out;
    p[0] = status;
    p[1] = model;
    put_u16(p + 2, n_ops);
    put_u32(p + 4, (uint32_t)ticks);
    put_u32(p + 8, (uint32_t)(ticks >> 32));
    put_u16(p + 12, out_bytes);
    link_send(link, VIGIL_MSG_NN_RESULT, p, 14);
}

void nn_task_run(nn_task_t *t, uint8_t model, link_t *link)
{
#ifdef VIGIL_ENGINE_MODEL
    if (model >= NN_TASK_PLANS) {
        send_result(t, link, VIGIL_NN_NO_MODEL, model, 0, 0, 0);
        return;
    }
    const nn_plan *plan = PLANS[model];
    const uint32_t runs = TIMING_RUNS[model];
    time_ops(t, plan, runs);
    nn_status status = NN_OK;
    const uint64_t ticks = time_inference(t, plan, runs, &status);
    if (status != NN_OK) {
        send_result(t, link, status == NN_ERR_ARENA_TOO_SMALL ? VIGIL_NN_ARENA_TOO_SMALL : VIGIL_NN_UNSUPPORTED, model,
                    plan->n_ops, ticks, 0);
        return;
    }
    send_result(t, link, VIGIL_NN_OK, model, plan->n_ops, ticks, (uint16_t)plan->out_bytes);
    for (uint32_t off = 0; off < plan->out_bytes; off += VIGIL_NN_CHUNK) {
        uint32_t n = plan->out_bytes - off < VIGIL_NN_CHUNK ? plan->out_bytes - off : VIGIL_NN_CHUNK;
        put_u16(t->out, (uint16_t)off);
        memcpy(t->out + 2, t->arena + plan->out_offset + off, n);
        link_send(link, VIGIL_MSG_NN_OUTPUT, t->out, (uint16_t)(2 + n));
    }
    for (uint16_t first = 0; first < plan->n_ops; first += VIGIL_NN_OP_COST_MAX) {
        const uint32_t left = (uint32_t)plan->n_ops - first;
        uint16_t n = (uint16_t)(left < VIGIL_NN_OP_COST_MAX ? left : VIGIL_NN_OP_COST_MAX);
        put_u16(t->out, first);
        put_u16(t->out + 2, n);
        for (uint16_t i = 0; i < n; i++) {
            put_u32(t->out + 4 + 4 * i, t->op_ticks[first + i]);
        }
        link_send(link, VIGIL_MSG_NN_OP_COST, t->out, (uint16_t)(4 + 4 * n));
    }
#else
    send_result(t, link, VIGIL_NN_NO_MODEL, model, 0, 0, 0);
#endif
}
