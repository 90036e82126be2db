/* Portable sample sources for the app: an accelerometer and a PPG front end behind two small structs, so the app
 * reads samples without knowing which chip (and which board) delivers them. A driver fills a source from its own
 * state (max3010x_ppg_source, lsm9ds1_accel_source, bmi270_accel_source); the state stays in a struct the caller
 * owns, the source only points at it.
 *
 * Losses are never silent: every read that finds the chip's FIFO overflowed adds to `overruns` and to `dropped`.
 * `dropped` is the chip's own count where it keeps one (MAX3010x OVF_COUNTER, exact up to 31 per read); chips
 * that only raise a flag (LSM9DS1 OVRN) or only show a full FIFO (BMI270 headerless) add 1 per overrun, a lower
 * bound. An app that needs the true loss compares `delivered` with rate_hz x elapsed time. */
#ifndef VIGIL_SENSOR_SOURCE_H
#define VIGIL_SENSOR_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "sensors/i2c_bus.h"

typedef enum sensor_status {
    SENSOR_OK = 0,
    SENSOR_ERR_NO_DEVICE,     /* the chip's address was not acknowledged: missing, unpowered or wrong address */
    SENSOR_ERR_BUS,           /* the bus failed (I2C_BUS_ERROR) */
    SENSOR_ERR_BUS_TIMEOUT,   /* the bus timed out (I2C_TIMEOUT) */
    SENSOR_ERR_WRONG_ID,      /* something answered, but its identity register is not the expected chip's */
    SENSOR_ERR_RESET_TIMEOUT, /* the reset bit did not self-clear within the driver's bounded polls */
    SENSOR_ERR_NO_CONFIG,     /* BMI270: no config blob was supplied by the board/app build */
    SENSOR_ERR_INIT_FAILED,   /* BMI270: INTERNAL_STATUS reported an error after the config upload */
    SENSOR_ERR_INIT_TIMEOUT,  /* BMI270: INTERNAL_STATUS did not report init_ok within the bounded polls */
    SENSOR_ERR_BAD_CONFIG,    /* a setting the driver cannot program (rate, range, ...), or an incomplete bus */
    SENSOR_ERR_NOT_READY,     /* read before a successful init */
} sensor_status_t;

static inline sensor_status_t sensor_status_from_i2c(i2c_status_t s)
{
    switch (s) {
    case I2C_OK:
        return SENSOR_OK;
    case I2C_NACK:
        return SENSOR_ERR_NO_DEVICE;
    case I2C_TIMEOUT:
        return SENSOR_ERR_BUS_TIMEOUT;
    case I2C_BUS_ERROR:
    default:
        return SENSOR_ERR_BUS;
    }
}

/* A short name for logs and the host ("no_device", ...). */
static inline const char *sensor_status_name(sensor_status_t s)
{
    switch (s) {
    case SENSOR_OK:
        return "ok";
    case SENSOR_ERR_NO_DEVICE:
        return "no_device";
    case SENSOR_ERR_BUS:
        return "bus_error";
    case SENSOR_ERR_BUS_TIMEOUT:
        return "bus_timeout";
    case SENSOR_ERR_WRONG_ID:
        return "wrong_chip_id";
    case SENSOR_ERR_RESET_TIMEOUT:
        return "reset_timeout";
    case SENSOR_ERR_NO_CONFIG:
        return "no_config_blob";
    case SENSOR_ERR_INIT_FAILED:
        return "init_failed";
    case SENSOR_ERR_INIT_TIMEOUT:
        return "init_timeout";
    case SENSOR_ERR_BAD_CONFIG:
        return "bad_config";
    case SENSOR_ERR_NOT_READY:
        return "not_ready";
    }
    return "unknown";
}

typedef struct sensor_counters {
    uint32_t delivered; /* samples handed to the caller */
    uint32_t dropped;   /* samples lost to FIFO overflow: exact where the chip counts them, else >= 1 per overrun */
    uint32_t overruns;  /* reads that found the FIFO overflowed (BMI270: full, so that it may have) */
} sensor_counters_t;

/* One accelerometer sample in milli-g, the chip's axes. */
typedef struct accel_mg {
    int16_t x, y, z;
} accel_mg_t;

typedef struct accel_source {
    void *driver; /* the driver's state */
    /* Read up to max samples (oldest first) into out; *n_read receives how many, also on an error (the samples
     * read before it are valid and counted). */
    sensor_status_t (*read)(void *driver, accel_mg_t *out, size_t max, size_t *n_read);
    const sensor_counters_t *counters; /* the driver's */
    uint16_t rate_hz;     /* output data rate (nominal, the datasheet's) */
    uint8_t full_scale_g; /* the chip's range setting: +/- full_scale_g g */
} accel_source_t;

static inline sensor_status_t accel_source_read(const accel_source_t *s, accel_mg_t *out, size_t max, size_t *n_read)
{
    return s->read(s->driver, out, max, n_read);
}

/* PPG samples are unsigned ADC counts. With `channels` > 1 a sample is `channels` values in a row (MAX3010x SpO2
 * mode: red, IR), so out holds max * channels values. A count is full_scale_na / full_scale_counts nA of
 * photocurrent whatever the resolution: at fewer adc_bits the low bits are zero (the MAX3010x left-justifies). */
typedef struct ppg_source {
    void *driver;
    sensor_status_t (*read)(void *driver, uint32_t *out, size_t max, size_t *n_read);
    const sensor_counters_t *counters;
    uint16_t rate_hz;           /* samples per second per channel, after any on-chip averaging */
    uint8_t channels;           /* values per sample */
    uint8_t adc_bits;           /* meaningful bits (the top ones) */
    uint32_t full_scale_counts; /* 2^(bits of the count field) */
    uint16_t full_scale_na;     /* ADC full scale in nA */
} ppg_source_t;

static inline sensor_status_t ppg_source_read(const ppg_source_t *s, uint32_t *out, size_t max, size_t *n_read)
{
    return s->read(s->driver, out, max, n_read);
}

#endif
