/* The Nano 33 BLE Sense's sensors for live mode (board.h: board_sensor_sources): the on-board LSM9DS1
 * accelerometer (rev1) on the internal I2C bus and a MAX30101/MAX30102 breakout on the header's (A4 SDA, A5 SCL),
 * both through one TWIM0 that the glue below routes to the right bus before each transfer
 * (nano33ble_i2c_init does nothing when it is routed there already).
 *
 * Not here: the rev2 board's BMI270 needs Bosch's config blob, which cannot be shipped (sensors/README.md); a rev2
 * board answers NO_SENSORS. Never run on hardware from this repository's CI: docs/boards.md says what only a board
 * can show. */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "dsp/dsp_config.h"
#include "nrf52840.h"
#include "sensors/lsm9ds1_accel.h"
#include "sensors/max3010x.h"

/* The LSM9DS1's accelerometer/gyroscope on the Sense (SDO_AG high). */
#define SENSE_LSM9DS1_ADDR 0x6Bu
#define SENSE_ACCEL_FULL_SCALE_G 4u
/* The MAX3010x in heart-rate mode (red LED) at the pipelines' 100 Hz: SPO2_SR 100, no averaging, 18 bits, 4096 nA
 * full scale, about 7.2 mA of LED current (a wrist's usual starting point; tune per enclosure). */
#define SENSE_PPG_RATE_HZ 100u
#define SENSE_PPG_ADC_BITS 18u
#define SENSE_PPG_RANGE_NA 4096u
#define SENSE_PPG_LED_PA 0x24u
#define SENSE_PPG_ALMOST_FULL 0x0Fu

typedef struct sense_bus {
    nano33ble_i2c_bus_t route;
} sense_bus_t;

static i2c_status_t from_port(nano33ble_i2c_status_t s)
{
    switch (s) {
    case NANO33BLE_I2C_OK:
        return I2C_OK;
    case NANO33BLE_I2C_ERR_NACK:
        return I2C_NACK;
    case NANO33BLE_I2C_ERR_TIMEOUT:
        return I2C_TIMEOUT;
    case NANO33BLE_I2C_ERR_ARG:
    case NANO33BLE_I2C_ERR_BUS:
    default:
        return I2C_BUS_ERROR;
    }
}

static i2c_status_t sense_write(void *ctx, uint8_t addr7, uint8_t reg, const uint8_t *data, size_t len)
{
    const sense_bus_t *b = ctx;
    nano33ble_i2c_init(b->route);
    /* longer than NANO33BLE_I2C_WRITE_MAX: ERR_ARG, a bus error (no driver used here writes more) */
    return from_port(nano33ble_i2c_write(addr7, reg, data, len));
}

static i2c_status_t sense_read(void *ctx, uint8_t addr7, uint8_t reg, uint8_t *data, size_t len)
{
    const sense_bus_t *b = ctx;
    nano33ble_i2c_init(b->route);
    return from_port(nano33ble_i2c_read(addr7, reg, data, len));
}

static void sense_delay_us(void *ctx, uint32_t us)
{
    (void)ctx;
    nano33ble_delay_us(us);
}

typedef struct sense_sensors {
    sense_bus_t internal_route, header_route;
    i2c_bus_t internal_bus, header_bus;
    lsm9ds1_accel_t accel_dev;
    max3010x_t ppg_dev;
    accel_source_t accel;
    ppg_source_t ppg;
} sense_sensors_t;

/* The drivers' state lives as long as the firmware: live mode reads it through the sources. */
static sense_sensors_t sense;

bool board_sensor_sources(uint16_t ppg_rate_hz, const accel_source_t **accel, const ppg_source_t **ppg)
{
    if (ppg_rate_hz != SENSE_PPG_RATE_HZ) {
        return false; /* the MAX3010x's rates (50, 100, 200, 400 / averaging) meet the pipelines' only at 100 Hz */
    }
    sense.internal_route.route = NANO33BLE_I2C_BUS_INTERNAL;
    sense.header_route.route = NANO33BLE_I2C_BUS_HEADER;
    sense.internal_bus = (i2c_bus_t){&sense.internal_route, sense_write, sense_read, sense_delay_us};
    sense.header_bus = (i2c_bus_t){&sense.header_route, sense_write, sense_read, sense_delay_us};
    const lsm9ds1_accel_config_t accel_cfg = {
        .i2c_addr = SENSE_LSM9DS1_ADDR, .rate_hz = DSP_ACCEL_RATE_HZ, .full_scale_g = SENSE_ACCEL_FULL_SCALE_G};
    const max3010x_config_t ppg_cfg = {.mode = MAX3010X_MODE_HR,
                                       .sample_rate_hz = SENSE_PPG_RATE_HZ,
                                       .averaging = 1u,
                                       .adc_bits = SENSE_PPG_ADC_BITS,
                                       .adc_range_na = SENSE_PPG_RANGE_NA,
                                       .led_red_pa = SENSE_PPG_LED_PA,
                                       .led_ir_pa = 0u,
                                       .rollover = false,
                                       .almost_full = SENSE_PPG_ALMOST_FULL};
    if (lsm9ds1_accel_init(&sense.accel_dev, &sense.internal_bus, &accel_cfg) != SENSOR_OK ||
        max3010x_init(&sense.ppg_dev, &sense.header_bus, &ppg_cfg) != SENSOR_OK) {
        return false;
    }
    lsm9ds1_accel_source(&sense.accel_dev, &sense.accel);
    max3010x_ppg_source(&sense.ppg_dev, &sense.ppg);
    *accel = &sense.accel;
    *ppg = &sense.ppg;
    return true;
}
