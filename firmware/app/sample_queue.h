/* Bounded queue of received SAMPLES frames. The host may only send as many sample
 * frames as there are free slots (credit), so nothing is ever dropped silently:
 * a frame that arrives without credit is refused and counted. */
#ifndef VIGIL_SAMPLE_QUEUE_H
#define VIGIL_SAMPLE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/vigil_protocol.h"

typedef struct sample_slot {
    uint16_t len;
    uint8_t payload[VIGIL_FRAME_MAX_PAYLOAD];
} sample_slot_t;

typedef struct sample_queue {
    sample_slot_t slots[VIGIL_SAMPLE_SLOTS];
    uint8_t head; /* next slot to consume */
    uint8_t count;
    uint8_t high_water;
} sample_queue_t;

void sample_queue_init(sample_queue_t *q);
bool sample_queue_push(sample_queue_t *q, const uint8_t *payload, uint16_t len);
/* The oldest frame, or NULL when empty. Stays queued until sample_queue_pop. */
const sample_slot_t *sample_queue_peek(const sample_queue_t *q);
void sample_queue_pop(sample_queue_t *q);

#endif
