"""A pytest plugin: on CI a skipped test fails the run.

Off CI a test may skip for a reason the machine gives (no ../shared beside a user's clone, no g++). On CI (`CI`
set to anything but "", 0, false or no, as CI services do) the set-up installs everything and ../shared is there,
so a skip means a check silently did not run: the run fails, listing each skipped test and why. Loaded by
tests/conftest.py; tests/test_ci_guard.py runs it on a suite of its own."""

from __future__ import annotations

import os

import pytest

_SKIPPED: list[tuple[str, str]] = []


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if on_ci() and _SKIPPED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    if on_ci() and _SKIPPED:
        tr = terminalreporter
        tr.section("skipped on CI: each one fails the run")  # type: ignore[attr-defined]
        for nodeid, reason in _SKIPPED:
            tr.write_line(f"{nodeid}: {reason}")  # type: ignore[attr-defined]
