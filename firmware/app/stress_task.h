/* When a segment's stress record can be sent: the segment's own results wait for the context of the
 * accelerometer epochs covering it (the sleep model's class and the motion level of epochs 2s and 2s+1: the context
 * model decides epoch 2s+1 when epoch 2s+7 ends, 3 minutes after the segment, a minute before segment s+4 closes;
 * the CNN when its image completes, ~32 s after the segment). Twin: vigil.bundle.consensus_twin (module doc).
 *
 * - a segment whose context is already here is ready at once;
 * - context arrives epoch by epoch, in order; a waiting segment becomes ready when its last epoch arrives;
 * - at most STRESS_TASK_PENDING_MAX segments wait: a new one pushes the oldest out, ready with context unknown;
 * - the last STRESS_TASK_CONTEXT_EPOCHS epochs' context is kept: a segment whose epochs are older than that is
 *   ready at once with context unknown.
 * So the outputs do not depend on how accelerometer and PPG frames interleave as long as the two streams stay
 * within STRESS_TASK_CONTEXT_EPOCHS / 2 minutes of each other (replay: a few seconds). */
#ifndef VIGIL_STRESS_TASK_H
#define VIGIL_STRESS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/stress_consensus_q15.h"

#define STRESS_TASK_PENDING_MAX 4u
#define STRESS_TASK_CONTEXT_EPOCHS 8u
#define STRESS_TASK_EPOCHS_PER_SEGMENT 2u
#define STRESS_TASK_FEATURES 6u
#define STRESS_TASK_WAKE_CLASS 0u

/* A segment's own results, computed when it closed. */
typedef struct stress_segment {
    uint32_t segment;
    uint32_t features_crc;
    bool features_valid;
    bool baseline_ready; /* the models' inputs exist (STRESS_REASON_BASELINE_READY) */
    uint16_t p_stress_q15[STRESS_MODELS];
    bool votes_stress[STRESS_MODELS];
    int8_t nn_out[2];
} stress_segment_t;

typedef struct stress_context {
    uint8_t cls;     /* sleep model class */
    uint16_t motion; /* motion level */
} stress_context_t;

typedef struct stress_task {
    stress_segment_t pending[STRESS_TASK_PENDING_MAX]; /* oldest first */
    uint32_t n_pending;
    stress_context_t context[STRESS_TASK_CONTEXT_EPOCHS]; /* epoch e at e % STRESS_TASK_CONTEXT_EPOCHS */
    uint32_t epochs;                                       /* epochs whose context arrived (0..epochs-1) */
} stress_task_t;

/* A segment ready to be sent, with its evidence for stress_consensus_q15(). */
typedef struct stress_ready {
    stress_segment_t seg;
    stress_evidence_t evidence;
} stress_ready_t;

void stress_task_init(stress_task_t *t);

/* A segment closed. Writes the segments it makes ready to ready[] (at most 1 + ... see above; the caller gives
 * STRESS_TASK_PENDING_MAX + 1 slots) and returns how many. */
size_t stress_task_segment(stress_task_t *t, const stress_segment_t *seg, stress_ready_t *ready);

/* The next epoch's context (epochs arrive in order 0, 1, 2, ...). Same ready[] contract. */
size_t stress_task_context(stress_task_t *t, uint8_t cls, uint16_t motion, stress_ready_t *ready);

#endif
