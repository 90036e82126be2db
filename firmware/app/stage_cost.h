/* What each processing stage cost: calls, board ticks, signal samples. Reported in COST;
 * on the virtual board one tick is a fixed number of instructions (-icount), so these are
 * instruction counts, deterministic run to run. */
#ifndef VIGIL_STAGE_COST_H
#define VIGIL_STAGE_COST_H

#include <stdint.h>

#include "board.h"
#include "protocol/vigil_protocol.h"

typedef struct stage_cost {
    uint32_t calls;
    uint64_t ticks;
    uint32_t samples;
} stage_cost_t;

typedef struct stage_costs {
    stage_cost_t stage[VIGIL_STAGE_COUNT + 1]; /* indexed by vigil_stage_t (1-based) */
} stage_costs_t;

static inline uint64_t stage_begin(void)
{
    return board_ticks();
}

static inline void stage_end(stage_costs_t *c, vigil_stage_t stage, uint64_t began, uint32_t samples)
{
    stage_cost_t *s = &c->stage[stage];
    s->calls++;
    s->ticks += board_ticks() - began;
    s->samples += samples;
}

#endif
