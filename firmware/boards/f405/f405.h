/*
 * f405 port-internal definitions: shared by startup_f405.c and board_f405.c,
 * never included by the core or the app (they only see board.h).
 *
 * Register addresses and bits are written out by hand from the STM32F405/407
 * reference manual (RM0090) and the Cortex-M4 generic user guide. There is no
 * CMSIS or vendor header, so the port builds with nothing but arm-none-eabi-gcc
 * and newlib. Only the registers and bits this port uses are listed.
 */
#ifndef F405_H
#define F405_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../armv7m/armv7m.h"
#include "../armv7m/armv7m_runtime.h"

#define F405_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- clocks ---------------------------------------------------------------
 * Real silicon starts on the 16 MHz HSI. The port then tries HSI -> PLL ->
 * 168 MHz (see board_f405.c) and stays on HSI if a ready bit never comes.
 * QEMU's netduinoplus2 has no RCC model, so its registers read as 0. It clocks
 * the CPU and SysTick (CLKSOURCE = 1) at a fixed 168 MHz (hw/arm/netduinoplus2.c
 * SYSCLK_FRQ; measured: 336 001 SysTick counts per 2 000 000 instructions under
 * -icount shift=0). */
#define F405_HSI_HZ 16000000u
#define F405_PLL_SYSCLK_HZ 168000000u
#define F405_QEMU_SYSCLK_HZ 168000000u

/* PLL from HSI: VCO in = 16 MHz / M = 2 MHz (RM0090 recommends 2 MHz to limit
 * jitter), VCO out = 2 MHz * N = 336 MHz, SYSCLK = VCO / P = 168 MHz, and
 * 48 MHz clock = VCO / Q = 48 MHz (USB/SDIO/RNG, unused here). The HSI source
 * does not depend on which crystal a board has. */
#define F405_PLL_M 8u
#define F405_PLL_N 168u
#define F405_PLL_P 2u
#define F405_PLL_Q 7u
_Static_assert(F405_HSI_HZ / F405_PLL_M * F405_PLL_N / F405_PLL_P == F405_PLL_SYSCLK_HZ,
               "PLL factors must give 168 MHz");

/* Bus clocks at 168 MHz: AHB /1, APB1 /4 = 42 MHz (its maximum), APB2 /2 =
 * 84 MHz (its maximum). USART1 is on APB2. */
#define F405_APB2_DIV_AT_PLL 2u

/* Flash wait states for 168 MHz at 2.7-3.6 V (RM0090 table 10: 150 < HCLK <= 168 -> 5 WS). */
#define F405_FLASH_LATENCY_AT_PLL 5u

/* ---- RCC (0x40023800, RM0090 section 7.3) ---- */
#define RCC_BASE 0x40023800u
#define RCC_CR F405_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR F405_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR F405_REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR F405_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR F405_REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR F405_REG32(RCC_BASE + 0x44u)

#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)

#define RCC_PLLCFGR_PLLM_POS 0u /* [5:0] */
#define RCC_PLLCFGR_PLLN_POS 6u /* [14:6] */
#define RCC_PLLCFGR_PLLP_POS 16u /* [17:16]: 00 = /2, 01 = /4, 10 = /6, 11 = /8 */
#define RCC_PLLCFGR_PLLSRC_HSE (1u << 22) /* 0 = HSI */
#define RCC_PLLCFGR_PLLQ_POS 24u /* [27:24] */
/* The fields this port sets; other bits are reserved and keep their reset value. */
#define RCC_PLLCFGR_FIELDS ((0x3Fu << RCC_PLLCFGR_PLLM_POS) | (0x1FFu << RCC_PLLCFGR_PLLN_POS) | \
                            (0x3u << RCC_PLLCFGR_PLLP_POS) | RCC_PLLCFGR_PLLSRC_HSE |          \
                            (0xFu << RCC_PLLCFGR_PLLQ_POS))

#define RCC_CFGR_SW_MASK (3u << 0)
#define RCC_CFGR_SW_HSI (0u << 0)
#define RCC_CFGR_SW_PLL (2u << 0)
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_HSI (0u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4) /* 0xxx = AHB /1 */
#define RCC_CFGR_PPRE1_MASK (7u << 10)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_MASK (7u << 13)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_CFGR_BUS_MASK (RCC_CFGR_HPRE_MASK | RCC_CFGR_PPRE1_MASK | RCC_CFGR_PPRE2_MASK)

/* True when no RCC answers: on silicon HSIRDY reads 1 from reset on (the HSI
 * is the reset clock and this port never turns it off), while QEMU's
 * netduinoplus2 maps the RCC as an unimplemented device that reads 0. */
static inline bool f405_rcc_emulated(void)
{
    return (RCC_CR & RCC_CR_HSIRDY) == 0u;
}

#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_APB2ENR_USART1EN (1u << 4)

/* Polls of a ready bit before giving up. PLL lock takes at most a few hundred
 * microseconds; 200 000 polls are several milliseconds even at 168 MHz, and
 * at QEMU's 1 ns per instruction they cost under 2 ms of virtual time. */
