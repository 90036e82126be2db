/*
 * ARM CMSDK APB UART registers (Cortex-M System Design Kit TRM, DDI0479),
 * as modelled by QEMU hw/char/cmsdk-apb-uart.c.
 *
 * Facts of the QEMU model that the vwrist driver relies on:
 * - one byte of RX buffer and no FIFO; QEMU only hands the next byte from the
 *   chardev to the UART when STATE.RXFULL is clear, so a guest that simply
 *   stops reading DATA holds the host back instead of losing bytes;
 * - INTSTATUS.RX is set on each received byte and cleared ONLY by writing 1
 *   to it (reading DATA does not clear it), and the IRQ line is level;
 * - a write to DATA is pushed to the chardev at once; TXFULL stays set while
 *   the host side (pty) is full;
 * - BAUDDIV < 16 means "not programmed" (QEMU logs a guest error on TX enable).
 */
#ifndef VWRIST_CMSDK_UART_H
#define VWRIST_CMSDK_UART_H

#include <stdint.h>

typedef struct {
    volatile uint32_t DATA;      /* 0x00 RX read / TX write, bits [7:0] */
    volatile uint32_t STATE;     /* 0x04 status; overrun bits are write-1-to-clear */
    volatile uint32_t CTRL;      /* 0x08 enables */
    volatile uint32_t INTSTATUS; /* 0x0C read: status, write 1: clear (INTCLEAR) */
    volatile uint32_t BAUDDIV;   /* 0x10 PCLK / baud, >= 16 */
} cmsdk_uart_t;

#define CMSDK_UART0_BASE 0x40004000u
#define CMSDK_UART0 ((cmsdk_uart_t *)(uintptr_t)CMSDK_UART0_BASE)

#define CMSDK_UART_STATE_TXFULL (1u << 0)
#define CMSDK_UART_STATE_RXFULL (1u << 1)
#define CMSDK_UART_STATE_TXOVR (1u << 2)
#define CMSDK_UART_STATE_RXOVR (1u << 3)

#define CMSDK_UART_CTRL_TX_EN (1u << 0)
#define CMSDK_UART_CTRL_RX_EN (1u << 1)
#define CMSDK_UART_CTRL_TX_INTEN (1u << 2)
#define CMSDK_UART_CTRL_RX_INTEN (1u << 3)
#define CMSDK_UART_CTRL_TXO_INTEN (1u << 4)
#define CMSDK_UART_CTRL_RXO_INTEN (1u << 5)

#define CMSDK_UART_INT_TX (1u << 0)
#define CMSDK_UART_INT_RX (1u << 1)
#define CMSDK_UART_INT_TXO (1u << 2)
#define CMSDK_UART_INT_RXO (1u << 3)

/* Smallest legal divider: the fastest line rate the FPGA UART supports
 * (25 MHz / 16 = 1.5625 Mbaud). QEMU does not pace bytes by it on a pty. */
#define CMSDK_UART_BAUDDIV_MIN 16u

#endif /* VWRIST_CMSDK_UART_H */
