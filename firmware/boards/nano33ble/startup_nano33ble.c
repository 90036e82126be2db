/*
 * nano33ble startup: vector table, Reset_Handler, fault handling.
 *
 * Written in C (plus a few lines of inline assembly), like the vwrist port, so the
 * whole port is readable in one language and builds with the firmware's flags.
 *
 * The chip does not start here: the Arduino bootloader (flash 0x0..0xFFFF) runs
 * first on every reset and then jumps to this image at 0x10000. So Reset_Handler
 * makes no assumption about the state it inherits: it sets its own SP, CONTROL and
 * VTOR, and switches off what the bootloader is known to leave running (see
 * quiesce_bootloader()).
 */
#include <stddef.h>
#include <stdint.h>

#include "nrf52840.h"

/* app_main (board.h) is the firmware; this port only brings the chip up and calls it. */
#include "board.h"

void Reset_Handler(void) __attribute__((naked, noreturn));
void nano33ble_reset_c(void) __attribute__((noreturn, used));
void nano33ble_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp) __attribute__((noreturn, used));
static void fault_entry(void);
static void fatal_stop(void) __attribute__((noreturn));
static void report_exit(uint32_t status);

/* Room for "nano33ble FAULT" + eight "name=xxxxxxxx" fields + framing. */

/* After a fault or a return from app_main, wait this many spins before the reset so
 * the report leaves the wire and a host sees it before the board goes away (and a
 * fault at boot cannot turn into a tight reset loop that floods the line). About
 * 0.5-1.5 s at 64 MHz: each volatile spin costs ~4-12 cycles. */
#define NANO33BLE_FATAL_RESET_DELAY_SPINS 8000000u

/* Bounded wait for UARTE0's RX to stop (RXTO) when taking over from the bootloader:
 * a few byte times at any baud rate the bootloader might use, in polls. */
#define NANO33BLE_QUIESCE_UART_SPINS 100000u

/* --------------------------------------------------------------------------
 * Vector table
 *
 * Every exception the port does not handle on purpose (NMI, faults, SVC, PendSV,
 * DebugMon, SysTick, unused IRQs) goes to fault_entry: any of them is a bug, and
 * it must be reported on the serial line instead of hanging silently.
 * -------------------------------------------------------------------------- */
void NMI_Handler(void) __attribute__((weak, alias("fault_entry")));
void HardFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void MemManage_Handler(void) __attribute__((weak, alias("fault_entry")));
void BusFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void UsageFault_Handler(void) __attribute__((weak, alias("fault_entry")));
void SVC_Handler(void) __attribute__((weak, alias("fault_entry")));
void DebugMon_Handler(void) __attribute__((weak, alias("fault_entry")));
void PendSV_Handler(void) __attribute__((weak, alias("fault_entry")));
void SysTick_Handler(void) __attribute__((weak, alias("fault_entry")));
void Default_IRQHandler(void) __attribute__((weak, alias("fault_entry")));

/* The first entry is a stack address, the rest are code addresses; a union keeps
 * both without casting an object pointer to a function pointer. */
typedef union {
    void (*handler)(void);
    uint32_t *stack_top;
} vector_entry_t;

#define NANO33BLE_NUM_SYSTEM_VECTORS 16u
#define NANO33BLE_IRQ_VECTOR(irq) (NANO33BLE_NUM_SYSTEM_VECTORS + (irq))

/* 64 words = 256 bytes: VTOR needs the table aligned to its size rounded up to a
 * power of two (nano33ble.ld aligns .isr_vector to 256; 0x10000 is aligned anyway). */
