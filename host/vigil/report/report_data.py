"""What the report plots, as small explicit dataclasses, and the builders that fill them.

Everything numeric the device computes comes from the DSP twins (``vigil.dsp``: the same integers), or from a
device log when one is given (then the device's values win and the page says so). The models' results are the
device's SLEEP / STRESS records: from the log, else from the twin of a models/ bundle
(``vigil.bundle.consensus_twin``: sleep CNN outputs, per-model P(stress) Q15, consensus, alert and its reasons).
Only with training folders (--sleep-model / --stress-model) and no bundle do the host's models predict
(the sleep CNN through TFLM, the trio in float) and there are no alerts.

    inputs = ReportInputs(night=Path("night.vrec"), stress_session=Path("stress.vrec"), models=Path("models"))
    data = build_report_data(inputs)          # ReportData; a part not given is None plus a note

Class codes: sleep 0 wake, 1 NREM, 2 REM (-1 unscored / none), as ``vigil.data.recording``; stress 0 relax,
1 stress. Times are seconds from the recording's first sample.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil import __version__
from vigil.data.recording import ConversionWarning, Recording
from vigil.dsp import accel as accel_twin
from vigil.dsp import config as dsp
from vigil.dsp import ppg as ppg_twin
from vigil.dsp.epoch_image import epoch_images
from vigil.dsp.hrv import HrvFeatures
from vigil.errors import VigilError
from vigil.manifest import file_sha256, read_json_file
from vigil.ml.metrics import METRIC_NAMES, confusion_matrix, metrics_from_confusion
from vigil.ml.stress import MODEL_NAMES, consensus_proba
from vigil.records import SLEEP_CLASS_LABELS, STRESS_CLASS_NAMES
from vigil.report.device_log import DeviceLog, read_device_log
from vigil.report.model_folders import METRICS_FILE, SleepModel, StressModel
from vigil.report.model_records import (
    HashCheck,
    ModelBundle,
    ModelRecords,
    hash_checks,
    hash_note,
    load_model_bundle,
    q15_float,
    reasons_met,
    records_agreement,
    sleep_arrays,
    stress_arrays,
    twin_records,
)

STRESS_MODEL_LABELS = {
    "tree": "decision tree", "svm": "SVM (RBF, Platt)", "nn": "int8 MLP", "consensus": "consensus (weighted vote)",
    "equal_weights": "equal-weight vote", "unanimous": "unanimous (all three)",
}  # fmt: skip
NONE = -1

Progress = Callable[[str, int, int], None]  # (step, done, total)


# ---------------------------------------------------------------- the data model


@dataclass
class NightData:
    """One night (or any accelerometer recording): spectrogram, per-epoch truth and prediction."""

    source: str
    columns: np.ndarray  # (n_cols, 65) int8 spectrogram columns (device quantization: IMAGE_SCALE_DB, zero point)
    n_epochs: int  # whole 30-s epochs of the recording (the arrays below have this length)
    true_labels: np.ndarray | None  # (n_epochs,) int8, -1 unscored; None: the recording has no labels
    predicted: np.ndarray | None  # (n_epochs,) int64 class, -1 where no prediction (last epochs lack an image)
    probabilities: np.ndarray | None  # (n_epochs, 3) float wake/NREM/REM, NaN where no prediction
    columns_from: str = "twin"  # "twin" or "device log <path>"
    predictions_from: str | None = None
    notes: list[str] = field(default_factory=list)
    outputs: np.ndarray | None = None  # (n_epochs, 3) int8 CNN outputs of the SLEEP records (0 where none)
    motion: np.ndarray | None = None  # (n_epochs,) motion level of the SLEEP records (milli-g), -1 none

    def column_times_s(self) -> np.ndarray:
        """Centre of each column: column j covers derivative samples [64 j, 64 j + 128)."""
        j = np.arange(len(self.columns))
        return (j * dsp.STFT_HOP + dsp.STFT_N / 2) / dsp.ACCEL_RATE_HZ

    def column_db(self) -> np.ndarray:
        """(n_cols, 65) float: dB of (milli-g)^2 power, from the int8 quantization."""
        return dsp.IMAGE_SCALE_DB * (self.columns.astype(np.float64) - dsp.IMAGE_ZERO_POINT)

    def epoch_starts_s(self) -> np.ndarray:
        return np.arange(self.n_epochs) * float(dsp.EPOCH_S)


@dataclass(frozen=True)
class Alert:
    segment: int
    reasons: tuple[str, ...]  # the reasons met (an alert needs all six: vigil.bundle.consensus_twin.REASON_NAMES)


@dataclass
class StressSessionData:
    """One PPG session: signal, beats, per-segment HRV features and the trio's outputs."""

    source: str
    ppg: np.ndarray  # int16 raw counts
    ppg_rate_hz: int
    filtered: np.ndarray  # int32 band-passed (twin), Q12 counts
    beats: np.ndarray  # int64 sample indexes
    segments: list[HrvFeatures]  # every completed 60-s segment, valid or not
    p_stress: dict[str, np.ndarray] | None = None  # model -> (n_segments,) P(stress), NaN where not run
    weighted: np.ndarray | None = None  # (n_segments,) weighted P(stress), NaN where not run
    weights: tuple[float, ...] | None = None
    decision: np.ndarray | None = None  # (n_segments,) 1 stress / 0 relax / -1 none
    unanimous: np.ndarray | None = None  # (n_segments,) 1 all three say stress / 0 / -1 none
    alerts: list[Alert] | None = None  # None: no alert information (the device's consensus decides alerts)
    beats_from: str = "twin"
    features_from: str = "twin"
    decisions_from: str | None = None
    notes: list[str] = field(default_factory=list)
    # the STRESS records' integers (None without records): Q15 P(stress) per model, weighted, reasons, motion
    p_stress_q15: dict[str, np.ndarray] | None = None  # model -> (n_segments,) int64, -1 no record
    weighted_q15: np.ndarray | None = None
    reasons: np.ndarray | None = None  # (n_segments,) int64 bitmask, -1 no record
    motion: np.ndarray | None = None  # (n_segments,) int64 milli-g, -1 no record
    alert_threshold: float | None = None  # the bundle's weighted P(stress) threshold for an alert

    def segment_starts_s(self) -> np.ndarray:
        return np.asarray([s.segment * dsp.SEGMENT_S for s in self.segments], dtype=np.float64)

    def feature(self, name: str) -> np.ndarray:
        """One feature per segment in physical units (bpm, ms, %), NaN for invalid segments."""
        values = np.asarray([getattr(s, name) / 100 if s.valid else np.nan for s in self.segments], dtype=np.float64)
        return values


