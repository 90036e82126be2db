/*
 * vwrist: board.h for the virtual wrist board (Cortex-M4F, QEMU mps2-an386).
 *
 * Serial: CMSDK APB UART0, exposed by QEMU as a pty. RX is interrupt driven
 * into a ring; TX is polled.
 *
 * Time: board_ticks() counts cycles of the 25 MHz system clock (the clock
 * that also drives the CPU and SysTick), which under "-icount shift=0" is
 * exactly 40 guest instructions per cycle. It is read from CMSDK TIMER0
 * running free, not composed from SysTick's "ms * reload + (reload - CVR)":
 * in QEMU 7.2 SysTick's CVR reloads a moment BEFORE its interrupt becomes
 * pending, so no masked read sequence can tell a wrap that already happened
 * from one that has not (measured: ~47 backward steps of one period per 2 M
 * reads). A free 32-bit counter only needs its wraps (every 171.8 s) counted,
 * which a sample each millisecond from the SysTick handler guarantees.
 * SysTick still ticks at 1 kHz: it bounds board_idle()'s sleep and feeds the
 * unwrap.
 */
#include "board.h"
#include "mix32.h"

#include "cmsdk_timer.h"
#include "cmsdk_uart.h"
#include "vwrist.h"

/* RX ring: must hold what the host may send while the app is busy with one
 * window of DSP/NN work; beyond that, backpressure (below) takes over, so it
 * only costs throughput, never data. Power of two so indices wrap by masking. */
#define VWRIST_RX_RING_SIZE 4096u
#define VWRIST_RX_RING_MASK (VWRIST_RX_RING_SIZE - 1u)
_Static_assert((VWRIST_RX_RING_SIZE & VWRIST_RX_RING_MASK) == 0u, "ring size must be a power of two");

/* SysTick period: 1 ms bounds an idle sleep and is far below the 171.8 s
 * wrap of the 32-bit cycle counter, at < 0.1 % CPU cost. */
#define VWRIST_TICK_HZ 1000u
#define VWRIST_CYCLES_PER_MS (VWRIST_SYSCLK_HZ / 1000u)            /* 25000 */
#define VWRIST_SYSTICK_PERIOD (VWRIST_SYSCLK_HZ / VWRIST_TICK_HZ) /* 25000 cycles */
_Static_assert(VWRIST_SYSCLK_HZ % VWRIST_TICK_HZ == 0u, "tick period must be a whole number of cycles");
_Static_assert(VWRIST_SYSCLK_HZ % 1000u == 0u, "a millisecond must be a whole number of cycles");
_Static_assert(VWRIST_SYSTICK_PERIOD - 1u <= 0x00FFFFFFu, "SysTick reload is 24 bits");

/* Fatal-path TX: give up on a byte after this many polls rather than hang a
 * crashed board on a host that is not reading. */
#define VWRIST_PANIC_TX_SPINS 1000000u

/* Boot record magic ("VWBT"); any other value means cold RAM. */
#define VWRIST_BOOT_MAGIC 0x56574254u

_Static_assert(offsetof(vwrist_boot_record_t, host_seed) == VWRIST_BOOT_SEED_ADDR - 0x20000000u,
               "README/launcher seed address must match the boot record layout");

static const char vwrist_board_name[] = "vwrist";

/* ---- RX ring: single producer (RX ISR), single consumer (thread code) ---- */
static uint8_t rx_ring[VWRIST_RX_RING_SIZE];
static volatile uint32_t rx_head;    /* free-running; written only by the ISR */
static volatile uint32_t rx_tail;    /* free-running; written only by board_serial_read */
static volatile uint32_t rx_stalled; /* ISR turned RX_INTEN off because the ring was full */

/* ---- time: 64-bit extension of TIMER0; touched only with IRQs masked ---- */
static uint32_t cycles_last; /* last up-count read from TIMER0 */
static uint32_t cycles_high; /* number of 2^32 wraps seen */

/* ---- boot identity ---- */
vwrist_boot_record_t vwrist_boot_record __attribute__((section(".noinit.vwrist_boot")));
static uint32_t boot_id;
static bool board_ready;

/* Compiler barrier: orders the ring store before the index store. A single
 * Cortex-M4 core sees its own memory accesses in order, so no DMB is needed. */
#define VWRIST_COMPILER_BARRIER() __asm volatile("" ::: "memory")

