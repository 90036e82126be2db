"""The board ports' register definitions, written by hand (no vendor header can be had here), against the vendors'
SVD files (STM32F41x.svd for f405, nrf52840.svd for nano33ble; `make setup` fetches them from the pyocd wheel on
PyPI, tools/fetch_svd.py): every peripheral base address, every register offset and every interrupt number a port
defines must be the SVD's. A changed address or a register moved to the wrong offset fails here, not on a board.

The Cortex-M system registers (SCB, SysTick, NVIC, MPU at 0xE000xxxx) are the ARMv7-M architecture's, absent from
the STM32 SVD; they are defined by absolute address and listed, not checked here."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SVD_DIR = Path(sys.prefix) / "share" / "vigil-svd"

pytestmark = pytest.mark.skipif(not SVD_DIR.is_dir(), reason="no SVD files: run `make setup` (tools/fetch_svd.py)")


@dataclass
class Peripheral:
    base: int
    registers: dict[str, int] = field(default_factory=dict)  # CLUSTER_NAME or NAME -> offset


def _int(text: str | None) -> int:
    return int(text.strip(), 0) if text else 0


def _dim_names(node: ET.Element) -> list[tuple[str, int]]:
    """(name, extra offset) of a register or cluster, its dim array expanded (NAME[%s] -> NAME0, NAME1, ...)."""
    name = node.findtext("name", "")
    dim = node.findtext("dim")
    if dim is None:
        return [(name, 0)]
    step = _int(node.findtext("dimIncrement"))
    index = node.findtext("dimIndex")
    labels = index.split(",") if index and "," in index else [str(i) for i in range(_int(dim))]
    return [(name.replace("[%s]", label).replace("%s", label), i * step) for i, label in enumerate(labels)]


def _registers(node: ET.Element, prefix: str, offset: int, out: dict[str, int]) -> None:
    registers = node.find("registers")
    children = list(registers) if registers is not None else list(node)
    for child in children:
        if child.tag not in ("register", "cluster"):
            continue
        for name, extra in _dim_names(child):
            where = offset + _int(child.findtext("addressOffset")) + extra
            if child.tag == "register":
                out[prefix + name] = where
            else:
                _registers(child, f"{prefix}{name}_", where, out)


def load_svd(name: str) -> tuple[dict[str, Peripheral], dict[str, int]]:
    """The SVD's peripherals (derivedFrom resolved) and its interrupts by name."""
    root = ET.parse(SVD_DIR / name).getroot()
    nodes = {p.findtext("name", ""): p for p in root.iter("peripheral")}
    peripherals, interrupts = {}, {}
    for pname, node in nodes.items():
        source = nodes.get(node.get("derivedFrom", ""), node)
        regs: dict[str, int] = {}
        _registers(source, "", 0, regs)
        peripherals[pname] = Peripheral(_int(node.findtext("baseAddress")), regs)
        for irq in node.iter("interrupt"):
            interrupts[irq.findtext("name", "")] = _int(irq.findtext("value"))
    return peripherals, interrupts


@dataclass(frozen=True)
class PortHeader:
    path: str
    svd: str
    register_macro: str  # the header's accessor: F405_REG32(BASE + off) or NRF_REG32(BASE, off)
    irq_prefix: str
    base_prefix: str = ""  # the header's prefix before a peripheral's name in its *_BASE symbol
    aliases: tuple[tuple[str, str], ...] = ()  # the header's peripheral name -> the SVD's


PORTS = {
    "f405": PortHeader("firmware/boards/f405/f405.h", "STM32F41x.svd", "F405_REG32", "F405_IRQ_",
                       aliases=(("FLASH_IF", "FLASH"),)),  # fmt: skip
    "nano33ble": PortHeader("firmware/boards/nano33ble/nrf52840.h", "nrf52840.svd", "NRF_REG32", "NRF_IRQ_",
                            base_prefix="NRF_"),  # fmt: skip
}


Definitions = tuple[dict[str, int], list[tuple[str, str, int]], dict[str, int], list[str]]


