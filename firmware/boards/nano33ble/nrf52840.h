/*
 * nano33ble port-internal definitions: nRF52840 and Cortex-M4 registers, IRQ numbers,
 * board pins, linker symbols and the port's own helper functions. Shared by
 * startup_nano33ble.c and board_nano33ble.c; never included by the core or the app
 * (they only see board.h).
 *
 * Written by hand from the nRF52840 Product Specification v1.x (no Nordic MDK or
 * CMSIS in the build), and only what the port uses. Every peripheral register is
 * spelled as (base, offset) exactly as the PS's register tables list them, so each
 * line can be checked against the vendor SVD (nrf52840.svd) one by one; all of them
 * were, with matching results (README).
 */
#ifndef NANO33BLE_NRF52840_H
#define NANO33BLE_NRF52840_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../armv7m/armv7m.h"
#include "../armv7m/armv7m_runtime.h"

#define NRF_REG32(base, offset) (*(volatile uint32_t *)(uintptr_t)((base) + (offset)))
/* An array register (TASKS_CAPTURE[n], CC[n], PIN_CNF[n]): consecutive words. */
#define NRF_REG32_N(base, offset, n) NRF_REG32((base), (offset) + 4u * (uint32_t)(n))

/* Tasks are triggered and events cleared by writing these (PS "Peripheral interface"). */
#define NRF_TASK_TRIGGER 1u
#define NRF_EVENT_CLEAR 0u

/* --------------------------------------------------------------------------
 * IRQ numbers (PS "Instantiation": peripheral ID = IRQ number = (base >> 12) & 0x3F).
 * Only the ones the port names; the vector table lists all 48 by name.
 * -------------------------------------------------------------------------- */
#define NRF_IRQ_UARTE0 2u /* UARTE0_UART0_IRQn */
#define NRF_IRQ_TIMER1 9u
#define NRF_IRQ_FPU 38u /* only cleared, for anomaly 87 (board_idle) */
#define NRF_NUM_IRQS 48u /* IRQ 0..47 on the nRF52840 (SPIM3 = 47 is the last) */

/* NVIC priority bits implemented by the nRF52840 (__NVIC_PRIO_BITS). */
#define NRF_NVIC_PRIO_BITS 3u

/* --------------------------------------------------------------------------
 * CLOCK (0x40000000) and POWER (same base: they share one peripheral ID)
 * -------------------------------------------------------------------------- */
#define NRF_CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART NRF_REG32(NRF_CLOCK_BASE, 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED NRF_REG32(NRF_CLOCK_BASE, 0x100u)
#define CLOCK_INTENCLR NRF_REG32(NRF_CLOCK_BASE, 0x308u)
#define CLOCK_HFCLKSTAT NRF_REG32(NRF_CLOCK_BASE, 0x40Cu)
#define CLOCK_TRACECONFIG NRF_REG32(NRF_CLOCK_BASE, 0x55Cu)
#define CLOCK_HFCLKSTAT_SRC_XTAL (1u << 0)
#define CLOCK_HFCLKSTAT_STATE_RUNNING (1u << 16)
/* TRACEMUX (bits 17:16) = 0: trace pins (incl. SWO = P1.00) are plain GPIOs. */
#define CLOCK_TRACECONFIG_GPIO 0u

#define NRF_POWER_BASE 0x40000000u
#define POWER_RESETREAS NRF_REG32(NRF_POWER_BASE, 0x400u)
/* RESETREAS bits are sticky and cleared by writing 1; all defined bits: */
#define POWER_RESETREAS_RESETPIN (1u << 0)
#define POWER_RESETREAS_DOG (1u << 1)
#define POWER_RESETREAS_SREQ (1u << 2)
#define POWER_RESETREAS_LOCKUP (1u << 3)
#define POWER_RESETREAS_OFF (1u << 16)
#define POWER_RESETREAS_LPCOMP (1u << 17)
#define POWER_RESETREAS_DIF (1u << 18)
#define POWER_RESETREAS_NFC (1u << 19)
#define POWER_RESETREAS_VBUS (1u << 20)
#define POWER_RESETREAS_ALL \
    (POWER_RESETREAS_RESETPIN | POWER_RESETREAS_DOG | POWER_RESETREAS_SREQ | POWER_RESETREAS_LOCKUP | \
     POWER_RESETREAS_OFF | POWER_RESETREAS_LPCOMP | POWER_RESETREAS_DIF | POWER_RESETREAS_NFC | POWER_RESETREAS_VBUS)

