/* MAX30101 / MAX30102 PPG front end (Maxim/Analog Devices), I2C address 0x57, as their datasheets (MAX30102
 * rev 1) describe it: heart-rate mode (red LED only) or SpO2 mode (red and IR), samples through the 32-deep FIFO.
 * Both parts answer PART_ID 0x15; the driver does not tell them apart and does not use the MAX30101's green LED.
 *
 * init: PART_ID is read before anything is written (0x57 is also a common EEPROM address: an unknown chip gets no
 * writes), then RESET, bounded polls until the bit self-clears, FIFO_CONFIG, SPO2_CONFIG, LED1_PA, LED2_PA, the
 * FIFO pointers and overflow counter cleared (the datasheet recommends it before a conversion starts), and
 * MODE_CONFIG last, which starts the conversions.
 *
 * read: one burst of FIFO_WR_PTR, OVF_COUNTER, FIFO_RD_PTR; samples = (WR - RD) mod 32, or 32 when the pointers
 * are equal and OVF_COUNTER > 0 (a full FIFO, since the counter clears on the next pop); OVF_COUNTER is added to
 * counters.dropped. Then whole samples from FIFO_DATA: 3 bytes per LED, big-endian, the 18-bit value in bits 17:0
 * (left-justified: at lower resolutions its low bits are zero), bits 23:18 ignored. */
#ifndef VIGIL_MAX3010X_H
#define VIGIL_MAX3010X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/i2c_bus.h"
#include "sensors/sensor_source.h"

#define MAX3010X_I2C_ADDR 0x57u
#define MAX3010X_PART_ID_VALUE 0x15u
#define MAX3010X_FIFO_DEPTH 32u
#define MAX3010X_MAX_CHANNELS 2u
#define MAX3010X_BYTES_PER_CHANNEL 3u
#define MAX3010X_SAMPLE_MASK 0x3FFFFu
#define MAX3010X_FULL_SCALE_COUNTS (MAX3010X_SAMPLE_MASK + 1u)
/* The datasheet gives no reset duration: up to 100 polls 1 ms apart, far more than the parts are reported to need. */
#define MAX3010X_RESET_POLLS 100u
#define MAX3010X_RESET_POLL_US 1000u
/* Samples per FIFO_DATA burst: 8 x 6 bytes on the stack, well under I2C_BUS_MAX_TRANSFER. */
#define MAX3010X_READ_CHUNK 8u

/* Registers (datasheet names). */
#define MAX3010X_REG_FIFO_WR_PTR 0x04u
#define MAX3010X_REG_OVF_COUNTER 0x05u
#define MAX3010X_REG_FIFO_RD_PTR 0x06u
#define MAX3010X_REG_FIFO_DATA 0x07u
#define MAX3010X_REG_FIFO_CONFIG 0x08u
#define MAX3010X_REG_MODE_CONFIG 0x09u
#define MAX3010X_REG_SPO2_CONFIG 0x0Au
#define MAX3010X_REG_LED1_PA 0x0Cu
#define MAX3010X_REG_LED2_PA 0x0Du
#define MAX3010X_REG_PART_ID 0xFFu

/* Bits and fields. */
#define MAX3010X_PTR_MASK 0x1Fu          /* FIFO_WR_PTR, OVF_COUNTER, FIFO_RD_PTR: bits 4:0 */
#define MAX3010X_MODE_RESET 0x40u        /* MODE_CONFIG bit 6, self-clearing */
#define MAX3010X_SMP_AVE_SHIFT 5u        /* FIFO_CONFIG bits 7:5 */
#define MAX3010X_FIFO_ROLLOVER_EN 0x10u  /* FIFO_CONFIG bit 4 */
#define MAX3010X_FIFO_A_FULL_MASK 0x0Fu  /* FIFO_CONFIG bits 3:0 */
#define MAX3010X_ADC_RGE_SHIFT 5u        /* SPO2_CONFIG bits 6:5 */
#define MAX3010X_SR_SHIFT 2u             /* SPO2_CONFIG bits 4:2 */
#define MAX3010X_LED_PW_SHIFT 0u         /* SPO2_CONFIG bits 1:0 */

typedef enum max3010x_mode {
    MAX3010X_MODE_HR = 0x02,   /* heart rate: red LED only, 1 channel */
    MAX3010X_MODE_SPO2 = 0x03, /* SpO2: red and IR, 2 channels (red first) */
} max3010x_mode_t;

typedef struct max3010x_config {
    max3010x_mode_t mode;
    uint16_t sample_rate_hz; /* SPO2_SR: 50, 100, 200 or 400 (the datasheet tables allow these at every pulse width) */
    uint8_t averaging;       /* SMP_AVE: 1, 2, 4, 8, 16 or 32 samples averaged per FIFO sample */
    uint8_t adc_bits;        /* LED_PW: 15 (69 us), 16 (118 us), 17 (215 us) or 18 (411 us) */
    uint16_t adc_range_na;   /* SPO2_ADC_RGE: 2048, 4096, 8192 or 16384 nA full scale */
    uint8_t led_red_pa;      /* LED1_PA, about 0.2 mA per step (0x24: 7.2 mA) */
    uint8_t led_ir_pa;       /* LED2_PA (used in SpO2 mode; written in both) */
    /* FIFO_ROLLOVER_EN: when full, 1 overwrites the oldest samples, 0 discards the new ones. The datasheet says
     * what OVF_COUNTER counts only for the discarding case (0); 0 is the choice whose counts it documents. */
    bool rollover;
    uint8_t almost_full; /* FIFO_A_FULL: free slots left when A_FULL is raised, 0..15 */
} max3010x_config_t;

typedef struct max3010x {
    const i2c_bus_t *bus; /* the caller's, must outlive the driver */
    bool ready;           /* init succeeded */
    uint8_t channels;
    uint8_t part_id; /* as read (also on SENSOR_ERR_WRONG_ID) */
    uint8_t adc_bits;
    uint16_t rate_hz; /* FIFO samples per second: sample_rate_hz / averaging */
    uint16_t adc_range_na;
    sensor_counters_t counters;
} max3010x_t;

/* Check the chip, reset it and start the conversions. The rate after averaging must be a whole number of Hz. */
sensor_status_t max3010x_init(max3010x_t *dev, const i2c_bus_t *bus, const max3010x_config_t *cfg);

/* Read up to max samples (max * channels values into out, sample-major), oldest first; *n_read receives how many. */
sensor_status_t max3010x_read(max3010x_t *dev, uint32_t *out, size_t max, size_t *n_read);

/* A ppg_source_t over this driver (after a successful init). */
void max3010x_ppg_source(max3010x_t *dev, ppg_source_t *src);

#endif
