"""The JSON manifests that training folders (`vigil train sleep|stress`) and model bundles (`vigil export models`)
carry, and the file digests they record: read one, with errors that name the file and what wrote it.

A manifest names its training data by a path relative to the checkout (`portable_source`), never an absolute one:
committed models then resolve their data from a checkout at any place (`resolve_source_path`)."""

from __future__ import annotations

import hashlib
import json
import os
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


#: The entries of a data source (the loaders' `source` dicts) that hold a file or folder.
_SOURCE_PATH_KEYS = ("path", "folder")


def portable_source(source: dict[str, Any]) -> dict[str, Any]:
    """A loader's data source for a manifest: its paths relative to the checkout (POSIX separators), so the manifest
    says e.g. ``../shared/data/potgieter_hrv_segments.csv`` wherever the checkout lies."""
    from vigil.project import project_root

    root = project_root()
    out = dict(source)
    for key in _SOURCE_PATH_KEYS:
        if isinstance(out.get(key), str) and out[key]:
            out[key] = Path(os.path.relpath(Path(out[key]).resolve(), root)).as_posix()
    return out


def resolve_source_path(path: str) -> Path:
    """A manifest's data path as a file on this machine: relative paths are from the checkout (portable_source);
    absolute ones (manifests written before) stay as they are."""
    from vigil.project import project_root

    p = Path(path)
    return p if p.is_absolute() else project_root() / p
