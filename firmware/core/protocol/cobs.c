#include "protocol/cobs.h"

size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (cap < COBS_ENCODED_MAX(len)) {
        return 0;
    }
    size_t code_at = 0; /* where the current block's code byte goes */
    size_t out = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = out++;
            code = 1;
            continue;
        }
        dst[out++] = src[i];
        code++;
        if (code == 0xFF) {
            /* A full block ends without an implied zero; start the next one only if
             * data follows, as the reference encoder does. */
            dst[code_at] = code;
            code = 1;
            if (i + 1 < len) {
                code_at = out++;
            } else {
                return out;
            }
        }
    }
    dst[code_at] = code;
    return out;
}

bool cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
    size_t in = 0;
    size_t out = 0;
    while (in < len) {
        uint8_t code = src[in++];
        if (code == 0) {
            return false;
        }
        size_t run = (size_t)code - 1u;
        if (run > len - in || out + run > cap) {
            return false;
        }
        for (size_t k = 0; k < run; k++) {
            uint8_t b = src[in++];
            if (b == 0) {
                return false;
            }
            dst[out++] = b;
        }
        /* Every block but a full one (0xFF) and the last one stands for a trailing zero. */
        if (code != 0xFF && in < len) {
            if (out >= cap) {
                return false;
            }
            dst[out++] = 0;
        }
    }
    *out_len = out;
    return true;
}
