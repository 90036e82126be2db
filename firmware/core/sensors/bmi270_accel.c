#include "sensors/bmi270_accel.h"

typedef struct rate_code {
    uint16_t hz;
    uint8_t odr;
} rate_code_t;

/* acc_odr codes; 0x05 (12.5 Hz) and below are left out, their rates are not whole Hz. */
static const rate_code_t RATES[] = {{25u, 0x06u},  {50u, 0x07u},  {100u, 0x08u}, {200u, 0x09u},
                                    {400u, 0x0Au}, {800u, 0x0Bu}, {1600u, 0x0Cu}};

#define MG_PER_G 1000
#define RAW_FULL_SCALE 32768 /* int16 covers +/- range_g */

_Static_assert(BMI270_INIT_CHUNK_BYTES <= I2C_BUS_MAX_TRANSFER && BMI270_INIT_CHUNK_BYTES % 2u == 0u,
               "config chunks: within the bus's transfer limit, whole words");
_Static_assert(BMI270_READ_CHUNK_FRAMES * BMI270_FRAME_BYTES <= I2C_BUS_MAX_TRANSFER,
               "a FIFO_DATA burst must fit the bus's transfer limit");

static bool range_code(uint8_t range_g, uint8_t *code)
{
    switch (range_g) {
    case 2u:
        *code = 0u;
        return true;
    case 4u:
        *code = 1u;
        return true;
    case 8u:
        *code = 2u;
        return true;
    case 16u:
        *code = 3u;
        return true;
    default:
        return false;
    }
}

int16_t bmi270_accel_raw_to_mg(int16_t raw, uint8_t range_g)
{
    uint8_t code;
    if (!range_code(range_g, &code)) {
        return 0;
    }
    /* |raw| * 16000 <= 2^19 * 1000 < 2^31. Halves away from zero (C division truncates toward zero); the largest
     * result, 32767 * 16000 / 32768 = 15999.5 -> 16000, fits int16. */
    const int32_t p = (int32_t)raw * (int32_t)range_g * MG_PER_G;
    return (int16_t)((p >= 0 ? p + RAW_FULL_SCALE / 2 : p - RAW_FULL_SCALE / 2) / RAW_FULL_SCALE);
}

/* Little-endian two's complement int16, without an implementation-defined conversion. */
static int16_t le16(const uint8_t *b)
{
    const int32_t v = (int32_t)b[0] | ((int32_t)b[1] << 8);
    return (int16_t)(v >= 0x8000 ? v - 0x10000 : v);
}

static sensor_status_t wr(const bmi270_accel_t *dev, uint8_t reg, const uint8_t *data, size_t len)
{
    return sensor_status_from_i2c(dev->bus->write(dev->bus->ctx, dev->addr, reg, data, len));
}

static sensor_status_t wr1(const bmi270_accel_t *dev, uint8_t reg, uint8_t value)
{
    return wr(dev, reg, &value, 1u);
}

static sensor_status_t rd(const bmi270_accel_t *dev, uint8_t reg, uint8_t *data, size_t len)
{
    return sensor_status_from_i2c(dev->bus->read(dev->bus->ctx, dev->addr, reg, data, len));
}

/* The config upload: INIT_CTRL = 0, the blob in chunks at their word addresses, INIT_CTRL = 1, then bounded polls
 * of INTERNAL_STATUS. */