@dataclass
class ConfusionMatrix:
    name: str
    class_names: tuple[str, ...]
    counts: np.ndarray  # (k, k) int64, rows = true, columns = predicted


@dataclass
class MetricsRow:
    name: str
    accuracy: float
    precision: float
    sensitivity: float
    specificity: float
    f1: float
    kappa: float | None = None
    auc: float | None = None
    n: int | None = None


@dataclass
class MetricsTable:
    title: str
    task: str  # "stress" or "sleep"
    source: str  # the file (or "this recording")
    protocol: str | None
    rows: list[MetricsRow]
    confusions: list[ConfusionMatrix]
    note: str = ""
    key: str = ""  # short name for files: "sleep_night", "stress_held_out", ...


@dataclass(frozen=True)
class VerifyStage:
    name: str
    windows: int
    mismatches: int
    first_mismatch: str | None


@dataclass
class VerifySummary:
    path: str
    recording: str | None
    board: str | None
    ok: bool
    stages: list[VerifyStage]
    device_errors: list[str]
    instructions_per_second: int | None


@dataclass(frozen=True)
class ProvenanceItem:
    role: str  # "night recording", "stress model", ...
    path: str
    sha256: str | None
    detail: dict[str, Any]


@dataclass
class ReportData:
    night: NightData | None
    stress: StressSessionData | None
    metrics: list[MetricsTable]
    verify: list[VerifySummary]
    provenance: list[ProvenanceItem]
    missing: dict[str, str]  # section -> why it is left out
    model_hashes: list[HashCheck] = field(default_factory=list)  # device logs' HELLO vs the report's models
    created_utc: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    vigil_version: str = __version__


@dataclass
class ReportInputs:
    """What `vigil report` was given; a recording may be a path or an in-memory Recording (e.g. synthetic)."""

    night: Path | Recording | None = None
    stress_session: Path | Recording | None = None
    sleep_model: Path | None = None
    stress_model: Path | None = None
    verify: list[Path] = field(default_factory=list)
    night_log: Path | None = None
    stress_log: Path | None = None
    models: Path | None = None  # a models/ bundle (`vigil export models`)
    default_models: bool = True  # no bundle and no --sleep-model / --stress-model: use the repo's models/


# ---------------------------------------------------------------- recordings


def load_recording_source(source: Path | Recording, role: str) -> tuple[Recording, str]:
    """A recording and the name to show for it: a .vrec file, anything `vigil convert` reads, or an object."""
    if isinstance(source, Recording):
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
    return [f"{name}: {w}" for w in rec.meta.get("warnings", [])]


def recording_provenance(rec: Recording, name: str, role: str, source: Path | Recording) -> ProvenanceItem:
    digest = file_sha256(Path(source)) if isinstance(source, Path) and Path(source).is_file() else None
    detail = {"source": rec.meta.get("source", {}), "start_time": rec.meta.get("start_time"),
              "duration_s": round(rec.duration_s, 3), "ppg_rate_hz": rec.ppg_rate_hz}  # fmt: skip
    return ProvenanceItem(role, name, digest, detail)


# ---------------------------------------------------------------- the night


