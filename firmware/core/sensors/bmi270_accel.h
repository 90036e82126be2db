/* The accelerometer of the Bosch BMI270, as on the Arduino Nano 33 BLE Sense rev2: I2C address 0x68 (SDO low;
 * 0x69 high). Accelerometer only, samples through the 2 KB FIFO in headerless mode (6-byte frames x, y, z).
 *
 * The BMI270 runs only after its config file (Bosch's binary, 8 KB for the base BMI270) has been uploaded. That
 * blob is Bosch's and is not shipped here: the board/app build passes it to bmi270_accel_init (pointer + length);
 * without it init fails with SENSOR_ERR_NO_CONFIG before touching the bus.
 *
 * init (datasheet quick start): CHIP_ID (0x24) read before anything is written; CMD = soft reset, 2 ms;
 * PWR_CONF = 0 (advanced power save off, required for the upload), 450 us; INIT_CTRL = 0; the blob in bursts of
 * BMI270_INIT_CHUNK_BYTES to INIT_DATA, each preceded by its start address in 16-bit words in INIT_ADDR_0/1 (as
 * Bosch's API does it; INIT_DATA is a port, it does not auto-increment); INIT_CTRL = 1; INTERNAL_STATUS polled
 * (bounded) until its message is 0x01 init_ok. Then ACC_CONF, ACC_RANGE, FIFO_CONFIG_0 (stream mode, no sensor
 * time), FIFO_CONFIG_1 (accelerometer on, header off), PWR_CTRL acc_en last. Advanced power save stays off.
 *
 * read: FIFO_LENGTH_0/1 (byte count, 14 bits), then whole frames from FIFO_DATA (no partial frame is read, so the
 * chip never re-sends one, and never more than the count, so no over-read padding is decoded).
 *
 * Overflow: in headerless mode the FIFO gives no overflow flag or count (header mode would insert skip frames).
 * In stream mode a full FIFO drops its oldest frames to make room, so its byte count stays just under the
 * 2048-byte size; how far under is not documented (a public report shows 2016 bytes when full with 12-byte
 * frames). A count of at least BMI270_FIFO_SIZE - BMI270_FIFO_FULL_MARGIN bytes is therefore treated as "full,
 * frames possibly lost": counters.overruns and counters.dropped each get 1. That can count a drop that did not
 * happen (a FIFO exactly that full) and undercount one that did (many frames lost): read well before 1984 bytes
 * (330 frames, 3.3 s at 100 Hz) and neither happens. */
#ifndef VIGIL_BMI270_ACCEL_H
#define VIGIL_BMI270_ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/i2c_bus.h"
#include "sensors/sensor_source.h"

#define BMI270_I2C_ADDR 0x68u     /* SDO low (Nano 33 BLE Sense rev2) */
#define BMI270_I2C_ADDR_ALT 0x69u /* SDO high */
#define BMI270_CHIP_ID_VALUE 0x24u
#define BMI270_CONFIG_MAX_BYTES 8192u /* INIT_ADDR holds a 12-bit word address: 4096 words */
#define BMI270_INIT_CHUNK_BYTES 128u  /* even (word addressing), within I2C_BUS_MAX_TRANSFER */
#define BMI270_SOFT_RESET_US 2000u    /* wait after CMD soft reset */
#define BMI270_APS_OFF_US 450u        /* wait after PWR_CONF.adv_power_save = 0 */
/* INTERNAL_STATUS reports init_ok within 20 ms per the datasheet: 25 polls 2 ms apart, 50 ms. */
#define BMI270_INIT_POLLS 25u
#define BMI270_INIT_POLL_US 2000u
#define BMI270_FIFO_SIZE 2048u
#define BMI270_FIFO_FULL_MARGIN 64u
#define BMI270_FIFO_FULL_BYTES (BMI270_FIFO_SIZE - BMI270_FIFO_FULL_MARGIN)
#define BMI270_FRAME_BYTES 6u
#define BMI270_READ_CHUNK_FRAMES 16u /* 96 bytes per FIFO_DATA burst, on the stack */