static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* Boot ids come from the boot counter through mix32 (bijective): successive counters give
 * unrelated-looking ids, and distinct counters can never collide. */
static void boot_record_update(void)
{
    vwrist_boot_record_t *r = &vwrist_boot_record;
    if (r->magic == VWRIST_BOOT_MAGIC && r->count_check == ~r->count) {
        r->count += 1u;
    } else {
        /* Cold start of the QEMU process (RAM is zero) or a corrupted record. */
        r->magic = VWRIST_BOOT_MAGIC;
        r->count = 1u;
    }
    r->count_check = ~r->count;
    /* host_seed is 0 unless the launcher presets it; adding a constant keeps
     * the mapping count -> id bijective within one QEMU process. */
    boot_id = mix32(r->count + mix32(r->host_seed));
}

static void uart_init(void)
{
    cmsdk_uart_t *u = CMSDK_UART0;
    u->CTRL = 0u;
    u->BAUDDIV = CMSDK_UART_BAUDDIV_MIN;
    u->STATE = CMSDK_UART_STATE_TXOVR | CMSDK_UART_STATE_RXOVR;
    u->INTSTATUS = CMSDK_UART_INT_TX | CMSDK_UART_INT_RX | CMSDK_UART_INT_TXO | CMSDK_UART_INT_RXO;

    rx_head = 0u;
    rx_tail = 0u;
    rx_stalled = 0u;

    NVIC_ICPR0 = 1u << VWRIST_IRQ_UART0_RX;
    NVIC_ISER0 = 1u << VWRIST_IRQ_UART0_RX;
    /* No TX interrupt: TX is polled, board_serial_write is blocking anyway. */
    u->CTRL = CMSDK_UART_CTRL_TX_EN | CMSDK_UART_CTRL_RX_EN | CMSDK_UART_CTRL_RX_INTEN;
}

