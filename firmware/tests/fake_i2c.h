/* A fake I2C bus for the sensor driver tests (test_sensors.c): per-device register maps that behave as the
 * datasheets describe the parts where the drivers depend on it, and a log of every transaction so a test can
 * assert an exact register sequence.
 *
 *   MAX3010x  PART_ID 0x15; MODE_CONFIG.RESET restores the power-on registers and reads back set for
 *             `reset_polls` reads; a 32-slot FIFO behind FIFO_WR_PTR / FIFO_RD_PTR (5 bits, wrapping at 32),
 *             OVF_COUNTER counting lost samples (saturating at 31, cleared when a sample is popped), the rollover
 *             bit choosing which samples are lost; FIFO_DATA does not auto-increment, a sample pops when its last
 *             byte is read; other registers auto-increment.
 *   LSM9DS1   WHO_AM_I 0x68; CTRL_REG8.SW_RESET like RESET above; a 32-sample FIFO in continuous mode (oldest
 *             overwritten, OVRN set until a sample is read), FIFO_SRC.FSS the fill level, a sample pops when
 *             OUT_Z_H_XL is read; auto-increment only while CTRL_REG8.IF_ADD_INC is set; CTRL_REG9.I2C_DISABLE
 *             makes the device stop answering.
 *   BMI270    CHIP_ID 0x24; CMD 0xB6 soft reset (the device NACKs for 2 ms after it: the fake's way to check the
 *             datasheet's wait); the config upload lands in an image at INIT_ADDR (words) only while advanced power
 *             save has been off for 450 us and INIT_CTRL = 0; INIT_CTRL = 1 compares the image with the expected
 *             blob: INTERNAL_STATUS reads 0x00 for `init_polls` reads, then 0x01 (or 0x02 init_err on a bad
 *             upload); a 2048-byte FIFO of 6-byte headerless frames, stream mode (the oldest frames dropped to
 *             make room), FIFO_LENGTH_0/1 falling as FIFO_DATA is read, a partly read frame re-sent;
 *             FIFO_DATA and INIT_DATA do not auto-increment.
 * Any address without a device NACKs. Delays only advance the fake's clock. */
#ifndef VIGIL_FAKE_I2C_H
#define VIGIL_FAKE_I2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/i2c_bus.h"

#define FAKE_I2C_MAX_DEVICES 4u
#define FAKE_I2C_LOG_MAX 256u
#define FAKE_I2C_LOG_DATA 4u
#define FAKE_REG_COUNT 256u
#define FAKE_NEVER 0xFFFFFFFFu /* reset_polls / init_polls: the bit never clears, init never completes */

#define FAKE_MAX_FIFO_DEPTH 32u
#define FAKE_MAX_SAMPLE_BYTES 6u
#define FAKE_LSM_FIFO_DEPTH 32u
#define FAKE_BMI_FIFO_SIZE 2048u
#define FAKE_BMI_FRAME_BYTES 6u
#define FAKE_BMI_IMAGE_SIZE 8192u
#define FAKE_BMI_BOOT_US 2000u
#define FAKE_BMI_APS_US 450u

typedef enum fake_chip {
    FAKE_CHIP_MAX3010X,
    FAKE_CHIP_LSM9DS1,
    FAKE_CHIP_BMI270,
} fake_chip_t;

/* One transaction as the bus saw it. */
typedef struct fake_i2c_op {
    uint8_t addr;
    uint8_t reg;
    bool write;
    uint16_t len;
    i2c_status_t status;
    uint8_t data[FAKE_I2C_LOG_DATA]; /* the first bytes written, or returned */
} fake_i2c_op_t;

typedef struct fake_max3010x {
    uint8_t fifo[FAKE_MAX_FIFO_DEPTH][FAKE_MAX_SAMPLE_BYTES];
    uint32_t count;     /* true fill level (pointers alone cannot tell full from empty) */
    uint32_t byte;      /* bytes of the oldest sample already read */
    uint32_t lost;      /* samples lost to overflow, the truth */
    uint32_t underflow; /* FIFO_DATA bytes read from an empty FIFO */
} fake_max3010x_t;

