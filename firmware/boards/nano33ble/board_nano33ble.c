/*
 * nano33ble: board.h for the Arduino Nano 33 BLE / BLE Sense (nRF52840, Cortex-M4F).
 *
 * Serial: UARTE0 on the header pins TX = P1.03, RX = P1.10, 115200 8N1, no flow
 * control (the header has no RTS/CTS). The board's USB socket is NOT this serial
 * port (it belongs to the bootloader); the host needs a 3.3 V USB-serial adapter.
 *   RX: EasyDMA into two one-byte buffers that the hardware alternates between
 *       (ENDRX_STARTRX short, double-buffered RXD.PTR), emptied into a ring by the
 *       UARTE0 interrupt at the highest priority. One-byte transfers make every byte
 *       visible at once (a request of a few bytes is not held back until a larger
 *       DMA buffer fills), at one interrupt per byte (~11.5 k/s at 115200).
 *   TX: EasyDMA can only read RAM, so the bytes are copied in chunks into two RAM
 *       buffers; one is filled while the other is on the wire, and a write returns
 *       as soon as its last chunk has started, so the app computes while it drains.
 *
 * Time: TIMER1 at 1 MHz from the HFCLK (the 64 MHz crystal oscillator once it runs,
 * crystal accuracy, instead of the +-2 % LFRC or an RTC at 30.5 us resolution), read
 * through a capture register and unwrapped from 32 to 64 bits as on vwrist. A
 * 1 kHz compare interrupt bounds board_idle()'s sleep and samples the counter, so
 * no 2^32-tick wrap (71.6 min) can go unseen.
 *
 * Boot id: a boot record in .noinit (count + seed) when it survives the reset, a
 * fresh RNG/FICR/RESETREAS seed when it does not (see nrf52840.h).
 */
#include "board.h"
#include "mix32.h"

#include <string.h>

#include "nrf52840.h"

/* ---- serial ---- */

/* RX ring: must hold what the host may send while the app is busy with one window of
 * DSP/NN work (the host paces sample frames by credits, so this is a bound, not a
 * queue). Power of two so indices wrap by masking. Without flow control a full ring
 * drops bytes (counted in rx_dropped); the frame CRC then rejects the frame. */
#define NANO33BLE_RX_RING_SIZE 4096u
#define NANO33BLE_RX_RING_MASK (NANO33BLE_RX_RING_SIZE - 1u)
_Static_assert((NANO33BLE_RX_RING_SIZE & NANO33BLE_RX_RING_MASK) == 0u, "ring size must be a power of two");

/* Two one-byte DMA buffers: the one the receiver fills and the one armed in RXD.PTR
 * for the restart that the ENDRX_STARTRX short triggers. */
#define NANO33BLE_RX_DMA_BUFFERS 2u
#define NANO33BLE_RX_DMA_BYTES 1u

/* TX: two RAM chunks of 256 bytes (22 ms of line time each at 115200): large enough
 * that the per-chunk bookkeeping is negligible, small enough to cost 512 B of RAM. */
#define NANO33BLE_TX_CHUNK_SIZE 256u
#define NANO33BLE_TX_BUFFERS 2u
_Static_assert(NANO33BLE_TX_CHUNK_SIZE <= UARTE_MAXCNT_MAX, "a chunk must fit TXD.MAXCNT");

#define NANO33BLE_UART_BAUD 115200u
#define NANO33BLE_UART_BITS_PER_BYTE 10u /* 8N1: start + 8 data + stop */
#define NANO33BLE_UART_BYTE_US \
    ((1000000u * NANO33BLE_UART_BITS_PER_BYTE + NANO33BLE_UART_BAUD - 1u) / NANO33BLE_UART_BAUD) /* 87 */
/* A chunk ends after its line time; twice that plus 10 ms only catches a UARTE that
 * never ends a transfer, which cannot happen without flow control. */
#define NANO33BLE_TX_TIMEOUT_US (2u * NANO33BLE_TX_CHUNK_SIZE * NANO33BLE_UART_BYTE_US + 10000u)
/* After ENDTX the last byte may still be in the UARTE's shift register; before a
 * reset, wait this long so it reaches the wire. */
#define NANO33BLE_TX_DRAIN_US (2u * NANO33BLE_UART_BYTE_US)
/* STOPTX -> TXSTOPPED is immediate after the current byte. */
#define NANO33BLE_TX_STOP_TIMEOUT_US (4u * NANO33BLE_UART_BYTE_US)
/* The ENDRX_STARTRX short raises RXSTARTED within a few cycles of ENDRX; the RX
 * handler waits at most this many polls for it. */
#define NANO33BLE_RXSTARTED_SPINS 64u
/* Fatal-path TX (no timer): give up on a chunk after this many polls, about 4-10 x
 * a chunk's 22 ms line time at 64 MHz, rather than hang a crashed board. */
#define NANO33BLE_PANIC_TX_SPINS 2000000u