/* --------------------------------------------------------------------------
 * UARTE0 (0x40002000): UART with EasyDMA
 * -------------------------------------------------------------------------- */
#define NRF_UARTE0_BASE 0x40002000u
#define UARTE0_TASKS_STARTRX NRF_REG32(NRF_UARTE0_BASE, 0x000u)
#define UARTE0_TASKS_STOPRX NRF_REG32(NRF_UARTE0_BASE, 0x004u)
#define UARTE0_TASKS_STARTTX NRF_REG32(NRF_UARTE0_BASE, 0x008u)
#define UARTE0_TASKS_STOPTX NRF_REG32(NRF_UARTE0_BASE, 0x00Cu)
#define UARTE0_EVENTS_RXDRDY NRF_REG32(NRF_UARTE0_BASE, 0x108u)
#define UARTE0_EVENTS_ENDRX NRF_REG32(NRF_UARTE0_BASE, 0x110u)
#define UARTE0_EVENTS_ENDTX NRF_REG32(NRF_UARTE0_BASE, 0x120u)
#define UARTE0_EVENTS_ERROR NRF_REG32(NRF_UARTE0_BASE, 0x124u)
#define UARTE0_EVENTS_RXTO NRF_REG32(NRF_UARTE0_BASE, 0x144u)
#define UARTE0_EVENTS_RXSTARTED NRF_REG32(NRF_UARTE0_BASE, 0x14Cu)
#define UARTE0_EVENTS_TXSTOPPED NRF_REG32(NRF_UARTE0_BASE, 0x158u)
#define UARTE0_SHORTS NRF_REG32(NRF_UARTE0_BASE, 0x200u)
#define UARTE0_INTENSET NRF_REG32(NRF_UARTE0_BASE, 0x304u)
#define UARTE0_INTENCLR NRF_REG32(NRF_UARTE0_BASE, 0x308u)
#define UARTE0_ERRORSRC NRF_REG32(NRF_UARTE0_BASE, 0x480u)
#define UARTE0_ENABLE NRF_REG32(NRF_UARTE0_BASE, 0x500u)
#define UARTE0_PSEL_RTS NRF_REG32(NRF_UARTE0_BASE, 0x508u)
#define UARTE0_PSEL_TXD NRF_REG32(NRF_UARTE0_BASE, 0x50Cu)
#define UARTE0_PSEL_CTS NRF_REG32(NRF_UARTE0_BASE, 0x510u)
#define UARTE0_PSEL_RXD NRF_REG32(NRF_UARTE0_BASE, 0x514u)
#define UARTE0_BAUDRATE NRF_REG32(NRF_UARTE0_BASE, 0x524u)
#define UARTE0_RXD_PTR NRF_REG32(NRF_UARTE0_BASE, 0x534u)
#define UARTE0_RXD_MAXCNT NRF_REG32(NRF_UARTE0_BASE, 0x538u)
#define UARTE0_TXD_PTR NRF_REG32(NRF_UARTE0_BASE, 0x544u)
#define UARTE0_TXD_MAXCNT NRF_REG32(NRF_UARTE0_BASE, 0x548u)
#define UARTE0_CONFIG NRF_REG32(NRF_UARTE0_BASE, 0x56Cu)

#define UARTE_SHORTS_ENDRX_STARTRX (1u << 5)
#define UARTE_INT_ENDRX (1u << 4)
#define UARTE_INT_ERROR (1u << 9)
#define UARTE_INT_RXSTARTED (1u << 19)
#define UARTE_INT_ALL 0xFFFFFFFFu
#define UARTE_ERRORSRC_ALL 0xFu /* OVERRUN | PARITY | FRAMING | BREAK, write 1 to clear */
#define UARTE_ENABLE_DISABLED 0u
#define UARTE_ENABLE_ENABLED 8u /* 4 would be the legacy (non-DMA) UART at the same base */
#define UARTE_CONFIG_8N1 0u     /* HWFC off, no parity, one stop bit */
/* BAUDRATE for 115200 baud. The UARTE and the legacy UART list different values
 * (PS, SVD, nrfx): UARTE 0x01D60000 = 115108 baud (-0.08 %), UART 0x01D7E000 =
 * 115942 baud (+0.64 %). Both work (8N1 tolerates ~ +-2 %); this is the UARTE's. */
#define UARTE_BAUDRATE_115200 0x01D60000u
/* RXD.MAXCNT / TXD.MAXCNT are 16 bits wide on the nRF52840 (8 on the nRF52832). */
#define UARTE_MAXCNT_MAX 0xFFFFu

