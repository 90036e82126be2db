"""The stress session: a PPG recording made into what the device computes of it (band-passed signal, beats, HRV
features per 60-s segment) and how its segments were classified.

Signal, beats and features come from the DSP twin (``vigil.dsp.ppg.ppg_chain``), or from a device log (its BEAT
and HRV frames). The classification is the STRESS records (P(stress) Q15 of tree / SVM / MLP, weighted vote,
decision, unanimity, alert and the reasons bitmask, motion): the device log's, else the twin's of a models/ bundle;
only with a training folder and no bundle does the host's float trio classify (no alerts, no reasons).

    session, rec, name = build_stress_session(Path("stress.vrec"), bundle=load_model_bundle(Path("models")))

Stress classes: 0 relax, 1 stress (``vigil.records.STRESS_CLASS_NAMES``), -1 none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.data.recording import Recording
from vigil.dsp import config as dsp
from vigil.dsp import ppg as ppg_twin
from vigil.dsp.accel import wrist_motion
from vigil.dsp.hrv import HrvFeatures
from vigil.errors import VigilError
from vigil.ml.stress import DECISION_DEFAULT, MODEL_NAMES, consensus_proba
from vigil.records import REASON_INPUTS
from vigil.report.device_log import DeviceLog
from vigil.report.frozen import freeze
from vigil.report.model_folders import StressModel
from vigil.report.model_records import (
    NONE,
    ModelBundle,
    Progress,
    q15_float,
    reasons_met,
    records_agreement,
    stress_arrays,
    timed_twin_records,
)
from vigil.report.recording_source import conversion_notes, load_recording_source


@dataclass(frozen=True)
class Alert:
    segment: int
    reasons: tuple[str, ...]  # the reasons met (an alert needs all seven: vigil.bundle.consensus_twin.REASON_NAMES)


@dataclass(frozen=True)
class StressSessionData:
    """One PPG session: signal, beats, per-segment HRV features and the trio's outputs. Arrays are read-only, lists
    tuples, dicts read-only mappings (``vigil.report.frozen``)."""

    source: str
    ppg: np.ndarray  # int16 raw counts
    ppg_rate_hz: int
    filtered: np.ndarray  # int32 band-passed (twin), Q12 counts
    beats: np.ndarray  # int64 sample indexes
    segments: tuple[HrvFeatures, ...]  # every completed 60-s segment, valid or not
    p_stress: Mapping[str, np.ndarray] | None = None  # model -> (n_segments,) P(stress), NaN where not run
    weighted: np.ndarray | None = None  # (n_segments,) weighted P(stress), NaN where not run
    weights: tuple[float, ...] | None = None
    decision: np.ndarray | None = None  # (n_segments,) 1 stress / 0 relax / -1 none
    unanimous: np.ndarray | None = None  # (n_segments,) 1 all three say stress / 0 / -1 none
    alerts: tuple[Alert, ...] | None = None  # None: no alert information (the device's consensus decides alerts)
    beats_from: str = "twin"
    features_from: str = "twin"
    decisions_from: str | None = None
    notes: tuple[str, ...] = ()
    # the STRESS records' integers (None without records): Q15 P(stress) per model, weighted, reasons, motion
    p_stress_q15: Mapping[str, np.ndarray] | None = None  # model -> (n_segments,) int64, -1 no record
    weighted_q15: np.ndarray | None = None
    reasons: np.ndarray | None = None  # (n_segments,) int64 bitmask, -1 no record
    motion: np.ndarray | None = None  # (n_segments,) int64 milli-g, -1 no record
    alert_threshold: float | None = None  # the bundle's weighted P(stress) threshold for an alert
    decision_threshold: float = DECISION_DEFAULT  # the consensus says stress when the weighted P(stress) is above this

    def __post_init__(self) -> None:
        freeze(self)

    def segment_starts_s(self) -> np.ndarray:
        return np.asarray([s.segment * dsp.SEGMENT_S for s in self.segments], dtype=np.float64)

    def feature(self, name: str) -> np.ndarray:
        """One feature per segment in physical units (bpm, ms, %), NaN for invalid segments."""
        values = np.asarray([getattr(s, name) / 100 if s.valid else np.nan for s in self.segments], dtype=np.float64)
        return values


@dataclass(frozen=True)
class Classification:
    """How the segments were classified: from STRESS records (with their integers, alerts and reasons), or by the
    host's float trio (``weights`` its consensus weights; no integers, no alerts)."""

    source: str
    p_stress: dict[str, np.ndarray]  # model -> (n_segments,) P(stress), NaN where not run
    weighted: np.ndarray
    decision: np.ndarray  # 1 stress / 0 relax / -1 none
    unanimous: np.ndarray
    alerts: list[Alert] | None = None
    weights: tuple[float, ...] | None = None
    p_stress_q15: dict[str, np.ndarray] | None = None
    weighted_q15: np.ndarray | None = None
    reasons: np.ndarray | None = None
    motion: np.ndarray | None = None


