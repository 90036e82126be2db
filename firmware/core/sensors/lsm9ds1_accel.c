#include "sensors/lsm9ds1_accel.h"

typedef struct rate_code {
    uint16_t hz;
    uint8_t odr_xl;
} rate_code_t;

static const rate_code_t RATES[] = {{10u, 1u}, {50u, 2u}, {119u, 3u}, {238u, 4u}, {476u, 5u}, {952u, 6u}};

typedef struct scale_code {
    uint8_t g;
    uint8_t fs_xl;      /* note the order: 00 = 2 g, 01 = 16 g, 10 = 4 g, 11 = 8 g */
    uint16_t ug_per_lsb; /* datasheet sensitivity in micro-g per LSB */
} scale_code_t;

static const scale_code_t SCALES[] = {{2u, 0u, 61u}, {4u, 2u, 122u}, {8u, 3u, 244u}, {16u, 1u, 732u}};

#define UG_PER_MG 1000

_Static_assert(LSM9DS1_SAMPLE_BYTES <= I2C_BUS_MAX_TRANSFER, "a sample burst must fit the bus's transfer limit");

static const scale_code_t *scale_of(uint8_t full_scale_g)
{
    for (size_t i = 0u; i < sizeof SCALES / sizeof SCALES[0]; i++) {
        if (SCALES[i].g == full_scale_g) {
            return &SCALES[i];
        }
    }
    return NULL;
}

int16_t lsm9ds1_accel_raw_to_mg(int16_t raw, uint8_t full_scale_g)
{
    const scale_code_t *sc = scale_of(full_scale_g);
    if (sc == NULL) {
        return 0;
    }
    /* |raw| * 732 < 2^25: no overflow. C division truncates toward zero, so adding half the divisor with the
     * product's sign rounds to nearest with halves away from zero, symmetric for +/- readings. Largest result
     * 32768 * 0.732 = 23986 fits int16. */
    const int32_t p = (int32_t)raw * (int32_t)sc->ug_per_lsb;
    return (int16_t)((p >= 0 ? p + UG_PER_MG / 2 : p - UG_PER_MG / 2) / UG_PER_MG);
}

/* Little-endian two's complement int16, without an implementation-defined conversion. */
static int16_t le16(const uint8_t *b)
{
    const int32_t v = (int32_t)b[0] | ((int32_t)b[1] << 8);
    return (int16_t)(v >= 0x8000 ? v - 0x10000 : v);
}

static sensor_status_t wr(const lsm9ds1_accel_t *dev, uint8_t reg, uint8_t value)
{
    return sensor_status_from_i2c(i2c_write_reg(dev->bus, dev->addr, reg, value));
}

static sensor_status_t rd(const lsm9ds1_accel_t *dev, uint8_t reg, uint8_t *data, size_t len)
{
    return sensor_status_from_i2c(dev->bus->read(dev->bus->ctx, dev->addr, reg, data, len));
}

