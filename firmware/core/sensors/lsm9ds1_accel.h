/* The accelerometer of the ST LSM9DS1 (accelerometer/gyroscope part, "AG"), as on the Arduino Nano 33 BLE Sense
 * rev1: I2C address 0x6B (SDO_A/G high; 0x6A when low). Accelerometer-only mode: the gyroscope stays powered down
 * (CTRL_REG1_G = 0), so the FIFO holds accelerometer samples only, at ODR_XL, in continuous mode (the newest 32
 * kept, OVRN set once one is overwritten).
 *
 * init: WHO_AM_I (0x68) read before anything is written, CTRL_REG8 = SW_RESET | IF_ADD_INC with bounded polls until
 * SW_RESET self-clears, CTRL_REG1_G = 0 (gyro off), CTRL_REG6_XL = ODR_XL | FS_XL, CTRL_REG9 = FIFO_EN,
 * FIFO_CTRL = continuous.
 *
 * read: FIFO_SRC (FSS unread samples, OVRN); each sample is one 6-byte burst OUT_X_L_XL..OUT_Z_H_XL, little-endian
 * int16, which pops it from the FIFO. OVRN tells that at least one sample was lost, not how many: it adds 1 to
 * counters.dropped (a lower bound) and to counters.overruns.
 *
 * Scale: the datasheet's sensitivities, 0.061 / 0.122 / 0.244 / 0.732 mg/LSB at +/-2 / 4 / 8 / 16 g (0.732, not
 * 0.488, is what the datasheet and ST's own driver use at 16 g). mg = raw * ug_per_lsb / 1000 in int32, rounded to
 * nearest, halves away from zero. */
#ifndef VIGIL_LSM9DS1_ACCEL_H
#define VIGIL_LSM9DS1_ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/i2c_bus.h"
#include "sensors/sensor_source.h"

#define LSM9DS1_AG_I2C_ADDR 0x6Bu     /* SDO_A/G high (Nano 33 BLE Sense) */
#define LSM9DS1_AG_I2C_ADDR_ALT 0x6Au /* SDO_A/G low */
#define LSM9DS1_WHO_AM_I_VALUE 0x68u
#define LSM9DS1_FIFO_DEPTH 32u
#define LSM9DS1_SAMPLE_BYTES 6u
/* The datasheet gives no SW_RESET duration (Arduino's library waits 10 ms): up to 100 polls 1 ms apart. */
#define LSM9DS1_RESET_POLLS 100u
#define LSM9DS1_RESET_POLL_US 1000u

/* Registers (datasheet names). */
#define LSM9DS1_REG_WHO_AM_I 0x0Fu
#define LSM9DS1_REG_CTRL_REG1_G 0x10u
#define LSM9DS1_REG_CTRL_REG6_XL 0x20u
#define LSM9DS1_REG_CTRL_REG8 0x22u
#define LSM9DS1_REG_CTRL_REG9 0x23u
#define LSM9DS1_REG_OUT_X_L_XL 0x28u
#define LSM9DS1_REG_FIFO_CTRL 0x2Eu
#define LSM9DS1_REG_FIFO_SRC 0x2Fu

/* Bits and fields. */
#define LSM9DS1_CTRL_REG8_SW_RESET 0x01u   /* bit 0, self-clearing */
#define LSM9DS1_CTRL_REG8_IF_ADD_INC 0x04u /* bit 2: burst reads auto-increment (the reset default) */
#define LSM9DS1_CTRL_REG9_FIFO_EN 0x02u    /* bit 1 */
#define LSM9DS1_CTRL_REG9_I2C_DISABLE 0x04u /* bit 2: never set here, it would cut the driver off */
#define LSM9DS1_ODR_XL_SHIFT 5u            /* CTRL_REG6_XL bits 7:5 */
#define LSM9DS1_FS_XL_SHIFT 3u             /* CTRL_REG6_XL bits 4:3 */
#define LSM9DS1_FMODE_SHIFT 5u             /* FIFO_CTRL bits 7:5 */
#define LSM9DS1_FMODE_CONTINUOUS 0x06u     /* 0b110 */
#define LSM9DS1_FIFO_SRC_OVRN 0x40u        /* bit 6 */
#define LSM9DS1_FIFO_SRC_FSS_MASK 0x3Fu    /* bits 5:0, 0..32 */

typedef struct lsm9ds1_accel_config {
    uint8_t i2c_addr;     /* LSM9DS1_AG_I2C_ADDR or _ALT */
    uint16_t rate_hz;     /* ODR_XL: 10, 50, 119, 238, 476 or 952 */
    uint8_t full_scale_g; /* FS_XL: 2, 4, 8 or 16 */
} lsm9ds1_accel_config_t;

typedef struct lsm9ds1_accel {
    const i2c_bus_t *bus; /* the caller's, must outlive the driver */
    uint8_t addr;
    bool ready;
    uint8_t who_am_i; /* as read (also on SENSOR_ERR_WRONG_ID) */
    uint8_t full_scale_g;
    uint16_t rate_hz;
    sensor_counters_t counters;
} lsm9ds1_accel_t;

sensor_status_t lsm9ds1_accel_init(lsm9ds1_accel_t *dev, const i2c_bus_t *bus, const lsm9ds1_accel_config_t *cfg);

/* Read up to max samples, oldest first; *n_read receives how many. */
sensor_status_t lsm9ds1_accel_read(lsm9ds1_accel_t *dev, accel_mg_t *out, size_t max, size_t *n_read);

/* raw LSB -> milli-g at +/- full_scale_g (2, 4, 8, 16; any other value gives 0). */
int16_t lsm9ds1_accel_raw_to_mg(int16_t raw, uint8_t full_scale_g);

void lsm9ds1_accel_source(lsm9ds1_accel_t *dev, accel_source_t *src);

#endif
