/*
 * f405: board.h for the STM32F405RG (Cortex-M4F), run on QEMU's netduinoplus2.
 *
 * Clock: HSI -> PLL -> 168 MHz when the PLL locks (silicon); otherwise the
 * reset clock, the 16 MHz HSI. QEMU has no RCC (its registers read 0, so the
 * PLL never reports ready and the port stays on "HSI"), but it clocks the CPU
 * and SysTick at a fixed 168 MHz whatever the RCC says; the port recognises
 * that case (f405_rcc_emulated) and reports 168 MHz, which is what SysTick
 * really counts at there.
 *
 * Serial: USART1 (PA9 TX, PA10 RX, AF7; QEMU: the first -serial). RX is
 * interrupt driven into a ring; TX is polled.
 *
 * Time: board_ticks() counts SysTick input clocks (the processor clock),
 * extended to 64 bits by counting its 1 ms periods in SysTick_Handler. There
 * is no other usable counter: QEMU has no DWT cycle counter, and its TIM2-5
 * model is unreliable. Under "-icount shift=0" one tick is 1e9 / 168e6 =
 * 5.95 guest instructions.
 */
#include "board.h"
#include "mix32.h"

#include "f405.h"

/* RX ring: must hold what the host may send while the app is busy with one
 * window of DSP/NN work; beyond that, the ISR stalls reception (see
 * USART1_IRQHandler). Power of two so indices wrap by masking. Same size as
 * vwrist's. */
#define F405_RX_RING_SIZE 4096u
#define F405_RX_RING_MASK (F405_RX_RING_SIZE - 1u)
_Static_assert((F405_RX_RING_SIZE & F405_RX_RING_MASK) == 0u, "ring size must be a power of two");

/* SysTick period: 1 ms bounds an idle sleep and is the unit the 64-bit tick
 * count is extended by, at < 0.1 % CPU cost. */
#define F405_TICK_HZ 1000u
_Static_assert(F405_HSI_HZ % F405_TICK_HZ == 0u && F405_PLL_SYSCLK_HZ % F405_TICK_HZ == 0u &&
                   F405_QEMU_SYSCLK_HZ % F405_TICK_HZ == 0u,
               "a SysTick period must be a whole number of clocks");
_Static_assert(F405_PLL_SYSCLK_HZ / F405_TICK_HZ - 1u <= SYST_RVR_MAX &&
                   F405_QEMU_SYSCLK_HZ / F405_TICK_HZ - 1u <= SYST_RVR_MAX,
               "SysTick reload is 24 bits");
/* board_millis() divides ticks by the period: a millisecond is one period. */
_Static_assert(F405_TICK_HZ == 1000u, "board_millis() assumes 1 SysTick period = 1 ms");

/* USART1 baud divider (oversampling by 16): BRR = f_PCLK2 / baud, rounded. */
#define F405_USART_BRR(pclk_hz) (((pclk_hz) + F405_BAUD / 2u) / F405_BAUD)
_Static_assert(F405_USART_BRR(F405_HSI_HZ) <= 0xFFFFu, "BRR is 16 bits");
_Static_assert(F405_USART_BRR(F405_PLL_SYSCLK_HZ / F405_APB2_DIV_AT_PLL) <= 0xFFFFu, "BRR is 16 bits");

/* Fatal-path TX: give up on a byte after this many polls rather than hang a
 * crashed board on a line that never drains. */
#define F405_PANIC_TX_SPINS 1000000u

/* Boot record magic ("F4BT"); any other value means cold RAM. */
#define F405_BOOT_MAGIC 0x46344254u

_Static_assert(offsetof(f405_boot_record_t, host_seed) == F405_BOOT_SEED_ADDR - F405_SRAM_BASE,
               "README/launcher seed address must match the boot record layout");

static const char f405_board_name[] = "f405";

/* ---- RX ring: single producer (RX ISR), single consumer (thread code) ---- */
static uint8_t rx_ring[F405_RX_RING_SIZE];
static volatile uint32_t rx_head;    /* free-running; written only by the ISR */
static volatile uint32_t rx_tail;    /* free-running; written only by board_serial_read */
static volatile uint32_t rx_stalled; /* ISR masked the USART1 line because the ring was full */

/* ---- clocks and time ---- */
static uint32_t sysclk_hz;       /* the processor clock = SysTick's input */
static uint32_t pclk2_hz;        /* USART1's kernel clock; 0 until clock_init (= reset clock, HSI) */
static uint32_t systick_period;  /* clocks per SysTick period (1 ms) */
static uint64_t systick_periods; /* whole periods elapsed; written only by SysTick_Handler */

/* ---- boot identity ---- */
f405_boot_record_t f405_boot_record __attribute__((section(".noinit.f405_boot")));
static uint32_t boot_id;
static bool board_ready;