def device_hrv(log: DeviceLog, twin: list[HrvFeatures], notes: list[str]) -> list[HrvFeatures]:
    """The log's HRV segments 0, 1, 2, … (no more than the twin's), and a note how many equal the twin's."""
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


def device_beats(log: DeviceLog, twin: np.ndarray, notes: list[str]) -> np.ndarray:
    """The log's beats (sample indexes), and a note how many are at the twin's."""
    dev = np.asarray(sorted(log.beats), dtype=np.int64)
    agree = len(np.intersect1d(dev, twin))
    notes.append(f"Beats are the device's (from {log.path}): {len(dev)} beats, {agree} at the twin's sample indexes "
                 f"(twin: {len(twin)}).")  # fmt: skip
    return dev


def trio_classification(segments: Sequence[HrvFeatures], model: StressModel, features_from: str) -> Classification:
    """The float trio on every valid segment's features, exactly as evaluated at training."""
    n = len(segments)
    valid = np.asarray([s.valid == 1 for s in segments], dtype=bool)
    p_stress = {name: np.full(n, np.nan) for name in MODEL_NAMES}
    weighted = np.full(n, np.nan)
    decision = np.full(n, NONE, dtype=np.int64)
    unanimous = np.full(n, NONE, dtype=np.int64)
    if valid.any():
        from vigil.data.hrv_csv import FEATURE_NAMES

        feats = np.asarray([[getattr(s, k) for k in FEATURE_NAMES] for s in segments], dtype=np.int64)[valid]
        probas = model.trio.probabilities(feats)
        for j, name in enumerate(MODEL_NAMES):
            p_stress[name][valid] = probas[j][:, 1]
        mix = consensus_proba(probas, model.trio.weights)
        weighted[valid] = mix[:, 1]
        decision[valid] = (mix[:, 1] > model.trio.threshold).astype(np.int64)
        unanimous[valid] = np.all(np.argmax(probas, axis=2) == 1, axis=0).astype(np.int64)
    return Classification(f"{model.path} on the {features_from} HRV features", p_stress, weighted, decision,
                          unanimous, weights=tuple(float(w) for w in model.trio.weights))  # fmt: skip


def record_classification(records: list[dict[str, int]], n_segments: int, source: str) -> Classification:
    """Model outputs, consensus, alerts and their reasons per segment from STRESS records. A segment whose record
    says its features are invalid, or its models' inputs missing (baseline not ready), is not classified: the device
    ran its models on them anyway, but its
    probabilities, decision and unanimity mean nothing, so they are NaN / none here (the record's integers stay in
    ``p_stress_q15``, ``weighted_q15`` and ``reasons``)."""
    a = stress_arrays(records, n_segments, source)
    alerts = [Alert(int(k), reasons_met(int(a.reasons[k]))) for k in np.flatnonzero(a.alert == 1)]
    unclassified = (a.reasons >= 0) & (a.reasons & REASON_INPUTS != REASON_INPUTS)
    p_stress = {name: np.where(unclassified, np.nan, q15_float(v)) for name, v in a.p_stress_q15.items()}
    decision = np.where(unclassified, NONE, a.decision)
    unanimous = np.where(unclassified, NONE, a.unanimous)
    return Classification(source, p_stress, np.where(unclassified, np.nan, q15_float(a.weighted_q15)), decision,
                          unanimous, alerts,
                          p_stress_q15=a.p_stress_q15, weighted_q15=a.weighted_q15, reasons=a.reasons,
                          motion=a.motion)  # fmt: skip


