#include "sample_queue.h"

#include <string.h>

void sample_queue_init(sample_queue_t *q)
{
    q->head = 0;
    q->count = 0;
    q->high_water = 0;
}

bool sample_queue_push(sample_queue_t *q, const uint8_t *payload, uint16_t len)
{
    if (q->count == VIGIL_SAMPLE_SLOTS || len > VIGIL_FRAME_MAX_PAYLOAD) {
        return false;
    }
    sample_slot_t *slot = &q->slots[(q->head + q->count) % VIGIL_SAMPLE_SLOTS];
    slot->len = len;
    memcpy(slot->payload, payload, len);
    q->count++;
    if (q->count > q->high_water) {
        q->high_water = q->count;
    }
    return true;
}

const sample_slot_t *sample_queue_peek(const sample_queue_t *q)
{
    return q->count ? &q->slots[q->head] : NULL;
}

void sample_queue_pop(sample_queue_t *q)
{
    if (q->count) {
        q->head = (uint8_t)((q->head + 1u) % VIGIL_SAMPLE_SLOTS);
        q->count--;
    }
}
