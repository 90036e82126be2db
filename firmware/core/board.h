/*
 * The board interface: everything the portable core and app need from a board.
 * Each port (firmware/boards/<name>/) implements exactly these functions and
 * nothing else leaks out of the port. Keep it small (tinyusb style).
 */
#ifndef VIGIL_BOARD_H
#define VIGIL_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensors/sensor_source.h"

/* The firmware's entry point (firmware/app/main.c). Each port calls it once its own
 * start-up is done (C runtime, FPU, stack painting); it returns only on a fatal error. */
int app_main(void);

/* Bring up clocks, serial port, tick counter. Called once, first thing in main. */
void board_init(void);

/* Short lowercase board name announced in HELLO ("native", "vwrist", ...). */
const char *board_name(void);

/* Non-blocking: copy up to max received bytes into buf, return how many (0 if none). */
size_t board_serial_read(uint8_t *buf, size_t max);

/* Blocking: returns once all len bytes are handed to the serial hardware/OS. */
void board_serial_write(const uint8_t *buf, size_t len);

/* Free-running counter of the board's timebase; wraps at 2^64 never in practice. */
uint64_t board_ticks(void);

/* Frequency of board_ticks() in Hz. */
uint32_t board_ticks_per_second(void);

/* Milliseconds since boot (wraps after ~49 days). */
uint32_t board_millis(void);

/* Identifier of this boot: differs between successive boots/resets of one device. */
uint32_t board_boot_id(void);

/* Deepest stack use seen so far, in bytes (stack painting); 0 if unknown. */
size_t board_stack_high_water(void);

/* Size of the stack region in bytes; 0 if unknown. */
size_t board_stack_size(void);

/* Wait a little for something to happen (an interrupt, received bytes, a tick). */
void board_idle(void);

/* Live mode on the board's own sensors (CONFIG flag SENSORS): start them for a PPG at ppg_rate_hz and hand back
 * their sample sources (sensors/sensor_source.h; the board keeps the drivers' state). False when the board has no
 * sensors, none answered, or they cannot run at that rate; the host is then told NO_SENSORS. Boards without sensors
 * (native, vwrist, f405 under QEMU) return false: their live mode runs on the seeded wrist. */
bool board_sensor_sources(uint16_t ppg_rate_hz, const accel_source_t **accel, const ppg_source_t **ppg);

/* Restart the firmware from scratch (new boot id). Never returns. */
void board_reset(void) __attribute__((noreturn));

#endif /* VIGIL_BOARD_H */
