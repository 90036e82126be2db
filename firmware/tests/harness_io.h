/* The test harnesses' wire format (the Python tests drive them over stdin/stdout): little-endian u32 and the xyz
 * request shared by the accelerometer harnesses (u32 n, n x 3 int16, optional u32 chunking). */
#ifndef VIGIL_HARNESS_IO_H
#define VIGIL_HARNESS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Little-endian unsigned of 1 to 4 bytes (the PPG and spectrum harnesses' u16 and u32 fields). */
static inline int harness_read_le(FILE *in, unsigned bytes, uint32_t *v)
{
    uint8_t b[4];
    if (bytes > 4u || fread(b, 1, bytes, in) != bytes) {
        return 0;
    }
    *v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        *v |= (uint32_t)b[i] << (8u * i);
    }
    return 1;
}

static inline void harness_write_le(FILE *out, unsigned bytes, uint32_t v)
{
    uint8_t b[4];
    for (unsigned i = 0; i < bytes && i < 4u; i++) {
        b[i] = (uint8_t)(v >> (8u * i));
    }
    fwrite(b, 1, bytes < 4u ? bytes : 4u, out);
}

static inline int harness_read_u32(FILE *in, uint32_t *v)
{
    uint8_t b[4];
    if (fread(b, 1, 4, in) != 4) {
        return 0;
    }
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

static inline void harness_write_u32(FILE *out, uint32_t v)
{
    const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, out);
}

/* Reads "u32 n, 3n int16, [u32 chunking]" into xyz (room for max samples); 0 and a message naming the harness on
 * a bad request. A missing chunking word reads as 0. */
static inline int harness_read_xyz(FILE *in, const char *name, int16_t *xyz, uint32_t max, uint32_t *n,
                                   uint32_t *chunking)
{
    if (!harness_read_u32(in, n) || *n > max) {
        fprintf(stderr, "harness %s: need u32 n <= %lu\n", name, (unsigned long)max);
        return 0;
    }
    for (size_t i = 0; i < 3u * *n; i++) {
        uint8_t b[2];
        if (fread(b, 1, 2, in) != 2) {
            fprintf(stderr, "harness %s: input ends at value %zu of %lu\n", name, i, (unsigned long)*n * 3u);
            return 0;
        }
        xyz[i] = (int16_t)(uint16_t)(b[0] | b[1] << 8);
    }
    if (!harness_read_u32(in, chunking)) {
        *chunking = 0;
    }
    return 1;
}

#endif