def _device_columns(log: DeviceLog, twin_columns: np.ndarray, rec_name: str, notes: list[str]) -> np.ndarray:
    dev = log.column_array()
    if len(dev) != len(twin_columns):
        raise VigilError(f"{log.path}: {len(dev)} spectrogram columns, but {rec_name} makes {len(twin_columns)}; "
                         "is this the log of that recording?")  # fmt: skip
    same = int(np.sum(np.all(dev == twin_columns, axis=1)))
    notes.append(f"Spectrogram columns are the device's (from {log.path}); {same} of {len(dev)} equal the twin's.")
    return dev


def night_predictions(
    images: list, n_epochs: int, model: SleepModel, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.full(n_epochs, NONE, dtype=np.int64)
    probs = np.full((n_epochs, 3), np.nan)
    usable = [img for img in images if img.epoch < n_epochs]
    if usable:
        stack = np.stack([img.image for img in usable])
        tick = (lambda done: progress("sleep CNN (TFLM)", done, len(usable))) if progress else None
        classes, p = model.predict(stack, tick)
        idx = np.asarray([img.epoch for img in usable])
        predicted[idx], probs[idx] = classes, p
    return predicted, probs


def timed_twin_records(rec: Recording, bundle: ModelBundle | None, step: str,
                       progress: Progress | None) -> ModelRecords | None:  # fmt: skip
    """The twin's records of ``rec`` (None without a bundle), as one progress step: the CNN over every epoch is
    the slow part (about 1 s per hour of recording)."""
    if bundle is None:
        return None
    if progress:
        progress(step, 0, 1)
    records = twin_records(rec, bundle)
    if progress:
        progress(step, 1, 1)
    return records


def _sleep_records(night: NightData, records: list[dict[str, int]], source: str, model: SleepModel | None) -> None:
    """The night's stages, CNN outputs, probabilities (through ``model``'s output quantization) and motion from
    SLEEP records."""
    arrays = sleep_arrays(records, night.n_epochs, model, source)
    night.predicted, night.outputs, night.motion = arrays.predicted, arrays.outputs, arrays.motion
    night.probabilities = arrays.probabilities
    night.predictions_from = source
    if arrays.probabilities is None:
        night.notes.append("No sleep model to read the CNN's output quantization: no probabilities.")


def build_night(
    source: Path | Recording,
    model: SleepModel | None = None,
    log: DeviceLog | None = None,
    progress: Progress | None = None,
    bundle: ModelBundle | None = None,
) -> tuple[NightData, Recording, str]:
    rec, name = load_recording_source(source, "night")
    if len(rec.accel) < dsp.STFT_N:
        raise VigilError(f"{name}: no accelerometer samples to make a spectrogram of "
                         "(a night needs the wrist accelerometer)")  # fmt: skip
    notes = conversion_notes(rec, name)
    columns = accel_twin.accel_columns(rec.accel)
    columns_from = "twin (vigil.dsp, bit-exact with the device)"
    if log is not None and log.columns:
        columns = _device_columns(log, columns, name, notes)
        columns_from = f"device log {log.path}"
    try:
        labels = rec.epoch_labels() if rec.sleep_labels is not None else None
    except VigilError as exc:  # labels off the device's epoch grid
        raise VigilError(f"{name}: {exc}") from None
    n_epochs = len(rec.accel) // dsp.EPOCH_SAMPLES
    if labels is None:
        notes.append(f"{name} has no sleep labels: the hypnogram shows the prediction only.")
    night = NightData(name, columns, n_epochs, labels, None, None, columns_from, None, notes)
    quant = bundle.sleep if bundle is not None else model  # whose output quantization reads the int8 outputs
    twin = timed_twin_records(rec, bundle, "night: twin of the device's models", progress)
    if log is not None and log.sleep:
        _sleep_records(night, log.sleep, f"device log {log.path}", quant)
        notes.append(f"Sleep stages, CNN outputs and motion are the device's SLEEP records ({log.path}, "
                     f"{len(log.sleep)} epochs).")  # fmt: skip
        if twin is not None:
            same, total = records_agreement(log.sleep, twin.sleep, "epoch")
            notes.append(f"{same} of {total} SLEEP records equal the {twin.source}'s in every field.")
        elif model is not None:  # the device's engine must agree with TFLM: say whether it did
            host, _ = night_predictions(epoch_images(columns), n_epochs, model, progress)
            assert night.predicted is not None
            both = (night.predicted >= 0) & (host >= 0)
            same = int(np.sum(night.predicted[both] == host[both]))
            notes.append(f"The device's stage equals {model.path}'s (TFLM on the twin's images) on "
                         f"{same} of {int(both.sum())} epochs.")  # fmt: skip
    elif twin is not None:
        _sleep_records(night, twin.sleep, twin.source, quant)
        notes.append(f"Sleep stages, CNN outputs and motion are the {twin.source} ({len(twin.sleep)} SLEEP "
                     "records, the integers the device sends).")  # fmt: skip
    elif model is not None:
        night.predicted, night.probabilities = night_predictions(epoch_images(columns), n_epochs, model, progress)
        night.predictions_from = f"{model.path} through TFLM on the twin's epoch images"
    return night, rec, name


# ---------------------------------------------------------------- the stress session


def _device_hrv(log: DeviceLog, twin: list[HrvFeatures], notes: list[str]) -> list[HrvFeatures]:
    dev = [HrvFeatures(**h) for h in sorted(log.hrv, key=lambda h: h["segment"])]
    if [d.segment for d in dev] != list(range(len(dev))):  # plots and tables index segments by position
        raise VigilError(f"{log.path}: HRV segments {[d.segment for d in dev][:8]}…; expected 0, 1, 2, … "
                         "without gaps or repeats")  # fmt: skip
    if len(dev) > len(twin):
        raise VigilError(f"{log.path}: {len(dev)} HRV segments, but the recording completes only {len(twin)}; "
                         "is this the log of that recording?")  # fmt: skip
    same = sum(1 for d, t in zip(dev, twin) if d == t)
    notes.append(f"HRV features are the device's (from {log.path}); {same} of {len(dev)} segments equal the twin's.")
    return dev


def _device_beats(log: DeviceLog, twin: np.ndarray, notes: list[str]) -> np.ndarray:
    dev = np.asarray(sorted(log.beats), dtype=np.int64)
    agree = len(np.intersect1d(dev, twin))
    notes.append(f"Beats are the device's (from {log.path}): {len(dev)} beats, {agree} at the twin's sample indexes "
                 f"(twin: {len(twin)}).")  # fmt: skip
    return dev


def _trio_outputs(session: StressSessionData, model: StressModel) -> None:
    """The trio on every valid segment's twin (or device) features, exactly as evaluated at training."""
    n = len(session.segments)
    valid = np.asarray([s.valid == 1 for s in session.segments], dtype=bool)
    p_stress = {name: np.full(n, np.nan) for name in MODEL_NAMES}
    weighted = np.full(n, np.nan)
    decision = np.full(n, NONE, dtype=np.int64)
    unanimous = np.full(n, NONE, dtype=np.int64)
    if valid.any():
        from vigil.data.hrv_csv import FEATURE_NAMES

        feats = np.asarray([[getattr(s, k) for k in FEATURE_NAMES] for s in session.segments], dtype=np.int64)[valid]
        probas = model.trio.probabilities(feats)
        for j, name in enumerate(MODEL_NAMES):
            p_stress[name][valid] = probas[j][:, 1]
        mix = consensus_proba(probas, model.trio.weights)
        weighted[valid] = mix[:, 1]
        decision[valid] = np.argmax(mix, axis=1)
        unanimous[valid] = np.all(np.argmax(probas, axis=2) == 1, axis=0).astype(np.int64)
    session.p_stress, session.weighted, session.decision, session.unanimous = p_stress, weighted, decision, unanimous
    session.weights = tuple(float(w) for w in model.trio.weights)
    session.decisions_from = f"{model.path} on the {session.features_from} HRV features"


def _stress_records(session: StressSessionData, records: list[dict[str, int]], source: str) -> None:
    """Model outputs, consensus, alerts and their reasons per segment from STRESS records."""
    a = stress_arrays(records, len(session.segments), source)
    session.p_stress_q15, session.weighted_q15 = a.p_stress_q15, a.weighted_q15
    session.p_stress = {name: q15_float(v) for name, v in a.p_stress_q15.items()}
    session.weighted = q15_float(a.weighted_q15)
    session.decision, session.unanimous, session.reasons, session.motion = a.decision, a.unanimous, a.reasons, a.motion
    session.alerts = [Alert(int(k), reasons_met(int(a.reasons[k]))) for k in np.flatnonzero(a.alert == 1)]
    session.decisions_from = source


def build_stress_session(
    source: Path | Recording,
    model: StressModel | None = None,
    log: DeviceLog | None = None,
    bundle: ModelBundle | None = None,
    progress: Progress | None = None,
) -> tuple[StressSessionData, Recording, str]:
    rec, name = load_recording_source(source, "stress session")
    if not len(rec.ppg) or rec.ppg_rate_hz is None:
        raise VigilError(f"{name}: no PPG samples (a stress session needs the PPG channel)")
    fs = int(rec.ppg_rate_hz)
    filtered, beats, segments = ppg_twin.ppg_chain(rec.ppg, fs)
    session = StressSessionData(name, rec.ppg, fs, filtered, beats, segments, notes=conversion_notes(rec, name))
    if log is not None and log.beats:
        session.beats, session.beats_from = _device_beats(log, beats, session.notes), f"device log {log.path}"
    if log is not None and log.hrv:
        session.segments = _device_hrv(log, segments, session.notes)
        session.features_from = f"device log {log.path}"
    if not session.segments:
        session.notes.append(f"{name} is shorter than one complete {dsp.SEGMENT_S}-s segment: no HRV features.")
    twin = timed_twin_records(rec, bundle, "stress session: twin of the device's models", progress)
    if bundle is not None:
        session.weights, session.alert_threshold = bundle.weights, bundle.threshold
    if log is not None and log.stress:
        _stress_records(session, log.stress, f"device log {log.path}")
        session.notes.append(f"Model outputs, decisions, alerts and their reasons are the device's STRESS records "
                             f"({log.path}, {len(log.stress)} segments, {len(session.alerts or [])} "
                             "alerts).")  # fmt: skip
        if twin is not None:
            same, total = records_agreement(log.stress, twin.stress, "segment")
            session.notes.append(f"{same} of {total} STRESS records equal the {twin.source}'s in every field.")
        elif model is not None:  # the device's consensus must agree with the host's trio: say whether it did
            host = StressSessionData(name, rec.ppg, fs, filtered, beats, session.segments)
            _trio_outputs(host, model)
            assert host.decision is not None and session.decision is not None
            both = (session.decision >= 0) & (host.decision >= 0)
            session.notes.append(f"The device's decision equals {model.path}'s float trio (on the same features) "
                                 f"in {int(np.sum(session.decision[both] == host.decision[both]))} of "
                                 f"{int(both.sum())} segments.")  # fmt: skip
    elif twin is not None:
        _stress_records(session, twin.stress, twin.source)
        session.notes.append(f"Model outputs, decisions, alerts and their reasons are the {twin.source} "
                             f"({len(twin.stress)} STRESS records, the integers the device sends; "
                             f"{len(session.alerts or [])} alerts).")  # fmt: skip
    elif model is not None:
        _trio_outputs(session, model)
        session.notes.append("No alert information: alerts are the device's consensus (give its log with "
                             "--stress-log, or a models/ bundle with --models); the float trio's consensus "
                             "decisions and unanimity are shown instead.")  # fmt: skip
    if session.reasons is not None:
        unsent = int(np.sum(session.reasons < 0))
        if unsent:
            session.notes.append(f"{unsent} of {len(session.segments)} segments have no STRESS record: the device "
                                 "sends a segment once the sleep context of its two epochs exists (the last "
                                 "segments of a recording wait for epochs that never complete).")  # fmt: skip
    invalid = sum(1 for s in session.segments if not s.valid)
    if invalid:
        session.notes.append(f"{invalid} of {len(session.segments)} segments are invalid (flags) and are not "
                             "classified.")  # fmt: skip
    return session, rec, name


# ---------------------------------------------------------------- metrics files


def _first_present(d: dict, names: tuple[str, ...]) -> Any:
    return next((d[k] for k in names if k in d and d[k] is not None), None)


def metrics_row(name: str, m: dict, where: str) -> MetricsRow:
    """A row from one model's metrics (vigil.ml.metrics names); kappa / AUC under a few usual names."""
    missing = [k for k in METRIC_NAMES if k not in m]
    if missing and "confusion" in m:  # the figures can be derived from the confusion matrix
        m = {**metrics_from_confusion(np.asarray(m["confusion"])), **m}
        missing = []
    if missing:
        raise VigilError(f"{where}: model {name!r} lacks {', '.join(missing)} (and has no confusion matrix)")
    kappa = _first_present(m, ("kappa", "cohen_kappa", "cohens_kappa"))
    auc = _first_present(m, ("auc", "roc_auc", "auc_macro", "roc_auc_macro"))
    n = m.get("n")
    return MetricsRow(name, *(float(m[k]) for k in METRIC_NAMES), kappa=None if kappa is None else float(kappa),
                      auc=None if auc is None else float(auc), n=None if n is None else int(n))  # fmt: skip


def _per_model(report: dict) -> dict[str, dict]:
    """{model: metrics} from a metrics.json: a "models" object, or one model's figures at the top (or under
    "held_out" / "test" / "metrics")."""
    if isinstance(report.get("models"), dict):
        return report["models"]
    for key in (None, "held_out", "test", "metrics"):
        part = report if key is None else report.get(key)
        if isinstance(part, dict) and ("accuracy" in part or "confusion" in part):
            return {str(report.get("model", "sleep_cnn")): part}
    return {}


def metrics_table_from_json(path: Path, task: str) -> MetricsTable:
    """Per model (and consensus) figures of a training folder's metrics.json; errors name the file."""
    report = read_json_file(path)
    if not isinstance(report, dict):
        raise VigilError(f"{path}:1: expected a JSON object of metrics")
    if task == "sleep" and isinstance(report.get("evaluation"), dict):
        return sleep_metrics_table(path, report["evaluation"])
    models = _per_model(report)
    if not models:
        raise VigilError(f"{path}:1: expected per-model metrics (\"models\": {{name: {{accuracy, ...}}}})")
    default_classes = STRESS_CLASS_NAMES if task == "stress" else SLEEP_CLASS_LABELS
    classes = tuple(report.get("classes") or report.get("class_names") or default_classes)
    rows, confusions = [], []
    for name, m in models.items():
        label = STRESS_MODEL_LABELS.get(name, name) if task == "stress" else name
        rows.append(metrics_row(label, m, str(path)))
        if "confusion" in m:
            cm = np.asarray(m["confusion"], dtype=np.int64)
            if cm.shape != (len(classes), len(classes)):
                raise VigilError(f"{path}: model {name!r} has a {cm.shape} confusion matrix for {len(classes)} classes")
            confusions.append(ConfusionMatrix(label, classes, cm))
    protocol = report.get("protocol")
    detail = ", ".join(f"{k} {report[k]}" for k in ("rows", "folds") if k in report)
    title = f"{task} models, held out" + (f" ({protocol}{', ' + detail if detail else ''})" if protocol else "")
    return MetricsTable(title, task, str(path), protocol, rows, confusions, key=f"{task}_held_out")


def sleep_metrics_table(path: Path, ev: dict) -> MetricsTable:
    """`vigil train sleep`'s held-out evaluation (metrics.json "evaluation"): wake / NREM / REM with macro averages,
    and wake vs sleep (wake the positive class), each with its confusion matrix."""
    try:
        three = {**ev["macro"], "accuracy": ev["accuracy"], "kappa": ev["kappa"], "n": ev["n"]}
        sw = ev["sleep_wake"]
        rows = [metrics_row("sleep CNN: wake / NREM / REM (macro)", three, str(path)),
                metrics_row("sleep CNN: wake vs sleep", {**sw, "n": ev["n"]}, str(path))]
        confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS, np.asarray(ev["confusion"], dtype=np.int64)),
                      ConfusionMatrix("sleep / wake", ("sleep", "wake"), np.asarray(sw["confusion"], dtype=np.int64))]
        note = (f"Wake correct at 90 % sleep correct: {sw['wake_correct_at_90_sleep_correct']:.3f} (Walch et al. "
                "2019, best sleep/wake model on their PSG data: 0.596 wake at 0.93 sleep).")
        title = f"sleep CNN, held-out subjects ({ev['protocol']}, {ev['folds']} folds, {ev['subjects']} subjects)"
    except (KeyError, TypeError) as exc:
        raise VigilError(f"{path}:1: expected `vigil train sleep`'s evaluation (missing {exc})") from None
    return MetricsTable(title, "sleep", str(path), ev["protocol"], rows, confusions, note=note, key="sleep_held_out")


