"""tests/ci_guard.py: with CI set, a suite that skips a test fails and says which and why; without CI it passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SUITE = """
import pytest

def test_runs():
    pass

def test_needs_something():
    pytest.skip("no frobnicator on this machine")
"""


@pytest.mark.parametrize("ci,status", [("true", 1), ("1", 1), ("", 0), ("false", 0)])
def test_a_skip_fails_only_on_ci(tmp_path: Path, ci: str, status: int) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "ci_guard", "-p", "no:cacheprovider", "-q",
                          str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert res.returncode == status, res.stdout
    listed = "test_suite.py::test_needs_something: Skipped: no frobnicator on this machine" in res.stdout
    assert listed == (status == 1), res.stdout
