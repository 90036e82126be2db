#include "nn_task.h"

#include <string.h>

#include "board.h"

#ifdef VIGIL_ENGINE_MODEL
#include "nn/plan_executor.h"

static const uint8_t MODEL_HASH[VIGIL_MODEL_HASH_SIZE] = ENGINE_MODEL_HASH;
#define MODEL_PLAN (&ENGINE_MODEL_PLAN)

static void time_op(void *ctx, uint16_t op_index, nn_op_phase phase)
{
    nn_task_t *t = ctx;
    if (phase == NN_OP_BEFORE) {
        t->op_began = board_ticks();
    } else if (op_index < NN_TASK_MAX_OPS) {
        t->op_ticks[op_index] = (uint32_t)(board_ticks() - t->op_began);
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
    if (offset + n > MODEL_PLAN->in_bytes) {
        return false;
    }
    memcpy(t->arena + MODEL_PLAN->in_offset + offset, payload + 2, n);
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
    if (model != 0) {
        send_result(t, link, VIGIL_NN_NO_MODEL, model, 0, 0, 0);
        return;
    }
    const nn_plan *plan = MODEL_PLAN;
    uint64_t began = board_ticks();
    nn_status status = nn_plan_run(plan, t->arena, sizeof t->arena, time_op, t);
    uint64_t ticks = board_ticks() - began;
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
        uint16_t n = (uint16_t)(plan->n_ops - first < VIGIL_NN_OP_COST_MAX ? plan->n_ops - first : VIGIL_NN_OP_COST_MAX);
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
