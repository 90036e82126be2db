/* The fake I2C bus: see fake_i2c.h for what each emulated chip does. Register numbers are the datasheets', written
 * out here rather than taken from the drivers' headers, so a wrong constant in a driver shows up as a failed test. */
#include "fake_i2c.h"

#include <string.h>

/* MAX3010x */
#define MAX_FIFO_WR_PTR 0x04u
#define MAX_OVF_COUNTER 0x05u
#define MAX_FIFO_RD_PTR 0x06u
#define MAX_FIFO_DATA 0x07u
#define MAX_FIFO_CONFIG 0x08u
#define MAX_MODE_CONFIG 0x09u
#define MAX_REV_ID 0xFEu
#define MAX_PART_ID 0xFFu
#define MAX_RESET 0x40u
#define MAX_SHDN 0x80u
#define MAX_ROLLOVER 0x10u
#define MAX_PTR_MASK 0x1Fu
#define MAX_OVF_MAX 31u

/* LSM9DS1 (accelerometer/gyroscope part) */
#define LSM_WHO_AM_I 0x0Fu
#define LSM_CTRL_REG1_G 0x10u
#define LSM_CTRL_REG6_XL 0x20u
#define LSM_CTRL_REG8 0x22u
#define LSM_CTRL_REG9 0x23u
#define LSM_OUT_X_L_XL 0x28u
#define LSM_OUT_Z_H_XL 0x2Du
#define LSM_FIFO_CTRL 0x2Eu
#define LSM_FIFO_SRC 0x2Fu
#define LSM_SW_RESET 0x01u
#define LSM_IF_ADD_INC 0x04u
#define LSM_FIFO_EN 0x02u
#define LSM_I2C_DISABLE 0x04u
#define LSM_FMODE_CONTINUOUS 0x06u

/* BMI270 */
#define BMI_CHIP_ID 0x00u
#define BMI_INTERNAL_STATUS 0x21u
#define BMI_FIFO_LENGTH_0 0x24u
#define BMI_FIFO_LENGTH_1 0x25u
#define BMI_FIFO_DATA 0x26u
#define BMI_ACC_CONF 0x40u
#define BMI_ACC_RANGE 0x41u
#define BMI_FIFO_CONFIG_0 0x48u
#define BMI_FIFO_CONFIG_1 0x49u
#define BMI_INIT_CTRL 0x59u
#define BMI_INIT_ADDR_0 0x5Bu
#define BMI_INIT_ADDR_1 0x5Cu
#define BMI_INIT_DATA 0x5Eu
#define BMI_PWR_CONF 0x7Cu
#define BMI_PWR_CTRL 0x7Du
#define BMI_CMD 0x7Eu
#define BMI_ACC_EN 0x04u
#define BMI_FIFO_ACC_EN 0x40u
#define BMI_FIFO_HEADER_EN 0x10u
#define BMI_APS 0x01u

/* ------------------------------------------------------------------ power-on states */

static void max_por(fake_device_t *d)
{
    memset(d->regs, 0, sizeof d->regs);
    memset(&d->max, 0, sizeof d->max);
    d->regs[MAX_REV_ID] = 0x03u;
}

static void lsm_por(fake_device_t *d)
{
    memset(d->regs, 0, sizeof d->regs);
    const bool disabled = d->lsm.i2c_disabled;
    memset(&d->lsm, 0, sizeof d->lsm);
    d->lsm.i2c_disabled = disabled;
    d->regs[LSM_CTRL_REG8] = LSM_IF_ADD_INC;
}

static void bmi_por(fake_device_t *d)
{
    const uint8_t *expected = d->bmi.expected;
    const size_t expected_len = d->bmi.expected_len;
    memset(d->regs, 0, sizeof d->regs);
    memset(&d->bmi, 0, sizeof d->bmi);
    d->bmi.expected = expected;
    d->bmi.expected_len = expected_len;
    d->regs[BMI_ACC_CONF] = 0xA8u;
    d->regs[BMI_ACC_RANGE] = 0x02u;
    d->regs[BMI_FIFO_CONFIG_0] = 0x02u;
    d->regs[BMI_FIFO_CONFIG_1] = 0x10u;
    d->regs[BMI_PWR_CONF] = 0x03u;
}