/* --------------------------------------------------------------------------
 * TWIM0 (0x40003000): I2C master with EasyDMA (shares its ID with SPIM0/SPIS0/TWIS0)
 * -------------------------------------------------------------------------- */
#define NRF_TWIM0_BASE 0x40003000u
#define TWIM0_TASKS_STARTTX NRF_REG32(NRF_TWIM0_BASE, 0x008u)
#define TWIM0_TASKS_STOP NRF_REG32(NRF_TWIM0_BASE, 0x014u)
#define TWIM0_TASKS_RESUME NRF_REG32(NRF_TWIM0_BASE, 0x020u)
#define TWIM0_EVENTS_STOPPED NRF_REG32(NRF_TWIM0_BASE, 0x104u)
#define TWIM0_EVENTS_ERROR NRF_REG32(NRF_TWIM0_BASE, 0x124u)
#define TWIM0_EVENTS_LASTRX NRF_REG32(NRF_TWIM0_BASE, 0x15Cu)
#define TWIM0_EVENTS_LASTTX NRF_REG32(NRF_TWIM0_BASE, 0x160u)
#define TWIM0_SHORTS NRF_REG32(NRF_TWIM0_BASE, 0x200u)
#define TWIM0_INTENCLR NRF_REG32(NRF_TWIM0_BASE, 0x308u)
#define TWIM0_ERRORSRC NRF_REG32(NRF_TWIM0_BASE, 0x4C4u)
#define TWIM0_ENABLE NRF_REG32(NRF_TWIM0_BASE, 0x500u)
#define TWIM0_PSEL_SCL NRF_REG32(NRF_TWIM0_BASE, 0x508u)
#define TWIM0_PSEL_SDA NRF_REG32(NRF_TWIM0_BASE, 0x50Cu)
#define TWIM0_FREQUENCY NRF_REG32(NRF_TWIM0_BASE, 0x524u)
#define TWIM0_RXD_PTR NRF_REG32(NRF_TWIM0_BASE, 0x534u)
#define TWIM0_RXD_MAXCNT NRF_REG32(NRF_TWIM0_BASE, 0x538u)
#define TWIM0_TXD_PTR NRF_REG32(NRF_TWIM0_BASE, 0x544u)
#define TWIM0_TXD_MAXCNT NRF_REG32(NRF_TWIM0_BASE, 0x548u)
#define TWIM0_ADDRESS NRF_REG32(NRF_TWIM0_BASE, 0x588u)

#define TWIM_SHORTS_LASTTX_STARTRX (1u << 7)
#define TWIM_SHORTS_LASTTX_STOP (1u << 9)
#define TWIM_SHORTS_LASTRX_STOP (1u << 12)
#define TWIM_INT_ALL 0xFFFFFFFFu
#define TWIM_ERRORSRC_OVERRUN (1u << 0)
#define TWIM_ERRORSRC_ANACK (1u << 1) /* address not acknowledged */
#define TWIM_ERRORSRC_DNACK (1u << 2) /* data byte not acknowledged */
#define TWIM_ERRORSRC_ALL (TWIM_ERRORSRC_OVERRUN | TWIM_ERRORSRC_ANACK | TWIM_ERRORSRC_DNACK) /* write 1 to clear */
#define TWIM_ENABLE_DISABLED 0u
#define TWIM_ENABLE_ENABLED 6u
/* nRF52840 anomaly 219 (all revisions): at K400 (0x06400000) the TWIM violates the I2C
 * timing spec; Nordic's workaround, also applied by nrfx, is 390 kHz. Not in the SVD's
 * enum (K100 0x01980000, K250 0x04000000, K400 0x06400000). */
#define TWIM_FREQUENCY_K390 0x06200000u
#define TWIM_MAXCNT_MAX 0xFFFFu /* 16 bits on the nRF52840 */

/* --------------------------------------------------------------------------
 * TIMER1 (0x40009000): the board's timebase (4 CC registers on TIMER0..2)
 * -------------------------------------------------------------------------- */