/* Compiler barrier: orders the ring store before the index store. A single
 * Cortex-M4 core sees its own memory accesses in order, so no DMB is needed. */
#define F405_COMPILER_BARRIER() __asm volatile("" ::: "memory")

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
    f405_boot_record_t *r = &f405_boot_record;
    if (r->magic == F405_BOOT_MAGIC && r->count_check == ~r->count) {
        r->count += 1u;
    } else {
        /* Cold start of the QEMU process (RAM is zero), power-up garbage on
         * silicon, or a corrupted record. */
        r->magic = F405_BOOT_MAGIC;
        r->count = 1u;
    }
    r->count_check = ~r->count;
    /* host_seed is 0 unless the launcher presets it; adding a constant keeps
     * the mapping count -> id bijective within one QEMU process. */
    boot_id = mix32(r->count + mix32(r->host_seed));
}

/* ---- clocks ---- */

/* Poll until (reg & mask) == want, at most F405_CLOCK_READY_POLLS times: a
 * ready bit that never comes (QEMU, a dead oscillator) must not hang boot. */
static bool wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
    for (uint32_t i = 0; i < F405_CLOCK_READY_POLLS; ++i) {
        if ((*reg & mask) == want) {
            return true;
        }
    }
    return false;
}

/* HSI -> PLL -> 168 MHz (RM0090 6.3 / 7.3). Returns false, with the chip
 * still on the HSI and the buses undivided, if a step does not take. */
static bool clock_try_pll(void)
{
    /* 168 MHz needs voltage scale 1 (the F405's reset value; set anyway).
     * The read back gives the PWR clock enable time to take effect before
     * PWR is written (RM0090: 2 cycles after an RCC enable). */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS;

    /* PLLCFGR may only change while the PLL is off (it is, after reset). */
    RCC_CR &= ~RCC_CR_PLLON;
    RCC_PLLCFGR = (RCC_PLLCFGR & ~RCC_PLLCFGR_FIELDS) | (F405_PLL_M << RCC_PLLCFGR_PLLM_POS) |
                  (F405_PLL_N << RCC_PLLCFGR_PLLN_POS) |
                  ((F405_PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_POS) | /* PLLSRC = 0: HSI */
                  (F405_PLL_Q << RCC_PLLCFGR_PLLQ_POS);
    RCC_CR |= RCC_CR_PLLON;
    if (!wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        RCC_CR &= ~RCC_CR_PLLON; /* QEMU ends here: its RCC reads 0 */
        return false;
    }

    /* Wait states BEFORE the clock goes up, checked by reading them back
     * (RM0090 3.5.1). Prefetch and both caches hide most of them. */
    FLASH_ACR = F405_FLASH_LATENCY_AT_PLL | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != F405_FLASH_LATENCY_AT_PLL) {
        FLASH_ACR = 0u;
        RCC_CR &= ~RCC_CR_PLLON;
        return false;
    }

    /* APB1 and APB2 at their maxima (42 / 84 MHz) before SYSCLK rises. */
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_BUS_MASK) | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    if (!wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL)) {
        /* Back to the HSI with undivided buses. The 5 wait states stay: they
         * are correct at any clock, only slower. */
        RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_SW_MASK | RCC_CFGR_BUS_MASK)) | RCC_CFGR_SW_HSI;
        (void)wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_HSI);
        RCC_CR &= ~RCC_CR_PLLON;
        return false;
    }
    return true;
}

/* Sets sysclk_hz (SysTick's input) and pclk2_hz (USART1's). */
static void clock_init(void)
{
    if (clock_try_pll()) {
        sysclk_hz = F405_PLL_SYSCLK_HZ;
        pclk2_hz = F405_PLL_SYSCLK_HZ / F405_APB2_DIV_AT_PLL;
        return;
    }
    /* The PLL never locked. On silicon that leaves the 16 MHz HSI; under QEMU
     * (no RCC) the CPU and SysTick run at its fixed 168 MHz regardless, and
     * the USART ignores BRR, so BRR is computed for the HSI there too. */
    sysclk_hz = f405_rcc_emulated() ? F405_QEMU_SYSCLK_HZ : F405_HSI_HZ;
    pclk2_hz = F405_HSI_HZ;
}

/* ---- serial ---- */

