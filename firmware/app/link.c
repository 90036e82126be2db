#include "link.h"

#include <string.h>

#include "board.h"

void link_init(link_t *link)
{
    memset(link, 0, sizeof *link);
    frame_decoder_init(&link->decoder);
}

void link_send(link_t *link, uint8_t type, const uint8_t *payload, uint16_t len)
{
    size_t n = frame_encode(type, link->tx_seq, payload, len, link->wire, sizeof link->wire);
    if (n == 0) {
        return; /* payload too long: a firmware bug, never a wire error */
    }
    link->tx_seq++;
    link->stats[VIGIL_STAT_FRAMES_TX]++;
    board_serial_write(link->wire, n);
}

static void count_sequence(link_t *link, uint16_t seq)
{
    /* A gap counts the frames that went missing, so a lost frame shows even when the
     * damaged copy of it was already counted as a CRC or framing error. */
    if (link->rx_seq_known && seq != link->rx_seq_expected) {
        link->stats[VIGIL_STAT_SEQ_GAPS] += (uint16_t)(seq - link->rx_seq_expected);
    }
    link->rx_seq_known = true;
    link->rx_seq_expected = (uint16_t)(seq + 1u);
}

size_t link_poll(link_t *link, link_frame_handler_t on_frame, void *ctx)
{
    uint8_t chunk[LINK_READ_CHUNK];
    size_t n = board_serial_read(chunk, sizeof chunk);
    link->stats[VIGIL_STAT_BYTES_RX] += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        frame_t frame;
        switch (frame_decoder_push(&link->decoder, chunk[i], &frame)) {
        case FRAME_NONE:
            break;
        case FRAME_OK:
            link->stats[VIGIL_STAT_FRAMES_RX]++;
            if (frame.type == VIGIL_MSG_HELLO_REQ) {
                link->rx_seq_known = false; /* a HELLO_REQ opens a new host session */
            }
            count_sequence(link, frame.seq);
            on_frame(ctx, &frame);
            break;
        case FRAME_ERR_CRC:
            link->stats[VIGIL_STAT_CRC_ERRORS]++;
            break;
        case FRAME_ERR_FRAMING:
            link->stats[VIGIL_STAT_FRAMING_ERRORS]++;
            break;
        case FRAME_ERR_OVERSIZE:
            link->stats[VIGIL_STAT_OVERSIZE_ERRORS]++;
            break;
        case FRAME_ERR_VERSION:
            link->stats[VIGIL_STAT_VERSION_ERRORS]++;
            break;
        }
    }
    return n;
}