def _kappa(y: np.ndarray, yhat: np.ndarray, labels: list[int]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(y, yhat, labels=labels)) if len(set(y) | set(yhat)) > 1 else None


def _auc(y: np.ndarray, scores: np.ndarray | None, n_classes: int) -> float | None:
    """ROC AUC (macro one vs rest for 3 classes); None without scores or without every class among the truths."""
    from sklearn.metrics import roc_auc_score

    if scores is None or not np.isfinite(scores).all() or len(set(y)) < n_classes:
        return None
    if n_classes == 2:
        return float(roc_auc_score(y, scores))
    return float(roc_auc_score(y, scores / scores.sum(axis=1, keepdims=True), multi_class="ovr", average="macro"))


def night_metrics(night: NightData) -> MetricsTable | None:
    """The sleep model's figures on this night's scored epochs: wake / NREM / REM (macro averages) and sleep vs
    wake (NREM or REM = sleep, the positive class: sensitivity = sleep found, specificity = wake found)."""
    if night.true_labels is None or night.predicted is None:
        return None
    keep = (night.true_labels >= 0) & (night.predicted >= 0)
    if not keep.any():
        return None
    y, yhat = night.true_labels[keep].astype(np.int64), night.predicted[keep]
    probs = night.probabilities[keep] if night.probabilities is not None else None
    n = int(keep.sum())
    cm3 = confusion_matrix(y, yhat, 3)
    m3 = metrics_from_confusion(cm3)
    rows = [MetricsRow("sleep CNN: wake / NREM / REM", *(m3[k] for k in METRIC_NAMES), kappa=_kappa(y, yhat, [0, 1, 2]),
                       auc=_auc(y, probs, 3), n=n)]  # fmt: skip
    asleep, asleep_hat = (y > 0).astype(np.int64), (yhat > 0).astype(np.int64)
    cm2 = confusion_matrix(asleep, asleep_hat, 2)
    m2 = metrics_from_confusion(cm2)
    p_sleep = None if probs is None else probs[:, 1] + probs[:, 2]
    rows.append(MetricsRow("sleep CNN: sleep vs wake", *(m2[k] for k in METRIC_NAMES),
                           kappa=_kappa(asleep, asleep_hat, [0, 1]), auc=_auc(asleep, p_sleep, 2), n=n))  # fmt: skip
    note = ("Three classes: macro averages over wake, NREM, REM (one vs rest). "
            "Sleep vs wake: sleep is the positive class.")
    if probs is not None and rows[0].auc is None:
        note += " AUC needs every class among the scored epochs (and a probability for each)."
    confusions = [ConfusionMatrix("wake / NREM / REM", SLEEP_CLASS_LABELS, cm3),
                  ConfusionMatrix("sleep vs wake", ("wake", "sleep"), cm2)]  # fmt: skip
    return MetricsTable(f"sleep on this night ({n} scored epochs)", "sleep",
                        f"this recording; {night.predictions_from or ''}", None, rows, confusions, note,
                        "sleep_night")  # fmt: skip