static void uart_init(void)
{
    /* GPIOA and USART1 clocks; the read back lets the enable settle. */
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR;

    /* PA9 = TX, PA10 = RX: alternate function 7, fast edges, and a pull-up
     * on RX so an unconnected line idles high instead of reading noise. */
    GPIOA_MODER = (GPIOA_MODER & ~((3u << (2u * F405_USART1_TX_PIN)) | (3u << (2u * F405_USART1_RX_PIN)))) |
                  (GPIO_MODE_AF << (2u * F405_USART1_TX_PIN)) | (GPIO_MODE_AF << (2u * F405_USART1_RX_PIN));
    GPIOA_OSPEEDR = (GPIOA_OSPEEDR & ~(3u << (2u * F405_USART1_TX_PIN))) |
                    (GPIO_SPEED_HIGH << (2u * F405_USART1_TX_PIN));
    GPIOA_PUPDR = (GPIOA_PUPDR & ~(3u << (2u * F405_USART1_RX_PIN))) | (GPIO_PULL_UP << (2u * F405_USART1_RX_PIN));
    GPIOA_AFRH = (GPIOA_AFRH & ~((0xFu << (4u * (F405_USART1_TX_PIN - 8u))) | (0xFu << (4u * (F405_USART1_RX_PIN - 8u))))) |
                 (F405_USART1_AF << (4u * (F405_USART1_TX_PIN - 8u))) |
                 (F405_USART1_AF << (4u * (F405_USART1_RX_PIN - 8u)));

    /* 8N1, no flow control, no DMA. */
    USART1_CR1 = 0u;
    USART1_CR2 = 0u;
    USART1_CR3 = 0u;
    USART1_BRR = F405_USART_BRR(pclk2_hz);
    /* Drop whatever was pending (SR then DR also clears an overrun). */
    (void)USART1_SR;
    (void)USART1_DR;

    rx_head = 0u;
    rx_tail = 0u;
    rx_stalled = 0u;

    NVIC_ICPR(F405_IRQ_USART1) = NVIC_BIT(F405_IRQ_USART1);
    NVIC_ISER(F405_IRQ_USART1) = NVIC_BIT(F405_IRQ_USART1);
    /* No TX interrupt: TX is polled, board_serial_write is blocking anyway.
     * Input that arrives before UE and RE are set is dropped (by QEMU too). */
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
}

static void systick_init(void)
{
    systick_period = sysclk_hz / F405_TICK_HZ;
    systick_periods = 0u;
    SYST_CSR = 0u;
    SYST_RVR = systick_period - 1u;
    SYST_CVR = 0u; /* any write clears the counter: the first period is full */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

void board_init(void)
{
    if (board_ready) {
        return; /* a second call must not count a second boot */
    }
    boot_record_update();
    clock_init();
    uart_init();
    systick_init();
    board_ready = true;
    __asm volatile("cpsie i" ::: "memory");
}

const char *board_name(void)
{
    return f405_board_name;
}

void USART1_IRQHandler(void)
{
    for (;;) {
        uint32_t sr = USART1_SR;
        /* RXNEIE also raises the interrupt on an overrun (ORE), which must be
         * cleared (SR read, then DR read) or the line would stay high. */
        if ((sr & (USART_SR_RXNE | USART_SR_ORE)) == 0u) {
            break;
        }
        uint32_t head = rx_head;
        if ((sr & USART_SR_RXNE) != 0u && head - rx_tail >= F405_RX_RING_SIZE) {
            /* Ring full: leave the byte in DR and mask the line in the NVIC
             * (clearing RXNEIE would not do under QEMU 7.2: its USART lowers
             * the IRQ only when DR is read). QEMU takes no further byte from
             * the pty while RXNE is set, so the host blocks instead of
             * anything being dropped; on silicon the next byte overruns.
             * board_serial_read unmasks once it has made room. */
            NVIC_ICER(F405_IRQ_USART1) = NVIC_BIT(F405_IRQ_USART1);
            rx_stalled = 1u;
            break;
        }
        uint8_t byte = (uint8_t)USART1_DR; /* clears RXNE, and ORE after the SR read */
        if ((sr & USART_SR_RXNE) == 0u) {
            continue; /* an overrun alone: DR held no new byte */
        }
        rx_ring[head & F405_RX_RING_MASK] = byte;
        F405_COMPILER_BARRIER();
        rx_head = head + 1u;
    }
}

size_t board_serial_read(uint8_t *buf, size_t max)
{
    uint32_t tail = rx_tail;
    uint32_t avail = rx_head - tail;
    size_t n = (avail < max) ? (size_t)avail : max;
    for (size_t i = 0; i < n; ++i) {
        buf[i] = rx_ring[(tail + (uint32_t)i) & F405_RX_RING_MASK];
    }
    F405_COMPILER_BARRIER();
    /* Publish the room BEFORE checking rx_stalled: an ISR that ran after
     * this store sees the room; one that ran before set rx_stalled. */
    rx_tail = tail + (uint32_t)n;

    if (n > 0u && rx_stalled != 0u) {
        uint32_t primask = irq_save();
        rx_stalled = 0u;
        NVIC_ISER(F405_IRQ_USART1) = NVIC_BIT(F405_IRQ_USART1);
        /* The USART's request is level and still raised by the byte waiting
         * in DR; pending it by hand as well costs nothing and does not rely
         * on how the NVIC latched it while the line was masked. */
        NVIC_ISPR(F405_IRQ_USART1) = NVIC_BIT(F405_IRQ_USART1);
        irq_restore(primask);
    }
    return n;
}

void board_serial_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        /* TXE: the data register has room. (QEMU writes each byte to the
         * chardev synchronously and keeps TXE set.) */
        while ((USART1_SR & USART_SR_TXE) == 0u) {
        }
        USART1_DR = buf[i];
    }
}

