"""What the report shows, assembled from its parts: each built once, from frozen values.

Everything numeric the device computes comes from the DSP twins (``vigil.dsp``: the same integers), or from a
device log when one is given (then the device's values win and the page says so). The models' results are the
device's SLEEP / STRESS records: from the log, else from the twin of a models/ bundle
(``vigil.bundle.consensus_twin``: sleep CNN outputs, per-model P(stress) Q15, consensus, alert and its reasons).
Only with training folders (--sleep-model / --stress-model) and no bundle do the host's models predict
(the sleep CNN through TFLM, the trio in float) and there are no alerts.

    inputs = ReportInputs(night=Path("night.vrec"), stress_session=Path("stress.vrec"), models=Path("models"))
    data = build_report_data(inputs)          # ReportData; a part not given is None plus a note

The parts, one module each: ``night`` (NightData), ``stress_session`` (StressSessionData), ``metrics_files``
(the training folders' metrics.json), ``night_metrics`` (the sleep model on the night), ``verify_reports``
(`vigil verify --json`), ``provenance`` (inputs, hashes, the device's models), ``summary`` (report.json).
Times are seconds from the recording's first sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vigil import __version__
from vigil.data.recording import Recording
from vigil.report.device_log import DeviceLog, read_device_log
from vigil.report.frozen import freeze
from vigil.report.metrics_files import metrics_table_from_json
from vigil.report.metrics_tables import MetricsTable
from vigil.report.model_folders import METRICS_FILE, load_sleep_model, load_stress_model
from vigil.report.model_records import Progress, load_model_bundle
from vigil.report.night import NightData, build_night
from vigil.report.night_clusters import NightClusters, night_clusters
from vigil.report.night_metrics import night_metrics, night_sleep_statistics
from vigil.report.provenance import (
    HashCheck,
    ProvenanceItem,
    bundle_provenance,
    hash_checks,
    hash_note,
    log_provenance,
    model_provenance,
    recording_provenance,
    report_hashes,
)
from vigil.report.stress_session import StressSessionData, build_stress_session
from vigil.report.verify_reports import VerifySummary, verify_summary_from_json


@dataclass(frozen=True)
class ReportData:
    night: NightData | None
    stress: StressSessionData | None
    metrics: tuple[MetricsTable, ...]
    verify: tuple[VerifySummary, ...]
    provenance: tuple[ProvenanceItem, ...]
    missing: Mapping[str, str]  # section -> why it is left out
    model_hashes: tuple[HashCheck, ...] = ()  # device logs' HELLO vs the report's models
    night_statistics: Mapping[str, Any] | None = None  # report.night_metrics.night_sleep_statistics of the night
    night_clusters: NightClusters | None = None  # the night's epochs clustered without labels
    created_utc: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    vigil_version: str = __version__

    def __post_init__(self) -> None:
        freeze(self)


@dataclass(frozen=True)
class ReportInputs:
    """What `vigil report` was given; a recording may be a path or an in-memory Recording (e.g. synthetic)."""

    night: Path | Recording | None = None
    stress_session: Path | Recording | None = None
    sleep_model: Path | None = None
    stress_model: Path | None = None
    verify: Sequence[Path] = ()
    night_log: Path | None = None
    stress_log: Path | None = None
    models: Path | None = None  # a models/ bundle (`vigil export models`)
    default_models: bool = True  # no bundle and no --sleep-model / --stress-model: use the repo's models/

    def __post_init__(self) -> None:
        freeze(self)


def resolve_bundle(inputs: ReportInputs) -> Path | None:
    """The models/ bundle to use: --models, else the repo's models/ when no training folder is given."""
    if inputs.models is not None:
        return Path(inputs.models)
    if inputs.default_models and inputs.sleep_model is None and inputs.stress_model is None:
        from vigil.bundle.consensus_twin import models_dir

        folder = models_dir()
        return folder if (folder / "manifest.json").is_file() else None
    return None


def log_hash_notes(log: DeviceLog | None, checks: list[HashCheck]) -> list[str]:
    """The notes on a log: its models (the same as the report's, which differ, or unknown without a HELLO) and the
    lines it could not read."""
    if log is None:
        return []
    unknown = None if log.model_hashes() else log.path
    note = hash_note([c for c in checks if c.log == str(log.path)], unknown)
    return [n for n in (note, log.skipped_note) if n]


