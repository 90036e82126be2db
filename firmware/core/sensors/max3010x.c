#include "sensors/max3010x.h"

/* Field codes from the configuration; false if the value has no code. */
static bool code_of(uint16_t value, const uint16_t *table, uint8_t n, uint8_t *code)
{
    for (uint8_t i = 0u; i < n; i++) {
        if (table[i] == value) {
            *code = i;
            return true;
        }
    }
    return false;
}

/* SPO2_SR codes 0..3; 800 Hz and up are left out: at 411 us pulses (18 bits) the datasheet does not allow them. */
static const uint16_t SAMPLE_RATES_HZ[] = {50u, 100u, 200u, 400u};
static const uint16_t AVERAGING[] = {1u, 2u, 4u, 8u, 16u, 32u};     /* SMP_AVE codes 0..5 */
static const uint16_t ADC_BITS[] = {15u, 16u, 17u, 18u};            /* LED_PW codes 0..3 */
static const uint16_t ADC_RANGES_NA[] = {2048u, 4096u, 8192u, 16384u}; /* SPO2_ADC_RGE codes 0..3 */
#define COUNT(a) ((uint8_t)(sizeof(a) / sizeof((a)[0])))

_Static_assert(MAX3010X_READ_CHUNK * MAX3010X_MAX_CHANNELS * MAX3010X_BYTES_PER_CHANNEL <= I2C_BUS_MAX_TRANSFER,
               "a FIFO_DATA burst must fit the bus's transfer limit");

static sensor_status_t wr(const max3010x_t *dev, uint8_t reg, uint8_t value)
{
    return sensor_status_from_i2c(i2c_write_reg(dev->bus, MAX3010X_I2C_ADDR, reg, value));
}

static sensor_status_t rd(const max3010x_t *dev, uint8_t reg, uint8_t *data, size_t len)
{
    return sensor_status_from_i2c(dev->bus->read(dev->bus->ctx, MAX3010X_I2C_ADDR, reg, data, len));
}

sensor_status_t max3010x_init(max3010x_t *dev, const i2c_bus_t *bus, const max3010x_config_t *cfg)
{
    dev->bus = bus;
    dev->ready = false;
    dev->part_id = 0u;
    dev->counters = (sensor_counters_t){0u, 0u, 0u};

    uint8_t sr, ave, pw, rge;
    if (bus == NULL || bus->read == NULL || bus->write == NULL || bus->delay_us == NULL ||
        (cfg->mode != MAX3010X_MODE_HR && cfg->mode != MAX3010X_MODE_SPO2) ||
        !code_of(cfg->sample_rate_hz, SAMPLE_RATES_HZ, COUNT(SAMPLE_RATES_HZ), &sr) ||
        !code_of(cfg->averaging, AVERAGING, COUNT(AVERAGING), &ave) ||
        !code_of(cfg->adc_bits, ADC_BITS, COUNT(ADC_BITS), &pw) ||
        !code_of(cfg->adc_range_na, ADC_RANGES_NA, COUNT(ADC_RANGES_NA), &rge) ||
        cfg->sample_rate_hz % cfg->averaging != 0u || cfg->almost_full > MAX3010X_FIFO_A_FULL_MASK) {
        return SENSOR_ERR_BAD_CONFIG;
    }

    /* Identity first: nothing is written to a chip that is not a MAX3010x. */
    sensor_status_t s = rd(dev, MAX3010X_REG_PART_ID, &dev->part_id, 1u);
    if (s != SENSOR_OK) {
        return s;
    }
    if (dev->part_id != MAX3010X_PART_ID_VALUE) {
        return SENSOR_ERR_WRONG_ID;
    }

    /* MODE_CONFIG.RESET puts every register back to its power-on value and clears itself when done. */
    s = wr(dev, MAX3010X_REG_MODE_CONFIG, MAX3010X_MODE_RESET);
    if (s != SENSOR_OK) {
        return s;
    }
    bool cleared = false;
    for (uint32_t i = 0u; i < MAX3010X_RESET_POLLS && !cleared; i++) {
        uint8_t mode;
        s = rd(dev, MAX3010X_REG_MODE_CONFIG, &mode, 1u);
        if (s != SENSOR_OK) {
            return s;
        }
        cleared = (mode & MAX3010X_MODE_RESET) == 0u;
        if (!cleared) {
            bus->delay_us(bus->ctx, MAX3010X_RESET_POLL_US);
        }
    }
    if (!cleared) {
        return SENSOR_ERR_RESET_TIMEOUT;
    }

    const uint8_t writes[][2] = {
        {MAX3010X_REG_FIFO_CONFIG, (uint8_t)((ave << MAX3010X_SMP_AVE_SHIFT) | (cfg->rollover ? MAX3010X_FIFO_ROLLOVER_EN : 0u) |
                                             cfg->almost_full)},
        {MAX3010X_REG_SPO2_CONFIG,
         (uint8_t)((rge << MAX3010X_ADC_RGE_SHIFT) | (sr << MAX3010X_SR_SHIFT) | (pw << MAX3010X_LED_PW_SHIFT))},
        {MAX3010X_REG_LED1_PA, cfg->led_red_pa},
        {MAX3010X_REG_LED2_PA, cfg->led_ir_pa},
        /* The datasheet recommends clearing the pointers and the overflow counter before a conversion starts. */
        {MAX3010X_REG_FIFO_WR_PTR, 0u},
        {MAX3010X_REG_OVF_COUNTER, 0u},
        {MAX3010X_REG_FIFO_RD_PTR, 0u},
        /* Last: setting the mode starts the conversions, on a fully configured chip. */
        {MAX3010X_REG_MODE_CONFIG, (uint8_t)cfg->mode},
    };
    for (size_t i = 0u; i < sizeof writes / sizeof writes[0]; i++) {
        s = wr(dev, writes[i][0], writes[i][1]);
        if (s != SENSOR_OK) {
            return s;
        }
    }

    dev->channels = cfg->mode == MAX3010X_MODE_SPO2 ? 2u : 1u;
    dev->adc_bits = cfg->adc_bits;
    dev->adc_range_na = cfg->adc_range_na;
    dev->rate_hz = (uint16_t)(cfg->sample_rate_hz / cfg->averaging);
    dev->ready = true;
    return SENSOR_OK;
}

