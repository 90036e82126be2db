"""A recording the report is given (--night, --stress-session): a .vrec file, anything `vigil convert` reads, or an
in-memory ``Recording`` (e.g. a synthetic session), with the name the page shows for it."""

from __future__ import annotations

import warnings
from pathlib import Path

from vigil.data.recording import ConversionWarning, Recording
from vigil.errors import VigilError


def load_recording_source(source: Path | Recording, role: str) -> tuple[Recording, str]:
    """A recording and the name to show for it; a missing file is an error naming it and ``role``."""
    if isinstance(source, Recording):
        # an in-memory recording need not say where it comes from (Recording.from_arrays without source=)
        kind = source.meta.get("source", {}).get("kind", "in-memory")
        return source, f"{kind} recording (in memory)"
    path = Path(source)
    if not path.exists():
        raise VigilError(f"{path}: no such {role} recording (a .vrec from `vigil convert` or `vigil synth`)")
    if path.is_file() and path.suffix == ".vrec":
        return Recording.load(path), str(path)
    from vigil.data.convert import convert_source

    with warnings.catch_warnings():  # converters list every warning in meta["warnings"]: shown as notes instead
        warnings.simplefilter("ignore", ConversionWarning)
        return convert_source(path), str(path)


def conversion_notes(rec: Recording, name: str) -> list[str]:
    """The converter's warnings as notes (a recording that was not converted has none)."""
    return [f"{name}: {w}" for w in rec.meta.get("warnings", [])]
