"""Which serial port a command talks to: `--port` as given (a device path, or the name of a board running on this
machine: `vwrist`, `native`, ...), else $VIGIL_PORT (the same two forms)."""

from __future__ import annotations

import os

from vigil.device import board as boards
from vigil.errors import VigilError

ENV = "VIGIL_PORT"


def resolve_port(given: str | None) -> str:
    """The device path for `given` (or $VIGIL_PORT): a board name becomes the port of that board started with
    `vigil board start`; anything else is a path, returned as it is."""
    value = given or os.environ.get(ENV) or ""
    if not value:
        raise VigilError(f"no serial port: give --port PATH or a board name ({', '.join(boards.BOARDS)}), "
                         f"or set {ENV}")
    if value not in boards.BOARDS:
        return value
    running = [b for b in boards.running_detached() if b.board == value]
    if not running:
        raise VigilError(f"--port {value}: no {value} board is running; start one with "
                         f"`vigil board start --board {value}`")
    return running[0].port