/* ------------------------------------------------------------------ MAX3010x */

static uint32_t max_bytes_per_sample(const fake_device_t *d)
{
    switch (d->regs[MAX_MODE_CONFIG] & 0x07u) {
    case 0x02u:
        return 3u;
    case 0x03u:
        return 6u;
    default:
        return 0u;
    }
}

static void max_write(fake_device_t *d, uint8_t reg, uint8_t v)
{
    switch (reg) {
    case MAX_MODE_CONFIG:
        if (v & MAX_RESET) {
            max_por(d);
            d->regs[MAX_MODE_CONFIG] = MAX_RESET;
            d->reset_left = d->reset_polls;
        } else {
            d->regs[reg] = v;
        }
        break;
    case MAX_FIFO_WR_PTR:
    case MAX_OVF_COUNTER:
    case MAX_FIFO_RD_PTR:
        d->regs[reg] = v & MAX_PTR_MASK;
        d->max.count = (uint32_t)((d->regs[MAX_FIFO_WR_PTR] - d->regs[MAX_FIFO_RD_PTR]) & MAX_PTR_MASK);
        d->max.byte = 0u;
        break;
    case MAX_PART_ID:
    case MAX_REV_ID:
        break; /* read-only */
    default:
        d->regs[reg] = v;
    }
}

static uint8_t max_read(fake_device_t *d, uint8_t reg)
{
    switch (reg) {
    case MAX_PART_ID:
        return d->id_value;
    case MAX_MODE_CONFIG:
        if (d->reset_left > 0u) {
            if (d->reset_left != FAKE_NEVER) {
                d->reset_left--;
            }
            return d->regs[reg] | MAX_RESET;
        }
        d->regs[reg] &= (uint8_t)~MAX_RESET;
        return d->regs[reg];
    case MAX_FIFO_DATA: {
        const uint32_t bps = max_bytes_per_sample(d);
        if (d->max.count == 0u || bps == 0u) {
            d->max.underflow++;
            return 0u;
        }
        const uint8_t rd = d->regs[MAX_FIFO_RD_PTR];
        const uint8_t v = d->max.fifo[rd][d->max.byte++];
        if (d->max.byte == bps) {
            /* A whole sample popped: the read pointer advances and the overflow counter clears. */
            d->max.byte = 0u;
            d->regs[MAX_FIFO_RD_PTR] = (uint8_t)((rd + 1u) & MAX_PTR_MASK);
            d->max.count--;
            d->regs[MAX_OVF_COUNTER] = 0u;
        }
        return v;
    }
    default:
        return d->regs[reg];
    }
}

bool fake_max3010x_push(fake_device_t *d, uint32_t red_word, uint32_t ir_word)
{
    const uint32_t bps = max_bytes_per_sample(d);
    if (bps == 0u || (d->regs[MAX_MODE_CONFIG] & MAX_SHDN)) {
        return false;
    }
    if (d->max.count == FAKE_MAX_FIFO_DEPTH) {
        d->max.lost++;
        if (d->regs[MAX_OVF_COUNTER] < MAX_OVF_MAX) {
            d->regs[MAX_OVF_COUNTER]++;
        }
        if (!(d->regs[MAX_FIFO_CONFIG] & MAX_ROLLOVER)) {
            return true; /* the new sample is not pushed */
        }
        /* Rollover: the oldest sample is overwritten, the read pointer moves on to the next oldest. */
        d->regs[MAX_FIFO_RD_PTR] = (uint8_t)((d->regs[MAX_FIFO_RD_PTR] + 1u) & MAX_PTR_MASK);
        d->max.count--;
        d->max.byte = 0u;
    }
    uint8_t *slot = d->max.fifo[d->regs[MAX_FIFO_WR_PTR]];
    const uint32_t words[2] = {red_word, ir_word};
    for (uint32_t c = 0u; c < bps / 3u; c++) {
        slot[3u * c] = (uint8_t)(words[c] >> 16);
        slot[3u * c + 1u] = (uint8_t)(words[c] >> 8);
        slot[3u * c + 2u] = (uint8_t)words[c];
    }
    d->regs[MAX_FIFO_WR_PTR] = (uint8_t)((d->regs[MAX_FIFO_WR_PTR] + 1u) & MAX_PTR_MASK);
    d->max.count++;
    return true;
}