sensor_status_t lsm9ds1_accel_init(lsm9ds1_accel_t *dev, const i2c_bus_t *bus, const lsm9ds1_accel_config_t *cfg)
{
    dev->bus = bus;
    dev->addr = cfg->i2c_addr;
    dev->ready = false;
    dev->who_am_i = 0u;
    dev->counters = (sensor_counters_t){0u, 0u, 0u};

    const rate_code_t *rate = NULL;
    for (size_t i = 0u; i < sizeof RATES / sizeof RATES[0]; i++) {
        if (RATES[i].hz == cfg->rate_hz) {
            rate = &RATES[i];
        }
    }
    const scale_code_t *sc = scale_of(cfg->full_scale_g);
    if (bus == NULL || bus->read == NULL || bus->write == NULL || bus->delay_us == NULL || rate == NULL ||
        sc == NULL || (cfg->i2c_addr != LSM9DS1_AG_I2C_ADDR && cfg->i2c_addr != LSM9DS1_AG_I2C_ADDR_ALT)) {
        return SENSOR_ERR_BAD_CONFIG;
    }

    /* Identity first: nothing is written to a chip that is not an LSM9DS1 AG. */
    sensor_status_t s = rd(dev, LSM9DS1_REG_WHO_AM_I, &dev->who_am_i, 1u);
    if (s != SENSOR_OK) {
        return s;
    }
    if (dev->who_am_i != LSM9DS1_WHO_AM_I_VALUE) {
        return SENSOR_ERR_WRONG_ID;
    }

    /* SW_RESET restores the register defaults (IF_ADD_INC set among them) and clears itself when done; IF_ADD_INC
     * is written with it so that the register never reads without it. */
    s = wr(dev, LSM9DS1_REG_CTRL_REG8, LSM9DS1_CTRL_REG8_SW_RESET | LSM9DS1_CTRL_REG8_IF_ADD_INC);
    if (s != SENSOR_OK) {
        return s;
    }
    bool cleared = false;
    for (uint32_t i = 0u; i < LSM9DS1_RESET_POLLS && !cleared; i++) {
        uint8_t reg8;
        s = rd(dev, LSM9DS1_REG_CTRL_REG8, &reg8, 1u);
        if (s != SENSOR_OK) {
            return s;
        }
        cleared = (reg8 & LSM9DS1_CTRL_REG8_SW_RESET) == 0u;
        if (!cleared) {
            bus->delay_us(bus->ctx, LSM9DS1_RESET_POLL_US);
        }
    }
    if (!cleared) {
        return SENSOR_ERR_RESET_TIMEOUT;
    }

    const uint8_t writes[][2] = {
        /* Gyro powered down (its reset value, written so the FIFO's content does not depend on history): the
         * accelerometer then runs alone at ODR_XL and the FIFO holds only its samples. */
        {LSM9DS1_REG_CTRL_REG1_G, 0u},
        /* BW_SCAL_ODR = 0: the anti-aliasing bandwidth follows the ODR. */
        {LSM9DS1_REG_CTRL_REG6_XL, (uint8_t)((rate->odr_xl << LSM9DS1_ODR_XL_SHIFT) | (sc->fs_xl << LSM9DS1_FS_XL_SHIFT))},
        {LSM9DS1_REG_CTRL_REG9, LSM9DS1_CTRL_REG9_FIFO_EN},
        /* Continuous: keeps the newest 32 samples; FTH unused (the app polls). */
        {LSM9DS1_REG_FIFO_CTRL, (uint8_t)(LSM9DS1_FMODE_CONTINUOUS << LSM9DS1_FMODE_SHIFT)},
    };
    for (size_t i = 0u; i < sizeof writes / sizeof writes[0]; i++) {
        s = wr(dev, writes[i][0], writes[i][1]);
        if (s != SENSOR_OK) {
            return s;
        }
    }
    dev->full_scale_g = cfg->full_scale_g;
    dev->rate_hz = cfg->rate_hz;
    dev->ready = true;
    return SENSOR_OK;
}

sensor_status_t lsm9ds1_accel_read(lsm9ds1_accel_t *dev, accel_mg_t *out, size_t max, size_t *n_read)
{
    *n_read = 0u;
    if (!dev->ready) {
        return SENSOR_ERR_NOT_READY;
    }
    uint8_t src;
    sensor_status_t s = rd(dev, LSM9DS1_REG_FIFO_SRC, &src, 1u);
    if (s != SENSOR_OK) {
        return s;
    }
    if (src & LSM9DS1_FIFO_SRC_OVRN) {
        /* At least one sample overwritten; the chip does not say how many. */
        dev->counters.dropped++;
        dev->counters.overruns++;
    }
    const size_t avail = src & LSM9DS1_FIFO_SRC_FSS_MASK;
    const size_t n = avail < max ? avail : max;
    size_t done = 0u;
    for (; done < n; done++) {
        /* One sample per burst: reading through OUT_Z_H_XL pops it; the datasheet does not say that a longer burst
         * wraps back to OUT_X_L_XL for the next sample, so none is relied on. */
        uint8_t b[LSM9DS1_SAMPLE_BYTES];
        s = rd(dev, LSM9DS1_REG_OUT_X_L_XL, b, sizeof b);
        if (s != SENSOR_OK) {
            break;
        }
        out[done].x = lsm9ds1_accel_raw_to_mg(le16(b), dev->full_scale_g);
        out[done].y = lsm9ds1_accel_raw_to_mg(le16(b + 2), dev->full_scale_g);
        out[done].z = lsm9ds1_accel_raw_to_mg(le16(b + 4), dev->full_scale_g);
    }
    dev->counters.delivered += (uint32_t)done;
    *n_read = done;
    return s;
}

static sensor_status_t source_read(void *driver, accel_mg_t *out, size_t max, size_t *n_read)
{
    return lsm9ds1_accel_read((lsm9ds1_accel_t *)driver, out, max, n_read);
}

void lsm9ds1_accel_source(lsm9ds1_accel_t *dev, accel_source_t *src)
{
    src->driver = dev;
    src->read = source_read;
    src->counters = &dev->counters;
    src->rate_hz = dev->rate_hz;
    src->full_scale_g = dev->full_scale_g;
}