# ---------------------------------------------------------------- verify reports


def verify_summary_from_json(path: Path) -> VerifySummary:
    """A `vigil verify --json` report; errors name the file."""
    report = read_json_file(path)
    if not isinstance(report, dict) or "stages" not in report or "ok" not in report:
        raise VigilError(f"{path}:1: expected the JSON of `vigil verify --json` (with \"ok\" and \"stages\")")
    stages = []
    for name, s in report["stages"].items():
        try:
            stages.append(VerifyStage(name, int(s["windows"]), int(s["mismatches"]), s.get("first_mismatch")))
        except (KeyError, TypeError, ValueError):
            raise VigilError(f"{path}: stage {name!r}: expected windows and mismatches") from None
    cost = report.get("cost") or {}
    ips = cost.get("total_instructions_per_second_of_signal")
    return VerifySummary(str(path), report.get("recording"), report.get("board"), bool(report["ok"]), stages,
                         [str(e) for e in report.get("device_errors", [])],
                         None if ips is None else int(ips))  # fmt: skip


# ---------------------------------------------------------------- everything


def model_provenance(role: str, folder: Path, manifest: dict | None, main_file: Path) -> ProvenanceItem:
    detail: dict[str, Any] = {}
    if manifest:
        detail = {k: manifest[k] for k in ("kind", "version", "data", "settings", "versions", "files") if k in manifest}
    return ProvenanceItem(role, str(folder), file_sha256(main_file), detail)