/* ------------------------------------------------------------------ LSM9DS1 */

static bool lsm_fifo_on(const fake_device_t *d)
{
    return (d->regs[LSM_CTRL_REG9] & LSM_FIFO_EN) && (d->regs[LSM_FIFO_CTRL] >> 5) != 0u;
}

static void lsm_write(fake_device_t *d, uint8_t reg, uint8_t v)
{
    switch (reg) {
    case LSM_CTRL_REG8:
        if (v & LSM_SW_RESET) {
            lsm_por(d);
            d->regs[LSM_CTRL_REG8] = (uint8_t)(LSM_IF_ADD_INC | LSM_SW_RESET);
            d->reset_left = d->reset_polls;
        } else {
            d->regs[reg] = v;
        }
        break;
    case LSM_CTRL_REG9:
        d->regs[reg] = v;
        d->lsm.i2c_disabled = (v & LSM_I2C_DISABLE) != 0u;
        break;
    case LSM_FIFO_CTRL:
        d->regs[reg] = v;
        if ((v >> 5) == 0u) { /* bypass mode empties the FIFO */
            d->lsm.head = d->lsm.count = 0u;
            d->lsm.ovrn = false;
        }
        break;
    case LSM_WHO_AM_I:
    case LSM_FIFO_SRC:
        break; /* read-only */
    default:
        d->regs[reg] = v;
    }
}

static uint8_t lsm_read(fake_device_t *d, uint8_t reg)
{
    if (reg == LSM_WHO_AM_I) {
        return d->id_value;
    }
    if (reg == LSM_CTRL_REG8) {
        if (d->reset_left > 0u) {
            if (d->reset_left != FAKE_NEVER) {
                d->reset_left--;
            }
            return d->regs[reg] | LSM_SW_RESET;
        }
        d->regs[reg] &= (uint8_t)~LSM_SW_RESET;
        return d->regs[reg];
    }
    if (reg == LSM_FIFO_SRC) {
        return (uint8_t)((d->lsm.ovrn ? 0x40u : 0u) | (d->lsm.count & 0x3Fu));
    }
    if (reg >= LSM_OUT_X_L_XL && reg <= LSM_OUT_Z_H_XL && lsm_fifo_on(d)) {
        if (d->lsm.count == 0u) {
            d->lsm.underflow++;
            return 0u;
        }
        const uint16_t w = (uint16_t)d->lsm.fifo[d->lsm.head][(reg - LSM_OUT_X_L_XL) / 2u];
        const uint8_t v = (reg - LSM_OUT_X_L_XL) % 2u ? (uint8_t)(w >> 8) : (uint8_t)w;
        if (reg == LSM_OUT_Z_H_XL) { /* the last byte of a sample pops it */
            d->lsm.head = (d->lsm.head + 1u) % FAKE_LSM_FIFO_DEPTH;
            d->lsm.count--;
            d->lsm.ovrn = false; /* no longer completely filled */
        }
        return v;
    }
    return d->regs[reg];
}

bool fake_lsm9ds1_push(fake_device_t *d, int16_t x, int16_t y, int16_t z)
{
    /* Accelerometer-only FIFO content needs the gyro off, the accelerometer on, FIFO_EN and continuous mode. */
    if (!lsm_fifo_on(d) || (d->regs[LSM_FIFO_CTRL] >> 5) != LSM_FMODE_CONTINUOUS ||
        (d->regs[LSM_CTRL_REG6_XL] >> 5) == 0u || (d->regs[LSM_CTRL_REG1_G] >> 5) != 0u) {
        return false;
    }
    if (d->lsm.count == FAKE_LSM_FIFO_DEPTH) { /* continuous: the oldest is overwritten */
        d->lsm.head = (d->lsm.head + 1u) % FAKE_LSM_FIFO_DEPTH;
        d->lsm.count--;
        d->lsm.ovrn = true;
        d->lsm.lost++;
    }
    int16_t *slot = d->lsm.fifo[(d->lsm.head + d->lsm.count) % FAKE_LSM_FIFO_DEPTH];
    slot[0] = x;
    slot[1] = y;
    slot[2] = z;
    d->lsm.count++;
    return true;
}

