"""vigil.device.port.resolve_port: a path as given, a board name as the running board's port, $VIGIL_PORT."""

from __future__ import annotations

import pytest

from vigil.device import board as boards
from vigil.device.port import resolve_port
from vigil.errors import VigilError


def test_a_path_is_taken_as_it_is_and_the_environment_fills_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIL_PORT", raising=False)
    assert resolve_port("/dev/ttyACM0") == "/dev/ttyACM0"
    monkeypatch.setenv("VIGIL_PORT", "/dev/pts/77")
    assert resolve_port(None) == "/dev/pts/77"
    assert resolve_port("/dev/ttyUSB1") == "/dev/ttyUSB1"  # --port wins over the environment


def test_nothing_given_is_an_error_that_says_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIL_PORT", raising=False)
    with pytest.raises(VigilError, match="give --port PATH or a board name .*VIGIL_PORT"):
        resolve_port(None)


@pytest.mark.board
def test_a_board_name_resolves_to_the_running_board(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("VIGIL_STATE_DIR", str(tmp_path))  # boards of this test only
    monkeypatch.delenv("VIGIL_PORT", raising=False)
    with pytest.raises(VigilError, match="no native board is running; start one with `vigil board start"):
        resolve_port("native")
    proc, _ = boards.start_detached("native")
    try:
        assert resolve_port("native") == proc.port
        monkeypatch.setenv("VIGIL_PORT", "native")
        assert resolve_port(None) == proc.port
    finally:
        boards.stop_detached("native")