static sensor_status_t load_config(bmi270_accel_t *dev, const uint8_t *blob, size_t len)
{
    sensor_status_t s = wr1(dev, BMI270_REG_INIT_CTRL, 0u);
    for (size_t at = 0u; at < len && s == SENSOR_OK; at += BMI270_INIT_CHUNK_BYTES) {
        const size_t word = at / 2u;
        const uint8_t addr[2] = {(uint8_t)(word & BMI270_INIT_ADDR_0_MASK), (uint8_t)(word >> 4)};
        s = wr(dev, BMI270_REG_INIT_ADDR_0, addr, sizeof addr);
        if (s == SENSOR_OK) {
            const size_t m = len - at < BMI270_INIT_CHUNK_BYTES ? len - at : BMI270_INIT_CHUNK_BYTES;
            s = wr(dev, BMI270_REG_INIT_DATA, blob + at, m);
        }
    }
    if (s == SENSOR_OK) {
        s = wr1(dev, BMI270_REG_INIT_CTRL, 1u);
    }
    for (uint32_t i = 0u; i < BMI270_INIT_POLLS && s == SENSOR_OK; i++) {
        dev->bus->delay_us(dev->bus->ctx, BMI270_INIT_POLL_US);
        s = rd(dev, BMI270_REG_INTERNAL_STATUS, &dev->internal_status, 1u);
        if (s != SENSOR_OK) {
            return s;
        }
        const uint8_t msg = dev->internal_status & BMI270_INTERNAL_STATUS_MSG_MASK;
        if (msg == BMI270_MSG_INIT_OK) {
            return SENSOR_OK;
        }
        if (msg != BMI270_MSG_NOT_INIT) {
            /* init_err (0x02) or another error message: a final answer, no point waiting for init_ok. */
            return SENSOR_ERR_INIT_FAILED;
        }
    }
    return s == SENSOR_OK ? SENSOR_ERR_INIT_TIMEOUT : s;
}

sensor_status_t bmi270_accel_init(bmi270_accel_t *dev, const i2c_bus_t *bus, const bmi270_accel_config_t *cfg,
                                  const uint8_t *blob, size_t len)
{
    dev->bus = bus;
    dev->addr = cfg->i2c_addr;
    dev->ready = false;
    dev->chip_id = 0u;
    dev->internal_status = 0u;
    dev->counters = (sensor_counters_t){0u, 0u, 0u};

    if (blob == NULL || len == 0u) {
        return SENSOR_ERR_NO_CONFIG;
    }
    const rate_code_t *rate = NULL;
    for (size_t i = 0u; i < sizeof RATES / sizeof RATES[0]; i++) {
        if (RATES[i].hz == cfg->rate_hz) {
            rate = &RATES[i];
        }
    }
    uint8_t range;
    if (bus == NULL || bus->read == NULL || bus->write == NULL || bus->delay_us == NULL || rate == NULL ||
        !range_code(cfg->range_g, &range) || len % 2u != 0u || len > BMI270_CONFIG_MAX_BYTES ||
        (cfg->i2c_addr != BMI270_I2C_ADDR && cfg->i2c_addr != BMI270_I2C_ADDR_ALT)) {
        return SENSOR_ERR_BAD_CONFIG;
    }

    /* Identity first: nothing is written to a chip that is not a BMI270 (0x68 is also the MPU-6050's and the
     * DS3231's address). */
    sensor_status_t s = rd(dev, BMI270_REG_CHIP_ID, &dev->chip_id, 1u);
    if (s != SENSOR_OK) {
        return s;
    }
    if (dev->chip_id != BMI270_CHIP_ID_VALUE) {
        return SENSOR_ERR_WRONG_ID;
    }

    /* Soft reset: a known state whatever ran before (it also discards a config loaded earlier). */
    s = wr1(dev, BMI270_REG_CMD, BMI270_CMD_SOFT_RESET);
    if (s != SENSOR_OK) {
        return s;
    }
    bus->delay_us(bus->ctx, BMI270_SOFT_RESET_US);
    /* The upload needs advanced power save off (it is on after reset). */
    s = wr1(dev, BMI270_REG_PWR_CONF, 0u);
    if (s != SENSOR_OK) {
        return s;
    }
    bus->delay_us(bus->ctx, BMI270_APS_OFF_US);
    s = load_config(dev, blob, len);
    if (s != SENSOR_OK) {
        return s;
    }

    const uint8_t writes[][2] = {
        {BMI270_REG_ACC_CONF,
         (uint8_t)(BMI270_ACC_CONF_FILTER_PERF | (BMI270_ACC_BWP_NORMAL << BMI270_ACC_CONF_BWP_SHIFT) | rate->odr)},
        {BMI270_REG_ACC_RANGE, range},
        /* Stream mode (fifo_stop_on_full = 0: the oldest frames make room), no sensor-time frame. */
        {BMI270_REG_FIFO_CONFIG_0, 0u},
        /* Accelerometer frames only, header off: every frame is 6 bytes. */
        {BMI270_REG_FIFO_CONFIG_1, BMI270_FIFO_CONFIG_1_ACC_EN},
        /* Last: the accelerometer starts with its final settings, the FIFO receives only those samples. */
        {BMI270_REG_PWR_CTRL, BMI270_PWR_CTRL_ACC_EN},
    };
    for (size_t i = 0u; i < sizeof writes / sizeof writes[0]; i++) {
        s = wr1(dev, writes[i][0], writes[i][1]);
        if (s != SENSOR_OK) {
            return s;
        }
    }
    dev->range_g = cfg->range_g;
    dev->rate_hz = cfg->rate_hz;
    dev->ready = true;
    return SENSOR_OK;
}