/* NVIC priorities: RX first (one byte time, 87 us, is its whole latency budget),
 * then the timebase. */
#define NANO33BLE_IRQ_PRIO_UARTE0 0u
#define NANO33BLE_IRQ_PRIO_TIMER1 1u

/* ---- time ---- */

/* f = 16 MHz / 2^4 = 1 MHz: microsecond resolution from the low-power PCLK1M, a
 * 71.6 min 32-bit wrap. PRESCALER 0 would give 16 MHz (62.5 ns) at more current. */
#define NANO33BLE_TIMER_PRESCALER 4u
#define NANO33BLE_TICK_HZ (TIMER_BASE_CLOCK_HZ >> NANO33BLE_TIMER_PRESCALER)
#define NANO33BLE_TICKS_PER_MS (NANO33BLE_TICK_HZ / 1000u)
#define NANO33BLE_US_TO_TICKS(us) ((uint64_t)(us) * NANO33BLE_TICK_HZ / 1000000u)
_Static_assert(NANO33BLE_TIMER_PRESCALER <= TIMER_PRESCALER_MAX, "PRESCALER is 0..9");
_Static_assert(NANO33BLE_TICK_HZ % 1000u == 0u, "a millisecond must be a whole number of ticks");
_Static_assert(NANO33BLE_TICK_HZ >= 1000000u, "timeouts in microseconds need >= 1 tick per us");

/* Capture/compare channels of TIMER1: one wakes board_idle() each period, one is
 * where board_ticks() captures the count. */
#define NANO33BLE_CC_WAKE 0u
#define NANO33BLE_CC_READ 1u
_Static_assert(NANO33BLE_CC_WAKE < TIMER_NUM_CC && NANO33BLE_CC_READ < TIMER_NUM_CC, "TIMER1 has 4 CC");
/* 1 ms bounds an idle sleep, as SysTick does on vwrist, at ~0.1 % CPU. */
#define NANO33BLE_WAKE_PERIOD_TICKS NANO33BLE_TICKS_PER_MS

/* The HFXO starts in well under 1 ms (PS: ~0.36 ms typ.); give up after 10 ms and
 * keep running on HFINT (the start request stays, so the HFXO still takes over if it
 * comes up later). */
#define NANO33BLE_HFXO_TIMEOUT_US 10000u

/* ---- boot id ---- */

/* Boot record magic ("N3BT"); any other value means the record is not ours. */
#define NANO33BLE_BOOT_MAGIC 0x4E334254u
/* RNG with bias correction: ~120 us per byte typ.; bounded in case it never ends. */
#define NANO33BLE_RNG_BYTES 4u
#define NANO33BLE_RNG_BYTE_TIMEOUT_US 5000u

/* ---- sensors (I2C) ---- */

/* After VDD_ENV and the pull-ups come on: the slowest Sense sensor boot times are a
 * few ms to ~20 ms (LSM9DS1), so 50 ms leaves a margin. Paid once, in i2c_init. */
#define NANO33BLE_SENSOR_POWER_UP_US 50000u

/* EasyDMA reaches Data RAM only (PS "EasyDMA"): 0x20000000, 256 KB. */
#define NANO33BLE_DATA_RAM_START 0x20000000u
#define NANO33BLE_DATA_RAM_SIZE 0x40000u

_Static_assert(NANO33BLE_I2C_READ_MAX <= TWIM_MAXCNT_MAX, "a read must fit RXD.MAXCNT");
_Static_assert(1u + NANO33BLE_I2C_WRITE_MAX <= TWIM_MAXCNT_MAX, "a write must fit TXD.MAXCNT");

static const char nano33ble_board_name[] = "nano33ble";

/* ---- RX: single producer (UARTE0 ISR), single consumer (board_serial_read) ---- */
static volatile uint8_t rx_dma[NANO33BLE_RX_DMA_BUFFERS][NANO33BLE_RX_DMA_BYTES]; /* written by EasyDMA */
static uint32_t rx_armed;   /* ISR only: buffer index in RXD.PTR, for the next start */
static uint32_t rx_latched; /* ISR only: buffer index the receiver is filling */
static uint8_t rx_ring[NANO33BLE_RX_RING_SIZE];
static volatile uint32_t rx_head; /* free-running; written only by the ISR */
static volatile uint32_t rx_tail; /* free-running; written only by board_serial_read */

/* ---- TX ---- */
static uint8_t tx_buf[NANO33BLE_TX_BUFFERS][NANO33BLE_TX_CHUNK_SIZE];
static uint32_t tx_next; /* buffer to fill next; the other one may be on the wire */
static bool tx_busy;     /* a chunk was started and its ENDTX not yet consumed */

static volatile nano33ble_serial_counters_t serial_counters;

/* ---- time: 64-bit extension of TIMER1; touched only with IRQs masked ---- */
static uint32_t ticks_last; /* last count captured from TIMER1 */
static uint32_t ticks_high; /* number of 2^32 wraps seen */

