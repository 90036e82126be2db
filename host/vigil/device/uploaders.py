"""Putting a built image on a real chip without PlatformIO's registry: `vigil flash -e f405 --hardware` and
`vigil flash -e nano33ble` use the first of Debian's tools that is installed and can reach the board.

    f405       dfu-util   the board in its ROM DFU mode (BOOT0 high, USB): firmware.bin at 0x08000000, then leave
               stm32flash the ROM's UART bootloader on USART1 (PA9/PA10, the port's own pins; needs --port)
               openocd    an ST-Link on SWD (interface/stlink.cfg, target/stm32f4x.cfg): firmware.elf, verify, reset
    nano33ble  bossac     Arduino's bootloader (double-tap reset, its USB port; needs --port): firmware.bin, the image
                          linked at 0x10000 where the bootloader jumps
               openocd    a CMSIS-DAP probe on SWD (interface/cmsis-dap.cfg, target/nrf52.cfg): firmware.elf (never a
                          mass erase: it would take the bootloader with it)

When none can be used, one line names what to install or to give. ``--uploader NAME`` picks one.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vigil.errors import BoardError


@dataclass(frozen=True)
class Uploader:
    name: str  # the program, as found on PATH
    package: str  # the Debian package that carries it
    how: str  # what it needs on the board's side, for the error line
    needs_port: bool
    args: tuple[str, ...]  # {bin} {elf} {port} are filled in

    def command(self, build_dir: Path, port: str | None) -> list[str]:
        fill = {"bin": str(build_dir / "firmware.bin"), "elf": str(build_dir / "firmware.elf"), "port": port or ""}
        return [shutil.which(self.name) or self.name, *(a.format(**fill) for a in self.args)]


UPLOADERS: dict[str, tuple[Uploader, ...]] = {
    "f405": (
        Uploader("dfu-util", "dfu-util", "the board in DFU mode (BOOT0 high) on USB", False,
                 ("-a", "0", "-s", "0x08000000:leave", "-D", "{bin}")),
        Uploader("stm32flash", "stm32flash", "--port on USART1 with BOOT0 high", True,
                 ("-w", "{bin}", "-v", "-g", "0x08000000", "{port}")),
        Uploader("openocd", "openocd", "an ST-Link on SWD", False,
                 ("-f", "interface/stlink.cfg", "-f", "target/stm32f4x.cfg",
                  "-c", "program {elf} verify reset exit")),
    ),
    "nano33ble": (
        Uploader("bossac", "bossa-cli (or Arduino's bossac)", "--port of the bootloader (double-tap reset)", True,
                 ("-d", "--port={port}", "-U", "-i", "-e", "-w", "{bin}", "-R")),
        Uploader("openocd", "openocd", "a CMSIS-DAP probe on SWD", False,
                 ("-f", "interface/cmsis-dap.cfg", "-f", "target/nrf52.cfg",
                  "-c", "program {elf} verify reset exit")),
    ),
}  # fmt: skip


def chip_envs() -> list[str]:
    """The PlatformIO environments this module uploads."""
    return sorted(UPLOADERS)


def choose(env: str, port: str | None, name: str | None = None) -> Uploader:
    """The uploader to use for ``env``: ``name`` if given, else the first installed one whose needs are met."""
    options = UPLOADERS.get(env)
    if options is None:
        raise BoardError(f"no uploader for {env!r}: this machine's tools upload {', '.join(chip_envs())}")
    if name is not None:
        picked = next((u for u in options if u.name == name), None)
        if picked is None:
            raise BoardError(f"--uploader {name}: {env} is uploaded with {', '.join(u.name for u in options)}")
        if shutil.which(picked.name) is None:
            raise BoardError(f"{picked.name} is not installed (apt-get install {picked.package})")
        if picked.needs_port and not port:
            raise BoardError(f"{picked.name} needs --port: {picked.how}")
        return picked
    for u in options:
        if shutil.which(u.name) and (port or not u.needs_port):
            return u
    wants = "; ".join(f"{u.name} ({u.how}; apt-get install {u.package})" for u in options)
    raise BoardError(f"cannot upload {env}: none of its uploaders is usable here: {wants}")


def upload(env: str, uploader: Uploader, build_dir: Path, port: str | None) -> list[str]:
    """Upload ``build_dir``'s image with ``uploader`` (``choose``); returns the command run. Its output goes to the
    terminal."""
    cmd = uploader.command(build_dir, port)
    if subprocess.run(cmd).returncode != 0:
        raise BoardError(f"{uploader.name} failed to upload {env} (its output is above): {' '.join(cmd)}")
    return cmd