/* ------------------------------------------------------------------ BMI270 */

static void bmi_write(fake_i2c_t *f, fake_device_t *d, uint8_t reg, uint8_t v, size_t index)
{
    switch (reg) {
    case BMI_CMD:
        if (v == 0xB6u) {
            bmi_por(d);
            d->bmi.booting = true;
            d->bmi.boot_until_us = f->now_us + FAKE_BMI_BOOT_US;
        } else if (v == 0xB0u) {
            d->bmi.head = d->bmi.fill = 0u;
        }
        break;
    case BMI_PWR_CONF:
        d->regs[reg] = v;
        if (!(v & BMI_APS) && !d->bmi.aps_off) {
            d->bmi.aps_off = true;
            d->bmi.aps_off_at_us = f->now_us;
        } else if (v & BMI_APS) {
            d->bmi.aps_off = false;
        }
        break;
    case BMI_INIT_DATA: {
        const size_t at = (((size_t)d->regs[BMI_INIT_ADDR_1] << 4) | (d->regs[BMI_INIT_ADDR_0] & 0x0Fu)) * 2u + index;
        const bool can_take = d->bmi.aps_off && f->now_us >= d->bmi.aps_off_at_us + FAKE_BMI_APS_US &&
                              d->regs[BMI_INIT_CTRL] == 0u && at < FAKE_BMI_IMAGE_SIZE;
        if (can_take) {
            d->bmi.image[at] = v;
            d->bmi.image_bytes++;
        } else {
            d->bmi.upload_bad = true;
        }
        break;
    }
    case BMI_INIT_CTRL:
        d->regs[reg] = v;
        if (v == 1u) {
            const bool good = !d->bmi.upload_bad && d->bmi.expected != NULL &&
                              d->bmi.image_bytes == d->bmi.expected_len &&
                              memcmp(d->bmi.image, d->bmi.expected, d->bmi.expected_len) == 0;
            d->bmi.init_result = good ? 0x01u : 0x02u;
            d->bmi.init_left = d->init_polls;
        }
        break;
    case BMI_CHIP_ID:
    case BMI_INTERNAL_STATUS:
    case BMI_FIFO_LENGTH_0:
    case BMI_FIFO_LENGTH_1:
    case BMI_FIFO_DATA:
        break; /* read-only */
    default:
        d->regs[reg] = v;
    }
}

static uint8_t bmi_read(fake_device_t *d, uint8_t reg)
{
    switch (reg) {
    case BMI_CHIP_ID:
        return d->id_value;
    case BMI_INTERNAL_STATUS:
        if (d->bmi.init_left > 0u) {
            if (d->bmi.init_left != FAKE_NEVER) {
                d->bmi.init_left--;
            }
            return 0x00u;
        }
        return d->bmi.init_result;
    case BMI_FIFO_LENGTH_0:
        return (uint8_t)(d->bmi.fill & 0xFFu);
    case BMI_FIFO_LENGTH_1:
        return (uint8_t)((d->bmi.fill >> 8) & 0x3Fu);
    case BMI_FIFO_DATA: {
        if (d->bmi.fill == 0u) {
            d->bmi.over_read++;
            return 0x80u;
        }
        const uint8_t v = d->bmi.fifo[d->bmi.head];
        d->bmi.head = (d->bmi.head + 1u) % FAKE_BMI_FIFO_SIZE;
        d->bmi.fill--;
        return v;
    }
    default:
        return d->regs[reg];
    }
}

