/* Sensor drivers (firmware/core/sensors/) against the fake I2C bus (fake_i2c.c), per driver: the exact init
 * register sequence, a wrong chip refused without a single write, a missing chip refused, samples decoded to
 * hand-computed integers, the FIFO's wrap, overflow counted in `dropped`, a reset (BMI270: init) that never
 * completes reported after a bounded number of polls, bus errors passed up.
 *
 * Register numbers and values are written out as the datasheets give them, not taken from the drivers' headers:
 * a changed constant or a reordered sequence in a driver fails here. */
#include <string.h>

#include "check.h"
#include "fake_i2c.h"
#include "sensors/bmi270_accel.h"
#include "sensors/lsm9ds1_accel.h"
#include "sensors/max3010x.h"

/* The fake holds 4 devices with their FIFOs and a BMI270 config image: static, not on the stack. */
static fake_i2c_t g_fake;

/* ------------------------------------------------------------------ transaction sequences */

#define ANY_BYTE (-1)
#define SEQ_MAX 160u
#define SEQ_COUNT_DIFFERS ((size_t)-1)

typedef struct exp_op {
    char kind; /* 'R' or 'W' */
    uint8_t reg;
    uint16_t len;
    int16_t b0, b1; /* first two bytes written or returned, ANY_BYTE: not compared */
} exp_op_t;

/* Index of the first logged transaction that differs from e (n: none; SEQ_COUNT_DIFFERS: the counts differ). */
static size_t first_mismatch(const fake_i2c_t *f, const exp_op_t *e, size_t n)
{
    if (f->n_ops != n || f->n_log != n) {
        return SEQ_COUNT_DIFFERS;
    }
    for (size_t i = 0u; i < n; i++) {
        const fake_i2c_op_t *op = &f->log[i];
        if (op->write != (e[i].kind == 'W') || op->reg != e[i].reg || op->len != e[i].len || op->status != I2C_OK ||
            (e[i].b0 != ANY_BYTE && op->data[0] != (uint8_t)e[i].b0) ||
            (e[i].b1 != ANY_BYTE && op->data[1] != (uint8_t)e[i].b1)) {
            return i;
        }
    }
    return n;
}

static void check_sequence(check_totals_t *t, const fake_i2c_t *f, const exp_op_t *e, size_t n, const char *what)
{
    const size_t at = first_mismatch(f, e, n);
    if (at == SEQ_COUNT_DIFFERS) {
        CHECK(t, false, "%s: %zu transactions, expected %zu", what, f->n_ops, n);
    } else if (at < n) {
        const fake_i2c_op_t *op = &f->log[at];
        CHECK(t, false, "%s: transaction %zu is %c 0x%02X len %u [%02X %02X], expected %c 0x%02X len %u", what, at,
              op->write ? 'W' : 'R', op->reg, op->len, op->data[0], op->data[1], e[at].kind, e[at].reg, e[at].len);
    } else {
        CHECK(t, true, "%s", what);
    }
    /* The comparison itself must see a change: the same sequence with one value altered does not match. */
    if (at == n && n > 0u) {
        exp_op_t altered[SEQ_MAX];
        memcpy(altered, e, n * sizeof e[0]);
        altered[n - 1u].reg ^= 0x01u;
        CHECK(t, first_mismatch(f, altered, n) == n - 1u, "%s: a changed register went unnoticed", what);
    }
}

static size_t count_reads(const fake_i2c_t *f, uint8_t reg)
{
    size_t n = 0u;
    for (size_t i = 0u; i < f->n_log; i++) {
        n += !f->log[i].write && f->log[i].reg == reg;
    }
    return n;
}

/* ------------------------------------------------------------------ MAX3010x */

static max3010x_config_t max_spo2_config(void)
{
    return (max3010x_config_t){.mode = MAX3010X_MODE_SPO2,
                               .sample_rate_hz = 100u,
                               .averaging = 4u,
                               .adc_bits = 18u,
                               .adc_range_na = 4096u,
                               .led_red_pa = 0x24u,
                               .led_ir_pa = 0x1Fu,
                               .rollover = false,
                               .almost_full = 0x0Fu};
}