/* ---- boot identity ---- */
nano33ble_boot_record_t nano33ble_boot_record __attribute__((section(".noinit.nano33ble_boot")));
static uint32_t boot_id;
static uint32_t reset_reason;
static bool board_ready;

/* ---- I2C ---- */
static uint8_t i2c_tx[1u + NANO33BLE_I2C_WRITE_MAX]; /* register address + data, in RAM for EasyDMA */
static bool i2c_ready;
static nano33ble_i2c_bus_t i2c_routed; /* the bus TWIM0's pins go to, once i2c_ready */
static bool sensors_powered;           /* VDD_ENV and the internal bus's pull-ups are on */

/* Compiler barrier: orders the ring store before the index store. A single Cortex-M4
 * core sees its own memory accesses in order, so no DMB is needed for that. */
#define NANO33BLE_COMPILER_BARRIER() __asm volatile("" ::: "memory")
/* Before starting EasyDMA on a buffer the CPU just wrote, and after it finished one
 * the CPU will read: the data must be in RAM, not in the write buffer or a register. */
#define NANO33BLE_DMA_BARRIER() __asm volatile("dmb" ::: "memory")

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

static void nvic_enable(uint32_t irq, uint32_t priority)
{
    NVIC_IPR_BYTE(irq) = NVIC_PRIORITY(priority);
    NVIC_ICPR(NVIC_REG_INDEX(irq)) = NVIC_REG_BIT(irq);
    NVIC_ISER(NVIC_REG_INDEX(irq)) = NVIC_REG_BIT(irq);
}

static void gpio_config(uint32_t pin, uint32_t cnf)
{
    GPIO_PIN_CNF(NRF_PIN_PORT_BASE(pin), NRF_PIN_NUMBER(pin)) = cnf;
}

static void gpio_set(uint32_t pin)
{
    GPIO_OUTSET(NRF_PIN_PORT_BASE(pin)) = 1u << NRF_PIN_NUMBER(pin);
}

/* Boot ids come from the boot counter through mix32 (bijective): successive counters give
 * unrelated-looking ids, and distinct counters can never collide. */
/* ---- time ---- */

static void timebase_init(void)
{
    /* The bootloader may have used TIMER1: start from a known state. */
    TIMER1_TASKS_STOP = NRF_TASK_TRIGGER;
    TIMER1_INTENCLR = TIMER_INT_ALL;
    TIMER1_SHORTS = 0u; /* no COMPARE_CLEAR: the counter must run free */
    TIMER1_MODE = TIMER_MODE_TIMER;
    TIMER1_BITMODE = TIMER_BITMODE_32;
    TIMER1_PRESCALER = NANO33BLE_TIMER_PRESCALER;
    TIMER1_TASKS_CLEAR = NRF_TASK_TRIGGER;
    for (uint32_t cc = 0; cc < TIMER_NUM_CC; ++cc) {
        TIMER1_EVENTS_COMPARE(cc) = NRF_EVENT_CLEAR;
    }
    ticks_last = 0u;
    ticks_high = 0u;
    TIMER1_CC(NANO33BLE_CC_WAKE) = NANO33BLE_WAKE_PERIOD_TICKS;
    TIMER1_INTENSET = TIMER_INT_COMPARE(NANO33BLE_CC_WAKE);
    nvic_enable(NRF_IRQ_TIMER1, NANO33BLE_IRQ_PRIO_TIMER1);
    TIMER1_TASKS_START = NRF_TASK_TRIGGER;
}

uint64_t board_ticks(void)
{
    /* Masked so the capture, the read and the wrap bookkeeping are one step, from
     * thread or handler code alike. A wrap shows as the count going backwards. */
    uint32_t primask = irq_save();
    TIMER1_TASKS_CAPTURE(NANO33BLE_CC_READ) = NRF_TASK_TRIGGER;
    uint32_t now = TIMER1_CC(NANO33BLE_CC_READ);
    if (now < ticks_last) {
        ticks_high += 1u;
    }
    ticks_last = now;
    uint64_t ticks = ((uint64_t)ticks_high << 32) | now;
    irq_restore(primask);
    return ticks;
}

uint32_t board_ticks_per_second(void)
{
    return NANO33BLE_TICK_HZ;
}

uint32_t board_millis(void)
{
    /* Derived from the same counter so millis and ticks never disagree. */
    return (uint32_t)(board_ticks() / NANO33BLE_TICKS_PER_MS);
}

static void delay_us(uint32_t us)
{
    const uint64_t start = board_ticks();
    while (board_ticks() - start < NANO33BLE_US_TO_TICKS(us)) {
    }
}

