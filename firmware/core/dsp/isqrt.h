/* Integer square roots, floor(sqrt(x)), exact for every input. Twin: vigil.dsp.isqrt. */
#ifndef VIGIL_ISQRT_H
#define VIGIL_ISQRT_H

#include <stdint.h>

uint16_t isqrt_u32(uint32_t x);
uint32_t isqrt_u64(uint64_t x);

#endif