static void check_max_init(check_totals_t *t)
{
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_MAX3010X, 0x57u);
    d->reset_polls = 2u;
    max3010x_t dev;
    const max3010x_config_t cfg = max_spo2_config();
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_OK, "MAX3010x init");
    static const exp_op_t seq[] = {
        {'R', 0xFF, 1, 0x15, ANY_BYTE}, /* PART_ID, before any write */
        {'W', 0x09, 1, 0x40, ANY_BYTE}, /* MODE_CONFIG.RESET */
        {'R', 0x09, 1, 0x40, ANY_BYTE}, /* still resetting */
        {'R', 0x09, 1, 0x40, ANY_BYTE},
        {'R', 0x09, 1, 0x00, ANY_BYTE}, /* self-cleared */
        {'W', 0x08, 1, 0x4F, ANY_BYTE}, /* FIFO_CONFIG: SMP_AVE 4 (010), no rollover, FIFO_A_FULL 15 */
        {'W', 0x0A, 1, 0x27, ANY_BYTE}, /* SPO2_CONFIG: ADC_RGE 4096 nA (01), SR 100 Hz (001), LED_PW 411 us (11) */
        {'W', 0x0C, 1, 0x24, ANY_BYTE}, /* LED1_PA (red) */
        {'W', 0x0D, 1, 0x1F, ANY_BYTE}, /* LED2_PA (IR) */
        {'W', 0x04, 1, 0x00, ANY_BYTE}, /* FIFO_WR_PTR */
        {'W', 0x05, 1, 0x00, ANY_BYTE}, /* OVF_COUNTER */
        {'W', 0x06, 1, 0x00, ANY_BYTE}, /* FIFO_RD_PTR */
        {'W', 0x09, 1, 0x03, ANY_BYTE}, /* MODE_CONFIG: SpO2, last */
    };
    check_sequence(t, &g_fake, seq, sizeof seq / sizeof seq[0], "MAX3010x SpO2 init");
    CHECK(t, g_fake.now_us == 2000u, "MAX3010x waited %llu us between reset polls, expected 2 x 1000",
          (unsigned long long)g_fake.now_us);

    ppg_source_t src;
    max3010x_ppg_source(&dev, &src);
    CHECK(t, src.rate_hz == 25u && src.channels == 2u && src.adc_bits == 18u && src.full_scale_counts == 262144u &&
                 src.full_scale_na == 4096u && src.counters == &dev.counters,
          "MAX3010x source: %u Hz, %u channels, %u bits, %lu counts, %u nA", src.rate_hz, src.channels, src.adc_bits,
          (unsigned long)src.full_scale_counts, src.full_scale_na);

    /* Heart-rate mode, 50 Hz, 16 bits, 2048 nA, rollover on. */
    fake_i2c_clear_log(&g_fake);
    const max3010x_config_t hr = {.mode = MAX3010X_MODE_HR,
                                  .sample_rate_hz = 50u,
                                  .averaging = 1u,
                                  .adc_bits = 16u,
                                  .adc_range_na = 2048u,
                                  .led_red_pa = 0x7Fu,
                                  .led_ir_pa = 0x00u,
                                  .rollover = true,
                                  .almost_full = 0u};
    CHECK(t, max3010x_init(&dev, &bus, &hr) == SENSOR_OK, "MAX3010x HR init");
    static const exp_op_t seq_hr[] = {
        {'R', 0xFF, 1, 0x15, ANY_BYTE}, {'W', 0x09, 1, 0x40, ANY_BYTE}, {'R', 0x09, 1, 0x40, ANY_BYTE},
        {'R', 0x09, 1, 0x40, ANY_BYTE}, {'R', 0x09, 1, 0x00, ANY_BYTE},
        {'W', 0x08, 1, 0x10, ANY_BYTE}, /* SMP_AVE 1, FIFO_ROLLOVER_EN */
        {'W', 0x0A, 1, 0x01, ANY_BYTE}, /* 2048 nA, 50 Hz, 118 us (16 bits) */
        {'W', 0x0C, 1, 0x7F, ANY_BYTE}, {'W', 0x0D, 1, 0x00, ANY_BYTE}, {'W', 0x04, 1, 0x00, ANY_BYTE},
        {'W', 0x05, 1, 0x00, ANY_BYTE}, {'W', 0x06, 1, 0x00, ANY_BYTE},
        {'W', 0x09, 1, 0x02, ANY_BYTE}, /* heart-rate mode */
    };
    check_sequence(t, &g_fake, seq_hr, sizeof seq_hr / sizeof seq_hr[0], "MAX3010x HR init");
    CHECK(t, dev.channels == 1u && dev.rate_hz == 50u, "MAX3010x HR: %u channels at %u Hz", dev.channels, dev.rate_hz);

    /* Settings without a register code, and a rate the averaging does not divide, are refused before any I/O. */
    fake_i2c_clear_log(&g_fake);
    max3010x_config_t bad = cfg;
    bad.sample_rate_hz = 800u;
    CHECK(t, max3010x_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "MAX3010x 800 Hz must be refused");
    bad = cfg;
    bad.sample_rate_hz = 50u;
    bad.averaging = 32u;
    CHECK(t, max3010x_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "MAX3010x 50 Hz / 32 must be refused");
    bad = cfg;
    bad.adc_bits = 14u;
    CHECK(t, max3010x_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "MAX3010x 14 bits must be refused");
    CHECK(t, g_fake.n_ops == 0u, "MAX3010x refused configs touched the bus (%zu transactions)", g_fake.n_ops);
}

static void check_max_refusals(check_totals_t *t)
{
    max3010x_t dev;
    const max3010x_config_t cfg = max_spo2_config();
    uint32_t out[2];
    size_t n = 99u;

    /* Missing: nothing at 0x57. */
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_ERR_NO_DEVICE, "MAX3010x missing: %s",
          sensor_status_name(max3010x_init(&dev, &bus, &cfg)));
    CHECK(t, max3010x_read(&dev, out, 1u, &n) == SENSOR_ERR_NOT_READY && n == 0u, "MAX3010x read before init");

    /* Wrong chip: a MAX30100 answers PART_ID 0x11. Nothing may be written to it. */
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_MAX3010X, 0x57u);
    d->id_value = 0x11u;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_ERR_WRONG_ID && dev.part_id == 0x11u,
          "MAX3010x PART_ID 0x11 must be refused (read 0x%02X)", dev.part_id);
    CHECK(t, fake_i2c_count_writes(&g_fake, 0x57u) == 0u, "MAX3010x wrong chip got %zu writes",
          fake_i2c_count_writes(&g_fake, 0x57u));

    /* Reset that never completes: bounded polls, then a clear status. */
    d->id_value = 0x15u;
    d->reset_polls = FAKE_NEVER;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_ERR_RESET_TIMEOUT, "MAX3010x reset timeout");
    CHECK(t, count_reads(&g_fake, 0x09u) == 100u && !dev.ready, "MAX3010x polled MODE_CONFIG %zu times, expected 100",
          count_reads(&g_fake, 0x09u));
}