def header_definitions(port: PortHeader) -> Definitions:
    """(bases by peripheral, (macro, peripheral, offset) per register, IRQ numbers, absolute-address registers)."""
    text = (ROOT / port.path).read_text()
    bases = {m[1]: int(m[2], 16) for m in re.finditer(rf"#define {port.base_prefix}(\w+)_BASE (0x[0-9A-Fa-f]+)u", text)}
    macro = re.escape(port.register_macro)
    register = rf"#define (\w+) {macro}\(\s*{port.base_prefix}(\w+)_BASE\s*(?:\+|,)\s*(0x[0-9A-Fa-f]+)u\s*\)"
    regs = [(m[1], m[2], int(m[3], 16)) for m in re.finditer(register, text)]
    irqs = {m[1]: int(m[2]) for m in re.finditer(rf"#define {re.escape(port.irq_prefix)}(\w+) (\d+)u", text)}
    absolute = [m[1] for m in re.finditer(rf"#define (\w+) {macro}\((0x[0-9A-Fa-f]+)u\)", text)]
    return bases, regs, irqs, absolute


@pytest.fixture(scope="module", params=sorted(PORTS))
def port(request: pytest.FixtureRequest) -> tuple[PortHeader, dict[str, Peripheral], dict[str, int]]:
    p = PORTS[request.param]
    if not (ROOT / p.path).is_file():
        pytest.fail(f"{p.path} is missing")
    return (p, *load_svd(p.svd))


def svd_name(port: PortHeader, name: str) -> str:
    return dict(port.aliases).get(name, name)


def test_every_base_address_is_the_svds(port) -> None:
    header, peripherals, _ = port
    bases, regs, _, _ = header_definitions(header)
    used = {periph for _, periph, _ in regs}
    # a *_BASE that no register uses and the SVD does not name is memory (F405_SRAM_BASE), not a peripheral
    bases = {name: base for name, base in bases.items() if name in used or svd_name(header, name) in peripherals}
    assert len(bases) >= 4, bases
    wrong = {name: (hex(base), hex(peripherals[svd_name(header, name)].base))
             for name, base in bases.items() if peripherals[svd_name(header, name)].base != base}  # fmt: skip
    assert wrong == {}, f"{header.path}: base addresses differ from {header.svd}: {wrong}"


def test_every_register_offset_is_the_svds(port) -> None:
    header, peripherals, _ = port
    _, regs, _, _ = header_definitions(header)
    assert len(regs) >= 10, regs
    problems = []
    for macro, periph, offset in regs:
        svd = peripherals[svd_name(header, periph)]
        prefixes = (f"{svd_name(header, periph)}_", f"{periph}_")
        short = next((macro[len(p):] for p in prefixes if macro.startswith(p)), macro)
        if short not in svd.registers:
            problems.append(f"{macro}: no register {short} in {svd_name(header, periph)}")
        elif svd.registers[short] != offset:
            problems.append(f"{macro}: offset {offset:#x}, the SVD's {svd.registers[short]:#x}")
    assert problems == [], f"{header.path} against {header.svd}:\n" + "\n".join(problems)


def test_every_interrupt_number_is_the_svds(port) -> None:
    header, _, interrupts = port
    _, _, irqs, _ = header_definitions(header)
    checked = {name: n for name, n in irqs.items() if not name.startswith("NUM")}
    assert checked, irqs
    problems = []
    for name, number in checked.items():
        # the SVD names a shared line by every peripheral on it: UARTE0_UART0, SPIM0_SPIS0_TWIM0_TWIS0_SPI0_TWI0
        matches = {n: v for n, v in interrupts.items() if n == name or name in n.split("_") or n.startswith(name)}
        if not matches:
            problems.append(f"{name}: no such interrupt")
        elif number not in matches.values():
            problems.append(f"{name} = {number}: the SVD's {matches}")
    assert problems == [], f"{header.path} against {header.svd}:\n" + "\n".join(problems)


def test_only_architectural_registers_are_given_by_absolute_address(port) -> None:
    """Vendor peripherals go through a *_BASE (checked above); an absolute address is the Cortex-M's own space."""
    header, _, _ = port
    text = (ROOT / header.path).read_text()
    absolute = re.findall(rf"#define \w+ {re.escape(header.register_macro)}\((0x[0-9A-Fa-f]+)u\)", text)
    assert all(0xE0000000 <= int(a, 16) < 0xE0100000 for a in absolute), absolute
