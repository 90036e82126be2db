#include "protocol/frame.h"

#include <string.h>

#include "protocol/cobs.h"
#include "protocol/crc32.h"

size_t frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len, uint8_t *wire, size_t cap)
{
    uint8_t raw[VIGIL_FRAME_MAX_RAW];
    if (len > VIGIL_FRAME_MAX_PAYLOAD) {
        return 0;
    }
    raw[0] = VIGIL_PROTOCOL_VERSION;
    raw[1] = type;
    put_u16(raw + 2, seq);
    put_u16(raw + 4, len);
    if (len) {
        memcpy(raw + VIGIL_FRAME_HEADER_SIZE, payload, len);
    }
    size_t body = VIGIL_FRAME_HEADER_SIZE + (size_t)len;
    put_u32(raw + body, crc32_update(0, raw, body));
    size_t raw_len = body + VIGIL_FRAME_CRC_SIZE;
    if (cap < 1) {
        return 0;
    }
    size_t n = cobs_encode(raw, raw_len, wire, cap - 1);
    if (n == 0) {
        return 0;
    }
    wire[n] = 0;
    return n + 1;
}

void frame_decoder_init(frame_decoder_t *dec)
{
    dec->fill = 0;
    dec->overflow = false;
}

/* The checks run in the order of the Python decoder (vigil.device.protocol.decode), so
 * both count a given corrupted frame under the same error. */
static frame_event_t decode_chunk(frame_decoder_t *dec, frame_t *out)
{
    size_t n;
    if (!cobs_decode(dec->encoded, dec->fill, dec->raw, sizeof dec->raw, &n)) {
        return FRAME_ERR_FRAMING;
    }
    if (n < VIGIL_FRAME_HEADER_SIZE + VIGIL_FRAME_CRC_SIZE) {
        return FRAME_ERR_FRAMING;
    }
    uint16_t len = get_u16(dec->raw + 4);
    if ((size_t)len != n - VIGIL_FRAME_HEADER_SIZE - VIGIL_FRAME_CRC_SIZE) {
        return FRAME_ERR_FRAMING;
    }
    size_t body = n - VIGIL_FRAME_CRC_SIZE;
    if (get_u32(dec->raw + body) != crc32_update(0, dec->raw, body)) {
        return FRAME_ERR_CRC;
    }
    if (dec->raw[0] != VIGIL_PROTOCOL_VERSION) {
        return FRAME_ERR_VERSION;
    }
    out->version = dec->raw[0];
    out->type = dec->raw[1];
    out->seq = get_u16(dec->raw + 2);
    out->len = len;
    out->payload = dec->raw + VIGIL_FRAME_HEADER_SIZE;
    return FRAME_OK;
}

frame_event_t frame_decoder_push(frame_decoder_t *dec, uint8_t byte, frame_t *out)
{
    if (byte != 0) {
        if (dec->fill < sizeof dec->encoded) {
            dec->encoded[dec->fill++] = byte;
        } else {
            dec->overflow = true;
        }
        return FRAME_NONE;
    }
    frame_event_t ev;
    if (dec->overflow) {
        ev = FRAME_ERR_OVERSIZE;
    } else if (dec->fill == 0) {
        ev = FRAME_NONE; /* idle delimiters */
    } else {
        ev = decode_chunk(dec, out);
    }
    frame_decoder_init(dec);
    return ev;
}