static void check_max_samples(check_totals_t *t)
{
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_MAX3010X, 0x57u);
    max3010x_t dev;
    const max3010x_config_t cfg = max_spo2_config();
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_OK, "MAX3010x init");

    /* FIFO words as they sit in the chip (red, IR), bits 23:18 sometimes set: the driver keeps bits 17:0. */
    static const uint32_t words[5][2] = {
        {0x03FFFFu, 0x000001u}, {0xFC0000u, 0xFFFFFFu}, {0x012345u, 0x02ABCDu},
        {0x00FF00u, 0xC10203u}, {0x020000u, 0x01FFFFu},
    };
    static const uint32_t expect[10] = {262143u, 1u, 0u, 262143u, 74565u, 175053u, 65280u, 66051u, 131072u, 131071u};
    for (size_t i = 0u; i < 5u; i++) {
        fake_max3010x_push(d, words[i][0], words[i][1]);
    }
    uint32_t out[64 * 2];
    size_t n = 0u;
    CHECK(t, max3010x_read(&dev, out, 3u, &n) == SENSOR_OK && n == 3u, "MAX3010x read 3 of 5: got %zu", n);
    CHECK(t, memcmp(out, expect, 6u * sizeof out[0]) == 0, "MAX3010x samples 0-2: %lu %lu %lu %lu %lu %lu",
          (unsigned long)out[0], (unsigned long)out[1], (unsigned long)out[2], (unsigned long)out[3],
          (unsigned long)out[4], (unsigned long)out[5]);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 2u, "MAX3010x read the other 2: got %zu", n);
    CHECK(t, memcmp(out, expect + 6, 4u * sizeof out[0]) == 0, "MAX3010x samples 3-4: %lu %lu %lu %lu",
          (unsigned long)out[0], (unsigned long)out[1], (unsigned long)out[2], (unsigned long)out[3]);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 0u, "MAX3010x empty FIFO: got %zu", n);
    CHECK(t, dev.counters.delivered == 5u && dev.counters.dropped == 0u && dev.counters.overruns == 0u,
          "MAX3010x counters %lu/%lu/%lu", (unsigned long)dev.counters.delivered, (unsigned long)dev.counters.dropped,
          (unsigned long)dev.counters.overruns);

    /* FIFO wrap: with both pointers at 5, 20 in and out, 20 more: the write pointer wraps to 13 while the read
     * pointer is at 25, and (13 - 25) mod 32 = 20. 20 samples also take three FIFO_DATA bursts (8 + 8 + 4). */
    for (uint32_t i = 0u; i < 20u; i++) {
        fake_max3010x_push(d, 1000u + i, 50000u + 7u * i);
    }
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 20u, "MAX3010x first 20: got %zu", n);
    for (uint32_t i = 0u; i < 20u; i++) {
        fake_max3010x_push(d, 2000u + i, 60000u + 3u * i);
    }
    CHECK(t, d->regs[0x04] == 13u && d->regs[0x06] == 25u, "MAX3010x fake pointers WR %u RD %u, expected 13 and 25",
          d->regs[0x04], d->regs[0x06]);
    fake_i2c_clear_log(&g_fake);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 20u, "MAX3010x across the wrap: got %zu", n);
    bool same = true;
    for (uint32_t i = 0u; i < 20u; i++) {
        same = same && out[2u * i] == 2000u + i && out[2u * i + 1u] == 60000u + 3u * i;
    }
    CHECK(t, same, "MAX3010x values across the wrap");
    static const exp_op_t seq_read[] = {
        {'R', 0x04, 3, 13, 0},               /* FIFO_WR_PTR, OVF_COUNTER, FIFO_RD_PTR in one burst */
        {'R', 0x07, 48, ANY_BYTE, ANY_BYTE}, /* FIFO_DATA: 8 samples x 6 bytes */
        {'R', 0x07, 48, ANY_BYTE, ANY_BYTE},
        {'R', 0x07, 24, ANY_BYTE, ANY_BYTE},
    };
    check_sequence(t, &g_fake, seq_read, sizeof seq_read / sizeof seq_read[0], "MAX3010x FIFO read");
    CHECK(t, d->max.underflow == 0u, "MAX3010x read %lu bytes from an empty FIFO", (unsigned long)d->max.underflow);

    /* Overflow without rollover: 40 pushed, the first 32 kept, OVF_COUNTER 8. Equal pointers with OVF > 0 are a
     * full FIFO: all 32 come out, and the 8 lost ones are counted. */
    dev.counters = (sensor_counters_t){0u, 0u, 0u};
    for (uint32_t i = 0u; i < 40u; i++) {
        fake_max3010x_push(d, 100u + i, 200u + i);
    }
    CHECK(t, d->regs[0x04] == d->regs[0x06] && d->regs[0x05] == 8u, "MAX3010x fake full: WR %u RD %u OVF %u",
          d->regs[0x04], d->regs[0x06], d->regs[0x05]);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 32u, "MAX3010x full FIFO: got %zu of 32", n);
    CHECK(t, out[0] == 100u && out[1] == 200u && out[62] == 131u && out[63] == 231u,
          "MAX3010x full FIFO holds the first 32 (%lu .. %lu)", (unsigned long)out[0], (unsigned long)out[62]);
    CHECK(t, dev.counters.dropped == 8u && dev.counters.overruns == 1u && dev.counters.delivered == 32u,
          "MAX3010x overflow: dropped %lu overruns %lu delivered %lu", (unsigned long)dev.counters.dropped,
          (unsigned long)dev.counters.overruns, (unsigned long)dev.counters.delivered);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 0u && dev.counters.dropped == 8u,
          "MAX3010x OVF_COUNTER cleared by the pop: no second count (dropped %lu)", (unsigned long)dev.counters.dropped);

    /* OVF_COUNTER saturates at 31: 50 lost are reported as 31, a lower bound, never as 0. */
    for (uint32_t i = 0u; i < 32u + 50u; i++) {
        fake_max3010x_push(d, i, i);
    }
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 32u && dev.counters.dropped == 8u + 31u,
          "MAX3010x saturated OVF: got %zu, dropped %lu (truth: %lu)", n, (unsigned long)dev.counters.dropped,
          (unsigned long)d->max.lost);

    /* Bus errors are passed up; nothing is lost, the next read gets the samples. */
    for (uint32_t i = 0u; i < 10u; i++) {
        fake_max3010x_push(d, 7u * i, 9u * i);
    }
    fake_i2c_fail_after(&g_fake, 1u, I2C_BUS_ERROR); /* the pointer read passes, the FIFO_DATA burst fails */
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_ERR_BUS && n == 0u, "MAX3010x bus error: got %zu", n);
    fake_i2c_fail_after(&g_fake, 0u, I2C_TIMEOUT);
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_ERR_BUS_TIMEOUT && n == 0u, "MAX3010x bus timeout");
    CHECK(t, max3010x_read(&dev, out, 64u, &n) == SENSOR_OK && n == 10u && out[18] == 63u && out[19] == 81u,
          "MAX3010x after the errors: got %zu", n);
}

static void check_max_rollover(check_totals_t *t)
{
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_MAX3010X, 0x57u);
    max3010x_t dev;
    max3010x_config_t cfg = max_spo2_config();
    cfg.mode = MAX3010X_MODE_HR;
    cfg.rollover = true;
    CHECK(t, max3010x_init(&dev, &bus, &cfg) == SENSOR_OK, "MAX3010x HR init");
    /* Rollover: the newest 32 of 40 kept, 8 overwritten and counted. Heart-rate mode: 3 bytes per sample. */
    for (uint32_t i = 0u; i < 40u; i++) {
        fake_max3010x_push(d, 0xFC0000u | (5000u + i), 0u);
    }
    uint32_t out[64];
    size_t n = 0u;
    ppg_source_t src;
    max3010x_ppg_source(&dev, &src);
    CHECK(t, ppg_source_read(&src, out, 64u, &n) == SENSOR_OK && n == 32u, "MAX3010x rollover: got %zu", n);
    CHECK(t, out[0] == 5008u && out[31] == 5039u, "MAX3010x rollover keeps the newest (%lu .. %lu)",
          (unsigned long)out[0], (unsigned long)out[31]);
    CHECK(t, src.counters->dropped == 8u && src.counters->overruns == 1u && src.counters->delivered == 32u,
          "MAX3010x rollover counters: dropped %lu", (unsigned long)src.counters->dropped);
}