def log_provenance(role: str, log: DeviceLog) -> ProvenanceItem:
    hello = log.hello or {}
    detail = {k: hello[k] for k in ("board", "firmware_version", "build_id", "boot_id", "models") if k in hello}
    detail["sessions_in_log"] = max(log.sessions, 1)
    if log.sessions > 1:
        detail["read"] = "the last session"
    return ProvenanceItem(role, str(log.path), file_sha256(log.path), detail)


def resolve_bundle(inputs: ReportInputs) -> Path | None:
    """The models/ bundle to use: --models, else the repo's models/ when no training folder is given."""
    if inputs.models is not None:
        return Path(inputs.models)
    if inputs.default_models and inputs.sleep_model is None and inputs.stress_model is None:
        from vigil.bundle.consensus_twin import models_dir

        folder = models_dir()
        return folder if (folder / "manifest.json").is_file() else None
    return None


def report_hashes(bundle: ModelBundle | None, sleep: SleepModel | None, stress: StressModel | None) -> dict[str, bytes]:
    """name -> HELLO hash of the report's models: the bundle's five, else the training folders' NNs."""
    from vigil.bundle.model_bundle import model_hash

    if bundle is not None:
        return dict(bundle.models.hashes)
    out = {}
    if sleep is not None:
        out["sleep_cnn"] = model_hash(sleep.tflite)
    if stress is not None:
        out["stress_nn"] = model_hash((stress.path / "stress_nn.tflite").read_bytes())
    return out


