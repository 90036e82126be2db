"""Shared fixtures: boards are built once per session and always stopped. On CI a skipped test fails the run
(tests/ci_guard.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from vigil.device import board as boards
from vigil.device.link import Link

pytest_plugins = ("ci_guard",)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", params=["native", "vwrist"])
def board(request: pytest.FixtureRequest) -> Iterator[boards.BoardProcess]:
    """Each board in turn, running for the whole session."""
    with boards.running_board(request.param) as proc:
        yield proc


@pytest.fixture()
def link(board: boards.BoardProcess) -> Iterator[Link]:
    """A fresh host session on the board (HELLO exchanged)."""
    with Link.open(board.port) as lnk:
        lnk.request_hello()
        yield lnk


def qemu_processes() -> list[int]:
    """Pids of QEMU processes running a vigil firmware."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system-arm" in cmd and b".pio/build/vwrist" in cmd:
            out.append(int(proc.name))
    return out


@pytest.fixture(scope="session")
def ctest_program() -> Path:
    """The C core test program (firmware/tests), built with PlatformIO's `ctest` env.
    $VIGIL_CTEST_PROGRAM points at another build of it (for quick local iterations)."""
    import os

    from vigil.device import flash

    override = os.environ.get("VIGIL_CTEST_PROGRAM")
    if override:
        return Path(override)
    flash.build("ctest")
    return flash.build_dir("ctest") / "program"

