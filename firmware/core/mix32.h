/* mix32: a bijective 32-bit integer hash (the "lowbias32" finalizer: xor-shift, multiply, twice). Distinct inputs
 * give distinct, unrelated-looking outputs: the boards' boot ids from a boot counter, the seeded wrist's draws. */
#ifndef VIGIL_MIX32_H
#define VIGIL_MIX32_H

#include <stdint.h>

static inline uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

#endif
