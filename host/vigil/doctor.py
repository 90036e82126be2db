"""`vigil doctor`: is this machine ready to build, run and prove the firmware? One line per check, with the fix.

Checks what `make setup` installs and what the commands need: the host and Arm compilers, QEMU for the virtual
board, the Python packages (TensorFlow, tflite-micro, PlatformIO, SCons), PlatformIO's offline set-up (its SCons
tool package and the local platforms), the committed models, and which boards run now."""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

SETUP = "run `make setup` (apt packages, .venv, PlatformIO's offline platforms)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # what was found
    fix: str = ""  # what to do when not ok

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _tool(name: str, package: str) -> Check:
    path = shutil.which(name)
    return Check(name, path is not None, path or "not on PATH",
                 "" if path else f"install the Debian package {package} ({SETUP})")


def _python_package(module: str, pip_name: str) -> Check:
    found = importlib.util.find_spec(module) is not None
    return Check(f"python: {pip_name}", found, "importable" if found else "missing",
                 "" if found else f"pip install -r requirements.txt in the venv ({SETUP})")


def _pio_core_dir() -> Path:
    return Path(os.environ.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio")


def _platformio_offline() -> Check:
    scons = _pio_core_dir() / "packages" / "tool-scons"
    ok = (scons / ".piopm").is_file()
    return Check("platformio: tool-scons", ok, str(scons) if ok else "not installed",
                 "" if ok else "python firmware/platforms/install_offline.py (with the venv's python)")


def _local_platforms(root: Path) -> Check:
    wanted = sorted(p.name for p in (root / "firmware" / "platforms").iterdir() if (p / "platform.json").is_file())
    ok = bool(wanted)
    return Check("platformio: local platforms", ok, ", ".join(wanted) or "none in firmware/platforms",
                 "" if ok else "the checkout is incomplete: firmware/platforms/*/platform.json")


def _models(root: Path) -> Check:
    manifest = root / "models" / "manifest.json"
    ok = manifest.is_file()
    return Check("models/", ok, "manifest.json present" if ok else "no models/manifest.json",
                 "" if ok else "vigil export models --sleep DIR --stress DIR --out models")


def _boards() -> Check:
    from vigil.device import board as boards

    running = boards.running_detached()
    detail = ", ".join(f"{b.board} on {b.port} (pid {b.pid})" for b in running) or "none running"
    return Check("boards", True, detail)


def checks(root: Path | None = None) -> list[Check]:
    from vigil.project import project_root

    root = root or project_root()
    steps: list[Callable[[], Check]] = [
        lambda: _tool("gcc", "gcc"), lambda: _tool("g++", "g++"),
        lambda: _tool("arm-none-eabi-gcc", "gcc-arm-none-eabi"), lambda: _tool("qemu-system-arm", "qemu-system-arm"),
        lambda: _python_package("tensorflow", "tensorflow-cpu"), lambda: _python_package("tflite_micro", "tflite-micro"),
        lambda: _python_package("platformio", "platformio"), lambda: _python_package("SCons", "scons"),
        _platformio_offline, lambda: _local_platforms(root), lambda: _models(root), _boards,
    ]
    return [step() for step in steps]


def render(results: list[Check]) -> list[str]:
    """One line per check: 'ok  name: detail' or 'FIX name: detail -> fix'."""
    return [f"{'ok ' if c.ok else 'FIX'} {c.name}: {c.detail}" + ("" if c.ok else f" -> {c.fix}") for c in results]