/* ------------------------------------------------------------------ LSM9DS1 */

static const lsm9ds1_accel_config_t LSM_CFG = {.i2c_addr = 0x6Bu, .rate_hz = 119u, .full_scale_g = 4u};

static void check_lsm_init(check_totals_t *t)
{
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_LSM9DS1, 0x6Bu);
    d->reset_polls = 2u;
    lsm9ds1_accel_t dev;
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &LSM_CFG) == SENSOR_OK, "LSM9DS1 init");
    static const exp_op_t seq[] = {
        {'R', 0x0F, 1, 0x68, ANY_BYTE}, /* WHO_AM_I, before any write */
        {'W', 0x22, 1, 0x05, ANY_BYTE}, /* CTRL_REG8: SW_RESET | IF_ADD_INC */
        {'R', 0x22, 1, 0x05, ANY_BYTE},
        {'R', 0x22, 1, 0x05, ANY_BYTE},
        {'R', 0x22, 1, 0x04, ANY_BYTE}, /* SW_RESET self-cleared */
        {'W', 0x10, 1, 0x00, ANY_BYTE}, /* CTRL_REG1_G: gyro powered down */
        {'W', 0x20, 1, 0x70, ANY_BYTE}, /* CTRL_REG6_XL: ODR 119 Hz (011), FS +/-4 g (10); Arduino's 0x70 too */
        {'W', 0x23, 1, 0x02, ANY_BYTE}, /* CTRL_REG9: FIFO_EN */
        {'W', 0x2E, 1, 0xC0, ANY_BYTE}, /* FIFO_CTRL: continuous (110) */
    };
    check_sequence(t, &g_fake, seq, sizeof seq / sizeof seq[0], "LSM9DS1 init");

    /* The other ODR / FS codes, FS_XL in its odd order (00 2 g, 01 16 g, 10 4 g, 11 8 g). */
    static const struct {
        uint16_t hz;
        uint8_t g;
        uint8_t reg6;
    } codes[] = {{10u, 2u, 0x20u}, {50u, 8u, 0x58u}, {238u, 16u, 0x88u}, {476u, 4u, 0xB0u}, {952u, 16u, 0xC8u}};
    for (size_t i = 0u; i < sizeof codes / sizeof codes[0]; i++) {
        fake_i2c_clear_log(&g_fake);
        const lsm9ds1_accel_config_t c = {.i2c_addr = 0x6Bu, .rate_hz = codes[i].hz, .full_scale_g = codes[i].g};
        CHECK(t, lsm9ds1_accel_init(&dev, &bus, &c) == SENSOR_OK && g_fake.n_log == 9u && g_fake.log[6].reg == 0x20u &&
                     g_fake.log[6].data[0] == codes[i].reg6,
              "LSM9DS1 %u Hz +/-%u g: CTRL_REG6_XL 0x%02X, expected 0x%02X", codes[i].hz, codes[i].g,
              g_fake.log[6].data[0], codes[i].reg6);
    }
    CHECK(t, !d->lsm.i2c_disabled, "LSM9DS1 driver disabled the I2C interface");

    accel_source_t src;
    lsm9ds1_accel_source(&dev, &src);
    CHECK(t, src.rate_hz == 952u && src.full_scale_g == 16u && src.counters == &dev.counters,
          "LSM9DS1 source %u Hz +/-%u g", src.rate_hz, src.full_scale_g);

    fake_i2c_clear_log(&g_fake);
    lsm9ds1_accel_config_t bad = LSM_CFG;
    bad.rate_hz = 100u;
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "LSM9DS1 100 Hz must be refused");
    bad = LSM_CFG;
    bad.full_scale_g = 6u;
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "LSM9DS1 +/-6 g must be refused");
    bad = LSM_CFG;
    bad.i2c_addr = 0x1Eu; /* the magnetometer's address */
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &bad) == SENSOR_ERR_BAD_CONFIG, "LSM9DS1 address 0x1E must be refused");
    CHECK(t, g_fake.n_ops == 0u, "LSM9DS1 refused configs touched the bus");
}

static void check_lsm_refusals(check_totals_t *t)
{
    lsm9ds1_accel_t dev;
    accel_mg_t out[1];
    size_t n = 99u;
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);

    /* Missing; and a chip strapped to the other address is not found at 0x6B. */
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &LSM_CFG) == SENSOR_ERR_NO_DEVICE, "LSM9DS1 missing");
    CHECK(t, lsm9ds1_accel_read(&dev, out, 1u, &n) == SENSOR_ERR_NOT_READY && n == 0u, "LSM9DS1 read before init");
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_LSM9DS1, 0x6Au);
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &LSM_CFG) == SENSOR_ERR_NO_DEVICE, "LSM9DS1 at 0x6A is not at 0x6B");
    const lsm9ds1_accel_config_t alt = {.i2c_addr = 0x6Au, .rate_hz = 50u, .full_scale_g = 2u};
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &alt) == SENSOR_OK, "LSM9DS1 at 0x6A");

    /* Wrong chip: an LSM6DS3 answers WHO_AM_I 0x69 at the same addresses. */
    d->id_value = 0x69u;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &alt) == SENSOR_ERR_WRONG_ID && dev.who_am_i == 0x69u,
          "LSM9DS1 WHO_AM_I 0x69 must be refused");
    CHECK(t, fake_i2c_count_writes(&g_fake, 0x6Au) == 0u, "LSM9DS1 wrong chip got writes");

    d->id_value = 0x68u;
    d->reset_polls = FAKE_NEVER;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &alt) == SENSOR_ERR_RESET_TIMEOUT, "LSM9DS1 reset timeout");
    CHECK(t, count_reads(&g_fake, 0x22u) == 100u && !dev.ready, "LSM9DS1 polled CTRL_REG8 %zu times, expected 100",
          count_reads(&g_fake, 0x22u));
}

static void check_lsm_conversion(check_totals_t *t)
{
    static const struct {
        int16_t raw;
        uint8_t g;
        int16_t mg;
    } cases[] = {
        {8192, 4u, 999},     {-8192, 4u, -999},     {32767, 4u, 3998},  {-32768, 4u, -3998}, {4, 4u, 0},
        {5, 4u, 1},          {-5, 4u, -1},          {1000, 4u, 122},    {500, 2u, 31},       {-500, 2u, -31},
        {1, 2u, 0},          {32767, 16u, 23985},   {-32768, 16u, -23986}, {4096, 8u, 999},  {12345, 8u, 3012},
        {1234, 3u, 0},
    };
    for (size_t i = 0u; i < sizeof cases / sizeof cases[0]; i++) {
        const int16_t mg = lsm9ds1_accel_raw_to_mg(cases[i].raw, cases[i].g);
        CHECK(t, mg == cases[i].mg, "LSM9DS1 %d LSB at +/-%u g: %d mg, expected %d", cases[i].raw, cases[i].g, mg,
              cases[i].mg);
    }
}

