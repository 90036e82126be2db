/*
 * vwrist startup: vector table, Reset_Handler, fault handling, semihosting exit.
 *
 * Written in C (plus a few lines of inline assembly) instead of the usual
 * startup_*.s so the whole port is readable in one language and builds with
 * the same flags as the rest of the firmware.
 */
#include <stddef.h>
#include <stdint.h>

#include "vwrist.h"

/* app_main (board.h) is the firmware; this port only brings the chip up and calls it. */
#include "board.h"
void Reset_Handler(void) __attribute__((noreturn));
void vwrist_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp)
    __attribute__((noreturn, used));
static void fault_entry(void);

/* ARM semihosting (ARM IHI 0056 / DUI0471): operation numbers and the
 * reason code that QEMU maps to a normal application exit. */
#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* Room for "vwrist FAULT" + eight "name=xxxxxxxx" fields + framing. */

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
void UARTTX0_Handler(void) __attribute__((weak, alias("fault_entry")));
void Default_IRQHandler(void) __attribute__((weak, alias("fault_entry")));

/* The first entry is a stack address, the rest are code addresses; a union
 * keeps both without casting an object pointer to a function pointer. */
typedef union {
    void (*handler)(void);
    uint32_t *stack_top;
} vector_entry_t;

#define VWRIST_NUM_SYSTEM_VECTORS 16u

__attribute__((section(".isr_vector"), used))
const vector_entry_t vwrist_vector_table[VWRIST_NUM_SYSTEM_VECTORS + VWRIST_NUM_IRQS] = {
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

    [VWRIST_NUM_SYSTEM_VECTORS + VWRIST_IRQ_UART0_RX] = {.handler = UARTRX0_Handler},
    [VWRIST_NUM_SYSTEM_VECTORS + VWRIST_IRQ_UART0_TX] = {.handler = UARTTX0_Handler},
    [VWRIST_NUM_SYSTEM_VECTORS + 2] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 3] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 4] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 5] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 6] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 7] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 8] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 9] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 10] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 11] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 12] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 13] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 14] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 15] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 16] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 17] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 18] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 19] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 20] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 21] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 22] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 23] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 24] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 25] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 26] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 27] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 28] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 29] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 30] = {.handler = Default_IRQHandler},
    [VWRIST_NUM_SYSTEM_VECTORS + 31] = {.handler = Default_IRQHandler},
};

_Static_assert(VWRIST_NUM_IRQS == 32u, "vector table lists exactly 32 IRQ entries");

/* --------------------------------------------------------------------------
 * Reset
 * -------------------------------------------------------------------------- */
void Reset_Handler(void)
{
    armv7m_enable_fpu();
    /* QEMU resets VTOR to 0 where our table already is; setting it anyway
     * keeps the port correct if the image is ever linked elsewhere. */
    SCB_VTOR = (uint32_t)(uintptr_t)__isr_vector_start;
    armv7m_paint_stack();
    armv7m_init_data_bss();
    armv7m_trap_faults();
    armv7m_guard_stack();
    armv7m_run_constructors();

    int status = app_main();
    vwrist_exit((uint32_t)status);
}

/* --------------------------------------------------------------------------
 * Semihosting exit
 * -------------------------------------------------------------------------- */
void vwrist_exit(uint32_t status)
{
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
        "b      vwrist_fault                 \n\t");
}

void vwrist_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp)
{
    /* A fault inside this function (e.g. semihosting disabled, so BKPT
     * itself faults) must not recurse forever. */
    static volatile uint32_t depth;
    if (depth++ == 0u) {
        char msg[ARMV7M_FAULT_MSG_MAX];
        size_t n = armv7m_fault_message(msg, "vwrist", exc, pc, lr, sp);
        vwrist_panic_write((const uint8_t *)msg, n);
    }
    vwrist_exit(VWRIST_EXIT_FAULT_BASE + (exc & 0x1FFu));
}