#define NRF_TIMER1_BASE 0x40009000u
#define TIMER1_TASKS_START NRF_REG32(NRF_TIMER1_BASE, 0x000u)
#define TIMER1_TASKS_STOP NRF_REG32(NRF_TIMER1_BASE, 0x004u)
#define TIMER1_TASKS_CLEAR NRF_REG32(NRF_TIMER1_BASE, 0x00Cu)
#define TIMER1_TASKS_CAPTURE(n) NRF_REG32_N(NRF_TIMER1_BASE, 0x040u, (n))
#define TIMER1_EVENTS_COMPARE(n) NRF_REG32_N(NRF_TIMER1_BASE, 0x140u, (n))
#define TIMER1_SHORTS NRF_REG32(NRF_TIMER1_BASE, 0x200u)
#define TIMER1_INTENSET NRF_REG32(NRF_TIMER1_BASE, 0x304u)
#define TIMER1_INTENCLR NRF_REG32(NRF_TIMER1_BASE, 0x308u)
#define TIMER1_MODE NRF_REG32(NRF_TIMER1_BASE, 0x504u)
#define TIMER1_BITMODE NRF_REG32(NRF_TIMER1_BASE, 0x508u)
#define TIMER1_PRESCALER NRF_REG32(NRF_TIMER1_BASE, 0x510u)
#define TIMER1_CC(n) NRF_REG32_N(NRF_TIMER1_BASE, 0x540u, (n))
#define TIMER_NUM_CC 4u
#define TIMER_INT_COMPARE(n) (1u << (16u + (n)))
#define TIMER_INT_ALL 0xFFFFFFFFu
#define TIMER_MODE_TIMER 0u
#define TIMER_BITMODE_32 3u
#define TIMER_PRESCALER_MAX 9u
/* f_TIMER = 16 MHz / 2^PRESCALER (PRESCALER >= 4 runs from the low-power PCLK1M). */
#define TIMER_BASE_CLOCK_HZ 16000000u

/* --------------------------------------------------------------------------
 * RNG (0x4000D000): true random numbers, used once per cold boot for the boot id
 * -------------------------------------------------------------------------- */
#define NRF_RNG_BASE 0x4000D000u
#define RNG_TASKS_START NRF_REG32(NRF_RNG_BASE, 0x000u)
#define RNG_TASKS_STOP NRF_REG32(NRF_RNG_BASE, 0x004u)
#define RNG_EVENTS_VALRDY NRF_REG32(NRF_RNG_BASE, 0x100u)
#define RNG_SHORTS NRF_REG32(NRF_RNG_BASE, 0x200u)
#define RNG_INTENCLR NRF_REG32(NRF_RNG_BASE, 0x308u)
#define RNG_CONFIG NRF_REG32(NRF_RNG_BASE, 0x504u)
#define RNG_VALUE NRF_REG32(NRF_RNG_BASE, 0x508u)
#define RNG_CONFIG_DERCEN (1u << 0) /* bias correction: slower, but uniform bytes */
#define RNG_VALUE_MASK 0xFFu

/* --------------------------------------------------------------------------
 * RTC1 (0x40011000): not used by this port, but the Arduino bootloader leaves its
 * COMPARE[0] interrupt enabled (ArduinoCore-mbed variant.cpp), so start-up turns
 * it off.
 * -------------------------------------------------------------------------- */
#define NRF_RTC1_BASE 0x40011000u
#define RTC1_TASKS_STOP NRF_REG32(NRF_RTC1_BASE, 0x004u)
#define RTC1_INTENCLR NRF_REG32(NRF_RTC1_BASE, 0x308u)
#define RTC1_EVTENCLR NRF_REG32(NRF_RTC1_BASE, 0x348u)
#define RTC_INT_ALL 0xFFFFFFFFu

/* --------------------------------------------------------------------------
 * NVMC (0x4001E000): only the instruction cache switch
 * -------------------------------------------------------------------------- */
#define NRF_NVMC_BASE 0x4001E000u
#define NVMC_ICACHECNF NRF_REG32(NRF_NVMC_BASE, 0x540u)
#define NVMC_ICACHECNF_CACHEEN (1u << 0)

/* --------------------------------------------------------------------------
 * USBD (0x40027000): not used; the bootloader is a USB device, and if it left the
 * D+ pull-up on, the host would keep seeing a dead bootloader. Start-up switches
 * USBD off.
 * -------------------------------------------------------------------------- */
#define NRF_USBD_BASE 0x40027000u
#define USBD_INTENCLR NRF_REG32(NRF_USBD_BASE, 0x308u)
#define USBD_ENABLE NRF_REG32(NRF_USBD_BASE, 0x500u)
#define USBD_USBPULLUP NRF_REG32(NRF_USBD_BASE, 0x504u)
#define USBD_INT_ALL 0xFFFFFFFFu