void f405_panic_write(const uint8_t *buf, size_t len)
{
    /* The fault may predate board_init: make TX usable without touching RX,
     * at the bus clock in use (the reset clock, HSI, before clock_init). */
    if ((USART1_CR1 & USART_CR1_UE) == 0u) {
        RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
        RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
        (void)RCC_APB2ENR;
        GPIOA_MODER = (GPIOA_MODER & ~(3u << (2u * F405_USART1_TX_PIN))) | (GPIO_MODE_AF << (2u * F405_USART1_TX_PIN));
        GPIOA_AFRH = (GPIOA_AFRH & ~(0xFu << (4u * (F405_USART1_TX_PIN - 8u)))) |
                     (F405_USART1_AF << (4u * (F405_USART1_TX_PIN - 8u)));
        USART1_BRR = F405_USART_BRR(pclk2_hz != 0u ? pclk2_hz : F405_HSI_HZ);
        USART1_CR1 = USART_CR1_UE | USART_CR1_TE;
    }
    USART1_CR1 |= USART_CR1_TE;
    for (size_t i = 0; i < len; ++i) {
        uint32_t spins = F405_PANIC_TX_SPINS;
        while ((USART1_SR & USART_SR_TXE) == 0u) {
            if (--spins == 0u) {
                return;
            }
        }
        USART1_DR = buf[i];
    }
    /* Let the last byte leave before the caller ends the process/parks. */
    uint32_t spins = F405_PANIC_TX_SPINS;
    while ((USART1_SR & USART_SR_TC) == 0u && --spins != 0u) {
    }
}

/* ---- time ---- */

void SysTick_Handler(void)
{
    systick_periods += 1u;
}

/* SysTick counts RVR, ..., 1, 0, RVR, ...: the exception is pended as the
 * count reaches 0, and the 0 lasts one input clock before the reload. So the
 * 0 is ambiguous (end of a period or start of the next, depending on whether
 * the pend has been seen), and it is skipped: a read of 0 is retried. One
 * retry is enough on silicon and was enough in QEMU 7.2 in 5 M masked reads;
 * the bound only guards against a stopped counter. */
#define F405_CVR_ZERO_RETRIES 64u

static uint32_t cvr_nonzero(void)
{
    uint32_t count = SYST_CVR;
    for (uint32_t i = 0; count == 0u && i < F405_CVR_ZERO_RETRIES; ++i) {
        count = SYST_CVR;
    }
    return count;
}

uint64_t board_ticks(void)
{
    /* periods * period + clocks into the current period, with IRQs masked so
     * SysTick_Handler cannot run in between. The count is read BEFORE the
     * pend bit: if no pend shows, no period ended since the handler last ran,
     * so the count belongs to the counted period. If a pend shows, a period
     * ended that the handler has not counted yet, and the count is read again
     * so that it surely belongs to the new period (the first read may predate
     * the wrap: measured in QEMU, count 1, then pend set, then count 0).
     * A non-zero count c is c clocks before the period's end, so the elapsed
     * part is period - c, in 1 .. period - 1.
     * Reading the pend bit first and the count second (or trusting a count of
     * 0) goes backwards by a whole period now and then: measured 39 backward
     * steps in 10 M reads before this order was used, 0 after (README). */
    uint32_t primask = irq_save();
    uint64_t periods = systick_periods;
    uint32_t count = cvr_nonzero();
    if ((SCB_ICSR & SCB_ICSR_PENDSTSET) != 0u) {
        periods += 1u;
        count = cvr_nonzero();
    }
    irq_restore(primask);
    return periods * systick_period + (systick_period - count);
}

uint32_t board_ticks_per_second(void)
{
    return sysclk_hz;
}

uint32_t board_millis(void)
{
    /* Derived from the same counter so millis and ticks never disagree
     * (a SysTick period is 1 ms). */
    return (uint32_t)(board_ticks() / systick_period);
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
    /* Let the last byte leave the USART (TC: shift register empty): the
     * reset clears the USART, and with it any byte still being sent. */
    uint32_t spins = F405_PANIC_TX_SPINS;
    while ((USART1_SR & USART_SR_TC) == 0u && --spins != 0u) {
    }
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_MASK) | SCB_AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
