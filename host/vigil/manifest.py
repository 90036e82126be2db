"""The JSON manifests that training folders (`vigil train sleep|stress`) and model bundles (`vigil export models`)
carry, and the file digests they record: read one, with errors that name the file and what wrote it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from vigil.errors import VigilError


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, as the manifests record them."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_json_file(path: Path, missing: str = "") -> Any:
    """``path`` parsed as JSON; a missing file or bad JSON is a VigilError naming the file (and line).
    ``missing`` says what was expected there, for the first."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise VigilError(f"{path}: no such file" + (f"; expected {missing}" if missing else "")) from None
    except json.JSONDecodeError as exc:
        raise VigilError(f"{path}:{exc.lineno}: expected JSON ({exc.msg})") from None


def read_manifest_file(path: Path, kind: str, written_by: str) -> dict[str, Any]:
    """``path`` parsed, checked to be a JSON object whose ``kind`` is ``kind``; ``written_by`` names the command
    that makes such a file (for the error when it is missing)."""
    path = Path(path)
    if not path.is_file():
        raise VigilError(f"{path}: no manifest; expected a folder written by {written_by}")
    data = read_json_file(path)
    found = data.get("kind") if isinstance(data, dict) else None
    if found != kind:
        raise VigilError(f"{path}:1: expected a {kind} manifest, got kind {found!r}")
    return data