/* --------------------------------------------------------------------------
 * GPIO: P0 at 0x50000000, P1 at 0x50000300 (32 + 16 pins)
 * -------------------------------------------------------------------------- */
#define NRF_P0_BASE 0x50000000u
#define NRF_P1_BASE 0x50000300u
#define GPIO_OUTSET(port_base) NRF_REG32((port_base), 0x508u)
#define GPIO_PIN_CNF(port_base, pin) NRF_REG32_N((port_base), 0x700u, (pin))

#define GPIO_PIN_CNF_DIR_OUTPUT (1u << 0)
#define GPIO_PIN_CNF_INPUT_DISCONNECT (1u << 1) /* 0 = input buffer connected */
#define GPIO_PIN_CNF_PULL_UP (3u << 2)
#define GPIO_PIN_CNF_DRIVE_S0D1 (6u << 8) /* standard 0, disconnect 1: open drain for I2C */

/* A pin as PSEL registers and this port number it: pin + 32 * port (PSEL bit 5 is
 * the port); PSEL bit 31 CONNECT = 0 means connected. */
#define NRF_PIN(port, pin) ((uint32_t)(port) * 32u + (uint32_t)(pin))
#define NRF_PIN_PORT_BASE(p) (((p) >= 32u) ? NRF_P1_BASE : NRF_P0_BASE)
#define NRF_PIN_NUMBER(p) ((p) & 31u)
#define NRF_PSEL_DISCONNECTED 0xFFFFFFFFu

/* --------------------------------------------------------------------------
 * FICR (0x10000000): factory information
 * -------------------------------------------------------------------------- */
#define NRF_FICR_BASE 0x10000000u
#define FICR_DEVICEID(n) NRF_REG32_N(NRF_FICR_BASE, 0x060u, (n)) /* n = 0, 1: 64-bit unique id */

/* --------------------------------------------------------------------------
 * Cortex-M4 NVIC (SysTick, SCB, MPU, DHCSR: ../armv7m/armv7m.h)
 * -------------------------------------------------------------------------- */
#define SCS_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define NVIC_ISER(n) SCS_REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) SCS_REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) SCS_REG32(0xE000E280u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))
#define NVIC_REG_INDEX(irq) ((irq) >> 5)
#define NVIC_REG_BIT(irq) (1u << ((irq) & 31u))
#define NVIC_NUM_REGS ((NRF_NUM_IRQS + 31u) / 32u)
/* Priority p (0 = most urgent) as the byte NVIC_IPR holds: the top bits only. */
#define NVIC_PRIORITY(p) ((uint8_t)((p) << (8u - NRF_NVIC_PRIO_BITS)))

/* FPSCR cumulative exception flags IOC, DZC, OFC, UFC, IXC (bits 0..4) and IDC (7). */
#define FPSCR_EXCEPTION_FLAGS 0x9Fu

/* --------------------------------------------------------------------------
 * Arduino Nano 33 BLE (Sense) wiring (ArduinoCore-mbed variants/ARDUINO_NANO33BLE)
 * -------------------------------------------------------------------------- */
/* Header serial ("Serial1"): the pins silk-screened TX and RX. */
#define NANO33BLE_PIN_UART_TX NRF_PIN(1, 3)
#define NANO33BLE_PIN_UART_RX NRF_PIN(1, 10)
/* Sense: on-board sensor I2C bus ("Wire1"), its pull-ups (powered from P1.00, which
 * is also the SWO trace pin) and the sensors' 3.3 V switch (VDD_ENV). */
#define NANO33BLE_PIN_I2C_INT_SDA NRF_PIN(0, 14)
#define NANO33BLE_PIN_I2C_INT_SCL NRF_PIN(0, 15)
#define NANO33BLE_PIN_I2C_PULLUP NRF_PIN(1, 0)
#define NANO33BLE_PIN_VDD_ENV NRF_PIN(0, 22)
/* Header I2C ("Wire", A4 = SDA, A5 = SCL): external parts, external pull-ups. */
#define NANO33BLE_PIN_I2C_EXT_SDA NRF_PIN(0, 31)
#define NANO33BLE_PIN_I2C_EXT_SCL NRF_PIN(0, 2)

/* --------------------------------------------------------------------------
 * Port-internal glue
 * -------------------------------------------------------------------------- */

/* Boot record, first thing in RAM (section .noinit.nano33ble_boot). Reset_Handler
 * does not clear it, so it survives a reset IF the bootloader, which runs first on
 * every reset, leaves those bytes alone (not verified, see README). When it does not
 * survive, the seed is drawn afresh from the RNG, so boot ids still differ. */