__attribute__((section(".isr_vector"), used))
const vector_entry_t nano33ble_vector_table[NANO33BLE_NUM_SYSTEM_VECTORS + NRF_NUM_IRQS] = {
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

    /* nRF52840 IRQs (PS "Instantiation"); only UARTE0 and TIMER1 are used. */
    [NANO33BLE_IRQ_VECTOR(0)] = {.handler = Default_IRQHandler},       /* POWER_CLOCK */
    [NANO33BLE_IRQ_VECTOR(1)] = {.handler = Default_IRQHandler},       /* RADIO */
    [NANO33BLE_IRQ_VECTOR(2)] = {.handler = UARTE0_UART0_IRQHandler},  /* UARTE0_UART0 */
    [NANO33BLE_IRQ_VECTOR(3)] = {.handler = Default_IRQHandler},       /* SPIM0_SPIS0_TWIM0_TWIS0_SPI0_TWI0 */
    [NANO33BLE_IRQ_VECTOR(4)] = {.handler = Default_IRQHandler},       /* SPIM1_SPIS1_TWIM1_TWIS1_SPI1_TWI1 */
    [NANO33BLE_IRQ_VECTOR(5)] = {.handler = Default_IRQHandler},       /* NFCT */
    [NANO33BLE_IRQ_VECTOR(6)] = {.handler = Default_IRQHandler},       /* GPIOTE */
    [NANO33BLE_IRQ_VECTOR(7)] = {.handler = Default_IRQHandler},       /* SAADC */
    [NANO33BLE_IRQ_VECTOR(8)] = {.handler = Default_IRQHandler},       /* TIMER0 */
    [NANO33BLE_IRQ_VECTOR(9)] = {.handler = TIMER1_IRQHandler},        /* TIMER1 */
    [NANO33BLE_IRQ_VECTOR(10)] = {.handler = Default_IRQHandler},      /* TIMER2 */
    [NANO33BLE_IRQ_VECTOR(11)] = {.handler = Default_IRQHandler},      /* RTC0 */
    [NANO33BLE_IRQ_VECTOR(12)] = {.handler = Default_IRQHandler},      /* TEMP */
    [NANO33BLE_IRQ_VECTOR(13)] = {.handler = Default_IRQHandler},      /* RNG */
    [NANO33BLE_IRQ_VECTOR(14)] = {.handler = Default_IRQHandler},      /* ECB */
    [NANO33BLE_IRQ_VECTOR(15)] = {.handler = Default_IRQHandler},      /* CCM_AAR */
    [NANO33BLE_IRQ_VECTOR(16)] = {.handler = Default_IRQHandler},      /* WDT */
    [NANO33BLE_IRQ_VECTOR(17)] = {.handler = Default_IRQHandler},      /* RTC1 */
    [NANO33BLE_IRQ_VECTOR(18)] = {.handler = Default_IRQHandler},      /* QDEC */
    [NANO33BLE_IRQ_VECTOR(19)] = {.handler = Default_IRQHandler},      /* COMP_LPCOMP */
    [NANO33BLE_IRQ_VECTOR(20)] = {.handler = Default_IRQHandler},      /* SWI0_EGU0 */
    [NANO33BLE_IRQ_VECTOR(21)] = {.handler = Default_IRQHandler},      /* SWI1_EGU1 */
    [NANO33BLE_IRQ_VECTOR(22)] = {.handler = Default_IRQHandler},      /* SWI2_EGU2 */
    [NANO33BLE_IRQ_VECTOR(23)] = {.handler = Default_IRQHandler},      /* SWI3_EGU3 */
    [NANO33BLE_IRQ_VECTOR(24)] = {.handler = Default_IRQHandler},      /* SWI4_EGU4 */
    [NANO33BLE_IRQ_VECTOR(25)] = {.handler = Default_IRQHandler},      /* SWI5_EGU5 */
    [NANO33BLE_IRQ_VECTOR(26)] = {.handler = Default_IRQHandler},      /* TIMER3 */
    [NANO33BLE_IRQ_VECTOR(27)] = {.handler = Default_IRQHandler},      /* TIMER4 */
    [NANO33BLE_IRQ_VECTOR(28)] = {.handler = Default_IRQHandler},      /* PWM0 */
    [NANO33BLE_IRQ_VECTOR(29)] = {.handler = Default_IRQHandler},      /* PDM */
    [NANO33BLE_IRQ_VECTOR(30)] = {.handler = Default_IRQHandler},      /* (reserved) */
    [NANO33BLE_IRQ_VECTOR(31)] = {.handler = Default_IRQHandler},      /* (reserved) */
    [NANO33BLE_IRQ_VECTOR(32)] = {.handler = Default_IRQHandler},      /* MWU */
    [NANO33BLE_IRQ_VECTOR(33)] = {.handler = Default_IRQHandler},      /* PWM1 */
    [NANO33BLE_IRQ_VECTOR(34)] = {.handler = Default_IRQHandler},      /* PWM2 */
    [NANO33BLE_IRQ_VECTOR(35)] = {.handler = Default_IRQHandler},      /* SPIM2_SPIS2_SPI2 */
    [NANO33BLE_IRQ_VECTOR(36)] = {.handler = Default_IRQHandler},      /* RTC2 */
    [NANO33BLE_IRQ_VECTOR(37)] = {.handler = Default_IRQHandler},      /* I2S */
    [NANO33BLE_IRQ_VECTOR(38)] = {.handler = Default_IRQHandler},      /* FPU */
    [NANO33BLE_IRQ_VECTOR(39)] = {.handler = Default_IRQHandler},      /* USBD */
    [NANO33BLE_IRQ_VECTOR(40)] = {.handler = Default_IRQHandler},      /* UARTE1 */
    [NANO33BLE_IRQ_VECTOR(41)] = {.handler = Default_IRQHandler},      /* QSPI */
    [NANO33BLE_IRQ_VECTOR(42)] = {.handler = Default_IRQHandler},      /* CRYPTOCELL */
    [NANO33BLE_IRQ_VECTOR(43)] = {.handler = Default_IRQHandler},      /* (reserved) */
    [NANO33BLE_IRQ_VECTOR(44)] = {.handler = Default_IRQHandler},      /* (reserved) */
    [NANO33BLE_IRQ_VECTOR(45)] = {.handler = Default_IRQHandler},      /* PWM3 */
    [NANO33BLE_IRQ_VECTOR(46)] = {.handler = Default_IRQHandler},      /* (reserved) */
    [NANO33BLE_IRQ_VECTOR(47)] = {.handler = Default_IRQHandler},      /* SPIM3 */
};

