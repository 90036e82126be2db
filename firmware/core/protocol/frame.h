/* Frames on the serial link: header + payload + CRC-32, COBS-encoded, 0x00-delimited.
 * Layout and rules: docs/protocol.md. Constants: vigil_protocol.h (generated). */
#ifndef VIGIL_FRAME_H
#define VIGIL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/vigil_protocol.h"

/* Encoded frame plus its delimiter. */
#define VIGIL_FRAME_MAX_WIRE (VIGIL_FRAME_MAX_ENCODED + 1u)

typedef struct frame {
    uint8_t version;
    uint8_t type;
    uint16_t seq;
    uint16_t len;
    const uint8_t *payload; /* points into the decoder's buffer: valid until the next push */
} frame_t;

/* Encode one frame into wire (capacity cap, at least VIGIL_FRAME_MAX_WIRE for any payload):
 * COBS(header payload crc) then 0x00. Returns the wire length, 0 if it does not fit. */
size_t frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len, uint8_t *wire, size_t cap);

typedef enum frame_event {
    FRAME_NONE = 0,     /* need more bytes */
    FRAME_OK,           /* a valid frame is in *out */
    FRAME_ERR_CRC,      /* CRC mismatch */
    FRAME_ERR_FRAMING,  /* invalid COBS, too short, or length field wrong */
    FRAME_ERR_OVERSIZE, /* more than VIGIL_FRAME_MAX_ENCODED bytes before a delimiter */
    FRAME_ERR_VERSION,  /* valid frame of another protocol version */
} frame_event_t;

/* Byte-at-a-time decoder. Every error resynchronizes at the next 0x00. */
typedef struct frame_decoder {
    uint8_t encoded[VIGIL_FRAME_MAX_ENCODED];
    uint8_t raw[VIGIL_FRAME_MAX_RAW];
    size_t fill;
    bool overflow;
} frame_decoder_t;

void frame_decoder_init(frame_decoder_t *dec);

/* Feed one received byte; on FRAME_OK, *out describes the frame. */
frame_event_t frame_decoder_push(frame_decoder_t *dec, uint8_t byte, frame_t *out);

/* Little-endian field access for payloads. */
static inline void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t)v);
    put_u16(p + 2, (uint16_t)(v >> 16));
}
static inline uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)get_u16(p) | ((uint32_t)get_u16(p + 2) << 16);
}

#endif