static void check_lsm_samples(check_totals_t *t)
{
    fake_i2c_init(&g_fake);
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_LSM9DS1, 0x6Bu);
    lsm9ds1_accel_t dev;
    CHECK(t, lsm9ds1_accel_init(&dev, &bus, &LSM_CFG) == SENSOR_OK, "LSM9DS1 init");

    /* +/-4 g, 0.122 mg/LSB. */
    CHECK(t, fake_lsm9ds1_push(d, 8192, -8192, 32767) && fake_lsm9ds1_push(d, 5, -5, 4) &&
                 fake_lsm9ds1_push(d, 1000, -32768, 0),
          "LSM9DS1 fake must be converting into its FIFO after init");
    accel_mg_t out[64];
    size_t n = 0u;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, lsm9ds1_accel_read(&dev, out, 2u, &n) == SENSOR_OK && n == 2u, "LSM9DS1 read 2 of 3: got %zu", n);
    CHECK(t, out[0].x == 999 && out[0].y == -999 && out[0].z == 3998 && out[1].x == 1 && out[1].y == -1 && out[1].z == 0,
          "LSM9DS1 samples 0-1: (%d %d %d) (%d %d %d)", out[0].x, out[0].y, out[0].z, out[1].x, out[1].y, out[1].z);
    static const exp_op_t seq_read[] = {
        {'R', 0x2F, 1, 0x03, ANY_BYTE}, /* FIFO_SRC: FSS 3, no OVRN */
        {'R', 0x28, 6, 0x00, 0x20},     /* OUT_X_L_XL .. OUT_Z_H_XL: 8192 = 0x2000 little-endian */
        {'R', 0x28, 6, 0x05, 0x00},
    };
    check_sequence(t, &g_fake, seq_read, sizeof seq_read / sizeof seq_read[0], "LSM9DS1 FIFO read");
    CHECK(t, lsm9ds1_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 1u && out[0].x == 122 &&
                 out[0].y == -3998 && out[0].z == 0,
          "LSM9DS1 sample 2: got %zu (%d %d %d)", n, out[0].x, out[0].y, out[0].z);

    /* FIFO wrap: 20 in and out, then 25 that run over the end of the 32-slot ring. Raw 500 k -> 61 k mg exactly. */
    for (int16_t i = 0; i < 20; i++) {
        fake_lsm9ds1_push(d, (int16_t)(500 * i), 0, 8192);
    }
    CHECK(t, lsm9ds1_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 20u, "LSM9DS1 first 20: got %zu", n);
    for (int16_t i = 0; i < 25; i++) {
        fake_lsm9ds1_push(d, (int16_t)(500 * i), (int16_t)(-1000 * i), 8192);
    }
    CHECK(t, lsm9ds1_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 25u, "LSM9DS1 across the wrap: got %zu", n);
    bool same = true;
    for (int i = 0; i < 25; i++) {
        same = same && out[i].x == 61 * i && out[i].y == -122 * i && out[i].z == 999;
    }
    CHECK(t, same, "LSM9DS1 values across the wrap");
    CHECK(t, dev.counters.delivered == 48u && dev.counters.dropped == 0u, "LSM9DS1 delivered %lu dropped %lu",
          (unsigned long)dev.counters.delivered, (unsigned long)dev.counters.dropped);

    /* Overflow: 40 pushed into 32 slots, continuous mode keeps the newest 32 and raises OVRN. The chip does not
     * say that 8 were lost: the driver counts 1 (a lower bound), never 0. */
    for (int16_t i = 0; i < 40; i++) {
        fake_lsm9ds1_push(d, (int16_t)(500 * i), 0, 0);
    }
    CHECK(t, lsm9ds1_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 32u, "LSM9DS1 full FIFO: got %zu", n);
    CHECK(t, out[0].x == 61 * 8 && out[31].x == 61 * 39, "LSM9DS1 full FIFO keeps the newest (%d .. %d)", out[0].x,
          out[31].x);
    CHECK(t, dev.counters.dropped == 1u && dev.counters.overruns == 1u && d->lsm.lost == 8u,
          "LSM9DS1 overflow: dropped %lu overruns %lu (fake lost %lu)", (unsigned long)dev.counters.dropped,
          (unsigned long)dev.counters.overruns, (unsigned long)d->lsm.lost);
    CHECK(t, lsm9ds1_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 0u && dev.counters.overruns == 1u,
          "LSM9DS1 OVRN cleared by reading");
    CHECK(t, d->lsm.underflow == 0u, "LSM9DS1 read %lu bytes from an empty FIFO", (unsigned long)d->lsm.underflow);

    /* Bus error on the second sample: the first is delivered and counted. */
    fake_lsm9ds1_push(d, 500, 500, 500);
    fake_lsm9ds1_push(d, 1000, 1000, 1000);
    fake_i2c_fail_after(&g_fake, 2u, I2C_BUS_ERROR);
    accel_source_t src;
    lsm9ds1_accel_source(&dev, &src);
    const uint32_t before = src.counters->delivered;
    CHECK(t, accel_source_read(&src, out, 64u, &n) == SENSOR_ERR_BUS && n == 1u && out[0].x == 61 &&
                 src.counters->delivered == before + 1u,
          "LSM9DS1 bus error mid-read: got %zu", n);
    CHECK(t, accel_source_read(&src, out, 64u, &n) == SENSOR_OK && n == 1u && out[0].x == 122,
          "LSM9DS1 after the error: got %zu", n);
}

/* ------------------------------------------------------------------ BMI270 */

/* Not Bosch's config file (which cannot be shipped): a pattern of the same size that the fake expects. */
#define FAKE_BLOB_BYTES 8192u
static uint8_t g_blob[FAKE_BLOB_BYTES];
static uint8_t g_blob_bad[FAKE_BLOB_BYTES];

static void make_blobs(void)
{
    for (uint32_t i = 0u; i < FAKE_BLOB_BYTES; i++) {
        g_blob[i] = (uint8_t)(i * 7u + (i >> 8) + 1u);
    }
    memcpy(g_blob_bad, g_blob, sizeof g_blob);
    g_blob_bad[5000] ^= 0x10u;
}