void TIMER1_IRQHandler(void)
{
    if (TIMER1_EVENTS_COMPARE(NANO33BLE_CC_WAKE) != 0u) {
        TIMER1_EVENTS_COMPARE(NANO33BLE_CC_WAKE) = NRF_EVENT_CLEAR;
        /* Next wake one period from NOW, not from the old compare value: a handler
         * delayed past that value would otherwise leave CC behind the counter and
         * silence the wake for a whole 2^32-tick wrap. Reading the counter here
         * also samples it for the unwrap. */
        uint32_t now = (uint32_t)board_ticks();
        TIMER1_CC(NANO33BLE_CC_WAKE) = now + NANO33BLE_WAKE_PERIOD_TICKS;
        /* Read back: the clear must reach the peripheral before the handler
         * returns, or the still-high IRQ line re-enters it once for nothing. */
        (void)TIMER1_EVENTS_COMPARE(NANO33BLE_CC_WAKE);
    }
}

/* ---- clocks ---- */

static void hfclk_start(void)
{
    const uint32_t running = CLOCK_HFCLKSTAT_SRC_XTAL | CLOCK_HFCLKSTAT_STATE_RUNNING;
    if ((CLOCK_HFCLKSTAT & running) == running) {
        return; /* the bootloader (USB needs the HFXO) left it running */
    }
    CLOCK_EVENTS_HFCLKSTARTED = NRF_EVENT_CLEAR;
    CLOCK_TASKS_HFCLKSTART = NRF_TASK_TRIGGER;
    const uint64_t start = board_ticks();
    while (CLOCK_EVENTS_HFCLKSTARTED == 0u &&
           board_ticks() - start < NANO33BLE_US_TO_TICKS(NANO33BLE_HFXO_TIMEOUT_US)) {
    }
    CLOCK_EVENTS_HFCLKSTARTED = NRF_EVENT_CLEAR;
}

/* ---- boot identity ---- */

static uint32_t rng_word(void)
{
    RNG_INTENCLR = 0xFFFFFFFFu;
    RNG_SHORTS = 0u;
    RNG_CONFIG = RNG_CONFIG_DERCEN;
    RNG_EVENTS_VALRDY = NRF_EVENT_CLEAR;
    RNG_TASKS_START = NRF_TASK_TRIGGER;
    uint32_t word = 0u;
    for (uint32_t i = 0; i < NANO33BLE_RNG_BYTES; ++i) {
        const uint64_t start = board_ticks();
        while (RNG_EVENTS_VALRDY == 0u &&
               board_ticks() - start < NANO33BLE_US_TO_TICKS(NANO33BLE_RNG_BYTE_TIMEOUT_US)) {
        }
        word = (word << 8) | (RNG_VALUE & RNG_VALUE_MASK);
        RNG_EVENTS_VALRDY = NRF_EVENT_CLEAR;
    }
    RNG_TASKS_STOP = NRF_TASK_TRIGGER;
    return word;
}

static void boot_record_update(void)
{
    /* RESETREAS accumulates until cleared (write 1s); clear it so the next boot sees
     * only its own cause. 0 means power-on or brown-out. */
    reset_reason = POWER_RESETREAS & POWER_RESETREAS_ALL;
    POWER_RESETREAS = reset_reason;

    nano33ble_boot_record_t *r = &nano33ble_boot_record;
    if (r->magic == NANO33BLE_BOOT_MAGIC && r->count_check == ~r->count) {
        r->count += 1u;
    } else {
        /* Power-on (RAM is random), or the bootloader reused these bytes: a new
         * seed. The RNG alone makes successive seeds differ; the FICR device id and
         * the reset cause are mixed in so that a broken RNG still leaves ids that
         * differ between devices. */
        uint32_t seed = rng_word();
        seed = mix32(seed ^ FICR_DEVICEID(0));
        seed = mix32(seed ^ FICR_DEVICEID(1));
        seed = mix32(seed ^ reset_reason);
        r->magic = NANO33BLE_BOOT_MAGIC;
        r->count = 1u;
        r->seed = seed;
    }
    r->count_check = ~r->count;
    /* For a fixed seed, count -> id is bijective: while the record survives,
     * successive boots can never repeat an id. */
    boot_id = mix32(r->count + mix32(r->seed));
}

uint32_t board_boot_id(void)
{
    return boot_id;
}

uint32_t nano33ble_reset_reason(void)
{
    return reset_reason;
}

/* ---- serial ---- */

/* Pins and line settings, shared by uart_init and the fatal path. UARTE0 must be
 * disabled while PSEL changes. */
static void uart_setup_line(void)
{
    /* TX idles high; driving it before the UARTE takes the pin avoids a false start
     * bit (PS: configure TXD as an output, level high). */
    gpio_set(NANO33BLE_PIN_UART_TX);
    gpio_config(NANO33BLE_PIN_UART_TX, GPIO_PIN_CNF_DIR_OUTPUT | GPIO_PIN_CNF_INPUT_DISCONNECT);
    /* RX with a pull-up: with no adapter plugged in, a floating pin would read
     * noise as bytes and framing errors. */
    gpio_config(NANO33BLE_PIN_UART_RX, GPIO_PIN_CNF_PULL_UP);
    UARTE0_PSEL_TXD = NANO33BLE_PIN_UART_TX;
    UARTE0_PSEL_RXD = NANO33BLE_PIN_UART_RX;
    UARTE0_PSEL_RTS = NRF_PSEL_DISCONNECTED;
    UARTE0_PSEL_CTS = NRF_PSEL_DISCONNECTED;
    UARTE0_BAUDRATE = UARTE_BAUDRATE_115200;
    UARTE0_CONFIG = UARTE_CONFIG_8N1;
}