sensor_status_t bmi270_accel_read(bmi270_accel_t *dev, accel_mg_t *out, size_t max, size_t *n_read)
{
    *n_read = 0u;
    if (!dev->ready) {
        return SENSOR_ERR_NOT_READY;
    }
    uint8_t len_bytes[2]; /* FIFO_LENGTH_0, FIFO_LENGTH_1 in one burst */
    sensor_status_t s = rd(dev, BMI270_REG_FIFO_LENGTH_0, len_bytes, sizeof len_bytes);
    if (s != SENSOR_OK) {
        return s;
    }
    const size_t fill = (size_t)len_bytes[0] | ((size_t)(len_bytes[1] & BMI270_FIFO_LENGTH_1_MASK) << 8);
    if (fill >= BMI270_FIFO_FULL_BYTES) {
        /* Headerless mode has no overflow flag: a FIFO this full may have dropped frames (see the header). */
        dev->counters.dropped++;
        dev->counters.overruns++;
    }
    const size_t frames = fill / BMI270_FRAME_BYTES;
    const size_t n = frames < max ? frames : max;
    uint8_t buf[BMI270_READ_CHUNK_FRAMES * BMI270_FRAME_BYTES];
    size_t done = 0u;
    while (done < n) {
        const size_t m = n - done < BMI270_READ_CHUNK_FRAMES ? n - done : BMI270_READ_CHUNK_FRAMES;
        /* FIFO_DATA is a port: a burst reads successive FIFO bytes. */
        s = rd(dev, BMI270_REG_FIFO_DATA, buf, m * BMI270_FRAME_BYTES);
        if (s != SENSOR_OK) {
            break;
        }
        for (size_t k = 0u; k < m; k++) {
            const uint8_t *f = buf + k * BMI270_FRAME_BYTES;
            out[done + k].x = bmi270_accel_raw_to_mg(le16(f), dev->range_g);
            out[done + k].y = bmi270_accel_raw_to_mg(le16(f + 2), dev->range_g);
            out[done + k].z = bmi270_accel_raw_to_mg(le16(f + 4), dev->range_g);
        }
        done += m;
    }
    dev->counters.delivered += (uint32_t)done;
    *n_read = done;
    return s;
}

static sensor_status_t source_read(void *driver, accel_mg_t *out, size_t max, size_t *n_read)
{
    return bmi270_accel_read((bmi270_accel_t *)driver, out, max, n_read);
}

void bmi270_accel_source(bmi270_accel_t *dev, accel_source_t *src)
{
    src->driver = dev;
    src->read = source_read;
    src->counters = &dev->counters;
    src->rate_hz = dev->rate_hz;
    src->full_scale_g = dev->range_g;
}
