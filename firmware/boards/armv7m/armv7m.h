/*
 * What every Cortex-M4 port shares (vwrist, f405, nano33ble): the ARMv7-M system registers they touch (SysTick, SCB,
 * MPU, debug halting status; ARMv7-M Architecture Reference Manual, B3) and the fault line they print before they
 * stop. Port-internal: included by the ports' own headers, never by the core or the app. The NVIC stays with each
 * port, whose IRQ count and indexing differ. Not in the vendors' SVDs, so tests/test_board_registers.py does not
 * cover these addresses.
 */
#ifndef ARMV7M_H
#define ARMV7M_H

#include <stddef.h>
#include <stdint.h>

#define ARMV7M_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SYST_CSR ARMV7M_REG32(0xE000E010u)
#define SYST_RVR ARMV7M_REG32(0xE000E014u)
#define SYST_CVR ARMV7M_REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1 = processor clock */
#define SYST_RVR_MAX 0x00FFFFFFu     /* 24-bit reload */

#define SCB_ICSR ARMV7M_REG32(0xE000ED04u)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_ICSR_PENDSTSET (1u << 26)
#define SCB_ICSR_PENDSVCLR (1u << 27)
#define SCB_VTOR ARMV7M_REG32(0xE000ED08u)
#define SCB_AIRCR ARMV7M_REG32(0xE000ED0Cu)
#define SCB_AIRCR_VECTKEY (0x05FAu << 16)
#define SCB_AIRCR_PRIGROUP_MASK (7u << 8)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)
#define SCB_CCR ARMV7M_REG32(0xE000ED14u)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHCSR ARMV7M_REG32(0xE000ED24u)
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)
#define SCB_CFSR ARMV7M_REG32(0xE000ED28u)
#define SCB_HFSR ARMV7M_REG32(0xE000ED2Cu)
#define SCB_MMFAR ARMV7M_REG32(0xE000ED34u)
#define SCB_BFAR ARMV7M_REG32(0xE000ED38u)
#define SCB_CPACR ARMV7M_REG32(0xE000ED88u)
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

#define MPU_TYPE ARMV7M_REG32(0xE000ED90u)
#define MPU_CTRL ARMV7M_REG32(0xE000ED94u)
#define MPU_RNR ARMV7M_REG32(0xE000ED98u)
#define MPU_RBAR ARMV7M_REG32(0xE000ED9Cu)
#define MPU_RASR ARMV7M_REG32(0xE000EDA0u)
#define MPU_TYPE_DREGION(type) (((type) >> 8) & 0xFFu)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2) /* default map for everything not in a region */
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE(log2_bytes) (((log2_bytes) - 1u) << 1)
#define MPU_RASR_AP_RO (6u << 24) /* read-only for privileged and unprivileged */
#define MPU_RASR_XN (1u << 28)
#define MPU_RASR_C (1u << 17)
#define MPU_RASR_B (1u << 16)

#define DHCSR ARMV7M_REG32(0xE000EDF0u)
#define DHCSR_C_DEBUGEN (1u << 0) /* a debugger has enabled halting debug */

/* The fault line: 0x00 "<board> FAULT exc= pc= lr= sp= cfsr= hfsr= mmfar= bfar=" '\n' 0x00, 8 hex digits each. The
 * leading and trailing 0x00 make the host's COBS framing count the text as one bad frame instead of corrupting a good
 * one. */
#define ARMV7M_FAULT_MSG_MAX 192u
#define ARMV7M_HEX_DIGITS 8u

static inline size_t armv7m_put_str(char *buf, size_t pos, const char *s)
{
    while (*s != '\0' && pos < ARMV7M_FAULT_MSG_MAX) {
        buf[pos++] = *s++;
    }
    return pos;
}

static inline size_t armv7m_put_hex(char *buf, size_t pos, const char *name, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    pos = armv7m_put_str(buf, pos, name);
    for (unsigned i = 0; i < ARMV7M_HEX_DIGITS && pos < ARMV7M_FAULT_MSG_MAX; ++i) {
        buf[pos++] = digits[(value >> (4u * (ARMV7M_HEX_DIGITS - 1u - i))) & 0xFu];
    }
    return pos;
}

/* Writes the fault line into buf (ARMV7M_FAULT_MSG_MAX bytes); returns its length. */
static inline size_t armv7m_fault_message(char *buf, const char *board, uint32_t exc, uint32_t pc, uint32_t lr,
                                          uint32_t sp)
{
    size_t n = 0;
    buf[n++] = '\0';
    n = armv7m_put_str(buf, n, board);
    n = armv7m_put_str(buf, n, " FAULT");
    n = armv7m_put_hex(buf, n, " exc=", exc);
    n = armv7m_put_hex(buf, n, " pc=", pc);
    n = armv7m_put_hex(buf, n, " lr=", lr);
    n = armv7m_put_hex(buf, n, " sp=", sp);
    n = armv7m_put_hex(buf, n, " cfsr=", SCB_CFSR);
    n = armv7m_put_hex(buf, n, " hfsr=", SCB_HFSR);
    n = armv7m_put_hex(buf, n, " mmfar=", SCB_MMFAR);
    n = armv7m_put_hex(buf, n, " bfar=", SCB_BFAR);
    n = armv7m_put_str(buf, n, "\n");
    if (n < ARMV7M_FAULT_MSG_MAX) {
        buf[n++] = '\0';
    }
    return n;
}

#endif /* ARMV7M_H */