static void uart_init(void)
{
    /* Start-up already stopped and disabled what the bootloader left (startup_nano33ble.c). */
    UARTE0_INTENCLR = UARTE_INT_ALL;
    UARTE0_SHORTS = 0u;
    UARTE0_ENABLE = UARTE_ENABLE_DISABLED;
    uart_setup_line();

    UARTE0_EVENTS_RXDRDY = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_ENDRX = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_RXSTARTED = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_RXTO = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_ERROR = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_ENDTX = NRF_EVENT_CLEAR;
    UARTE0_EVENTS_TXSTOPPED = NRF_EVENT_CLEAR;
    UARTE0_ERRORSRC = UARTE_ERRORSRC_ALL;

    rx_head = 0u;
    rx_tail = 0u;
    rx_armed = 0u;
    rx_latched = 0u;
    tx_next = 0u;
    tx_busy = false;

    UARTE0_ENABLE = UARTE_ENABLE_ENABLED;
    UARTE0_RXD_PTR = (uint32_t)(uintptr_t)rx_dma[0];
    UARTE0_RXD_MAXCNT = NANO33BLE_RX_DMA_BYTES;
    UARTE0_SHORTS = UARTE_SHORTS_ENDRX_STARTRX;
    UARTE0_INTENSET = UARTE_INT_ENDRX | UARTE_INT_RXSTARTED | UARTE_INT_ERROR;
    nvic_enable(NRF_IRQ_UARTE0, NANO33BLE_IRQ_PRIO_UARTE0);
    /* Interrupts are still masked (board_init unmasks them right after): the first
     * RXSTARTED is handled then, and arms buffer 1. */
    UARTE0_TASKS_STARTRX = NRF_TASK_TRIGGER;
}

static void rx_push(uint8_t byte)
{
    uint32_t head = rx_head;
    if (head - rx_tail >= NANO33BLE_RX_RING_SIZE) {
        serial_counters.rx_dropped += 1u;
        return;
    }
    rx_ring[head & NANO33BLE_RX_RING_MASK] = byte;
    NANO33BLE_COMPILER_BARRIER();
    rx_head = head + 1u;
}

void UARTE0_UART0_IRQHandler(void)
{
    bool ended = false;
    if (UARTE0_EVENTS_ENDRX != 0u) {
        UARTE0_EVENTS_ENDRX = NRF_EVENT_CLEAR;
        ended = true;
        /* The short restarts reception at once; wait for that start so the
         * bookkeeping below sees both events of this byte together. */
        for (uint32_t spins = NANO33BLE_RXSTARTED_SPINS; spins != 0u && UARTE0_EVENTS_RXSTARTED == 0u; --spins) {
        }
    }
    bool started = false;
    if (UARTE0_EVENTS_RXSTARTED != 0u) {
        UARTE0_EVENTS_RXSTARTED = NRF_EVENT_CLEAR;
        /* The receiver just latched the armed buffer; arm the other one for the
         * next restart (RXD.PTR is double-buffered: safe to write after RXSTARTED). */
        rx_latched = rx_armed;
        rx_armed ^= 1u;
        UARTE0_RXD_PTR = (uint32_t)(uintptr_t)rx_dma[rx_armed];
        started = true;
    }
    if (ended) {
        /* The byte is in the buffer latched before the current one; if the restart
         * was not seen, rx_latched still names the finished buffer. Deriving it from
         * the latches (rather than toggling a counter per ENDRX) resynchronises by
         * itself after a late handler merged two events. */
        const uint32_t done = started ? (rx_latched ^ 1u) : rx_latched;
        NANO33BLE_DMA_BARRIER();
        rx_push(rx_dma[done][0]);
    }
    if (UARTE0_EVENTS_ERROR != 0u) {
        UARTE0_EVENTS_ERROR = NRF_EVENT_CLEAR;
        UARTE0_ERRORSRC = UARTE0_ERRORSRC; /* write 1s back to clear what was seen */
        serial_counters.rx_line_errors += 1u;
    }
    /* Read back: the clears must reach the peripheral before the handler returns. */
    (void)UARTE0_EVENTS_ERROR;
}

size_t board_serial_read(uint8_t *buf, size_t max)
{
    uint32_t tail = rx_tail;
    uint32_t avail = rx_head - tail;
    size_t n = (avail < max) ? (size_t)avail : max;
    for (size_t i = 0; i < n; ++i) {
        buf[i] = rx_ring[(tail + (uint32_t)i) & NANO33BLE_RX_RING_MASK];
    }
    NANO33BLE_COMPILER_BARRIER();
    rx_tail = tail + (uint32_t)n;
    return n;
}