/* Registers (datasheet names). */
#define BMI270_REG_CHIP_ID 0x00u
#define BMI270_REG_INTERNAL_STATUS 0x21u
#define BMI270_REG_FIFO_LENGTH_0 0x24u
#define BMI270_REG_FIFO_LENGTH_1 0x25u
#define BMI270_REG_FIFO_DATA 0x26u
#define BMI270_REG_ACC_CONF 0x40u
#define BMI270_REG_ACC_RANGE 0x41u
#define BMI270_REG_FIFO_CONFIG_0 0x48u
#define BMI270_REG_FIFO_CONFIG_1 0x49u
#define BMI270_REG_INIT_CTRL 0x59u
#define BMI270_REG_INIT_ADDR_0 0x5Bu
#define BMI270_REG_INIT_ADDR_1 0x5Cu
#define BMI270_REG_INIT_DATA 0x5Eu
#define BMI270_REG_PWR_CONF 0x7Cu
#define BMI270_REG_PWR_CTRL 0x7Du
#define BMI270_REG_CMD 0x7Eu

/* Values, bits and fields. */
#define BMI270_CMD_SOFT_RESET 0xB6u
#define BMI270_INTERNAL_STATUS_MSG_MASK 0x0Fu
#define BMI270_MSG_NOT_INIT 0x00u
#define BMI270_MSG_INIT_OK 0x01u
#define BMI270_INIT_ADDR_0_MASK 0x0Fu   /* word address bits 3:0; INIT_ADDR_1 holds bits 11:4 */
#define BMI270_ACC_CONF_FILTER_PERF 0x80u /* bit 7: performance (continuous filter) mode */
#define BMI270_ACC_CONF_BWP_SHIFT 4u      /* bits 6:4 */
#define BMI270_ACC_BWP_NORMAL 0x02u       /* norm_avg4, the reset value */
#define BMI270_FIFO_CONFIG_1_ACC_EN 0x40u /* bit 6 fifo_acc_en */
#define BMI270_FIFO_CONFIG_1_HEADER_EN 0x10u /* bit 4 fifo_header_en (left 0: headerless) */
#define BMI270_FIFO_LENGTH_1_MASK 0x3Fu   /* fifo_byte_counter bits 13:8 */
#define BMI270_PWR_CTRL_ACC_EN 0x04u      /* bit 2 */

typedef struct bmi270_accel_config {
    uint8_t i2c_addr; /* BMI270_I2C_ADDR or _ALT */
    uint16_t rate_hz; /* acc_odr: 25, 50, 100, 200, 400, 800 or 1600 */
    uint8_t range_g;  /* acc_range: 2, 4, 8 or 16 */
} bmi270_accel_config_t;

typedef struct bmi270_accel {
    const i2c_bus_t *bus; /* the caller's, must outlive the driver */
    uint8_t addr;
    bool ready;
    uint8_t chip_id;         /* as read (also on SENSOR_ERR_WRONG_ID) */
    uint8_t internal_status; /* last INTERNAL_STATUS read (for SENSOR_ERR_INIT_FAILED / _TIMEOUT) */
    uint8_t range_g;
    uint16_t rate_hz;
    sensor_counters_t counters;
} bmi270_accel_t;

/* blob: Bosch's BMI270 config file, len bytes (even, at most BMI270_CONFIG_MAX_BYTES); NULL / 0: SENSOR_ERR_NO_CONFIG. */
sensor_status_t bmi270_accel_init(bmi270_accel_t *dev, const i2c_bus_t *bus, const bmi270_accel_config_t *cfg,
                                  const uint8_t *blob, size_t len);

/* Read up to max samples, oldest first; *n_read receives how many. */
sensor_status_t bmi270_accel_read(bmi270_accel_t *dev, accel_mg_t *out, size_t max, size_t *n_read);

/* raw LSB -> milli-g at +/- range_g (2, 4, 8, 16; any other value gives 0): raw * range_g * 1000 / 32768 (16384
 * LSB/g at 2 g), rounded to nearest, halves away from zero. */
int16_t bmi270_accel_raw_to_mg(int16_t raw, uint8_t range_g);

void bmi270_accel_source(bmi270_accel_t *dev, accel_source_t *src);

#endif
