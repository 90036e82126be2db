/* Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): removes every 0x00 from a
 * frame so 0x00 can delimit frames on the wire. Matches the Python `cobs` package. */
#ifndef VIGIL_COBS_H
#define VIGIL_COBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n input bytes (no delimiter). */
#define COBS_ENCODED_MAX(n) ((n) + (n) / 254u + 1u)

/* Encode len bytes of src into dst (capacity cap). Returns the encoded length,
 * or 0 if dst is too small. dst receives no delimiter. */
size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/* Decode len bytes (no delimiter) into dst (capacity cap); *out_len receives the
 * decoded length. False if the input is not valid COBS or dst is too small. */
bool cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

#endif