/* Wait for the chunk on the wire (if any) to end, so its buffer and the UARTE's TX
 * side are free again. */
static void uart_tx_wait(void)
{
    if (!tx_busy) {
        return;
    }
    const uint64_t start = board_ticks();
    while (UARTE0_EVENTS_ENDTX == 0u) {
        if (board_ticks() - start >= NANO33BLE_US_TO_TICKS(NANO33BLE_TX_TIMEOUT_US)) {
            /* Stop the transfer so its buffer is free, rather than hang; STOPTX
             * ends with TXSTOPPED (and an explicit ENDTX). */
            UARTE0_EVENTS_TXSTOPPED = NRF_EVENT_CLEAR;
            UARTE0_TASKS_STOPTX = NRF_TASK_TRIGGER;
            const uint64_t stop = board_ticks();
            while (UARTE0_EVENTS_TXSTOPPED == 0u &&
                   board_ticks() - stop < NANO33BLE_US_TO_TICKS(NANO33BLE_TX_STOP_TIMEOUT_US)) {
            }
            UARTE0_EVENTS_TXSTOPPED = NRF_EVENT_CLEAR;
            serial_counters.tx_timeouts += 1u;
            break;
        }
    }
    UARTE0_EVENTS_ENDTX = NRF_EVENT_CLEAR;
    tx_busy = false;
}

static void uart_tx_start(const uint8_t *chunk, size_t n)
{
    UARTE0_TXD_PTR = (uint32_t)(uintptr_t)chunk;
    UARTE0_TXD_MAXCNT = (uint32_t)n;
    NANO33BLE_DMA_BARRIER();
    UARTE0_TASKS_STARTTX = NRF_TASK_TRIGGER;
    tx_busy = true;
}

void board_serial_write(const uint8_t *buf, size_t len)
{
    while (len > 0u) {
        const size_t n = (len < NANO33BLE_TX_CHUNK_SIZE) ? len : NANO33BLE_TX_CHUNK_SIZE;
        /* This buffer is not the one on the wire (that is the other one), so it can
         * be filled while the previous chunk still drains. */
        uint8_t *chunk = tx_buf[tx_next];
        memcpy(chunk, buf, n);
        uart_tx_wait();
        uart_tx_start(chunk, n);
        tx_next ^= 1u;
        buf += n;
        len -= n;
    }
}

void nano33ble_panic_write(const uint8_t *buf, size_t len)
{
    /* The fault may predate board_init (or RAM may be garbage): judge from the
     * hardware, not from port state, whether TX is set up. */
    if (UARTE0_ENABLE != UARTE_ENABLE_ENABLED || UARTE0_PSEL_TXD != NANO33BLE_PIN_UART_TX ||
        UARTE0_BAUDRATE != UARTE_BAUDRATE_115200) {
        UARTE0_ENABLE = UARTE_ENABLE_DISABLED;
        uart_setup_line();
        UARTE0_ENABLE = UARTE_ENABLE_ENABLED;
        tx_busy = false;
    }
    /* A chunk of board_serial_write may still be on the wire. */
    for (uint32_t spins = NANO33BLE_PANIC_TX_SPINS; tx_busy && spins != 0u && UARTE0_EVENTS_ENDTX == 0u; --spins) {
    }
    while (len > 0u) {
        const size_t n = (len < NANO33BLE_TX_CHUNK_SIZE) ? len : NANO33BLE_TX_CHUNK_SIZE;
        memcpy(tx_buf[0], buf, n);
        UARTE0_EVENTS_ENDTX = NRF_EVENT_CLEAR;
        uart_tx_start(tx_buf[0], n);
        uint32_t spins = NANO33BLE_PANIC_TX_SPINS;
        while (UARTE0_EVENTS_ENDTX == 0u && --spins != 0u) {
        }
        if (spins == 0u) {
            UARTE0_TASKS_STOPTX = NRF_TASK_TRIGGER;
            break;
        }
        buf += n;
        len -= n;
    }
    UARTE0_EVENTS_ENDTX = NRF_EVENT_CLEAR;
    tx_busy = false;
}

void nano33ble_serial_counters(nano33ble_serial_counters_t *out)
{
    out->rx_dropped = serial_counters.rx_dropped;
    out->rx_line_errors = serial_counters.rx_line_errors;
    out->tx_timeouts = serial_counters.tx_timeouts;
}

/* ---- init ---- */

void board_init(void)
{
    if (board_ready) {
        return; /* a second call must not count a second boot */
    }
    timebase_init(); /* first: the waits below are bounded in ticks */
    hfclk_start();   /* before the UART: HFINT's +-1.5 % would eat the baud margin */
    boot_record_update();
    uart_init();
    board_ready = true;
    __asm volatile("cpsie i" ::: "memory"); /* masked since Reset_Handler */
}

