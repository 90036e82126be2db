/* The I2C bus a board gives the sensor drivers (firmware/core/sensors/): three functions and the board's context.
 * Core knows no board: a port fills an i2c_bus_t with its own TWI/I2C controller code, the host tests with
 * firmware/tests/fake_i2c.c.
 *
 * Transactions, 7-bit addresses, one register-addressed transfer each:
 *   write: START addr+W reg data[0] .. data[len-1] STOP
 *   read:  START addr+W reg REPEATED-START addr+R data[0] .. data[len-1] (NACK on the last) STOP
 * What happens to the register address inside a burst is the chip's business (most auto-increment, FIFO data
 * ports do not); the drivers say which they rely on. No transfer is ever longer than I2C_BUS_MAX_TRANSFER bytes,
 * so a port may use a controller whose DMA count is 8 bits (nRF52832 TWIM: MAXCNT 255). */
#ifndef VIGIL_I2C_BUS_H
#define VIGIL_I2C_BUS_H

#include <stddef.h>
#include <stdint.h>

#define I2C_BUS_MAX_TRANSFER 255u

typedef enum i2c_status {
    I2C_OK = 0,
    I2C_NACK,      /* the address was not acknowledged (no device there, unpowered, wrong address) or a byte was refused */
    I2C_BUS_ERROR, /* arbitration lost, bus stuck low, controller error */
    I2C_TIMEOUT,   /* the transfer did not finish within the port's time limit (e.g. clock held low too long) */
} i2c_status_t;

typedef struct i2c_bus {
    void *ctx; /* the port's state, passed back to every call */
    i2c_status_t (*write)(void *ctx, uint8_t addr7, uint8_t reg, const uint8_t *data, size_t len);
    i2c_status_t (*read)(void *ctx, uint8_t addr7, uint8_t reg, uint8_t *data, size_t len);
    /* Wait at least us microseconds. Drivers call it between bounded polls and where a datasheet asks for a pause;
     * a port may sleep or spin. Required: without it a bounded poll would be bounded in tries but not in time. */
    void (*delay_us)(void *ctx, uint32_t us);
} i2c_bus_t;

static inline i2c_status_t i2c_write_reg(const i2c_bus_t *bus, uint8_t addr7, uint8_t reg, uint8_t value)
{
    return bus->write(bus->ctx, addr7, reg, &value, 1u);
}

static inline i2c_status_t i2c_read_reg(const i2c_bus_t *bus, uint8_t addr7, uint8_t reg, uint8_t *value)
{
    return bus->read(bus->ctx, addr7, reg, value, 1u);
}

#endif
