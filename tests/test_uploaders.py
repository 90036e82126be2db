"""`vigil flash` for real chips without PlatformIO's registry (vigil.device.uploaders): which of Debian's tools is
chosen, the exact command it runs, and the one line when none can be used. The tools are stubs on PATH that record
their arguments; the image is the real f405 / nano33ble build."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vigil.device import board as boards
from vigil.device import flash, uploaders
from vigil.errors import BoardError


def stub_path(tmp_path: Path, names: list[str], status: int = 0) -> Path:
    """A PATH folder whose programs ``names`` append their arguments to calls.txt and exit with ``status``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        tool = bin_dir / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp_path / "calls.txt"}\nexit {status}\n')
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return bin_dir


@pytest.fixture()
def only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Put only the named stub tools on PATH (plus nothing else the uploaders look for)."""

    def use(*names: str, status: int = 0) -> Path:
        monkeypatch.setenv("PATH", f"{stub_path(tmp_path, list(names), status)}{os.pathsep}/usr/bin{os.pathsep}/bin")
        for other in {u.name for us in uploaders.UPLOADERS.values() for u in us} - set(names):
            assert uploaders.shutil.which(other) is None, f"{other} is installed on this machine: the test needs PATH"
        return tmp_path / "calls.txt"

    return use


def test_the_first_usable_tool_wins_and_its_needs_are_honoured(only) -> None:
    only("stm32flash", "openocd")
    assert uploaders.choose("f405", port=None).name == "openocd"  # stm32flash needs a port
    assert uploaders.choose("f405", port="/dev/ttyUSB0").name == "stm32flash"
    with pytest.raises(BoardError, match="stm32flash needs --port: --port on USART1 with BOOT0 high"):
        uploaders.choose("f405", port=None, name="stm32flash")
    with pytest.raises(BoardError, match=r"dfu-util is not installed \(apt-get install dfu-util\)"):
        uploaders.choose("f405", port=None, name="dfu-util")
    with pytest.raises(BoardError, match="--uploader bossac: f405 is uploaded with dfu-util, stm32flash, openocd"):
        uploaders.choose("f405", port=None, name="bossac")


def test_nothing_usable_is_one_line_naming_what_to_install(only) -> None:
    only()
    with pytest.raises(BoardError) as err:
        uploaders.choose("nano33ble", port=None)
    line = str(err.value)
    assert "\n" not in line and line.startswith("cannot upload nano33ble: none of its uploaders is usable here")
    assert "bossac (--port of the bootloader" in line
    assert "openocd (a CMSIS-DAP probe on SWD; apt-get install openocd)" in line


@pytest.mark.board
@pytest.mark.parametrize("env, tools, port, expected", [
    ("f405", ["dfu-util"], None, "dfu-util -a 0 -s 0x08000000:leave -D {build}/firmware.bin"),
    ("f405", ["stm32flash"], "/dev/ttyUSB3", "stm32flash -w {build}/firmware.bin -v -g 0x08000000 /dev/ttyUSB3"),
    ("f405", ["openocd"], None,
     "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c program {build}/firmware.elf verify reset exit"),
    ("nano33ble", ["bossac"], "/dev/ttyACM0", "bossac -d --port=/dev/ttyACM0 -U -i -e -w {build}/firmware.bin -R"),
    ("nano33ble", ["openocd"], None,
     "openocd -f interface/cmsis-dap.cfg -f target/nrf52.cfg -c program {build}/firmware.elf verify reset exit"),
])  # fmt: skip
def test_vigil_flash_builds_and_runs_the_tool(only, env: str, tools: list[str], port: str | None,
                                               expected: str) -> None:  # fmt: skip
    calls = only(*tools)
    done = boards.flash_board(env, port, hardware=True)
    assert isinstance(done, boards.Uploaded) and done.env == env
    build = flash.build_dir(env)
    assert calls.read_text().strip() == expected.format(build=build)
    assert (build / "firmware.bin").stat().st_size > 10_000


def test_a_failing_tool_is_an_error_naming_it(only) -> None:
    only("dfu-util", status=74)
    with pytest.raises(BoardError, match="dfu-util failed to upload f405"):
        uploaders.upload("f405", uploaders.choose("f405", None), flash.build_dir("f405"), None)


def test_hardware_needs_a_chip_this_machine_uploads() -> None:
    with pytest.raises(BoardError, match="--hardware: vwrist is not a chip this machine uploads"):
        boards.flash_board("vwrist", hardware=True)


@pytest.mark.parametrize("registry_env, offline_env", [("feather_f405", "f405"), ("nano33ble_registry", "nano33ble")])
def test_the_registry_environments_build_the_offline_ones_sources(registry_env: str, offline_env: str) -> None:
    """platformio.ini's environments for users with PlatformIO's registry: its own platforms, the same sources,
    linker script and board folder as the offline environment that `make test` builds."""
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config.read(flash.project_root() / "platformio.ini")
    reg, off = config[f"env:{registry_env}"], config[f"env:{offline_env}"]
    assert "://" not in reg["platform"] and off["platform"].startswith("symlink://")
    for key in ("build_src_filter", "board_build.ldscript", "custom_vigil_board_dir"):
        assert reg[key] == off[key], key
    assert flash.OFFLINE_ALTERNATIVE[registry_env].startswith(f"vigil flash -e {offline_env}")


def test_a_registry_environment_without_its_platform_is_one_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(tmp_path))
    with pytest.raises(BoardError, match=r"feather_f405 needs PlatformIO's ststm32 platform.*vigil flash -e f405 --hardware"):
        boards.flash_board("feather_f405")
    (tmp_path / "platforms" / "ststm32").mkdir(parents=True)
    flash.require_platform("feather_f405")  # installed: PlatformIO takes it from there
    with pytest.raises(BoardError, match="no environment nosuch"):
        boards.flash_board("nosuch")