_Static_assert(NRF_NUM_IRQS == 48u, "vector table lists exactly 48 IRQ entries");
_Static_assert(NRF_IRQ_UARTE0 == 2u && NRF_IRQ_TIMER1 == 9u, "handlers sit at their IRQ numbers above");
_Static_assert(sizeof(nano33ble_vector_table) == 256u, "nano33ble.ld aligns .isr_vector to 256 bytes for VTOR");

/* --------------------------------------------------------------------------
 * Reset
 * -------------------------------------------------------------------------- */

/* Entry from the bootloader's jump (or from a debugger's reset). The bootloader may
 * jump with its own SP, with the process stack selected or with interrupts on, so:
 * mask interrupts (board_init unmasks them), select MSP in privileged thread mode,
 * load SP from the linker script, and only then run C. */
void Reset_Handler(void)
{
    __asm volatile(
        "cpsid  i                           \n\t"
        "movs   r0, #0                      \n\t"
        "msr    control, r0                 \n\t"
        "isb                                \n\t"
        "movw   r0, #:lower16:__stack_top   \n\t"
        "movt   r0, #:upper16:__stack_top   \n\t"
        "msr    msp, r0                     \n\t"
        "b      nano33ble_reset_c           \n\t");
}

/* What the Arduino bootloader leaves behind before it jumps here. ArduinoCore-mbed's
 * variant.cpp (ARDUINO_NANO33BLE) documents RTC1 with its COMPARE[0] interrupt on
 * and UARTE0 enabled with RX running; the bootloader is also a USB device. An
 * interrupt left enabled would land in fault_entry, so every NVIC line is turned off
 * first, then each known leftover at its source. */
static void quiesce_bootloader(void)
{
    for (uint32_t i = 0; i < NVIC_NUM_REGS; ++i) {
        NVIC_ICER(i) = 0xFFFFFFFFu;
        NVIC_ICPR(i) = 0xFFFFFFFFu;
    }
    SYST_CSR = 0u; /* SysTick is a system exception, NVIC_ICER does not mask it */
    SCB_ICSR = SCB_ICSR_PENDSTCLR | SCB_ICSR_PENDSVCLR;

    RTC1_INTENCLR = RTC_INT_ALL;
    RTC1_EVTENCLR = RTC_INT_ALL;
    RTC1_TASKS_STOP = NRF_TASK_TRIGGER;

    /* Drop the D+ pull-up so the PC stops seeing a bootloader that no longer answers. */
    USBD_INTENCLR = USBD_INT_ALL;
    USBD_USBPULLUP = 0u;
    USBD_ENABLE = 0u;

    /* Stop UARTE0's RX before disabling it (PS: disable only once RX has stopped);
     * board_init configures it afresh. Bounded: RXTO may never come if RX was idle. */
    UARTE0_INTENCLR = UARTE_INT_ALL;
    UARTE0_SHORTS = 0u;
    if (UARTE0_ENABLE != UARTE_ENABLE_DISABLED) {
        UARTE0_EVENTS_RXTO = NRF_EVENT_CLEAR;
        UARTE0_TASKS_STOPRX = NRF_TASK_TRIGGER;
        UARTE0_TASKS_STOPTX = NRF_TASK_TRIGGER;
        for (uint32_t spins = NANO33BLE_QUIESCE_UART_SPINS; spins != 0u && UARTE0_EVENTS_RXTO == 0u; --spins) {
        }
        UARTE0_ENABLE = UARTE_ENABLE_DISABLED;
    }

    CLOCK_INTENCLR = 0xFFFFFFFFu;
}

