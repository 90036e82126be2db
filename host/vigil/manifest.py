"""The JSON manifests that training folders (`vigil train sleep|stress`) and model bundles (`vigil export models`)
carry: read one, with errors that name the file and what wrote it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vigil.errors import VigilError


def read_manifest_file(path: Path, kind: str, written_by: str) -> dict[str, Any]:
    """``path`` parsed, checked to be a JSON object whose ``kind`` is ``kind``; ``written_by`` names the command
    that makes such a file (for the error when it is missing)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise VigilError(f"{path}: no manifest; expected a folder written by {written_by}") from None
    except json.JSONDecodeError as exc:
        raise VigilError(f"{path}:{exc.lineno}: expected JSON ({exc.msg})") from None
    found = data.get("kind") if isinstance(data, dict) else None
    if found != kind:
        raise VigilError(f"{path}:1: expected a {kind} manifest, got kind {found!r}")
    return data
