"""Firmware builds through PlatformIO (`pio run -e ENV`), and uploads to real boards."""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigil.device.file_lock import exclusive
from vigil.errors import BoardError
from vigil.project import project_root

SOURCE_SUFFIXES = {".c", ".h", ".ld", ".py", ".json", ".ini", ".S", ".s"}
#: arm-none-eabi-gcc machine flags of the vwrist build (firmware/platforms/vigil-cortexm: Cortex-M4, hard float,
#: single-precision FPU), for compiling firmware sources outside PlatformIO (tests, benchmarks)
CORTEX_M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


def pio_command() -> list[str]:
    if importlib.util.find_spec("platformio") is None:
        raise BoardError("PlatformIO is not installed in this Python: run `make setup` (or `pip install platformio`)")
    return [sys.executable, "-m", "platformio"]


def models_firmware_dir() -> Path:
    """The generated model headers the firmware builds with: $VIGIL_MODELS_DIR/firmware, else models/firmware
    (firmware/platforms/vigil_build_info.py puts the same folder on the include path)."""
    models = os.environ.get("VIGIL_MODELS_DIR")
    return (Path(models).resolve() if models else project_root() / "models") / "firmware"


def build_dir(env: str) -> Path:
    return project_root() / ".pio" / "build" / env


def sources_newer_than(artifact: Path) -> bool:
    """Whether any firmware source or platformio.ini changed after ``artifact`` was built."""
    if not artifact.exists():
        return True
    built = artifact.stat().st_mtime
    root = project_root()
    paths = [root / "platformio.ini", *(q for q in (root / "firmware").rglob("*") if q.suffix in SOURCE_SUFFIXES)]
    paths += list(models_firmware_dir().glob("*.h"))
    return any(q.stat().st_mtime > built for q in paths if q.is_file())


@contextmanager
def build_lock() -> Iterator[None]:
    """One PlatformIO build of this checkout at a time across processes (two pytest workers, a test and a `vigil board
    start`): two builds writing one .pio folder at once can leave a broken object or a half-written program."""
    with exclusive(project_root() / ".pio" / "vigil-build.lock"):
        yield


def build_if_stale(env: str, artifact: Path) -> None:
    """Build ``env`` if a source changed after ``artifact`` (or it is missing), deciding under the build lock, so that
    of two processes that both found it stale only the first builds."""
    if not sources_newer_than(artifact):
        return
    with build_lock():
        if sources_newer_than(artifact):
            _build_unlocked(env)


def build(env: str, verbose: bool = False, extra_env: dict[str, str] | None = None) -> str:
    """Run `pio run -e env` (under the build lock); returns its output. Raises BoardError with the compiler's
    complaint when the build fails. ``extra_env`` passes PlatformIO settings such as
    PLATFORMIO_BUILD_FLAGS and PLATFORMIO_BUILD_DIR (a separate build of the same env)."""
    with build_lock():
        return _build_unlocked(env, verbose, extra_env)


def _build_unlocked(env: str, verbose: bool = False, extra_env: dict[str, str] | None = None) -> str:
    cmd = [*pio_command(), "run", "-e", env]
    environ = {**os.environ, **(extra_env or {})}
    proc = subprocess.run(cmd, cwd=project_root(), capture_output=not verbose, text=True, env=environ)
    if proc.returncode != 0:
        output = (proc.stdout or "") + (proc.stderr or "")
        errors = [line for line in output.splitlines() if "error" in line.lower()]
        detail = "; ".join(errors[:3]) or output.strip().splitlines()[-1:] or ["see `pio run -e " + env + "`"]
        raise BoardError(f"firmware build for {env} failed: {detail if isinstance(detail, str) else detail[0]}")
    return proc.stdout or ""


#: What uploads the same sources without PlatformIO's registry, for its registry environments (platformio.ini).
OFFLINE_ALTERNATIVE = {"feather_f405": "vigil flash -e f405 --hardware", "nano33ble_registry": "vigil flash -e nano33ble"}


def env_platform(env: str) -> str:
    """The ``platform`` of ``[env:ENV]`` in platformio.ini; a BoardError naming the environments if there is none."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(project_root() / "platformio.ini")
    section = f"env:{env}"
    if not config.has_section(section):
        envs = ", ".join(sorted(name[4:] for name in config.sections() if name.startswith("env:")))
        raise BoardError(f"platformio.ini has no environment {env} (there are: {envs})")
    return config.get(section, "platform", fallback=config.get("env", "platform", fallback=""))


def platforms_dir() -> Path:
    """Where PlatformIO keeps its installed platforms ($PLATFORMIO_CORE_DIR/platforms, else ~/.platformio/platforms)."""
    core = os.environ.get("PLATFORMIO_CORE_DIR")
    return (Path(core) if core else Path.home() / ".platformio") / "platforms"


def require_platform(env: str) -> None:
    """Refuse, in one line, an environment whose PlatformIO platform comes from the registry and is not installed:
    building it would go to the registry (out of reach on an offline machine) and fail with pages of output."""
    platform = env_platform(env)
    if "://" in platform or not platform:  # a local platform (symlink://, file://) or an inherited one
        return
    name = platform.split("@")[0].strip()
    if not (platforms_dir() / name).is_dir():
        instead = OFFLINE_ALTERNATIVE.get(env)
        raise BoardError(f"{env} needs PlatformIO's {name} platform, which is not installed ({platforms_dir() / name}): "
                         f"`pio pkg install -g -p {name}` fetches it from PlatformIO's registry"
                         + (f"; without it, `{instead}` uploads the same sources" if instead else ""))  # fmt: skip


def upload(env: str, port: str | None = None) -> None:
    """Build and upload to a real board (needs PlatformIO's registry for its platform)."""
    require_platform(env)
    cmd = [*pio_command(), "run", "-e", env, "-t", "upload"]
    if port:
        cmd += ["--upload-port", port]
    if subprocess.run(cmd, cwd=project_root()).returncode != 0:
        raise BoardError(f"upload to {env} failed (see PlatformIO's output above)")
