/*
 * vwrist port-internal definitions: shared by startup_vwrist.c and board_vwrist.c,
 * never included by the core or the app (they only see board.h).
 *
 * Register addresses are spelled out here instead of pulling in CMSIS so the
 * port builds with nothing but arm-none-eabi-gcc + newlib.
 */
#ifndef VWRIST_H
#define VWRIST_H

#include <stddef.h>
#include <stdint.h>

#include "../armv7m/armv7m.h"
#include "../armv7m/armv7m_runtime.h"

/* QEMU mps2.c: SYSCLK_FRQ drives the CPU ("cpuclk") and so SysTick with
 * CLKSOURCE=1; "refclk" (CLKSOURCE=0) is only 1 MHz. */
#define VWRIST_SYSCLK_HZ 25000000u

/* External IRQ numbers (NVIC lines) on mps2-an385/an386, from QEMU mps2.c:
 * each CMSDK UART has an RX line and TX = RX + 1; the overflow lines of
 * UART0..2 are ORed into one. */
#define VWRIST_IRQ_UART0_RX 0u
#define VWRIST_IRQ_UART0_TX 1u
#define VWRIST_IRQ_UART1_RX 2u
#define VWRIST_IRQ_UART1_TX 3u
#define VWRIST_IRQ_UART2_RX 4u
#define VWRIST_IRQ_UART2_TX 5u
#define VWRIST_IRQ_TIMER0 8u
#define VWRIST_IRQ_TIMER1 9u
#define VWRIST_IRQ_DUALTIMER 10u
#define VWRIST_IRQ_UART_OVF 12u
#define VWRIST_IRQ_ETHERNET 13u
#define VWRIST_IRQ_UART3_RX 18u
#define VWRIST_IRQ_UART3_TX 19u
#define VWRIST_IRQ_UART4_RX 20u
#define VWRIST_IRQ_UART4_TX 21u
#define VWRIST_NUM_IRQS 32u /* QEMU sets num-irq = 32 for an385/an386 */

/* NVIC (SysTick, SCB, MPU: ../armv7m/armv7m.h). */
#define VWRIST_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define NVIC_ISER0 VWRIST_REG32(0xE000E100u)
#define NVIC_ICER0 VWRIST_REG32(0xE000E180u)
#define NVIC_ISPR0 VWRIST_REG32(0xE000E200u)
#define NVIC_ICPR0 VWRIST_REG32(0xE000E280u)

/* Process exit statuses seen by whoever runs QEMU: main's return value as is,
 * a fault as 128 + exception number (3 = HardFault, 16 + n = IRQ n) so that a
 * crash is never mistaken for a clean exit. */
#define VWRIST_EXIT_FAULT_BASE 128u

/* End the QEMU process via ARM semihosting (needs -semihosting-config
 * enable=on,target=native). Falls back to a WFI loop if it returns. */
void vwrist_exit(uint32_t status) __attribute__((noreturn));

/* Best-effort bytes on UART0 for fatal paths; bounded, never blocks forever. */
void vwrist_panic_write(const uint8_t *buf, size_t len);

/* Boot record, first thing in RAM (0x20000000, section .noinit.vwrist_boot):
 * survives guest resets because QEMU keeps RAM and Reset_Handler does not
 * clear .noinit. The launcher may preset host_seed on every reset with
 *   -device loader,addr=0x2000000c,data=<u32>,data-len=4
 * so that separate QEMU processes do not repeat the same boot ids. */
typedef struct {
    uint32_t magic;       /* VWRIST_BOOT_MAGIC once initialised */
    uint32_t count;       /* boots since this QEMU process started */
    uint32_t count_check; /* ~count: a torn or stray record is not trusted */
    uint32_t host_seed;   /* 0 unless preset by the launcher */
} vwrist_boot_record_t;
#define VWRIST_BOOT_SEED_ADDR 0x2000000Cu
extern vwrist_boot_record_t vwrist_boot_record;

void SysTick_Handler(void);
void UARTRX0_Handler(void);

#endif /* VWRIST_H */
