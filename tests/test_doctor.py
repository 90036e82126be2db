"""vigil.doctor: one line per check, and a missing tool or set-up step is named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil import doctor


def test_this_machine_is_ready() -> None:
    """`make test` set everything up, so every check passes here (CI included)."""
    results = doctor.checks()
    assert [c.name for c in results if not c.ok] == []
    lines = doctor.render(results)
    assert len(lines) == len(results) and all(line.startswith("ok ") for line in lines)
    assert any("arm-none-eabi-gcc" in line for line in lines) and any("tool-scons" in line for line in lines)


def test_a_missing_tool_and_an_empty_platformio_dir_are_named_with_the_fix(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no compilers, no QEMU
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(tmp_path / "pio"))
    bad = {c.name: c for c in doctor.checks() if not c.ok}
    assert {"gcc", "arm-none-eabi-gcc", "qemu-system-arm", "platformio: tool-scons"} <= set(bad)
    assert "gcc-arm-none-eabi" in bad["arm-none-eabi-gcc"].fix and "make setup" in bad["qemu-system-arm"].fix
    assert "install_offline.py" in bad["platformio: tool-scons"].fix
    line = next(x for x in doctor.render(list(bad.values())) if "qemu" in x)
    assert line.startswith("FIX qemu-system-arm: not on PATH -> install the Debian package qemu-system-arm")