bool fake_bmi270_push(fake_device_t *d, int16_t x, int16_t y, int16_t z)
{
    const uint8_t cfg1 = d->regs[BMI_FIFO_CONFIG_1];
    if (d->bmi.init_result != 0x01u || !(d->regs[BMI_PWR_CTRL] & BMI_ACC_EN) || !(cfg1 & BMI_FIFO_ACC_EN) ||
        (cfg1 & BMI_FIFO_HEADER_EN)) {
        return false; /* the fake only emulates headerless accelerometer frames */
    }
    while (d->bmi.fill + FAKE_BMI_FRAME_BYTES > FAKE_BMI_FIFO_SIZE) { /* stream mode: drop the oldest frame */
        d->bmi.head = (d->bmi.head + FAKE_BMI_FRAME_BYTES) % FAKE_BMI_FIFO_SIZE;
        d->bmi.fill -= FAKE_BMI_FRAME_BYTES;
        d->bmi.lost_frames++;
    }
    const int16_t v[3] = {x, y, z};
    for (uint32_t i = 0u; i < 3u; i++) {
        const uint16_t w = (uint16_t)v[i];
        d->bmi.fifo[(d->bmi.head + d->bmi.fill) % FAKE_BMI_FIFO_SIZE] = (uint8_t)w;
        d->bmi.fifo[(d->bmi.head + d->bmi.fill + 1u) % FAKE_BMI_FIFO_SIZE] = (uint8_t)(w >> 8);
        d->bmi.fill += 2u;
    }
    return true;
}

void fake_bmi270_expect_blob(fake_device_t *d, const uint8_t *blob, size_t len)
{
    d->bmi.expected = blob;
    d->bmi.expected_len = len;
}

/* ------------------------------------------------------------------ the bus */

static uint8_t next_reg(const fake_device_t *d, uint8_t reg)
{
    switch (d->chip) {
    case FAKE_CHIP_MAX3010X:
        return reg == MAX_FIFO_DATA ? reg : (uint8_t)(reg + 1u);
    case FAKE_CHIP_LSM9DS1:
        return (d->regs[LSM_CTRL_REG8] & LSM_IF_ADD_INC) ? (uint8_t)(reg + 1u) : reg;
    case FAKE_CHIP_BMI270:
        return (reg == BMI_FIFO_DATA || reg == BMI_INIT_DATA) ? reg : (uint8_t)(reg + 1u);
    }
    return reg;
}

static fake_device_t *find(fake_i2c_t *f, uint8_t addr)
{
    for (size_t i = 0u; i < FAKE_I2C_MAX_DEVICES; i++) {
        if (f->dev[i].present && f->dev[i].addr == addr) {
            return &f->dev[i];
        }
    }
    return NULL;
}

/* Whether the addressed device acknowledges; also the injected failure. */
static i2c_status_t start(fake_i2c_t *f, fake_device_t *d)
{
    if (f->fail_in > 0u && --f->fail_in == 0u) {
        return f->fail_status;
    }
    if (d == NULL) {
        return I2C_NACK;
    }
    if (d->chip == FAKE_CHIP_LSM9DS1 && d->lsm.i2c_disabled) {
        return I2C_NACK;
    }
    if (d->chip == FAKE_CHIP_BMI270 && d->bmi.booting) {
        if (f->now_us < d->bmi.boot_until_us) {
            d->bmi.nacked_while_booting++;
            return I2C_NACK;
        }
        d->bmi.booting = false;
    }
    return I2C_OK;
}

static void log_op(fake_i2c_t *f, uint8_t addr, uint8_t reg, bool write, const uint8_t *data, size_t len,
                   i2c_status_t status)
{
    f->n_ops++;
    if (f->n_log == FAKE_I2C_LOG_MAX) {
        return;
    }
    fake_i2c_op_t *op = &f->log[f->n_log++];
    memset(op, 0, sizeof *op);
    op->addr = addr;
    op->reg = reg;
    op->write = write;
    op->len = (uint16_t)len;
    op->status = status;
    if (status == I2C_OK) {
        memcpy(op->data, data, len < FAKE_I2C_LOG_DATA ? len : FAKE_I2C_LOG_DATA);
    }
}

