"""TensorFlow's import prints C++/absl log lines to descriptor 2; vigil silences them before TensorFlow loads
(vigil.quiet_tensorflow), so `vigil train` and `vigil evaluate` print only what vigil says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: what TensorFlow 2.21's import prints (absl before InitializeLog, oneDNN and CPU-feature INFO lines)
TF_LOG_MARKS = ("absl::InitializeLog", "I0000", "W0000", "oneDNN", "cpu_feature_guard")


def _tf_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(mark in line for mark in TF_LOG_MARKS)]


def test_tensorflow_prints_without_vigil_and_not_with_it() -> None:
    # TensorFlow as it is: without the log level that `import vigil` (here, conftest's) sets for its subprocesses
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    bare = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, check=True, env=env)
    assert _tf_lines(bare.stderr), "TensorFlow no longer prints on import: vigil.quiet_tensorflow may go"
    quiet = subprocess.run([sys.executable, "-c", "import vigil, keras, tensorflow"], capture_output=True, text=True,
                           check=True, env=env)
    assert _tf_lines(quiet.stderr) == [] and quiet.stderr.strip() == ""


def test_an_import_error_inside_tensorflow_still_raises() -> None:
    """The silenced import does not swallow Python errors: a failing import of `tensorflow` still raises."""
    code = ("import sys, vigil; sys.modules['tensorflow.python'] = None\n"
            "try:\n    import tensorflow\nexcept ImportError as e:\n    print('raised', type(e).__name__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "raised ImportError" in res.stdout or "raised ModuleNotFoundError" in res.stdout, res.stdout + res.stderr


@pytest.mark.slow
def test_train_stress_prints_no_tensorflow_log_line(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "vigil.cli", "train", "stress", "--data", "synthetic", "--protocol",
                          "blocks", "--out", str(tmp_path / "stress")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _tf_lines(res.stderr) == [], _tf_lines(res.stderr)
    assert "wrote" in res.stdout