#define F405_CLOCK_READY_POLLS 200000u

/* ---- PWR (0x40007000): voltage scale 1 is needed for 168 MHz ---- */
#define PWR_BASE 0x40007000u
#define PWR_CR F405_REG32(PWR_BASE + 0x00u)
#define PWR_CR_VOS (1u << 14) /* STM32F405/407: 1 = scale 1 (also its reset value) */

/* ---- Flash interface (0x40023C00, RM0090 section 3.9) ---- */
#define FLASH_IF_BASE 0x40023C00u
#define FLASH_ACR F405_REG32(FLASH_IF_BASE + 0x00u)
#define FLASH_ACR_LATENCY_MASK (7u << 0)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

/* ---- GPIOA (0x40020000): USART1 TX = PA9, RX = PA10, alternate function 7 ---- */
#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER F405_REG32(GPIOA_BASE + 0x00u)
#define GPIOA_OSPEEDR F405_REG32(GPIOA_BASE + 0x08u)
#define GPIOA_PUPDR F405_REG32(GPIOA_BASE + 0x0Cu)
#define GPIOA_AFRH F405_REG32(GPIOA_BASE + 0x24u) /* pins 8..15, 4 bits each */
#define GPIO_MODE_AF 2u
#define GPIO_SPEED_HIGH 2u
#define GPIO_PULL_UP 1u
#define F405_USART1_TX_PIN 9u
#define F405_USART1_RX_PIN 10u
#define F405_USART1_AF 7u

/* ---- USART1 (0x40011000, APB2; RM0090 section 30.6) ---- */
#define USART1_BASE 0x40011000u
#define USART1_SR F405_REG32(USART1_BASE + 0x00u)
#define USART1_DR F405_REG32(USART1_BASE + 0x04u)
#define USART1_BRR F405_REG32(USART1_BASE + 0x08u)
#define USART1_CR1 F405_REG32(USART1_BASE + 0x0Cu)
#define USART1_CR2 F405_REG32(USART1_BASE + 0x10u)
#define USART1_CR3 F405_REG32(USART1_BASE + 0x14u)

#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TC (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)

/* 8N1 at this rate (QEMU ignores BRR and does not pace bytes on a pty). */
#define F405_BAUD 115200u

/* ---- interrupts ---- */
/* STM32F405 external IRQ lines (RM0090 table 61: positions 0..81). QEMU's
 * stm32f405-soc gives its NVIC 96 lines, but nothing drives those above 81. */
#define F405_NUM_IRQS 82u
#define F405_IRQ_USART1 37u

/* ---- NVIC (SysTick, SCB, MPU: ../armv7m/armv7m.h) ---- */
/* NVIC registers for IRQ n: word n / 32, bit n % 32. */
#define NVIC_ISER(n) F405_REG32(0xE000E100u + 4u * ((n) / 32u))
#define NVIC_ICER(n) F405_REG32(0xE000E180u + 4u * ((n) / 32u))
#define NVIC_ISPR(n) F405_REG32(0xE000E200u + 4u * ((n) / 32u))
#define NVIC_ICPR(n) F405_REG32(0xE000E280u + 4u * ((n) / 32u))
#define NVIC_BIT(n) (1u << ((n) % 32u))

/* Process exit statuses seen by whoever runs QEMU: main's return value as is,
 * a fault as 128 + exception number (3 = HardFault, 16 + n = IRQ n) so that a
 * crash is never mistaken for a clean exit. */
#define F405_EXIT_FAULT_BASE 128u

/* End the QEMU process via ARM semihosting (needs -semihosting-config
 * enable=on,target=native). Falls back to a WFI loop if it returns. On real
 * silicon without a debugger, BKPT is a HardFault, so do not call it there
 * outside the fault path (which then parks). */
void f405_exit(uint32_t status) __attribute__((noreturn));

/* Best-effort bytes on USART1 for fatal paths; bounded, never blocks forever. */
void f405_panic_write(const uint8_t *buf, size_t len);

/* Boot record, first thing in SRAM (0x20000000, section .noinit.f405_boot):
 * survives guest resets because QEMU keeps RAM and Reset_Handler does not
 * clear .noinit. The launcher may preset host_seed on every reset with
 *   -device loader,addr=0x2000000c,data=<u32>,data-len=4
 * so that separate QEMU processes do not repeat the same boot ids. Same
 * layout and address as vwrist's record (magic differs). */
typedef struct {
    uint32_t magic;       /* F405_BOOT_MAGIC once initialised */
    uint32_t count;       /* boots since this QEMU process started (or power-up) */
    uint32_t count_check; /* ~count: a torn or stray record is not trusted */
    uint32_t host_seed;   /* 0 unless preset by the launcher */
} f405_boot_record_t;
#define F405_SRAM_BASE 0x20000000u
#define F405_BOOT_SEED_ADDR 0x2000000Cu
extern f405_boot_record_t f405_boot_record;

void SysTick_Handler(void);
void USART1_IRQHandler(void);

#endif /* F405_H */
