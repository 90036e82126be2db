#include "dsp/isqrt.h"

/* Digit-by-digit (binary restoring) method: no division, no floating point, a fixed
 * number of iterations, so the cost is the same for every input. */
uint32_t isqrt_u64(uint64_t x)
{
    uint64_t root = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)root;
}

/* The same method in 32 bits: on a 32-bit core the 64-bit loop above costs about twice as
 * much, and the accelerometer magnitude calls this once per sample. */
uint16_t isqrt_u32(uint32_t x)
{
    uint32_t root = 0;
    uint32_t bit = (uint32_t)1 << 30;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return (uint16_t)root;
}