typedef struct fake_lsm9ds1 {
    int16_t fifo[FAKE_LSM_FIFO_DEPTH][3];
    uint32_t head, count;
    bool ovrn;
    bool i2c_disabled;
    uint32_t lost;
    uint32_t underflow; /* output bytes read from an empty FIFO */
} fake_lsm9ds1_t;

typedef struct fake_bmi270 {
    uint8_t fifo[FAKE_BMI_FIFO_SIZE];
    uint32_t head, fill;   /* ring of bytes */
    uint32_t lost_frames;  /* frames dropped to make room, the truth */
    uint32_t over_read;    /* FIFO_DATA bytes read beyond the fill level */
    uint32_t partial_reads;
    uint8_t image[FAKE_BMI_IMAGE_SIZE];
    uint32_t image_bytes; /* INIT_DATA bytes accepted */
    bool upload_bad;      /* an INIT_DATA byte arrived while the chip could not take it */
    const uint8_t *expected;
    size_t expected_len;
    uint32_t init_left;  /* INTERNAL_STATUS reads still showing not_init */
    uint8_t init_result; /* the message after them */
    bool booting;
    uint64_t boot_until_us;
    uint64_t aps_off_at_us;
    bool aps_off;
    uint32_t nacked_while_booting;
} fake_bmi270_t;

typedef struct fake_device {
    bool present;
    uint8_t addr;
    fake_chip_t chip;
    uint8_t regs[FAKE_REG_COUNT];
    uint8_t id_value;     /* what the identity register reads (tests set a wrong one) */
    uint32_t reset_polls; /* reads that still show a reset bit set (FAKE_NEVER: forever) */
    uint32_t reset_left;
    uint32_t init_polls; /* BMI270: INTERNAL_STATUS reads before init_ok */
    fake_max3010x_t max;
    fake_lsm9ds1_t lsm;
    fake_bmi270_t bmi;
} fake_device_t;

typedef struct fake_i2c {
    fake_device_t dev[FAKE_I2C_MAX_DEVICES];
    fake_i2c_op_t log[FAKE_I2C_LOG_MAX];
    size_t n_log;     /* logged (at most FAKE_I2C_LOG_MAX) */
    size_t n_ops;     /* all transactions */
    uint64_t now_us;  /* advanced by delay_us only */
    uint32_t fail_in; /* transactions still to succeed before the injected failure; 0: none armed */
    i2c_status_t fail_status;
} fake_i2c_t;

void fake_i2c_init(fake_i2c_t *f);
i2c_bus_t fake_i2c_bus(fake_i2c_t *f);

/* A device at addr, in its power-on state. */
fake_device_t *fake_i2c_add(fake_i2c_t *f, fake_chip_t chip, uint8_t addr);

void fake_i2c_clear_log(fake_i2c_t *f);

/* The (n+1)-th transaction from now fails with status (once). */
void fake_i2c_fail_after(fake_i2c_t *f, uint32_t n, i2c_status_t status);

/* Writes logged for addr. */
size_t fake_i2c_count_writes(const fake_i2c_t *f, uint8_t addr);

/* One new sample into the chip's FIFO, as its conversion would produce it; false (nothing stored) when the chip is
 * not converting into its FIFO. MAX3010x: 24-bit words as they sit in the FIFO (bits 23:18 included, to check
 * the driver masks them), ir ignored in heart-rate mode. */
bool fake_max3010x_push(fake_device_t *d, uint32_t red_word, uint32_t ir_word);
bool fake_lsm9ds1_push(fake_device_t *d, int16_t x, int16_t y, int16_t z);
bool fake_bmi270_push(fake_device_t *d, int16_t x, int16_t y, int16_t z);

/* The blob the fake BMI270 accepts as a good config upload. */
void fake_bmi270_expect_blob(fake_device_t *d, const uint8_t *blob, size_t len);

#endif