static const bmi270_accel_config_t BMI_CFG = {.i2c_addr = 0x68u, .rate_hz = 100u, .range_g = 4u};

/* A fake BMI270 at 0x68 with the blob it accepts, and the driver initialised on it. */
static fake_device_t *bmi_ready(check_totals_t *t, bmi270_accel_t *dev, const i2c_bus_t *bus)
{
    fake_i2c_init(&g_fake);
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_BMI270, 0x68u);
    fake_bmi270_expect_blob(d, g_blob, sizeof g_blob);
    CHECK(t, bmi270_accel_init(dev, bus, &BMI_CFG, g_blob, sizeof g_blob) == SENSOR_OK, "BMI270 init");
    return d;
}

static void check_bmi_init(check_totals_t *t)
{
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    bmi270_accel_t dev;
    fake_device_t *d = bmi_ready(t, &dev, &bus);

    static exp_op_t seq[SEQ_MAX];
    size_t n = 0u;
    seq[n++] = (exp_op_t){'R', 0x00, 1, 0x24, ANY_BYTE}; /* CHIP_ID, before any write */
    seq[n++] = (exp_op_t){'W', 0x7E, 1, 0xB6, ANY_BYTE}; /* CMD soft reset */
    seq[n++] = (exp_op_t){'W', 0x7C, 1, 0x00, ANY_BYTE}; /* PWR_CONF: advanced power save off */
    seq[n++] = (exp_op_t){'W', 0x59, 1, 0x00, ANY_BYTE}; /* INIT_CTRL = 0: start of the upload */
    for (uint32_t at = 0u; at < FAKE_BLOB_BYTES; at += 128u) {
        /* INIT_ADDR_0/1: the chunk's word address, bits 3:0 then 11:4; then 128 bytes to INIT_DATA */
        seq[n++] = (exp_op_t){'W', 0x5B, 2, (int16_t)((at / 2u) & 0x0Fu), (int16_t)((at / 2u) >> 4)};
        seq[n++] = (exp_op_t){'W', 0x5E, 128, g_blob[at], g_blob[at + 1u]};
    }
    seq[n++] = (exp_op_t){'W', 0x59, 1, 0x01, ANY_BYTE}; /* INIT_CTRL = 1: end of the upload */
    seq[n++] = (exp_op_t){'R', 0x21, 1, 0x00, ANY_BYTE}; /* INTERNAL_STATUS: not_init (fake: 3 polls) */
    seq[n++] = (exp_op_t){'R', 0x21, 1, 0x00, ANY_BYTE};
    seq[n++] = (exp_op_t){'R', 0x21, 1, 0x00, ANY_BYTE};
    seq[n++] = (exp_op_t){'R', 0x21, 1, 0x01, ANY_BYTE}; /* init_ok */
    seq[n++] = (exp_op_t){'W', 0x40, 1, 0xA8, ANY_BYTE}; /* ACC_CONF: filter_perf, bwp normal (2), odr 100 Hz (8) */
    seq[n++] = (exp_op_t){'W', 0x41, 1, 0x01, ANY_BYTE}; /* ACC_RANGE: +/-4 g */
    seq[n++] = (exp_op_t){'W', 0x48, 1, 0x00, ANY_BYTE}; /* FIFO_CONFIG_0: stream mode, no sensor time */
    seq[n++] = (exp_op_t){'W', 0x49, 1, 0x40, ANY_BYTE}; /* FIFO_CONFIG_1: fifo_acc_en, header off */
    seq[n++] = (exp_op_t){'W', 0x7D, 1, 0x04, ANY_BYTE}; /* PWR_CTRL: acc_en, last */
    check_sequence(t, &g_fake, seq, n, "BMI270 init");
    CHECK(t, d->bmi.image_bytes == FAKE_BLOB_BYTES && !d->bmi.upload_bad &&
                 memcmp(d->bmi.image, g_blob, sizeof g_blob) == 0,
          "BMI270 config image: %lu bytes%s", (unsigned long)d->bmi.image_bytes, d->bmi.upload_bad ? ", bad" : "");
    CHECK(t, d->bmi.nacked_while_booting == 0u, "BMI270 driver talked to the chip within 2 ms of its soft reset");
    CHECK(t, g_fake.now_us == 2000u + 450u + 4u * 2000u, "BMI270 waited %llu us, expected 2000 + 450 + 4 x 2000",
          (unsigned long long)g_fake.now_us);

    accel_source_t src;
    bmi270_accel_source(&dev, &src);
    CHECK(t, src.rate_hz == 100u && src.full_scale_g == 4u && src.counters == &dev.counters,
          "BMI270 source %u Hz +/-%u g", src.rate_hz, src.full_scale_g);

    /* A blob whose length is not a whole number of chunks: the last burst is shorter (1000 = 7 x 128 + 104). */
    fake_bmi270_expect_blob(d, g_blob, 1000u);
    fake_i2c_clear_log(&g_fake);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, 1000u) == SENSOR_OK, "BMI270 init with 1000 bytes");
    CHECK(t, g_fake.log[18].reg == 0x5Bu && g_fake.log[18].data[0] == 0x00u && g_fake.log[18].data[1] == 28u &&
                 g_fake.log[19].reg == 0x5Eu && g_fake.log[19].len == 104u,
          "BMI270 last chunk: INIT_ADDR %02X %02X, %u bytes", g_fake.log[18].data[0], g_fake.log[18].data[1],
          g_fake.log[19].len);

    /* Other ODR / range codes. */
    static const struct {
        uint16_t hz;
        uint8_t g;
        uint8_t conf, range;
    } codes[] = {{25u, 2u, 0xA6u, 0x00u}, {200u, 8u, 0xA9u, 0x02u}, {1600u, 16u, 0xACu, 0x03u}};
    fake_bmi270_expect_blob(d, g_blob, sizeof g_blob);
    for (size_t i = 0u; i < sizeof codes / sizeof codes[0]; i++) {
        fake_i2c_clear_log(&g_fake);
        const bmi270_accel_config_t c = {.i2c_addr = 0x68u, .rate_hz = codes[i].hz, .range_g = codes[i].g};
        const sensor_status_t s = bmi270_accel_init(&dev, &bus, &c, g_blob, sizeof g_blob);
        const fake_i2c_op_t *conf = &g_fake.log[g_fake.n_log - 5u];
        const fake_i2c_op_t *range = &g_fake.log[g_fake.n_log - 4u];
        CHECK(t, s == SENSOR_OK && conf->reg == 0x40u && conf->data[0] == codes[i].conf && range->reg == 0x41u &&
                     range->data[0] == codes[i].range,
              "BMI270 %u Hz +/-%u g: ACC_CONF 0x%02X ACC_RANGE 0x%02X", codes[i].hz, codes[i].g, conf->data[0],
              range->data[0]);
    }

    fake_i2c_clear_log(&g_fake);
    bmi270_accel_config_t bad = BMI_CFG;
    bad.rate_hz = 12u;
    CHECK(t, bmi270_accel_init(&dev, &bus, &bad, g_blob, sizeof g_blob) == SENSOR_ERR_BAD_CONFIG,
          "BMI270 12 Hz must be refused");
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, 999u) == SENSOR_ERR_BAD_CONFIG,
          "BMI270 odd blob length must be refused");
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, 8194u) == SENSOR_ERR_BAD_CONFIG,
          "BMI270 blob over 8 KB must be refused");
    CHECK(t, g_fake.n_ops == 0u, "BMI270 refused configs touched the bus");
}

