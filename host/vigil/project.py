"""Where things are: the project checkout (firmware sources, PlatformIO builds) and the
user's state directory (running boards)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds platformio.ini: $VIGIL_ROOT, else the one this package was
    installed from (pip install -e), else the nearest parent of the working directory."""
    env = os.environ.get("VIGIL_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2])
    cwd = Path.cwd().resolve()
    candidates += [cwd, *cwd.parents]
    for root in candidates:
        if (root / "platformio.ini").is_file() and (root / "firmware").is_dir():
            return root
    from vigil.errors import VigilError

    raise VigilError("cannot find the vigil checkout (platformio.ini): run from inside it or set VIGIL_ROOT")


def state_dir() -> Path:
    """Per-user state: the boards started in the background and their logs."""
    base = os.environ.get("VIGIL_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "vigil"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
