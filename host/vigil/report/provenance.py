"""Where the report's numbers come from: each input (recording, model folder, models/ bundle, device log) with its
path, SHA-256 and what its manifest or header says; and the models a device log's HELLO announces, checked against
the report's own.

    item = recording_provenance(rec, name, "night recording", Path("night.vrec"))
    checks = hash_checks(log.path, log.model_hashes(), report_hashes(bundle, sleep, stress))
    note = hash_note(checks)     # "The device (...) announces the report's models: ..." or "MODEL MISMATCH: ..."
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.data.recording import Recording
from vigil.manifest import file_sha256, read_json_file
from vigil.report.device_log import DeviceLog
from vigil.report.frozen import freeze
from vigil.report.json_keys import JsonKeys
from vigil.report.model_folders import SleepModel, StressModel
from vigil.report.model_records import ModelBundle

#: What the provenance table shows of a training folder's manifest.
MODEL_MANIFEST_DETAIL = ("kind", "version", "data", "settings", "versions", "files")
#: What it shows of a models/ bundle's manifest (`vigil export models` writes both).
BUNDLE_MANIFEST_DETAIL = ("hashes", "consensus")
#: What it shows of a device log's HELLO (``vigil.device.protocol.Hello.as_dict``).
HELLO_DETAIL = ("board", "firmware_version", "build_id", "boot_id", "models")


@dataclass(frozen=True)
class ProvenanceItem:
    role: str  # "night recording", "stress model", ...
    path: str
    sha256: str | None
    detail: Mapping[str, Any]

    def __post_init__(self) -> None:
        freeze(self)


def recording_provenance(rec: Recording, name: str, role: str, source: Path | Recording) -> ProvenanceItem:
    """A recording: its file's SHA-256 (none for an in-memory recording or a converted folder) and its source."""
    digest = file_sha256(Path(source)) if isinstance(source, Path) and Path(source).is_file() else None
    detail = {"source": rec.meta.get("source", {}), "start_time": rec.meta.get("start_time"),
              "duration_s": round(rec.duration_s, 3), "ppg_rate_hz": rec.ppg_rate_hz}  # fmt: skip
    return ProvenanceItem(role, name, digest, detail)


def model_provenance(role: str, folder: Path, manifest: dict | None, main_file: Path) -> ProvenanceItem:
    """A training folder: the SHA-256 of its model file and what its manifest says. A manifest need not have every
    key of MODEL_MANIFEST_DETAIL: the stand-in sleep CNN's (`vigil.bundle.model_bundle.write_standin_sleep_folder`)
    has no settings or versions, and a sleep folder's manifest is optional."""
    detail: dict[str, Any] = {}
    if manifest:
        detail = {k: manifest[k] for k in MODEL_MANIFEST_DETAIL if k in manifest}
    return ProvenanceItem(role, str(folder), file_sha256(main_file), detail)


def bundle_provenance(bundle: ModelBundle) -> ProvenanceItem:
    """A models/ bundle: the SHA-256 of its manifest, the model hashes and consensus settings it records."""
    path = bundle.path / "manifest.json"
    keys = JsonKeys(read_json_file(path), path, "the manifest.json of `vigil export models`")
    return ProvenanceItem("models bundle", str(bundle.path), file_sha256(path),
                          {k: keys(k) for k in BUNDLE_MANIFEST_DETAIL})  # fmt: skip


def log_provenance(role: str, log: DeviceLog) -> ProvenanceItem:
    """A device log: its SHA-256, what its HELLO says and how many processing sessions it holds. A HELLO need not
    have every key of HELLO_DETAIL: one the host could not decode is logged as its payload and the error
    (``vigil.device.protocol.describe``), and a log may have no HELLO at all."""
    hello = log.hello or {}
    detail = {k: hello[k] for k in HELLO_DETAIL if k in hello}
    detail["sessions_in_log"] = max(log.sessions, 1)
    if log.sessions > 1:
        detail["read"] = "the last session"
    return ProvenanceItem(role, str(log.path), file_sha256(log.path), detail)


def report_hashes(bundle: ModelBundle | None, sleep: SleepModel | None, stress: StressModel | None) -> dict[str, bytes]:
    """name -> HELLO hash of the report's models: the bundle's five, else the training folders' NNs."""
    from vigil.bundle.model_bundle import model_hash

    if bundle is not None:
        return dict(bundle.models.hashes)
    out = {}
    if sleep is not None:  # HELLO names the sleep model by its file: sleep_context or sleep_cnn
        out[sleep.hello_name] = model_hash(sleep.tflite)
    if stress is not None:
        out["stress_nn"] = model_hash((stress.path / "stress_nn.tflite").read_bytes())
    return out


@dataclass(frozen=True)
class HashCheck:
    log: str
    model: str
    device: str | None  # hex of the HELLO hash; None: the device did not announce it
    report: str  # hex of the report's model hash

    @property
    def same(self) -> bool:
        return self.device == self.report


def hash_checks(log_path: Path, announced: dict[str, bytes], report: dict[str, bytes]) -> list[HashCheck]:
    """Each of the report's models against the HELLO of a log (``announced``; empty: no HELLO, nothing to say)."""
    if not announced:
        return []
    return [HashCheck(str(log_path), name, announced[name].hex() if name in announced else None, digest.hex())
            for name, digest in report.items()]  # fmt: skip


def hash_note(checks: list[HashCheck], log_path: Path | None = None) -> str | None:
    """One sentence: the same models, or which differ (a log is only comparable to the models that made it);
    with ``log_path`` and no checks, that the log has no HELLO to tell."""
    if not checks:
        if log_path is None:
            return None
        return f"{log_path} has no HELLO with model hashes: which models made its records is unknown."
    bad = [c for c in checks if not c.same]
    if not bad:
        return f"The device ({checks[0].log}) announces the report's models: {', '.join(c.model for c in checks)}."
    parts = [f"{c.model} device {c.device[:12] + '…' if c.device else 'not announced'} vs report {c.report[:12]}…"
             for c in bad]  # fmt: skip
    return (f"MODEL MISMATCH: the device ({checks[0].log}) carries other models than this report's: "
            f"{'; '.join(parts)}. Its records come from those models, not these.")