def build_report_data(inputs: ReportInputs, progress: Progress | None = None) -> ReportData:
    """Fill the data model from what was given. A part not given is left out (``missing`` says why); a part
    given but unreadable or inconsistent raises VigilError naming the file."""
    from vigil.report.model_folders import SLEEP_MODEL_FILE, load_sleep_model, load_stress_model

    missing: dict[str, str] = {}
    provenance: list[ProvenanceItem] = []
    metrics: list[MetricsTable] = []
    bundle_dir = resolve_bundle(inputs)
    bundle = load_model_bundle(bundle_dir) if bundle_dir is not None else None
    if bundle is not None:
        manifest = read_json_file(bundle.path / "manifest.json")
        provenance.append(ProvenanceItem("models bundle", str(bundle.path), file_sha256(bundle.path / "manifest.json"),
                                         {k: manifest[k] for k in ("hashes", "consensus") if k in manifest}))
    sleep_dir = inputs.sleep_model or (bundle.path / "sleep" if bundle is not None else None)
    stress_dir = inputs.stress_model or (bundle.path / "stress" if bundle is not None else None)
    sleep_model = stress_model = None
    if sleep_dir is not None:
        sleep_model = load_sleep_model(sleep_dir)
        provenance.append(model_provenance("sleep model", sleep_model.path, sleep_model.manifest,
                                           sleep_model.path / SLEEP_MODEL_FILE))  # fmt: skip
        if (sleep_model.path / METRICS_FILE).is_file():
            metrics.append(metrics_table_from_json(sleep_model.path / METRICS_FILE, "sleep"))
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

    night = None
    if inputs.night is not None:
        night, rec, name = build_night(inputs.night, sleep_model, night_log, progress, bundle)
        provenance.insert(0, recording_provenance(rec, name, "night recording", inputs.night))
        if night.predicted is None:
            missing["hypnogram prediction"] = ("No sleep model and no device sleep results: nothing predicted "
                                               "the stages.")  # fmt: skip
        table = night_metrics(night)
        if table is not None:
            metrics.insert(0, table)
        if night_log is not None:
            unknown = None if night_log.model_hashes() else night_log.path
            note = hash_note([c for c in checks if c.log == str(night_log.path)], unknown)
            night.notes += [note] if note else []
    else:
        missing["night"] = "No night recording given (--night REC)."

    stress = None
    if inputs.stress_session is not None:
        stress, rec, name = build_stress_session(inputs.stress_session, stress_model, stress_log, bundle, progress)
        provenance.insert(1 if night else 0, recording_provenance(rec, name, "stress session", inputs.stress_session))
        if stress_log is not None:
            unknown = None if stress_log.model_hashes() else stress_log.path
            note = hash_note([c for c in checks if c.log == str(stress_log.path)], unknown)
            stress.notes += [note] if note else []
        if stress.decision is None:
            missing["stress decisions"] = "No stress model and no device stress results: segments are not classified."
    else:
        missing["stress session"] = "No stress session given (--stress-session REC)."

    verify = [verify_summary_from_json(Path(p)) for p in inputs.verify]
    if not verify:
        missing["device verification"] = "No `vigil verify --json` report given (--verify JSON)."
    return ReportData(night, stress, metrics, verify, provenance, missing, model_hashes=checks)


