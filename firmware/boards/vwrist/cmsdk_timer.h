/*
 * ARM CMSDK APB timer registers (DDI0479), as modelled by QEMU
 * hw/timer/cmsdk-apb-timer.c: a 32-bit down counter clocked by PCLK
 * (25 MHz on mps2), reloading from RELOAD after holding 0 for one cycle.
 * With RELOAD = 0xFFFFFFFF it is a free-running counter of period 2^32.
 */
#ifndef VWRIST_CMSDK_TIMER_H
#define VWRIST_CMSDK_TIMER_H

#include <stdint.h>

typedef struct {
    volatile uint32_t CTRL;      /* 0x00 */
    volatile uint32_t VALUE;     /* 0x04 current count (down) */
    volatile uint32_t RELOAD;    /* 0x08 writing it also loads VALUE */
    volatile uint32_t INTSTATUS; /* 0x0C read: status, write 1: clear */
} cmsdk_timer_t;

#define CMSDK_TIMER0_BASE 0x40000000u
#define CMSDK_TIMER0 ((cmsdk_timer_t *)(uintptr_t)CMSDK_TIMER0_BASE)

#define CMSDK_TIMER_CTRL_EN (1u << 0)
#define CMSDK_TIMER_CTRL_IRQEN (1u << 3)
#define CMSDK_TIMER_INT (1u << 0)

#define CMSDK_TIMER_FREE_RUN_RELOAD 0xFFFFFFFFu

#endif /* VWRIST_CMSDK_TIMER_H */