const char *board_name(void)
{
    return nano33ble_board_name;
}

/* ---- stack ---- */

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
    /* Check-then-sleep with interrupts masked: an RX byte that arrives after the
     * check still ends WFI (a pending enabled IRQ wakes the core even with PRIMASK
     * set), and its handler runs as soon as PRIMASK is restored. TIMER1's 1 kHz
     * compare bounds the sleep to 1 ms. */
    uint32_t primask = irq_save();
    /* nRF52840 anomaly 87: pending FPU exception flags keep the FPU interrupt line
     * up and the CPU from sleeping; clear the flags and the pending IRQ first. */
    uint32_t fpscr;
    __asm volatile("vmrs %0, fpscr" : "=r"(fpscr));
    __asm volatile("vmsr fpscr, %0" ::"r"(fpscr & ~FPSCR_EXCEPTION_FLAGS) : "memory");
    __asm volatile("vmrs %0, fpscr" : "=r"(fpscr)::"memory"); /* read back, as Nordic's workaround does */
    NVIC_ICPR(NVIC_REG_INDEX(NRF_IRQ_FPU)) = NVIC_REG_BIT(NRF_IRQ_FPU);
    if (rx_head == rx_tail) {
        __asm volatile("dsb\n\twfi" ::: "memory");
    }
    irq_restore(primask);
}

void board_reset(void)
{
    /* Let the last bytes leave: after ENDTX the final byte may still be shifting out,
     * and the reset would cut it off. */
    if (board_ready) { /* before board_init nothing was sent, and TIMER1 does not run */
        uart_tx_wait();
        delay_us(NANO33BLE_TX_DRAIN_US);
    }
    __asm volatile("cpsid i\n\tdsb" ::: "memory");
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_MASK) | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

/* ---- I2C (TWIM0), port-internal ---- */

static bool in_data_ram(const void *p, size_t len)
{
    const uintptr_t a = (uintptr_t)p;
    return a >= NANO33BLE_DATA_RAM_START && len <= NANO33BLE_DATA_RAM_SIZE &&
           a - NANO33BLE_DATA_RAM_START <= NANO33BLE_DATA_RAM_SIZE - len;
}

void nano33ble_i2c_init(nano33ble_i2c_bus_t bus)
{
    if (!board_ready) {
        return; /* the waits below need TIMER1; every call then returns ERR_ARG */
    }
    const bool internal = (bus == NANO33BLE_I2C_BUS_INTERNAL);
    if (i2c_ready && i2c_routed == bus) {
        return; /* already there: the sensor glue routes TWIM0 before every transfer */
    }
    const uint32_t sda = internal ? NANO33BLE_PIN_I2C_INT_SDA : NANO33BLE_PIN_I2C_EXT_SDA;
    const uint32_t scl = internal ? NANO33BLE_PIN_I2C_INT_SCL : NANO33BLE_PIN_I2C_EXT_SCL;

    /* PSEL may only change while the TWIM is disabled. */
    TWIM0_ENABLE = TWIM_ENABLE_DISABLED;
    TWIM0_INTENCLR = TWIM_INT_ALL;
    TWIM0_SHORTS = 0u;

    if (internal && !sensors_powered) {
        /* The pull-ups of the sensor bus hang off P1.00, which is also the SWO
         * trace pin: keep trace off it, then drive it high. VDD_ENV powers the
         * sensors. (ArduinoCore-mbed initVariant() does the same.) */
        CLOCK_TRACECONFIG = CLOCK_TRACECONFIG_GPIO;
        gpio_set(NANO33BLE_PIN_I2C_PULLUP);
        gpio_config(NANO33BLE_PIN_I2C_PULLUP, GPIO_PIN_CNF_DIR_OUTPUT | GPIO_PIN_CNF_INPUT_DISCONNECT);
        gpio_set(NANO33BLE_PIN_VDD_ENV);
        gpio_config(NANO33BLE_PIN_VDD_ENV, GPIO_PIN_CNF_DIR_OUTPUT | GPIO_PIN_CNF_INPUT_DISCONNECT);
        delay_us(NANO33BLE_SENSOR_POWER_UP_US);
        sensors_powered = true;
    }
    /* Open drain, input connected (the TWIM reads the lines back). The internal
     * ~13 kOhm pull-ups keep a header bus without external resistors usable at low
     * speed, and are harmless in parallel with the Sense's own pull-ups. */
    gpio_config(scl, GPIO_PIN_CNF_DRIVE_S0D1 | GPIO_PIN_CNF_PULL_UP);
    gpio_config(sda, GPIO_PIN_CNF_DRIVE_S0D1 | GPIO_PIN_CNF_PULL_UP);
    TWIM0_PSEL_SCL = scl;
    TWIM0_PSEL_SDA = sda;
    TWIM0_FREQUENCY = TWIM_FREQUENCY_K390;
    TWIM0_ENABLE = TWIM_ENABLE_ENABLED;
    i2c_routed = bus;
    i2c_ready = true;
}

