#include "stress_task.h"

#include <string.h>

void stress_task_init(stress_task_t *t)
{
    memset(t, 0, sizeof *t);
}

static uint32_t last_epoch(uint32_t segment)
{
    return segment * STRESS_TASK_EPOCHS_PER_SEGMENT + (STRESS_TASK_EPOCHS_PER_SEGMENT - 1u);
}

/* Whether every covering epoch's context has arrived and is still kept. */
static bool context_here(const stress_task_t *t, uint32_t segment)
{
    uint32_t first = segment * STRESS_TASK_EPOCHS_PER_SEGMENT;
    return last_epoch(segment) < t->epochs && t->epochs - first <= STRESS_TASK_CONTEXT_EPOCHS;
}

/* Whether the covering epochs arrived but are no longer kept. */
static bool context_lost(const stress_task_t *t, uint32_t segment)
{
    uint32_t first = segment * STRESS_TASK_EPOCHS_PER_SEGMENT;
    return last_epoch(segment) < t->epochs && t->epochs - first > STRESS_TASK_CONTEXT_EPOCHS;
}

static void make_ready(const stress_task_t *t, const stress_segment_t *seg, bool known, stress_ready_t *out)
{
    out->seg = *seg;
    stress_evidence_t *e = &out->evidence;
    e->segment = seg->segment;
    memcpy(e->p_stress_q15, seg->p_stress_q15, sizeof e->p_stress_q15);
    memcpy(e->votes_stress, seg->votes_stress, sizeof e->votes_stress);
    e->features_valid = seg->features_valid;
    e->baseline_ready = seg->baseline_ready;
    e->context_known = known;
    e->awake = known;
    e->motion = 0u;
    if (known) {
        for (uint32_t k = 0u; k < STRESS_TASK_EPOCHS_PER_SEGMENT; k++) {
            const stress_context_t *c =
                &t->context[(seg->segment * STRESS_TASK_EPOCHS_PER_SEGMENT + k) % STRESS_TASK_CONTEXT_EPOCHS];
            e->awake = e->awake && c->cls == STRESS_TASK_WAKE_CLASS;
            e->motion = c->motion > e->motion ? c->motion : e->motion;
        }
    }
}

size_t stress_task_segment(stress_task_t *t, const stress_segment_t *seg, stress_ready_t *ready)
{
    size_t n = 0u;
    if (context_here(t, seg->segment) || context_lost(t, seg->segment)) {
        make_ready(t, seg, context_here(t, seg->segment), &ready[n++]);
        return n;
    }
    if (t->n_pending == STRESS_TASK_PENDING_MAX) {
        make_ready(t, &t->pending[0], false, &ready[n++]); /* the oldest waited too long: context unknown */
        memmove(&t->pending[0], &t->pending[1], (STRESS_TASK_PENDING_MAX - 1u) * sizeof t->pending[0]);
        t->n_pending--;
    }
    t->pending[t->n_pending++] = *seg;
    return n;
}

size_t stress_task_context(stress_task_t *t, uint8_t cls, uint16_t motion, stress_ready_t *ready)
{
    stress_context_t *c = &t->context[t->epochs % STRESS_TASK_CONTEXT_EPOCHS];
    c->cls = cls;
    c->motion = motion;
    t->epochs++;
    size_t n = 0u;
    uint32_t kept = 0u;
    for (uint32_t i = 0u; i < t->n_pending; i++) {
        if (context_here(t, t->pending[i].segment)) {
            make_ready(t, &t->pending[i], true, &ready[n++]);
        } else {
            t->pending[kept++] = t->pending[i];
        }
    }
    t->n_pending = kept;
    return n;
}