typedef struct {
    uint32_t magic;       /* NANO33BLE_BOOT_MAGIC once initialised */
    uint32_t count;       /* boots since the record was (re)initialised */
    uint32_t count_check; /* ~count: a torn or stray record is not trusted */
    uint32_t seed;        /* RNG ^ FICR ^ RESETREAS, drawn when the record is (re)initialised */
} nano33ble_boot_record_t;
extern nano33ble_boot_record_t nano33ble_boot_record;

/* Vector table handlers implemented in board_nano33ble.c. */
void UARTE0_UART0_IRQHandler(void);
void TIMER1_IRQHandler(void);

/* Best-effort bytes on UARTE0 for fatal paths: usable before board_init, bounded by
 * spin counts (no interrupts, no timer), never blocks forever. */
void nano33ble_panic_write(const uint8_t *buf, size_t len);

/* Why the chip last reset: POWER.RESETREAS as board_init found it (bits above;
 * 0 = power-on or brown-out). board_init clears the register afterwards. */
uint32_t nano33ble_reset_reason(void);

/* Serial diagnostics since board_init (there is no slot for them in board.h). */
typedef struct {
    uint32_t rx_dropped;     /* bytes lost because the RX ring was full */
    uint32_t rx_line_errors; /* ERROR events: overrun, parity, framing, break */
    uint32_t tx_timeouts;    /* TX DMA chunks that never ended (should stay 0) */
} nano33ble_serial_counters_t;
void nano33ble_serial_counters(nano33ble_serial_counters_t *out);

/* Minimal blocking I2C master on TWIM0, for sensor drivers while a portable i2c
 * interface is designed. Every call is bounded by NANO33BLE_I2C_TIMEOUT_US. */
#define NANO33BLE_I2C_READ_MAX 255u /* a sensor FIFO burst (LSM9DS1: 32 x 6 bytes) fits */
#define NANO33BLE_I2C_WRITE_MAX 32u /* register writes are a few bytes */
/* 255 bytes at 390 kHz take 5.9 ms; the rest is room for clock stretching. */
#define NANO33BLE_I2C_TIMEOUT_US 20000u

typedef enum {
    NANO33BLE_I2C_BUS_INTERNAL, /* Sense on-board sensors: P0.14 SDA, P0.15 SCL */
    NANO33BLE_I2C_BUS_HEADER,   /* header A4 = P0.31 SDA, A5 = P0.02 SCL */
} nano33ble_i2c_bus_t;

typedef enum {
    NANO33BLE_I2C_OK = 0,
    NANO33BLE_I2C_ERR_ARG,     /* bad address/length, buffer not in RAM, or not initialised */
    NANO33BLE_I2C_ERR_NACK,    /* address or data byte not acknowledged */
    NANO33BLE_I2C_ERR_TIMEOUT, /* bus stuck (e.g. SCL held low, no pull-ups) */
    NANO33BLE_I2C_ERR_BUS,     /* any other TWIM error (overrun) */
} nano33ble_i2c_status_t;

/* Route TWIM0 to a bus at 390 kHz (anomaly 219); nothing to do when it is routed there
 * already, so the sensor glue (sensors_nano33ble.c) calls it before every transfer and
 * one TWIM serves both buses. The first time on the internal bus it also switches on
 * the sensors' supply and the pull-ups and waits for the sensors to power up. Call
 * after board_init (it uses the timebase). */
void nano33ble_i2c_init(nano33ble_i2c_bus_t bus);
/* Busy-wait at least us microseconds on the board's timebase (after board_init). */
void nano33ble_delay_us(uint32_t us);
/* Read len (1..NANO33BLE_I2C_READ_MAX) bytes starting at register reg of the 7-bit
 * address addr (write reg, repeated start, read). buf must be in RAM: EasyDMA writes
 * it directly. */
nano33ble_i2c_status_t nano33ble_i2c_read(uint8_t addr, uint8_t reg, uint8_t *buf, size_t len);
/* Write len (0..NANO33BLE_I2C_WRITE_MAX) bytes starting at register reg (one
 * transfer: reg, then the bytes; copied to RAM first, so buf may be in flash). */
nano33ble_i2c_status_t nano33ble_i2c_write(uint8_t addr, uint8_t reg, const uint8_t *buf, size_t len);

#endif /* NANO33BLE_NRF52840_H */