void nano33ble_delay_us(uint32_t us)
{
    delay_us(us);
}

/* Run the transfer set up in TXD/RXD, from STARTTX to STOPPED, bounded. */
static nano33ble_i2c_status_t i2c_transfer(uint8_t addr, uint32_t shorts)
{
    TWIM0_ADDRESS = addr;
    TWIM0_EVENTS_STOPPED = NRF_EVENT_CLEAR;
    TWIM0_EVENTS_ERROR = NRF_EVENT_CLEAR;
    TWIM0_EVENTS_LASTTX = NRF_EVENT_CLEAR;
    TWIM0_EVENTS_LASTRX = NRF_EVENT_CLEAR;
    TWIM0_ERRORSRC = TWIM_ERRORSRC_ALL;
    TWIM0_SHORTS = shorts;
    NANO33BLE_DMA_BARRIER();
    TWIM0_TASKS_STARTTX = NRF_TASK_TRIGGER;

    const uint64_t start = board_ticks();
    while (TWIM0_EVENTS_STOPPED == 0u) {
        if (TWIM0_EVENTS_ERROR != 0u) {
            /* A NACK (or overrun) does not end the transfer by itself: send STOP
             * (RESUME first, in case the TWIM had suspended), as nrfx does. */
            TWIM0_EVENTS_ERROR = NRF_EVENT_CLEAR;
            TWIM0_TASKS_RESUME = NRF_TASK_TRIGGER;
            TWIM0_TASKS_STOP = NRF_TASK_TRIGGER;
        }
        if (board_ticks() - start >= NANO33BLE_US_TO_TICKS(NANO33BLE_I2C_TIMEOUT_US)) {
            /* Bus stuck (SCL held low, no pull-ups, no power): disabling and
             * re-enabling resets the TWIM's state so the next call starts clean. */
            TWIM0_TASKS_STOP = NRF_TASK_TRIGGER;
            TWIM0_SHORTS = 0u;
            TWIM0_ENABLE = TWIM_ENABLE_DISABLED;
            TWIM0_ENABLE = TWIM_ENABLE_ENABLED;
            return NANO33BLE_I2C_ERR_TIMEOUT;
        }
    }
    TWIM0_SHORTS = 0u;
    NANO33BLE_DMA_BARRIER();
    const uint32_t errors = TWIM0_ERRORSRC;
    TWIM0_ERRORSRC = errors;
    if ((errors & (TWIM_ERRORSRC_ANACK | TWIM_ERRORSRC_DNACK)) != 0u) {
        return NANO33BLE_I2C_ERR_NACK;
    }
    if (errors != 0u) {
        return NANO33BLE_I2C_ERR_BUS;
    }
    return NANO33BLE_I2C_OK;
}

/* 7-bit addresses only; 0x78..0x7F are reserved (10-bit and future use). */
#define NANO33BLE_I2C_ADDR_MAX 0x77u

nano33ble_i2c_status_t nano33ble_i2c_read(uint8_t addr, uint8_t reg, uint8_t *buf, size_t len)
{
    if (!i2c_ready || addr > NANO33BLE_I2C_ADDR_MAX || buf == NULL || len == 0u ||
        len > NANO33BLE_I2C_READ_MAX || !in_data_ram(buf, len)) {
        return NANO33BLE_I2C_ERR_ARG;
    }
    i2c_tx[0] = reg;
    TWIM0_TXD_PTR = (uint32_t)(uintptr_t)i2c_tx;
    TWIM0_TXD_MAXCNT = 1u;
    TWIM0_RXD_PTR = (uint32_t)(uintptr_t)buf;
    TWIM0_RXD_MAXCNT = (uint32_t)len;
    /* Write the register address, repeated start, read, stop: all in hardware. */
    return i2c_transfer(addr, TWIM_SHORTS_LASTTX_STARTRX | TWIM_SHORTS_LASTRX_STOP);
}

nano33ble_i2c_status_t nano33ble_i2c_write(uint8_t addr, uint8_t reg, const uint8_t *buf, size_t len)
{
    if (!i2c_ready || addr > NANO33BLE_I2C_ADDR_MAX || (buf == NULL && len != 0u) ||
        len > NANO33BLE_I2C_WRITE_MAX) {
        return NANO33BLE_I2C_ERR_ARG;
    }
    i2c_tx[0] = reg;
    if (len != 0u) {
        memcpy(&i2c_tx[1], buf, len);
    }
    TWIM0_TXD_PTR = (uint32_t)(uintptr_t)i2c_tx;
    TWIM0_TXD_MAXCNT = 1u + (uint32_t)len;
    TWIM0_RXD_MAXCNT = 0u;
    return i2c_transfer(addr, TWIM_SHORTS_LASTTX_STOP);
}
