"""The C core's own tests (firmware/tests), built with PlatformIO's `ctest` environment."""

from __future__ import annotations

import re
import subprocess

from vigil.device import flash


def test_c_core_tests_pass() -> None:
    flash.build("ctest")
    proc = subprocess.run([str(flash.build_dir("ctest") / "program")], capture_output=True, text=True, timeout=120)
    summary = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert summary, proc.stdout
    assert proc.returncode == 0 and summary.group(2) == "0", proc.stdout
    # Every suite ran, and the frame suite covered every shared vector.
    for suite in ("cobs", "crc32", "frame", "accel", "ppg", "epoch_image", "epoch_features", "nn", "plan"):
        found = re.search(rf"^{suite}\s+(\d+) checks passed, 0 failed$", proc.stdout, re.M)
        assert found and int(found.group(1)) > 0, f"suite {suite} missing or empty:\n{proc.stdout}"
    assert int(summary.group(1)) > 300
