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


@pytest.fixture(scope="session", params=["native", "vwrist", "f405"])
def board(request: pytest.FixtureRequest) -> Iterator[boards.BoardProcess]:
    """Each board in turn, running for the whole session: the firmware as a host program, on the virtual wrist
    (QEMU mps2-an386) and the STM32F405 port (QEMU netduinoplus2): the link tests and `vigil verify` run on all three."""
    with boards.running_board(request.param) as proc:
        yield proc


@pytest.fixture()
def link(board: boards.BoardProcess) -> Iterator[Link]:
    """A fresh host session on the board (HELLO exchanged)."""
    with Link.open(board.port) as lnk:
        lnk.request_hello()
        yield lnk


def qemu_processes(board: str = "vwrist") -> list[int]:
    """Pids of QEMU processes running the vigil firmware of ``board`` (a QEMU board: vwrist, f405)."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system-arm" in cmd and f".pio/build/{board}/".encode() in cmd:
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



@pytest.fixture(scope="session")
def synthetic_stress_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(models folder, native program): the committed sleep model beside a stress trio trained on synthetic stress
    sessions, and a native firmware built with them (synthetic_stress_models_in_use points $VIGIL_MODELS_DIR there).

    The alert's gates are the device's logic whatever the trio: these tests need a trio that calls the synthetic
    generator's stress stress. The committed trio is trained on WESAD wrist PPG, where stress raises the measured
    variability; the generator lowers it as textbook physiology does, so that trio rarely alerts on it (docs/stress.md)."""
    import shutil

    from vigil.bundle import model_bundle as mb
    from vigil.device import flash
    from vigil.ml.stress_io import load_stress_data, train_stress_folder

    root = tmp_path_factory.mktemp("synthetic_stress_models")
    train_stress_folder(load_stress_data("synthetic", seed=0), root / "stress_training", "blocks", seed=0)
    models = root / "models"
    shutil.copytree(ROOT / "models", models)
    mb.write_model_bundle(mb.build_model_bundle(models / "sleep", root / "stress_training"), models)
    build = root / "build"
    flash.build("native", extra_env={"VIGIL_MODELS_DIR": str(models), "PLATFORMIO_BUILD_DIR": str(build)})
    return models, build / "native" / "program"


@pytest.fixture(scope="module")
def synthetic_stress_models_in_use(synthetic_stress_models: tuple[Path, Path]) -> Iterator[tuple[Path, Path]]:
    """synthetic_stress_models with $VIGIL_MODELS_DIR pointing at them for one test module (the twins, the report and
    verify then use them as the firmware does)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIGIL_MODELS_DIR", str(synthetic_stress_models[0]))
        yield synthetic_stress_models
