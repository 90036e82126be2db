"""The real-chip builds (issue 14): `pio run -e f405` and `pio run -e nano33ble` compile and link through the local
PlatformIO platform with Debian's toolchain, and the images fit each part's budget: the STM32F405 1 MB of flash and
128 KB of SRAM (its 64 KB CCM is not used: QEMU 7.2 does not map it), the nRF52840 behind the Arduino bootloader
960 KB of flash from 0x10000 and 256 KB of RAM. The sizes are printed (pytest -s) and checked here; f405 also runs,
on QEMU (tests/test_cli.py and the board tests), nano33ble only on hardware."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

import pytest

from vigil.device import flash

pytestmark = pytest.mark.board


@dataclass(frozen=True)
class Budget:
    flash_origin: int
    flash_bytes: int
    ram_bytes: int


BUDGETS = {
    "f405": Budget(0x08000000, 1024 * 1024, 128 * 1024),  # the 64 KB CCM is left unused (QEMU 7.2 does not map it)
    "nano33ble": Budget(0x10000, 960 * 1024, 256 * 1024),
}


def sections(elf: str) -> dict[str, tuple[int, int]]:
    """name -> (size, address) of every allocated section (arm-none-eabi-size -A)."""
    out = subprocess.run(["arm-none-eabi-size", "-A", elf], capture_output=True, text=True, check=True).stdout
    rows = (re.match(r"^(\S+)\s+(\d+)\s+(\d+)$", line.strip()) for line in out.splitlines())
    return {m[1]: (int(m[2]), int(m[3])) for m in rows if m and int(m[2]) > 0}


@pytest.mark.parametrize("env", sorted(BUDGETS))
def test_the_chip_build_links_and_fits_its_part(env: str) -> None:
    flash.build(env)
    elf = str(flash.build_dir(env) / "firmware.elf")
    budget = BUDGETS[env]
    secs = sections(elf)
    flash_end = budget.flash_origin + budget.flash_bytes
    in_flash = {n: s for n, (s, a) in secs.items() if budget.flash_origin <= a < flash_end}
    in_ram = {n: s for n, (s, a) in secs.items() if 0x10000000 <= a < 0x10010000 or 0x20000000 <= a < 0x20040000}
    flash_used = sum(in_flash.values()) + secs.get(".data", (0, 0))[0]  # .data's initial values live in flash too
    ram_used = sum(in_ram.values())
    print(f"\n{env}: flash {flash_used} of {budget.flash_bytes} B, RAM {ram_used} of {budget.ram_bytes} B")
    assert in_flash and min(secs[n][1] for n in in_flash) == budget.flash_origin, secs  # the image starts there
    assert 0 < flash_used <= budget.flash_bytes and 0 < ram_used <= budget.ram_bytes
    # the vector table is first in flash: its first word is the initial stack pointer, inside RAM
    image = (flash.build_dir(env) / "firmware.bin").read_bytes()
    sp = int.from_bytes(image[:4], "little")
    assert 0x10000000 <= sp <= 0x20040000, hex(sp)