static void check_bmi_refusals(check_totals_t *t)
{
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    bmi270_accel_t dev;
    accel_mg_t out[1];
    size_t n = 99u;
    fake_i2c_init(&g_fake);

    /* No blob: a clear status, before the bus is touched. */
    fake_device_t *d = fake_i2c_add(&g_fake, FAKE_CHIP_BMI270, 0x68u);
    fake_bmi270_expect_blob(d, g_blob, sizeof g_blob);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, NULL, 0u) == SENSOR_ERR_NO_CONFIG, "BMI270 without blob");
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, 0u) == SENSOR_ERR_NO_CONFIG, "BMI270 empty blob");
    CHECK(t, g_fake.n_ops == 0u && !dev.ready, "BMI270 without blob touched the bus");
    CHECK(t, bmi270_accel_read(&dev, out, 1u, &n) == SENSOR_ERR_NOT_READY && n == 0u, "BMI270 read before init");

    /* Missing: the chip is at 0x68, the config says 0x69. */
    const bmi270_accel_config_t alt = {.i2c_addr = 0x69u, .rate_hz = 100u, .range_g = 4u};
    CHECK(t, bmi270_accel_init(&dev, &bus, &alt, g_blob, sizeof g_blob) == SENSOR_ERR_NO_DEVICE, "BMI270 missing");

    /* Wrong chip: a BMI160 answers CHIP_ID 0xD1 at the same address. */
    d->id_value = 0xD1u;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, sizeof g_blob) == SENSOR_ERR_WRONG_ID &&
                 dev.chip_id == 0xD1u,
          "BMI270 CHIP_ID 0xD1 must be refused");
    CHECK(t, fake_i2c_count_writes(&g_fake, 0x68u) == 0u, "BMI270 wrong chip got writes");

    /* Init that never completes: bounded polls, then a clear status. */
    d->id_value = 0x24u;
    d->init_polls = FAKE_NEVER;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, sizeof g_blob) == SENSOR_ERR_INIT_TIMEOUT,
          "BMI270 init timeout");
    CHECK(t, count_reads(&g_fake, 0x21u) == 25u && !dev.ready, "BMI270 polled INTERNAL_STATUS %zu times, expected 25",
          count_reads(&g_fake, 0x21u));

    /* A corrupted blob: the chip reports init_err (0x02), the driver stops at once. */
    d->init_polls = 0u;
    fake_i2c_clear_log(&g_fake);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob_bad, sizeof g_blob_bad) == SENSOR_ERR_INIT_FAILED &&
                 dev.internal_status == 0x02u && count_reads(&g_fake, 0x21u) == 1u,
          "BMI270 bad blob: status 0x%02X after %zu polls", dev.internal_status, count_reads(&g_fake, 0x21u));

    /* A bus error during the upload is passed up. */
    fake_i2c_fail_after(&g_fake, 40u, I2C_BUS_ERROR);
    CHECK(t, bmi270_accel_init(&dev, &bus, &BMI_CFG, g_blob, sizeof g_blob) == SENSOR_ERR_BUS && !dev.ready,
          "BMI270 bus error during the upload");
}

static void check_bmi_conversion(check_totals_t *t)
{
    static const struct {
        int16_t raw;
        uint8_t g;
        int16_t mg;
    } cases[] = {
        {8192, 4u, 1000},  {-8192, 4u, -1000}, {32767, 4u, 4000},   {-32768, 4u, -4000}, {1, 4u, 0},
        {4, 4u, 0},        {5, 4u, 1},         {-5, 4u, -1},        {12345, 4u, 1507},   {1024, 4u, 125},
        {1024, 2u, 63},    {-1024, 2u, -63},   {32767, 16u, 16000}, {-32768, 16u, -16000}, {2048, 16u, 1000},
        {4096, 8u, 1000},  {3, 8u, 1},         {100, 5u, 0},
    };
    for (size_t i = 0u; i < sizeof cases / sizeof cases[0]; i++) {
        const int16_t mg = bmi270_accel_raw_to_mg(cases[i].raw, cases[i].g);
        CHECK(t, mg == cases[i].mg, "BMI270 %d LSB at +/-%u g: %d mg, expected %d", cases[i].raw, cases[i].g, mg,
              cases[i].mg);
    }
}

