/*
 * f405 startup: vector table, Reset_Handler, fault handling, semihosting exit.
 *
 * Written in C (plus a few lines of inline assembly) instead of the usual
 * startup_*.s so the whole port is readable in one language and builds with
 * the same flags as the rest of the firmware.
 */
#include <stddef.h>
#include <stdint.h>

#include "f405.h"

/* app_main (board.h) is the firmware; this port only brings the chip up and calls it. */
#include "board.h"
void Reset_Handler(void) __attribute__((noreturn));
void f405_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp)
    __attribute__((noreturn, used));
static void fault_entry(void);

/* ARM semihosting (ARM IHI 0056 / DUI0471): operation numbers and the
 * reason code that QEMU maps to a normal application exit. */
#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* Room for "f405 FAULT" + eight "name=xxxxxxxx" fields + framing. */

/* --------------------------------------------------------------------------
 * Vector table
 *
 * Every exception the port does not handle on purpose (NMI, faults, SVC,
 * PendSV, DebugMon, unused IRQs) goes to fault_entry: on this board any of
 * them is a bug, and it must end the QEMU process with a failing status
 * instead of hanging a test run.
 * -------------------------------------------------------------------------- */
void NMI_Handler(void) __attribute__((weak, alias("fault_entry")));
void HardFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void MemManage_Handler(void) __attribute__((weak, alias("fault_entry")));
void BusFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void UsageFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void SVC_Handler(void) __attribute__((weak, alias("fault_entry")));
void DebugMon_Handler(void) __attribute__((weak, alias("fault_entry")));
void PendSV_Handler(void) __attribute__((weak, alias("fault_entry")));
void Default_IRQHandler(void) __attribute__((weak, alias("fault_entry")));

/* The first entry is a stack address, the rest are code addresses; a union
 * keeps both without casting an object pointer to a function pointer. */
typedef union {
    void (*handler)(void);
    uint32_t *stack_top;
} vector_entry_t;

#define F405_NUM_SYSTEM_VECTORS 16u

/* Each unused IRQ line by its number: a line listed twice is a warning
 * (-Woverride-init, in -Wextra), a line left out is a null vector. */
#define F405_DEFAULT_IRQ(n) [F405_NUM_SYSTEM_VECTORS + (n)] = {.handler = Default_IRQHandler}

__attribute__((section(".isr_vector"), used))
const vector_entry_t f405_vector_table[F405_NUM_SYSTEM_VECTORS + F405_NUM_IRQS] = {
    [0] = {.stack_top = __stack_top},
    [1] = {.handler = Reset_Handler},
    [2] = {.handler = NMI_Handler},
    [3] = {.handler = HardFault_Handler},
    [4] = {.handler = MemManage_Handler},
    [5] = {.handler = BusFault_Handler},
    [6] = {.handler = UsageFault_Handler},
    /* 7..10 reserved (0) */
    [11] = {.handler = SVC_Handler},
    [12] = {.handler = DebugMon_Handler},
    /* 13 reserved */
    [14] = {.handler = PendSV_Handler},
    [15] = {.handler = SysTick_Handler},

    [F405_NUM_SYSTEM_VECTORS + F405_IRQ_USART1] = {.handler = USART1_IRQHandler},

    F405_DEFAULT_IRQ(0), F405_DEFAULT_IRQ(1), F405_DEFAULT_IRQ(2), F405_DEFAULT_IRQ(3), F405_DEFAULT_IRQ(4), F405_DEFAULT_IRQ(5),
    F405_DEFAULT_IRQ(6), F405_DEFAULT_IRQ(7), F405_DEFAULT_IRQ(8), F405_DEFAULT_IRQ(9), F405_DEFAULT_IRQ(10), F405_DEFAULT_IRQ(11),
    F405_DEFAULT_IRQ(12), F405_DEFAULT_IRQ(13), F405_DEFAULT_IRQ(14), F405_DEFAULT_IRQ(15), F405_DEFAULT_IRQ(16), F405_DEFAULT_IRQ(17),
    F405_DEFAULT_IRQ(18), F405_DEFAULT_IRQ(19), F405_DEFAULT_IRQ(20), F405_DEFAULT_IRQ(21), F405_DEFAULT_IRQ(22), F405_DEFAULT_IRQ(23),
    F405_DEFAULT_IRQ(24), F405_DEFAULT_IRQ(25), F405_DEFAULT_IRQ(26), F405_DEFAULT_IRQ(27), F405_DEFAULT_IRQ(28), F405_DEFAULT_IRQ(29),
    F405_DEFAULT_IRQ(30), F405_DEFAULT_IRQ(31), F405_DEFAULT_IRQ(32), F405_DEFAULT_IRQ(33), F405_DEFAULT_IRQ(34), F405_DEFAULT_IRQ(35),
    F405_DEFAULT_IRQ(36), F405_DEFAULT_IRQ(38), F405_DEFAULT_IRQ(39), F405_DEFAULT_IRQ(40), F405_DEFAULT_IRQ(41), F405_DEFAULT_IRQ(42),
    F405_DEFAULT_IRQ(43), F405_DEFAULT_IRQ(44), F405_DEFAULT_IRQ(45), F405_DEFAULT_IRQ(46), F405_DEFAULT_IRQ(47), F405_DEFAULT_IRQ(48),
    F405_DEFAULT_IRQ(49), F405_DEFAULT_IRQ(50), F405_DEFAULT_IRQ(51), F405_DEFAULT_IRQ(52), F405_DEFAULT_IRQ(53), F405_DEFAULT_IRQ(54),
    F405_DEFAULT_IRQ(55), F405_DEFAULT_IRQ(56), F405_DEFAULT_IRQ(57), F405_DEFAULT_IRQ(58), F405_DEFAULT_IRQ(59), F405_DEFAULT_IRQ(60),
    F405_DEFAULT_IRQ(61), F405_DEFAULT_IRQ(62), F405_DEFAULT_IRQ(63), F405_DEFAULT_IRQ(64), F405_DEFAULT_IRQ(65), F405_DEFAULT_IRQ(66),
    F405_DEFAULT_IRQ(67), F405_DEFAULT_IRQ(68), F405_DEFAULT_IRQ(69), F405_DEFAULT_IRQ(70), F405_DEFAULT_IRQ(71), F405_DEFAULT_IRQ(72),
    F405_DEFAULT_IRQ(73), F405_DEFAULT_IRQ(74), F405_DEFAULT_IRQ(75), F405_DEFAULT_IRQ(76), F405_DEFAULT_IRQ(77), F405_DEFAULT_IRQ(78),
    F405_DEFAULT_IRQ(79), F405_DEFAULT_IRQ(80), F405_DEFAULT_IRQ(81),
};

