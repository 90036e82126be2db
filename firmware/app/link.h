/* The device end of the serial link: decodes incoming frames, sends frames with
 * sequence numbers, and keeps the link counters reported in STATS. */
#ifndef VIGIL_LINK_H
#define VIGIL_LINK_H

#include <stdint.h>

#include "protocol/frame.h"

/* Bytes read from the board per poll: small, so a burst never starves the main loop. */
#define LINK_READ_CHUNK 64u

typedef struct link {
    frame_decoder_t decoder;
    uint8_t wire[VIGIL_FRAME_MAX_WIRE];
    uint16_t tx_seq;
    uint16_t rx_seq_expected;
    bool rx_seq_known;
    uint32_t stats[VIGIL_STAT_COUNT];
} link_t;

void link_init(link_t *link);

/* Send one frame; counts it in frames_tx. */
void link_send(link_t *link, uint8_t type, const uint8_t *payload, uint16_t len);

/* Read what the board has received and decode it. Calls on_frame for each valid frame;
 * counts errors and sequence gaps. Returns the number of bytes read. */
typedef void (*link_frame_handler_t)(void *ctx, const frame_t *frame);
size_t link_poll(link_t *link, link_frame_handler_t on_frame, void *ctx);

#endif