static void check_bmi_samples(check_totals_t *t)
{
    const i2c_bus_t bus = fake_i2c_bus(&g_fake);
    bmi270_accel_t dev;
    fake_device_t *d = bmi_ready(t, &dev, &bus);
    static accel_mg_t out[400];
    size_t n = 0u;

    /* +/-4 g, 8192 LSB/g. */
    CHECK(t, fake_bmi270_push(d, 8192, -8192, 32767) && fake_bmi270_push(d, 5, -5, 4) &&
                 fake_bmi270_push(d, 12345, -32768, 0),
          "BMI270 fake must be converting into its FIFO after init");
    fake_i2c_clear_log(&g_fake);
    CHECK(t, bmi270_accel_read(&dev, out, 2u, &n) == SENSOR_OK && n == 2u, "BMI270 read 2 of 3: got %zu", n);
    CHECK(t, out[0].x == 1000 && out[0].y == -1000 && out[0].z == 4000 && out[1].x == 1 && out[1].y == -1 &&
                 out[1].z == 0,
          "BMI270 samples 0-1: (%d %d %d) (%d %d %d)", out[0].x, out[0].y, out[0].z, out[1].x, out[1].y, out[1].z);
    static const exp_op_t seq_read[] = {
        {'R', 0x24, 2, 18, 0},      /* FIFO_LENGTH_0/1: 3 frames = 18 bytes */
        {'R', 0x26, 12, 0x00, 0x20}, /* FIFO_DATA, 2 whole frames; 8192 = 0x2000 little-endian */
    };
    check_sequence(t, &g_fake, seq_read, sizeof seq_read / sizeof seq_read[0], "BMI270 FIFO read");
    CHECK(t, d->bmi.fill == 6u, "BMI270 FIFO_LENGTH after reading 2 frames: %lu bytes, expected 6",
          (unsigned long)d->bmi.fill);
    CHECK(t, bmi270_accel_read(&dev, out, 64u, &n) == SENSOR_OK && n == 1u && out[0].x == 1507 && out[0].y == -4000 &&
                 out[0].z == 0,
          "BMI270 sample 2: got %zu (%d %d %d)", n, out[0].x, out[0].y, out[0].z);

    /* FIFO_LENGTH falls as frames are read: 40 in, 10 out leaves 180 bytes; the other 30 take two bursts (16 + 14).
     * Raw 1024 k -> 125 k mg exactly at +/-4 g. */
    for (int i = 0; i < 40; i++) {
        fake_bmi270_push(d, (int16_t)(1024 * (i % 32)), (int16_t)(-1024 * (i % 31)), 8192);
    }
    CHECK(t, bmi270_accel_read(&dev, out, 10u, &n) == SENSOR_OK && n == 10u && d->bmi.fill == 180u,
          "BMI270 10 of 40: got %zu, %lu bytes left", n, (unsigned long)d->bmi.fill);
    CHECK(t, bmi270_accel_read(&dev, out + 10, 64u, &n) == SENSOR_OK && n == 30u && d->bmi.fill == 0u,
          "BMI270 the other 30: got %zu, %lu bytes left", n, (unsigned long)d->bmi.fill);
    bool same = true;
    for (int i = 0; i < 40; i++) {
        same = same && out[i].x == 125 * (i % 32) && out[i].y == -125 * (i % 31) && out[i].z == 1000;
    }
    CHECK(t, same, "BMI270 40 frames decoded");

    /* Wrap of the FIFO's 2048-byte ring: 300 frames in and out, 300 more (3600 bytes through it in all). */
    for (int i = 0; i < 300; i++) {
        fake_bmi270_push(d, (int16_t)(1024 * (i % 32)), 0, 0);
    }
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 300u, "BMI270 first 300: got %zu", n);
    for (int i = 0; i < 300; i++) {
        fake_bmi270_push(d, (int16_t)(-1024 * (i % 32)), (int16_t)(1024 * (i % 16)), 8192);
    }
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 300u, "BMI270 across the wrap: got %zu", n);
    same = true;
    for (int i = 0; i < 300; i++) {
        same = same && out[i].x == -125 * (i % 32) && out[i].y == 125 * (i % 16) && out[i].z == 1000;
    }
    CHECK(t, same, "BMI270 values across the wrap");
    CHECK(t, dev.counters.delivered == 643u && dev.counters.dropped == 0u && dev.counters.overruns == 0u,
          "BMI270 delivered %lu dropped %lu", (unsigned long)dev.counters.delivered, (unsigned long)dev.counters.dropped);
    CHECK(t, d->bmi.over_read == 0u && d->bmi.partial_reads == 0u, "BMI270 over-read %lu bytes, %lu partial frames",
          (unsigned long)d->bmi.over_read, (unsigned long)d->bmi.partial_reads);

    /* Overflow: 400 frames into 2048 bytes. Stream mode keeps the newest 341 (2046 bytes) and drops 59 without
     * any flag in headerless mode: the driver sees a FIFO within 64 bytes of full and counts a possible drop. */
    for (int i = 0; i < 400; i++) {
        fake_bmi270_push(d, (int16_t)(1024 * (i % 32)), (int16_t)(i % 2 ? 8192 : -8192), 0);
    }
    CHECK(t, d->bmi.fill == 2046u && d->bmi.lost_frames == 59u, "BMI270 fake full: %lu bytes, %lu lost",
          (unsigned long)d->bmi.fill, (unsigned long)d->bmi.lost_frames);
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 341u, "BMI270 full FIFO: got %zu", n);
    CHECK(t, out[0].x == 125 * (59 % 32) && out[0].y == 1000 && out[1].y == -1000 && out[340].x == 125 * (399 % 32) &&
                 out[340].y == 1000,
          "BMI270 full FIFO keeps the newest (%d, %d)", out[0].x, out[340].x);
    CHECK(t, dev.counters.dropped == 1u && dev.counters.overruns == 1u, "BMI270 overflow: dropped %lu overruns %lu",
          (unsigned long)dev.counters.dropped, (unsigned long)dev.counters.overruns);

    /* The threshold as documented: 330 frames (1980 bytes) are not counted, 331 (1986) are, lost or not. */
    for (int i = 0; i < 330; i++) {
        fake_bmi270_push(d, 0, 0, 0);
    }
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 330u && dev.counters.overruns == 1u,
          "BMI270 1980 bytes counted as full");
    for (int i = 0; i < 331; i++) {
        fake_bmi270_push(d, 0, 0, 0);
    }
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 331u && dev.counters.overruns == 2u &&
                 dev.counters.dropped == 2u,
          "BMI270 1986 bytes not counted as a possible drop");

    /* Bus error on the second burst: the first 16 frames are delivered. */
    for (int i = 0; i < 20; i++) {
        fake_bmi270_push(d, (int16_t)(1024 * i), 0, 0);
    }
    fake_i2c_fail_after(&g_fake, 2u, I2C_BUS_ERROR);
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_ERR_BUS && n == 16u && out[15].x == 125 * 15,
          "BMI270 bus error mid-read: got %zu", n);
    CHECK(t, bmi270_accel_read(&dev, out, 400u, &n) == SENSOR_OK && n == 4u && out[0].x == 125 * 16,
          "BMI270 after the error: got %zu", n);
}

void run_sensors_tests(check_totals_t *t)
{
    make_blobs();
    check_max_init(t);
    check_max_refusals(t);
    check_max_samples(t);
    check_max_rollover(t);
    check_lsm_init(t);
    check_lsm_refusals(t);
    check_lsm_conversion(t);
    check_lsm_samples(t);
    check_bmi_init(t);
    check_bmi_refusals(t);
    check_bmi_conversion(t);
    check_bmi_samples(t);
}