def build_report_data(inputs: ReportInputs, progress: Progress | None = None) -> ReportData:
    """Fill the data model from what was given. A part not given is left out (``missing`` says why); a part
    given but unreadable or inconsistent raises VigilError naming the file."""
    missing: dict[str, str] = {}
    provenance: list[ProvenanceItem] = []
    metrics: list[MetricsTable] = []
    bundle_dir = resolve_bundle(inputs)
    bundle = load_model_bundle(bundle_dir) if bundle_dir is not None else None
    if bundle is not None:
        provenance.append(bundle_provenance(bundle))
    sleep_dir = inputs.sleep_model or (bundle.path / "sleep" if bundle is not None else None)
    stress_dir = inputs.stress_model or (bundle.path / "stress" if bundle is not None else None)
    sleep_model = stress_model = None
    if sleep_dir is not None:
        sleep_model = load_sleep_model(sleep_dir)
        provenance.append(model_provenance("sleep model", sleep_model.path, sleep_model.manifest,
                                           sleep_model.path / sleep_model.model_file))  # fmt: skip
        # `vigil train sleep` always writes metrics.json; a stand-in CNN (write_standin_sleep_folder) has none
        if (sleep_model.path / METRICS_FILE).is_file():
            metrics.append(metrics_table_from_json(sleep_model.path / METRICS_FILE, "sleep", sleep_model.arch))
        else:
            missing["sleep metrics"] = f"{sleep_model.path / METRICS_FILE} does not exist."
    else:
        missing["sleep model"] = ("No sleep model given (--models DIR of `vigil export models`, or --sleep-model DIR "
                                  "from `vigil train sleep`).")  # fmt: skip
    if stress_dir is not None:
        stress_model = load_stress_model(stress_dir)
        provenance.append(model_provenance("stress model", stress_model.path, stress_model.manifest,
                                           stress_model.path / "stress_nn.tflite"))  # fmt: skip
        metrics.append(metrics_table_from_json(stress_model.path / METRICS_FILE, "stress"))
    else:
        missing["stress model"] = ("No stress model given (--models DIR of `vigil export models`, or --stress-model "
                                   "DIR from `vigil train stress`).")  # fmt: skip

    night_log = read_device_log(inputs.night_log) if inputs.night_log else None
    stress_log = read_device_log(inputs.stress_log) if inputs.stress_log else None
    hashes = report_hashes(bundle, sleep_model, stress_model)
    checks: list[HashCheck] = []
    for role, log in (("night device log", night_log), ("stress device log", stress_log)):
        if log is not None:
            provenance.append(log_provenance(role, log))
            if all(c.log != str(log.path) for c in checks):  # one log may serve both the night and the session
                checks += hash_checks(log.path, log.model_hashes(), hashes)

    night = night_stats = clusters = None
    if inputs.night is not None:
        night, rec, name = build_night(inputs.night, sleep_model, night_log, progress, bundle,
                                       more_notes=log_hash_notes(night_log, checks))  # fmt: skip
        provenance.insert(0, recording_provenance(rec, name, "night recording", inputs.night))
        if night.predicted is None:
            missing["hypnogram prediction"] = ("No sleep model and no device sleep results: nothing predicted "
                                               "the stages.")  # fmt: skip
        table = night_metrics(night)
        if table is not None:
            metrics.insert(0, table)
        night_stats = night_sleep_statistics(night)
        clusters = night_clusters(rec, name)
        if clusters is None:
            missing["night clusters"] = ("The night has no sleep labels (or too few scored epochs) to hold "
                                         "clusters against.")
    else:
        missing["night"] = "No night recording given (--night REC)."

    stress = None
    if inputs.stress_session is not None:
        stress, rec, name = build_stress_session(inputs.stress_session, stress_model, stress_log, bundle, progress,
                                                 more_notes=log_hash_notes(stress_log, checks))  # fmt: skip
        provenance.insert(1 if night else 0, recording_provenance(rec, name, "stress session", inputs.stress_session))
        if stress.decision is None:
            missing["stress decisions"] = "No stress model and no device stress results: segments are not classified."
    else:
        missing["stress session"] = "No stress session given (--stress-session REC)."

    verify = [verify_summary_from_json(Path(p)) for p in inputs.verify]
    if not verify:
        missing["device verification"] = "No `vigil verify --json` report given (--verify JSON)."
    return ReportData(night, stress, metrics, verify, provenance, missing, model_hashes=checks,
                      night_statistics=night_stats, night_clusters=clusters)
