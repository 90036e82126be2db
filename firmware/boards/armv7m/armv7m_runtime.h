/*
 * The C run-time start and the stack's watermark that every Cortex-M4 port shares (vwrist, f405, nano33ble). The
 * port's reset handler calls the steps in this order, with its own steps in between where its part needs them (the
 * nano33ble quiets the bootloader's peripherals before painting, turns its instruction cache on and clears the
 * bootloader's MPU regions before the guard):
 *
 *     armv7m_enable_fpu(); SCB_VTOR = ...; armv7m_paint_stack(); armv7m_init_data_bss(); armv7m_trap_faults();
 *     armv7m_guard_stack(); armv7m_run_constructors(); app_main();
 *
 * The linker symbols below are defined by each port's .ld under these names. Port-internal: included by the ports'
 * startup and board files, never by the core or the app.
 */
#ifndef ARMV7M_RUNTIME_H
#define ARMV7M_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "armv7m.h"

/* Linker script symbols. Only their addresses are meaningful. */
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
extern uint32_t __isr_vector_start[];

/* Constructor tables; vigil's C has none today, but a library might. */
typedef void (*armv7m_init_fn_t)(void);
extern armv7m_init_fn_t __preinit_array_start[], __preinit_array_end[];
extern armv7m_init_fn_t __init_array_start[], __init_array_end[];

/* Read-only MPU region at the bottom of the stack: a push into it is a MemManage fault instead of silent corruption
 * of the RAM below. 32 bytes is the smallest MPU region; it catches frames that grow into it, not a single frame
 * larger than the guard that jumps over it. Read-only rather than no-access so the fault handler may still read an
 * exception frame that landed there. The linker scripts align __stack_bottom to 32 bytes as the MPU requires. */
#define ARMV7M_STACK_GUARD_LOG2 5u
#define ARMV7M_STACK_GUARD_BYTES (1u << ARMV7M_STACK_GUARD_LOG2)

/* Word written over the whole free stack at boot; the deepest word that no longer holds it marks the high-water
 * line. */
#define ARMV7M_STACK_PAINT 0xC0FFEE5Au

/* FPU access first: with -mfloat-abi=hard the compiler may use FP registers in any function (even memcpy-like code),
 * and touching them while CP10/CP11 are off is a UsageFault (NOCP). */
static inline __attribute__((always_inline)) void armv7m_enable_fpu(void)
{
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    __asm volatile("dsb\n\tisb" ::: "memory");
}

/* Paint the free stack, from its bottom up to (not including) the current SP: everything at and above SP is the reset
 * handler's own frame, which is why this is always inlined into it. Volatile stores stop GCC from turning the loop
 * into a memset() call, whose frame would sit in the very words being painted. */
static inline __attribute__((always_inline)) void armv7m_paint_stack(void)
{
    uintptr_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = __stack_bottom; (uintptr_t)p < sp; ++p) {
        *p = ARMV7M_STACK_PAINT;
    }
}

/* .data copied from its image in flash, .bss zeroed (.noinit is left alone on purpose). */
static inline __attribute__((always_inline)) void armv7m_init_data_bss(void)
{
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end; ++dst, ++src) {
        *dst = *src;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end; ++dst) {
        *dst = 0u;
    }
}

/* Divide-by-zero traps (the native build would SIGFPE, so every board agrees), and MemManage/BusFault/UsageFault get
 * their own vectors so the fault report names the real cause instead of an escalated HardFault. */
static inline void armv7m_trap_faults(void)
{
    SCB_CCR |= SCB_CCR_DIV_0_TRP;
    SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
}

/* The stack guard in MPU region 0, the default memory map for everything else. */
static inline void armv7m_guard_stack(void)
{
    MPU_RNR = 0u;
    MPU_RBAR = (uint32_t)(uintptr_t)__stack_bottom;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_RO | MPU_RASR_C | MPU_RASR_B | MPU_RASR_SIZE(ARMV7M_STACK_GUARD_LOG2) |
               MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
    __asm volatile("dsb\n\tisb" ::: "memory");
}

static inline void armv7m_run_constructors(void)
{
    for (armv7m_init_fn_t *fn = __preinit_array_start; fn < __preinit_array_end; ++fn) {
        (*fn)();
    }
    for (armv7m_init_fn_t *fn = __init_array_start; fn < __init_array_end; ++fn) {
        (*fn)();
    }
}

/* The usable stack starts above the MPU guard; the guard is never written. */
static inline const uint32_t *armv7m_stack_usable_bottom(void)
{
    return __stack_bottom + ARMV7M_STACK_GUARD_BYTES / sizeof(uint32_t);
}

/* board_stack_high_water: the deepest stack use since boot, in bytes. */
static inline size_t armv7m_stack_high_water(void)
{
    const uint32_t *p = armv7m_stack_usable_bottom();
    while (p < __stack_top && *p == ARMV7M_STACK_PAINT) {
        ++p;
    }
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

/* board_stack_size: the usable stack, in bytes. */
static inline size_t armv7m_stack_size(void)
{
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)armv7m_stack_usable_bottom());
}

#endif /* ARMV7M_RUNTIME_H */
