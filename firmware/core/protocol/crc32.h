/* CRC-32/ISO-HDLC (the zlib/Ethernet CRC), bitwise: no table in flash, and fast
 * enough for the link (about 8 shifts per byte). crc32_update(0, p, n) == zlib.crc32(p). */
#ifndef VIGIL_CRC32_H
#define VIGIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len);

#endif