static void timers_init(void)
{
    /* TIMER0 free-running from 0xFFFFFFFF down; no interrupt. Writing
     * RELOAD also loads VALUE, so the count starts at 0 in up-count terms. */
    cmsdk_timer_t *t = CMSDK_TIMER0;
    t->CTRL = 0u;
    t->RELOAD = CMSDK_TIMER_FREE_RUN_RELOAD;
    t->INTSTATUS = CMSDK_TIMER_INT;
    cycles_last = 0u;
    cycles_high = 0u;
    t->CTRL = CMSDK_TIMER_CTRL_EN;

    SYST_CSR = 0u;
    SYST_RVR = VWRIST_SYSTICK_PERIOD - 1u;
    SYST_CVR = 0u; /* any write clears the counter: the first period is full */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

void board_init(void)
{
    if (board_ready) {
        return; /* a second call must not count a second boot */
    }
    boot_record_update();
    uart_init();
    timers_init();
    board_ready = true;
    __asm volatile("cpsie i" ::: "memory");
}

const char *board_name(void)
{
    return vwrist_board_name;
}

/* ---- serial ---- */

void UARTRX0_Handler(void)
{
    cmsdk_uart_t *u = CMSDK_UART0;
    for (;;) {
        /* Clear the (write-1-to-clear) RX flag BEFORE looking at RXFULL: a
         * byte that lands after our last look then raises the line again. */
        u->INTSTATUS = CMSDK_UART_INT_RX;
        if ((u->STATE & CMSDK_UART_STATE_RXFULL) == 0u) {
            break;
        }
        uint32_t head = rx_head;
        if (head - rx_tail >= VWRIST_RX_RING_SIZE) {
            /* Ring full: leave the byte in DATA. QEMU will not take another
             * byte from the pty while RXFULL is set, so the host blocks
             * instead of anything being dropped. board_serial_read resumes. */
            u->CTRL &= ~CMSDK_UART_CTRL_RX_INTEN;
            rx_stalled = 1u;
            break;
        }
        rx_ring[head & VWRIST_RX_RING_MASK] = (uint8_t)u->DATA;
        VWRIST_COMPILER_BARRIER();
        rx_head = head + 1u;
    }
}

size_t board_serial_read(uint8_t *buf, size_t max)
{
    uint32_t tail = rx_tail;
    uint32_t avail = rx_head - tail;
    size_t n = (avail < max) ? (size_t)avail : max;
    for (size_t i = 0; i < n; ++i) {
        buf[i] = rx_ring[(tail + (uint32_t)i) & VWRIST_RX_RING_MASK];
    }
    VWRIST_COMPILER_BARRIER();
    /* Publish the room BEFORE checking rx_stalled: an ISR that ran after
     * this store sees the room; one that ran before set rx_stalled. */
    rx_tail = tail + (uint32_t)n;

    if (n > 0u && rx_stalled != 0u) {
        uint32_t primask = irq_save();
        rx_stalled = 0u;
        CMSDK_UART0->CTRL |= CMSDK_UART_CTRL_RX_INTEN;
        /* The byte left waiting in DATA arrived while RX_INTEN was off, so
         * it raised no interrupt; pend the handler by hand to collect it. */
        NVIC_ISPR0 = 1u << VWRIST_IRQ_UART0_RX;
        irq_restore(primask);
    }
    return n;
}

void board_serial_write(const uint8_t *buf, size_t len)
{
    cmsdk_uart_t *u = CMSDK_UART0;
    for (size_t i = 0; i < len; ++i) {
        /* TXFULL stays set while the pty is full (host not reading); with no
         * host attached QEMU discards output and TXFULL clears at once. */
        while ((u->STATE & CMSDK_UART_STATE_TXFULL) != 0u) {
        }
        u->DATA = buf[i];
    }
}

void vwrist_panic_write(const uint8_t *buf, size_t len)
{
    cmsdk_uart_t *u = CMSDK_UART0;
    /* The fault may predate board_init: make TX usable without touching RX. */
    if (u->BAUDDIV < CMSDK_UART_BAUDDIV_MIN) {
        u->BAUDDIV = CMSDK_UART_BAUDDIV_MIN;
    }
    u->CTRL |= CMSDK_UART_CTRL_TX_EN;
    for (size_t i = 0; i < len; ++i) {
        uint32_t spins = VWRIST_PANIC_TX_SPINS;
        while ((u->STATE & CMSDK_UART_STATE_TXFULL) != 0u) {
            if (--spins == 0u) {
                return;
            }
        }
        u->DATA = buf[i];
    }
}

/* ---- time ---- */

void SysTick_Handler(void)
{
    /* Sampling the counter at least once per wrap is all the unwrap needs. */
    (void)board_ticks();
}

uint64_t board_ticks(void)
{
    /* Masked so the read and the wrap bookkeeping are one step, from thread
     * or handler code alike. A wrap shows as the up-count going backwards. */
    uint32_t primask = irq_save();
    uint32_t now = ~CMSDK_TIMER0->VALUE;
    if (now < cycles_last) {
        cycles_high += 1u;
    }
    cycles_last = now;
    uint64_t ticks = ((uint64_t)cycles_high << 32) | now;
    irq_restore(primask);
    return ticks;
}

uint32_t board_ticks_per_second(void)
{
    return VWRIST_SYSCLK_HZ;
}

uint32_t board_millis(void)
{
    /* Derived from the same counter so millis and ticks never disagree. */
    return (uint32_t)(board_ticks() / VWRIST_CYCLES_PER_MS);
}

/* ---- identity, stack ---- */

uint32_t board_boot_id(void)
{
    return boot_id;
}

bool board_sensor_sources(uint16_t ppg_rate_hz, const accel_source_t **accel, const ppg_source_t **ppg)
{
    (void)ppg_rate_hz; /* no sensors here: live mode runs on the seeded wrist */
    (void)accel;
    (void)ppg;
    return false;
}

size_t board_stack_high_water(void)
{
    return armv7m_stack_high_water();
}

size_t board_stack_size(void)
{
    return armv7m_stack_size();
}

/* ---- power, reset ---- */

void board_idle(void)
{
    /* Check-then-sleep with interrupts masked: an RX byte that arrives after
     * the check still wakes WFI (a pending IRQ ends WFI even with PRIMASK
     * set), and its handler runs as soon as PRIMASK is restored. SysTick
     * bounds the sleep to 1 ms. */
    uint32_t primask = irq_save();
    if (rx_head == rx_tail) {
        __asm volatile("dsb\n\twfi" ::: "memory");
    }
    irq_restore(primask);
}

void board_reset(void)
{
    /* Let the last byte leave the UART: QEMU resets the device, and with it
     * any byte still waiting for the pty. */
    uint32_t spins = VWRIST_PANIC_TX_SPINS;
    while ((CMSDK_UART0->STATE & CMSDK_UART_STATE_TXFULL) != 0u && --spins != 0u) {
    }
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_MASK) | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
