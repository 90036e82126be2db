"""The device's model records — SLEEP per 30-s epoch, STRESS per 60-s segment — for the report: read from a
device log, or computed by the twin (``vigil.bundle.consensus_twin``: the identical integers) from a models/ bundle
and the recording, and turned into per-epoch / per-segment arrays.

    bundle = load_model_bundle(Path("models"))              # DeviceModels + the sleep CNN's output quantization
    records = twin_records(recording, bundle)               # ModelRecords(sleep, stress, source)
    sleep = sleep_arrays(records.sleep, n_epochs, bundle.sleep)
    stress = stress_arrays(records.stress, n_segments)

Records are dicts keyed on ``vigil.device.protocol.SLEEP_FIELDS`` / ``STRESS_FIELDS``. Q15: 32768 = 1.0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vigil.bundle import consensus_twin as ct
from vigil.data.recording import Recording
from vigil.device import protocol as p
from vigil.errors import VigilError
from vigil.report.model_folders import SleepModel, load_sleep_model

NONE = -1
Progress = Callable[[str, int, int], None]  # (step, done, total)
Q15_ONE = 1 << 15
STRESS_MODELS = (("tree", "p_tree"), ("svm", "p_svm"), ("nn", "p_nn"))  # report model name, STRESS field
REASONS: tuple[tuple[int, str], ...] = tuple(sorted(ct.REASON_NAMES.items()))  # (bit, name), bit order
REASON_TEXT = {"unanimous": "all three models vote stress", "above_threshold": "weighted P(stress) ≥ threshold",
               "features_valid": "HRV features valid", "context_known": "sleep context known",
               "awake": "awake (both epochs wake)", "little_motion": "motion ≤ limit",
               "baseline_ready": "the models' inputs exist (relative ones: the wearer's baseline ready)",
               "sustained": "the three said stress in one of the minutes just before too"}  # fmt: skip


@dataclass(frozen=True)
class ModelBundle:
    """A models/ folder (`vigil export models`) as the device carries it."""

    path: Path
    models: ct.DeviceModels
    sleep: SleepModel  # for the output quantization of the sleep CNN

    @property
    def threshold(self) -> float:
        return self.models.consensus.threshold_q15 / Q15_ONE

    @property
    def decision_threshold(self) -> float:
        return self.models.consensus.decision_q15 / Q15_ONE

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(w / Q15_ONE for w in self.models.consensus.weights_q15)


def load_model_bundle(folder: Path) -> ModelBundle:
    """Load a models/ bundle; errors name the folder."""
    folder = Path(folder)
    if not (folder / "manifest.json").is_file():
        raise VigilError(f"{folder / 'manifest.json'}: missing; expected a models/ bundle of `vigil export models`")
    try:
        models = ct.DeviceModels.load(folder)
    except (OSError, KeyError) as exc:
        raise VigilError(f"{folder}: not a complete models/ bundle ({exc})") from None
    return ModelBundle(folder, models, load_sleep_model(folder / "sleep"))


@dataclass(frozen=True)
class ModelRecords:
    sleep: list[dict[str, int]]
    stress: list[dict[str, int]]
    source: str  # "device log PATH" or "twin of models DIR"


def twin_records(rec: Recording, bundle: ModelBundle) -> ModelRecords:
    """What a device carrying ``bundle`` sends for ``rec`` (replayed from its start)."""
    from vigil.verify import twin_outputs

    out = twin_outputs(rec, int(rec.ppg_rate_hz or p.PPG_RATE_HZ), bundle.models)
    return ModelRecords(out.sleep, out.stress, f"twin of {bundle.path}")


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


def records_agreement(device: list[dict[str, int]], twin: list[dict[str, int]], key: str) -> tuple[int, int]:
    """(records equal in every field, records in either): by window number ``key``."""
    dev, tw = {r[key]: r for r in device}, {r[key]: r for r in twin}
    keys = set(dev) | set(tw)
    return sum(1 for k in keys if dev.get(k) == tw.get(k)), len(keys)


def reasons_met(bits: int) -> tuple[str, ...]:
    return tuple(name for bit, name in REASONS if bits & bit)


def reasons_failed(bits: int) -> tuple[str, ...]:
    return tuple(name for bit, name in REASONS if not bits & bit)


# ---------------------------------------------------------------- per epoch / per segment


@dataclass(frozen=True)
class SleepArrays:
    predicted: np.ndarray  # (n,) int64 class, -1 no record
    outputs: np.ndarray  # (n, 3) int64 int8 outputs, 0 where no record
    probabilities: np.ndarray | None  # (n, 3) float, NaN no record; None: no output quantization known
    motion: np.ndarray  # (n,) int64 motion level (milli-g), -1 no record


def sleep_arrays(records: list[dict[str, int]], n_epochs: int, model: SleepModel | None, where: str) -> SleepArrays:
    predicted = np.full(n_epochs, NONE, dtype=np.int64)
    outputs = np.zeros((n_epochs, p.SLEEP_CLASS_COUNT), dtype=np.int64)
    motion = np.full(n_epochs, NONE, dtype=np.int64)
    for r in records:
        e = r["epoch"]
        if not 0 <= e < n_epochs:
            raise VigilError(f"{where}: SLEEP record for epoch {e}, but the recording has {n_epochs} epochs")
        predicted[e], motion[e] = r["cls"], r["motion"]
        outputs[e] = (r["out0"], r["out1"], r["out2"])
    probs = None
    if model is not None:
        probs = np.full((n_epochs, p.SLEEP_CLASS_COUNT), np.nan)
        have = predicted >= 0
        probs[have] = model.probabilities(outputs[have])
    return SleepArrays(predicted, outputs, probs, motion)


@dataclass(frozen=True)
class StressArrays:
    p_stress_q15: dict[str, np.ndarray]  # model -> (n,) int64 Q15 P(stress), -1 no record
    weighted_q15: np.ndarray
    decision: np.ndarray  # (n,) 1 stress / 0 relax / -1 no record
    unanimous: np.ndarray
    alert: np.ndarray
    reasons: np.ndarray  # (n,) int64 bitmask, -1 no record
    motion: np.ndarray  # (n,) int64, -1 no record (0 when the context was unknown, as the device sends it)


def stress_arrays(records: list[dict[str, int]], n_segments: int, where: str) -> StressArrays:
    def empty() -> np.ndarray:
        return np.full(n_segments, NONE, dtype=np.int64)

    a = StressArrays({name: empty() for name, _ in STRESS_MODELS}, empty(), empty(), empty(), empty(), empty(), empty())
    for r in records:
        k = r["segment"]
        if not 0 <= k < n_segments:
            raise VigilError(f"{where}: STRESS record for segment {k}, but the session has {n_segments} segments")
        for name, fld in STRESS_MODELS:
            a.p_stress_q15[name][k] = r[fld]
        a.weighted_q15[k], a.decision[k], a.unanimous[k] = r["weighted_q15"], r["decision"], r["unanimous"]
        a.alert[k], a.reasons[k], a.motion[k] = r["alert"], r["reasons"], r["motion"]
    return a


def q15_float(values: np.ndarray) -> np.ndarray:
    """Q15 integers -> floats, NaN where there is no record (-1)."""
    v = np.asarray(values, dtype=np.int64)
    return np.where(v >= 0, v / Q15_ONE, np.nan)