_Static_assert(F405_NUM_IRQS == 82u, "vector table lists exactly 82 IRQ entries (0..81)");
_Static_assert(F405_IRQ_USART1 == 37u, "the default list above skips line 37 for USART1");

/* --------------------------------------------------------------------------
 * Reset
 * -------------------------------------------------------------------------- */
void Reset_Handler(void)
{
    armv7m_enable_fpu();
    /* The core boots through the alias of flash at 0 (VTOR resets to 0).
     * Pointing VTOR at the table's real address keeps the vectors right even
     * if something remaps address 0 (SYSCFG_MEMRMP, BOOT pins). */
    SCB_VTOR = (uint32_t)(uintptr_t)__isr_vector_start;
    armv7m_paint_stack();
    armv7m_init_data_bss();
    armv7m_trap_faults();
    armv7m_guard_stack();
    armv7m_run_constructors();

    int status = app_main();
    f405_exit((uint32_t)status);
}

/* --------------------------------------------------------------------------
 * Semihosting exit
 * -------------------------------------------------------------------------- */
void f405_exit(uint32_t status)
{
    /* On silicon with no debugger attached, BKPT is a HardFault (and a
     * lockup inside the fault handler), so there the board just parks. QEMU
     * (recognised by its missing RCC, see f405.h) and an attached debugger
     * both take the semihosting call. */
    if (!f405_rcc_emulated() && (DHCSR & DHCSR_C_DEBUGEN) == 0u) {
        __asm volatile("cpsid i" ::: "memory");
        for (;;) {
            __asm volatile("wfi");
        }
    }

    /* SYS_EXIT_EXTENDED carries the status on AArch32; plain SYS_EXIT would
     * only distinguish "application exit" (0) from anything else (1). */
    static volatile uint32_t block[2];
    block[0] = SEMIHOST_ADP_STOPPED_APPLICATION_EXIT;
    block[1] = status;

    register uint32_t r0 __asm("r0") = SEMIHOST_SYS_EXIT_EXTENDED;
    register uint32_t r1 __asm("r1") = (uint32_t)(uintptr_t)block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");

    /* Only reached if the host ignored the request (old semihosting
     * implementations): try the basic call, then park. */
    r0 = SEMIHOST_SYS_EXIT;
    r1 = (status == 0u) ? SEMIHOST_ADP_STOPPED_APPLICATION_EXIT : 0u;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

/* --------------------------------------------------------------------------
 * Faults
 *
 * fault_entry grabs the faulting PC/LR from the exception frame, then moves
 * SP back to the top of the stack before calling C: if the fault was a stack
 * overflow, the handler's own pushes would fault again and lock the core up.
 * The frame is read before SP moves because the C code may overwrite it.
 * -------------------------------------------------------------------------- */
__attribute__((naked)) static void fault_entry(void)
{
    __asm volatile(
        "tst    lr, #4                       \n\t"
        "ite    eq                           \n\t"
        "mrseq  r3, msp                      \n\t"
        "mrsne  r3, psp                      \n\t"
        "ldr    r1, [r3, #24]                \n\t" /* stacked PC */
        "ldr    r2, [r3, #20]                \n\t" /* stacked LR */
        "mrs    r0, ipsr                     \n\t"
        "movw   ip, #:lower16:__stack_top    \n\t"
        "movt   ip, #:upper16:__stack_top    \n\t"
        "mov    sp, ip                       \n\t"
        "b      f405_fault                   \n\t");
}

void f405_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp)
{
    /* A fault inside this function (e.g. semihosting disabled, so BKPT
     * itself faults) must not recurse forever. */
    static volatile uint32_t depth;
    if (depth++ == 0u) {
        char msg[ARMV7M_FAULT_MSG_MAX];
        size_t n = armv7m_fault_message(msg, "f405", exc, pc, lr, sp);
        f405_panic_write((const uint8_t *)msg, n);
    }
    f405_exit(F405_EXIT_FAULT_BASE + (exc & 0x1FFu));
}