void nano33ble_reset_c(void)
{
    armv7m_enable_fpu();
    /* The image lives at 0x10000, not 0: without this, exceptions would go through
     * the bootloader's table. */
    SCB_VTOR = (uint32_t)(uintptr_t)__isr_vector_start;
    __asm volatile("dsb\n\tisb" ::: "memory");

    quiesce_bootloader();
    armv7m_paint_stack();
    armv7m_init_data_bss();

    /* Instruction cache on: off at reset, and code runs from flash with wait states
     * at 64 MHz, so the DSP/NN loops gain a lot from it. */
    NVMC_ICACHECNF = NVMC_ICACHECNF_CACHEEN;

    armv7m_trap_faults();

    /* MPU: clear every region the bootloader might have set before the stack guard. */
    MPU_CTRL = 0u;
    __asm volatile("dsb\n\tisb" ::: "memory");
    {
        const uint32_t regions = MPU_TYPE_DREGION(MPU_TYPE);
        for (uint32_t r = 0; r < regions; ++r) {
            MPU_RNR = r;
            MPU_RASR = 0u;
            MPU_RBAR = 0u;
        }
    }
    armv7m_guard_stack();
    armv7m_run_constructors();

    int status = app_main();

    /* app_main returns only on a fatal error: report it like a fault, then restart. */
    report_exit((uint32_t)status);
    fatal_stop();
}

/* --------------------------------------------------------------------------
 * Fatal stop: halt under a debugger, otherwise restart after a pause
 *
 * There is no semihosting host to exit to (vwrist's way): a BKPT without a debugger
 * attached is itself a HardFault. With a probe attached (DHCSR.C_DEBUGEN), stop
 * right here so the state can be inspected; otherwise reset, which also brings the
 * board back to the host with a new boot id.
 * -------------------------------------------------------------------------- */
static void fatal_stop(void)
{
    __asm volatile("cpsid i" ::: "memory");
    if ((DHCSR & DHCSR_C_DEBUGEN) != 0u) {
        __asm volatile("bkpt 0" ::: "memory");
    }
    for (volatile uint32_t spins = 0; spins < NANO33BLE_FATAL_RESET_DELAY_SPINS; ++spins) {
    }
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_MASK) | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

/* --------------------------------------------------------------------------
 * Faults
 *
 * fault_entry grabs the faulting PC/LR from the exception frame, then moves SP back
 * to the top of the stack before calling C: if the fault was a stack overflow, the
 * handler's own pushes would fault again and lock the core up. The frame is read
 * before SP moves because the C code may overwrite it.
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
        "b      nano33ble_fault              \n\t");
}

static void report_exit(uint32_t status)
{
    char msg[ARMV7M_FAULT_MSG_MAX];
    size_t n = 0;
    msg[n++] = '\0'; /* framed by 0x00 like a fault report (below) */
    n = armv7m_put_hex(msg, n, "nano33ble EXIT status=", status);
    n = armv7m_put_str(msg, n, "\n");
    if (n < ARMV7M_FAULT_MSG_MAX) {
        msg[n++] = '\0';
    }
    nano33ble_panic_write((const uint8_t *)msg, n);
}

void nano33ble_fault(uint32_t exc, uint32_t pc, uint32_t lr, uint32_t sp)
{
    /* A fault inside this function must not recurse forever: the second time round,
     * skip the report and go straight to the stop. */
    static volatile uint32_t depth;
    if (depth++ == 0u) {
        char msg[ARMV7M_FAULT_MSG_MAX];
        size_t n = armv7m_fault_message(msg, "nano33ble", exc, pc, lr, sp);
        nano33ble_panic_write((const uint8_t *)msg, n);
    }
    fatal_stop();
}