sensor_status_t max3010x_read(max3010x_t *dev, uint32_t *out, size_t max, size_t *n_read)
{
    *n_read = 0u;
    if (!dev->ready) {
        return SENSOR_ERR_NOT_READY;
    }
    /* FIFO_WR_PTR, OVF_COUNTER, FIFO_RD_PTR in one burst (these registers auto-increment), so the three agree. */
    uint8_t ptr[3];
    sensor_status_t s = rd(dev, MAX3010X_REG_FIFO_WR_PTR, ptr, sizeof ptr);
    if (s != SENSOR_OK) {
        return s;
    }
    const uint8_t wr_ptr = ptr[0] & MAX3010X_PTR_MASK;
    const uint8_t ovf = ptr[1] & MAX3010X_PTR_MASK;
    const uint8_t rd_ptr = ptr[2] & MAX3010X_PTR_MASK;
    size_t avail = (size_t)((wr_ptr - rd_ptr) & MAX3010X_PTR_MASK);
    if (ovf > 0u) {
        /* Lost samples, counted by the chip (saturates at 31: more may have been lost). The counter clears when a
         * sample is popped, so a nonzero count also means nothing was read since the FIFO filled: equal pointers
         * are a full FIFO, not an empty one. */
        dev->counters.dropped += ovf;
        dev->counters.overruns++;
        if (avail == 0u) {
            avail = MAX3010X_FIFO_DEPTH;
        }
    }
    const size_t n = avail < max ? avail : max;
    const size_t bytes_per_sample = (size_t)dev->channels * MAX3010X_BYTES_PER_CHANNEL;
    uint8_t buf[MAX3010X_READ_CHUNK * MAX3010X_MAX_CHANNELS * MAX3010X_BYTES_PER_CHANNEL];
    size_t done = 0u;
    while (done < n) {
        const size_t m = n - done < MAX3010X_READ_CHUNK ? n - done : MAX3010X_READ_CHUNK;
        /* FIFO_DATA does not auto-increment: a burst reads successive FIFO bytes, RD_PTR advancing per sample. */
        s = rd(dev, MAX3010X_REG_FIFO_DATA, buf, m * bytes_per_sample);
        if (s != SENSOR_OK) {
            break;
        }
        for (size_t k = 0u; k < m * dev->channels; k++) {
            const uint8_t *b = buf + k * MAX3010X_BYTES_PER_CHANNEL;
            const uint32_t v = ((uint32_t)b[0] << 16) | ((uint32_t)b[1] << 8) | b[2];
            out[done * dev->channels + k] = v & MAX3010X_SAMPLE_MASK;
        }
        done += m;
    }
    dev->counters.delivered += (uint32_t)done;
    *n_read = done;
    return s;
}

static sensor_status_t source_read(void *driver, uint32_t *out, size_t max, size_t *n_read)
{
    return max3010x_read((max3010x_t *)driver, out, max, n_read);
}

void max3010x_ppg_source(max3010x_t *dev, ppg_source_t *src)
{
    src->driver = dev;
    src->read = source_read;
    src->counters = &dev->counters;
    src->rate_hz = dev->rate_hz;
    src->channels = dev->channels;
    src->adc_bits = dev->adc_bits;
    src->full_scale_counts = MAX3010X_FULL_SCALE_COUNTS;
    src->full_scale_na = dev->adc_range_na;
}