static i2c_status_t fake_write(void *ctx, uint8_t addr, uint8_t reg, const uint8_t *data, size_t len)
{
    fake_i2c_t *f = ctx;
    fake_device_t *d = find(f, addr);
    const i2c_status_t s = start(f, d);
    if (s == I2C_OK) {
        uint8_t r = reg;
        for (size_t i = 0u; i < len; i++) {
            switch (d->chip) {
            case FAKE_CHIP_MAX3010X:
                max_write(d, r, data[i]);
                break;
            case FAKE_CHIP_LSM9DS1:
                lsm_write(d, r, data[i]);
                break;
            case FAKE_CHIP_BMI270:
                bmi_write(f, d, r, data[i], i);
                break;
            }
            r = next_reg(d, r);
        }
    }
    log_op(f, addr, reg, true, data, len, s);
    return s;
}

static i2c_status_t fake_read(void *ctx, uint8_t addr, uint8_t reg, uint8_t *data, size_t len)
{
    fake_i2c_t *f = ctx;
    fake_device_t *d = find(f, addr);
    const i2c_status_t s = start(f, d);
    if (s == I2C_OK) {
        const uint32_t fill_before = d->bmi.fill;
        uint8_t r = reg;
        for (size_t i = 0u; i < len; i++) {
            switch (d->chip) {
            case FAKE_CHIP_MAX3010X:
                data[i] = max_read(d, r);
                break;
            case FAKE_CHIP_LSM9DS1:
                data[i] = lsm_read(d, r);
                break;
            case FAKE_CHIP_BMI270:
                data[i] = bmi_read(d, r);
                break;
            }
            r = next_reg(d, r);
        }
        const uint32_t back = (fill_before - d->bmi.fill) % FAKE_BMI_FRAME_BYTES;
        if (d->chip == FAKE_CHIP_BMI270 && reg == BMI_FIFO_DATA && back != 0u) {
            /* A partly read frame is sent again by the next read: put its bytes back. */
            d->bmi.head = (d->bmi.head + FAKE_BMI_FIFO_SIZE - back) % FAKE_BMI_FIFO_SIZE;
            d->bmi.fill += back;
            d->bmi.partial_reads++;
        }
    }
    log_op(f, addr, reg, false, data, len, s);
    return s;
}

static void fake_delay(void *ctx, uint32_t us)
{
    fake_i2c_t *f = ctx;
    f->now_us += us;
}

void fake_i2c_init(fake_i2c_t *f)
{
    memset(f, 0, sizeof *f);
}

i2c_bus_t fake_i2c_bus(fake_i2c_t *f)
{
    return (i2c_bus_t){.ctx = f, .write = fake_write, .read = fake_read, .delay_us = fake_delay};
}

fake_device_t *fake_i2c_add(fake_i2c_t *f, fake_chip_t chip, uint8_t addr)
{
    for (size_t i = 0u; i < FAKE_I2C_MAX_DEVICES; i++) {
        fake_device_t *d = &f->dev[i];
        if (!d->present) {
            memset(d, 0, sizeof *d);
            d->present = true;
            d->addr = addr;
            d->chip = chip;
            d->reset_polls = 2u;
            d->init_polls = 3u;
            switch (chip) {
            case FAKE_CHIP_MAX3010X:
                d->id_value = 0x15u;
                max_por(d);
                break;
            case FAKE_CHIP_LSM9DS1:
                d->id_value = 0x68u;
                lsm_por(d);
                break;
            case FAKE_CHIP_BMI270:
                d->id_value = 0x24u;
                bmi_por(d);
                break;
            }
            return d;
        }
    }
    return NULL;
}

void fake_i2c_clear_log(fake_i2c_t *f)
{
    f->n_log = 0u;
    f->n_ops = 0u;
}

void fake_i2c_fail_after(fake_i2c_t *f, uint32_t n, i2c_status_t status)
{
    f->fail_in = n + 1u;
    f->fail_status = status;
}

size_t fake_i2c_count_writes(const fake_i2c_t *f, uint8_t addr)
{
    size_t n = 0u;
    for (size_t i = 0u; i < f->n_log; i++) {
        n += f->log[i].write && f->log[i].addr == addr;
    }
    return n;
}