def build_stress_session(
    source: Path | Recording,
    model: StressModel | None = None,
    log: DeviceLog | None = None,
    bundle: ModelBundle | None = None,
    progress: Progress | None = None,
    more_notes: Sequence[str] = (),
) -> tuple[StressSessionData, Recording, str]:
    """The session of ``source``: beats and features of the twin (or ``log``), classified by the log's STRESS
    records, else the twin of ``bundle``, else ``model``'s float trio; ``more_notes`` come last. Also the recording
    and its name."""
    rec, name = load_recording_source(source, "stress session")
    if not len(rec.ppg) or rec.ppg_rate_hz is None:
        raise VigilError(f"{name}: no PPG samples (a stress session needs the PPG channel)")
    fs = int(rec.ppg_rate_hz)
    filtered, twin_beats, twin_segments = ppg_twin.ppg_chain(rec.ppg, fs, motion=wrist_motion(rec.accel))
    notes = conversion_notes(rec, name)
    beats, beats_from = twin_beats, "twin"
    if log is not None and log.beats:
        beats, beats_from = device_beats(log, twin_beats, notes), f"device log {log.path}"
    segments, features_from = twin_segments, "twin"
    if log is not None and log.hrv:
        segments, features_from = device_hrv(log, twin_segments, notes), f"device log {log.path}"
    if not segments:
        notes.append(f"{name} is shorter than one complete {dsp.SEGMENT_S}-s segment: no HRV features.")
    twin = timed_twin_records(rec, bundle, "stress session: twin of the device's models", progress)
    shown = None
    if log is not None and log.stress:
        shown = record_classification(log.stress, len(segments), f"device log {log.path}")
        notes.append(f"Model outputs, decisions, alerts and their reasons are the device's STRESS records "
                     f"({log.path}, {len(log.stress)} segments, {len(shown.alerts or [])} alerts).")  # fmt: skip
        if twin is not None:
            same, total = records_agreement(log.stress, twin.stress, "segment")
            notes.append(f"{same} of {total} STRESS records equal the {twin.source}'s in every field.")
        elif model is not None:  # the device's consensus must agree with the host's trio: say whether it did
            host = trio_classification(segments, model, features_from)
            both = (shown.decision >= 0) & (host.decision >= 0)
            notes.append(f"The device's decision equals {model.path}'s float trio (on the same features) "
                         f"in {int(np.sum(shown.decision[both] == host.decision[both]))} of "
                         f"{int(both.sum())} segments.")  # fmt: skip
    elif twin is not None:
        shown = record_classification(twin.stress, len(segments), twin.source)
        notes.append(f"Model outputs, decisions, alerts and their reasons are the {twin.source} "
                     f"({len(twin.stress)} STRESS records, the integers the device sends; "
                     f"{len(shown.alerts or [])} alerts).")  # fmt: skip
    elif model is not None:
        shown = trio_classification(segments, model, features_from)
        notes.append("No alert information: alerts are the device's consensus (give its log with "
                     "--stress-log, or a models/ bundle with --models); the float trio's consensus "
                     "decisions and unanimity are shown instead.")  # fmt: skip
    if shown is not None and shown.reasons is not None:
        unsent = int(np.sum(shown.reasons < 0))
        if unsent:
            notes.append(f"{unsent} of {len(segments)} segments have no STRESS record: the device "
                         "sends a segment once the sleep context of its two epochs exists (the last "
                         "segments of a recording wait for epochs that never complete).")  # fmt: skip
    invalid = sum(1 for s in segments if not s.valid)
    if invalid:
        notes.append(f"{invalid} of {len(segments)} segments are invalid (flags) and are not classified.")
    notes += more_notes
    # the weights drawn with the weighted vote: the bundle's consensus, else the host trio's when it classified
    weights = bundle.weights if bundle is not None else (shown.weights if shown is not None else None)
    threshold = bundle.threshold if bundle is not None else None
    decides_at = bundle.decision_threshold if bundle is not None else (model.trio.threshold if model else DECISION_DEFAULT)
    common: dict[str, Any] = {"beats_from": beats_from, "features_from": features_from, "notes": notes,
                              "weights": weights, "alert_threshold": threshold,
                              "decision_threshold": decides_at}  # fmt: skip
    if shown is None:
        session = StressSessionData(name, rec.ppg, fs, filtered, beats, segments, **common)
    else:
        session = StressSessionData(name, rec.ppg, fs, filtered, beats, segments, shown.p_stress, shown.weighted,
                                    decision=shown.decision, unanimous=shown.unanimous, alerts=shown.alerts,
                                    decisions_from=shown.source, p_stress_q15=shown.p_stress_q15,
                                    weighted_q15=shown.weighted_q15, reasons=shown.reasons, motion=shown.motion,
                                    **common)  # fmt: skip
    return session, rec, name
