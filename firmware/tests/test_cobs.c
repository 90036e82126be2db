#include <string.h>

#include "check.h"
#include "protocol/cobs.h"

#define COBS_TEST_MAX 700u

/* Deterministic pseudo-random bytes with many zeros (xorshift32). */
static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

void run_cobs_tests(check_totals_t *t)
{
    uint8_t src[COBS_TEST_MAX];
    uint8_t enc[COBS_ENCODED_MAX(COBS_TEST_MAX)];
    uint8_t dec[COBS_TEST_MAX];
    uint32_t state = 0x12345678u;
    for (size_t len = 0; len < COBS_TEST_MAX; len += 7) {
        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_random(&state);
            src[i] = (r & 0x30u) ? (uint8_t)(r >> 8) : 0;
        }
        size_t n = cobs_encode(src, len, enc, sizeof enc);
        CHECK(t, n > 0 && n <= COBS_ENCODED_MAX(len), "encoded length %zu for %zu", n, len);
        CHECK(t, memchr(enc, 0, n) == NULL, "zero byte in encoding of %zu bytes", len);
        size_t back = 0;
        CHECK(t, cobs_decode(enc, n, dec, sizeof dec, &back) && back == len && memcmp(dec, src, len) == 0,
              "round trip of %zu bytes", len);
    }
    /* A code byte that runs past the end, and a zero inside the data, are invalid. */
    const uint8_t past_end[] = {0x05, 0x11, 0x22};
    const uint8_t with_zero[] = {0x03, 0x11, 0x00};
    size_t n;
    CHECK(t, !cobs_decode(past_end, sizeof past_end, dec, sizeof dec, &n), "code past end accepted");
    CHECK(t, !cobs_decode(with_zero, sizeof with_zero, dec, sizeof dec, &n), "zero in data accepted");
    /* Too small an output buffer is refused, never overrun. */
    CHECK(t, cobs_encode(src, 100, enc, 100) == 0, "encode into a short buffer");
    uint8_t tiny[4];
    const uint8_t six[] = {0x07, 1, 2, 3, 4, 5, 6};
    CHECK(t, !cobs_decode(six, sizeof six, tiny, sizeof tiny, &n), "decode into a short buffer");
}