def finite_or_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def night_records_json(n: NightData) -> list[dict[str, Any]] | None:
    """Per epoch with a SLEEP record: class, int8 outputs, probabilities, motion (None: no records)."""
    if n.outputs is None or n.predicted is None or n.motion is None:
        return None
    out = []
    for e in np.flatnonzero(n.predicted >= 0):
        probs = None if n.probabilities is None else [round(float(v), 6) for v in n.probabilities[e]]
        out.append({"epoch": int(e), "cls": int(n.predicted[e]), "outputs": [int(v) for v in n.outputs[e]],
                    "probabilities": probs, "motion": int(n.motion[e])})  # fmt: skip
    return out


def stress_records_json(s: StressSessionData) -> list[dict[str, Any]] | None:
    """Per segment with a STRESS record: its integers and the reasons decoded (None: no records)."""
    if s.reasons is None or s.p_stress_q15 is None or s.weighted_q15 is None or s.decision is None:
        return None
    from vigil.report.model_records import reasons_failed

    assert s.unanimous is not None and s.motion is not None
    alerts = {a.segment for a in s.alerts or []}
    out = []
    for k in np.flatnonzero(s.reasons >= 0):
        bits = int(s.reasons[k])
        out.append({"segment": int(k), **{f"p_{m}_q15": int(v[k]) for m, v in s.p_stress_q15.items()},
                    "weighted_q15": int(s.weighted_q15[k]), "decision": int(s.decision[k]),
                    "unanimous": int(s.unanimous[k]), "alert": int(k in alerts), "reasons": bits,
                    "reasons_met": list(reasons_met(bits)), "reasons_failed": list(reasons_failed(bits)),
                    "motion": int(s.motion[k])})  # fmt: skip
    return out


def summary_json(data: ReportData) -> dict[str, Any]:
    """What the page shows, for scripts (`vigil report --json`, report.json)."""
    def rows(t: MetricsTable) -> list[dict]:
        return [{k: finite_or_none(v) for k, v in r.__dict__.items()} for r in t.rows]

    out: dict[str, Any] = {
        "vigil_version": data.vigil_version, "created": data.created_utc,
        "metrics": [{"title": t.title, "task": t.task, "source": t.source, "protocol": t.protocol, "rows": rows(t),
                     "confusions": {c.name: c.counts.tolist() for c in t.confusions}} for t in data.metrics],
        "verify": [{"path": v.path, "ok": v.ok, "board": v.board,
                    "mismatches": sum(s.mismatches for s in v.stages)} for v in data.verify],
        "missing": data.missing,
        "provenance": [{"role": p.role, "path": p.path, "sha256": p.sha256} for p in data.provenance],
        "model_hashes": [{"log": c.log, "model": c.model, "device": c.device, "report": c.report, "same": c.same}
                         for c in data.model_hashes],
    }  # fmt: skip
    if data.night:
        n = data.night
        out["night"] = {"source": n.source, "epochs": n.n_epochs, "columns": len(n.columns),
                        "columns_from": n.columns_from, "predictions_from": n.predictions_from,
                        "notes": n.notes, "sleep": night_records_json(n)}  # fmt: skip
    if data.stress:
        s = data.stress
        out["stress"] = {
            "source": s.source, "beats": len(s.beats), "segments": len(s.segments),
            "valid_segments": sum(1 for g in s.segments if g.valid), "decisions_from": s.decisions_from,
            "stress_segments": None if s.decision is None else int(np.sum(s.decision == 1)),
            "alerts": None if s.alerts is None else [{"segment": a.segment, "reasons": list(a.reasons)}
                                                      for a in s.alerts],
            "notes": s.notes, "records": stress_records_json(s),
        }  # fmt: skip
    return json.loads(json.dumps(out, default=str))
