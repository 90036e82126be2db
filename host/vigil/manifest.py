"""The JSON manifests that training folders (`vigil train sleep|stress`) and model bundles (`vigil export models`)
carry, and the file digests they record: read one, with errors that name the file and what wrote it.

A manifest names its training data by a dataset name (a folder or file of the shared data beside the checkout,
`../shared/data/NAME`, or of $VIGIL_SHARED_DATA) or else by a path relative to the checkout (`portable_source`), never
an absolute one: committed models then find their data from a checkout at any place (`source_path`)."""

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


def read_folder_manifest(folder: Path, kind: str, written_by: str, name: str = "manifest.json") -> dict[str, Any]:
    """A training folder's manifest (``read_manifest_file``), with every file its ``files`` names present and of the
    recorded SHA-256."""
    path = Path(folder) / name
    manifest = read_manifest_file(path, kind, written_by)
    for file, digest in manifest.get("files", {}).items():
        if not (Path(folder) / file).is_file() or file_sha256(Path(folder) / file) != digest:
            raise VigilError(f"{path}:1: {file} is missing or differs from its recorded SHA-256")
    return manifest


#: The entries of a data source (the loaders' `source` dicts) that hold a file or folder.
_SOURCE_PATH_KEYS = ("path", "folder")


def shared_data_dir() -> Path:
    """The shared data sets: $VIGIL_SHARED_DATA, else ``../shared/data`` beside the checkout."""
    from vigil.project import project_root

    return Path(os.environ.get("VIGIL_SHARED_DATA") or project_root().parent / "shared" / "data")


def portable_source(source: dict[str, Any]) -> dict[str, Any]:
    """A loader's data source for a manifest: a path inside the shared data becomes ``dataset`` (its name there, e.g.
    ``ichi2014_train``); any other path is made relative to the checkout (POSIX separators)."""
    from vigil.project import project_root

    root, shared = project_root(), shared_data_dir().resolve()
    out = dict(source)
    for key in _SOURCE_PATH_KEYS:
        if isinstance(out.get(key), str) and out[key]:
            path = Path(out[key]).resolve()
            if path.is_relative_to(shared) and path != shared:
                del out[key]
                out["dataset"] = path.relative_to(shared).as_posix()
            else:
                out[key] = Path(os.path.relpath(path, root)).as_posix()
    return out


def source_path(source: dict[str, Any], key: str = "path") -> Path:
    """The file or folder a manifest's data source names (``dataset`` or ``key``), on this machine."""
    if source.get("dataset"):
        return shared_data_dir() / source["dataset"]
    return resolve_source_path(source[key])


def resolve_source_path(path: str) -> Path:
    """A manifest's data path as a file on this machine: relative paths are from the checkout (portable_source);
    absolute ones (manifests written before) stay as they are."""
    from vigil.project import project_root

    p = Path(path)
    return p if p.is_absolute() else project_root() / p
