#include <string.h>

#include "check.h"
#include "protocol/crc32.h"

void run_crc32_tests(check_totals_t *t)
{
    const uint8_t check[] = "123456789";
    /* The catalogued check value of CRC-32/ISO-HDLC. */
    CHECK(t, crc32_update(0, check, 9) == 0xCBF43926u, "check value %08x", (unsigned)crc32_update(0, check, 9));
    CHECK(t, crc32_update(0, check, 0) == 0, "empty input");
    /* Incremental updates equal one pass, which is how the sample CRC is kept. */
    uint32_t split = crc32_update(crc32_update(0, check, 4), check + 4, 5);
    CHECK(t, split == 0xCBF43926u, "incremental %08x", (unsigned)split);
}
