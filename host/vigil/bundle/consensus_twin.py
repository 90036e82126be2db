"""Twin of the device's model stages: the sleep model per decided epoch and the stress trio + local consensus per
segment.

    models = DeviceModels.load(models_dir)                  # models/ (or $VIGIL_MODELS_DIR), as the firmware
    sleep = device_sleep_records(xyz, models)               # per decided epoch: int8 outputs, class, motion, delay
    stress = stress_records(hrv, sleep, models)             # per HRV segment: every model, consensus, alert

The sleep model is either kind the bundle carries (``models.sleep_input``): the context model decides epoch t when
epoch t + SLEEP_CONTEXT_DELAY's features complete (``context_sleep_records``, input
``vigil.dsp.epoch_features.context_inputs``); the seed's CNN decides epoch t when its image completes
(``sleep_records`` on ``vigil.dsp.epoch_image`` images).

Every number is the device's integer: the tree and SVM through their C twins (vigil.export.tree_export /
svm_export), the NNs through TFLM's reference kernels (the engine is bit-exact with them), the input
quantization, NN output table, weights and gating from the constants generated into stress_consensus.h.

Context and timing (firmware/app/stress_task.c does the same). Segment s (PPG samples [60 s s, 60 s (s+1))) is
covered by accelerometer epochs 2s and 2s+1. Its STRESS record is sent when the segment's HRV features AND the
sleep result of epoch 2s+1 exist (the context model's comes when epoch 2s+7 ends, 3 minutes after the segment; the
CNN's when its image completes, ~32 s after the epoch ends); the device keeps up to STRESS_PENDING_MAX segments
waiting, i.e. the decision of epoch 2s+1 must come before segment s+4 closes (context model: a minute to spare). A segment still waiting when STRESS_PENDING_MAX newer segments have closed is
sent with its context unknown (alert blocked, reason bits CONTEXT_KNOWN/AWAKE/LITTLE_MOTION clear); the device
keeps the last CONTEXT_EPOCHS epochs' context, and a segment whose epochs are older than that is sent with its
context unknown too. So the records are a function of the recording alone as long as the accelerometer and PPG
streams stay within CONTEXT_EPOCHS / 2 minutes of each other (replay sends them in time order: a few seconds),
and a recording's last segments whose context never came are not sent.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.bundle import model_bundle as mb
from vigil.dsp.accel import MOTION_LEVEL_MAX, motion_levels  # noqa: F401  (the twin of motion_level.c, re-exported)
from vigil.dsp.config import HRV_FEATURES, IMAGE_DELAY_EPOCHS, SLEEP_CONTEXT_DELAY
from vigil.errors import VigilError
# the STRESS record's fields = the twin's record keys; reasons: its bits
from vigil.records import (REASON_ABOVE_THRESHOLD, REASON_ALL, REASON_AWAKE, REASON_BASELINE_READY,  # noqa: F401
                           REASON_CONTEXT_KNOWN, REASON_EVIDENCE, REASON_FEATURES_VALID, REASON_LITTLE_MOTION,
                           REASON_NAMES, REASON_SUSTAINED, REASON_UNANIMOUS, STRESS_FIELDS, WAKE_CLASS)

STRESS_PENDING_MAX = 4  # firmware/app/stress_task.h STRESS_TASK_PENDING_MAX
CONTEXT_EPOCHS = 8  # firmware/app/stress_task.h STRESS_TASK_CONTEXT_EPOCHS
EPOCHS_PER_SEGMENT = 2
Q15_ONE, Q15_HALF = 1 << 15, 1 << 14
FEATURES = HRV_FEATURES  # HRV record order = the models' feature order


def models_dir() -> Path:
    """The models folder the firmware is built with: $VIGIL_MODELS_DIR, else <VIGIL_ROOT or repo>/models."""
    if os.environ.get("VIGIL_MODELS_DIR"):
        return Path(os.environ["VIGIL_MODELS_DIR"])
    root = os.environ.get("VIGIL_ROOT")
    return (Path(root) if root else Path(__file__).resolve().parents[3]) / "models"


@dataclass
class DeviceModels:
    """The models of one models/ folder, in the form the device runs them."""

    tree: Any  # vigil.export.tree_export.TreeQ15
    svm: Any  # vigil.export.svm_export.SvmQ15
    stress_nn: bytes
    sleep_model: bytes  # the sleep model's .tflite (sleep_context.tflite or sleep_cnn.tflite)
    consensus: mb.ConsensusConstants
    hashes: dict[str, bytes]
    sleep_input: str = "image"  # "context" (the context model) or "image" (the seed's CNN): mb.SleepModelKind.input

    @property
    def sleep_delay(self) -> int:
        """The SLEEP records' delay: epoch t is decided by the end of epoch t + this."""
        return SLEEP_CONTEXT_DELAY if self.sleep_input == "context" else IMAGE_DELAY_EPOCHS

    @classmethod
    def load(cls, folder: Path | None = None) -> DeviceModels:
        import joblib

        from vigil.export.svm_export import export_svm
        from vigil.export.tree_export import export_tree
        from vigil.ml.stress_io import load_scaler

        folder = Path(folder) if folder is not None else models_dir()
        manifest = mb.read_bundle_manifest(folder)
        stress = folder / "stress"
        scaler = load_scaler(stress)
        names = ("stress_scaler.json", "stress_consensus.json", mb.STRESS_NN)
        files = {name: (stress / name).read_bytes() for name in names}
        settings = mb.ConsensusSettings.from_dict(manifest["consensus"])
        kind = mb.bundle_sleep_kind(folder)
        return cls(
            export_tree(joblib.load(stress / "stress_tree.joblib"), scaler),
            export_svm(joblib.load(stress / "stress_svm.joblib"), scaler),
            files[mb.STRESS_NN], (folder / "sleep" / kind.model_file).read_bytes(),
            mb.consensus_constants(files, settings), mb.bundle_hashes(folder), kind.input,
        )  # fmt: skip


# ---------------------------------------------------------------- sleep


def sleep_cnn_input(image: np.ndarray) -> np.ndarray:
    """The CNN's input for an epoch image (frames x bins int8): bins x frames x 1 (frequency down, time across),
    values unchanged (the image is already in the CNN's input quantization)."""
    from vigil.ml.sleep_data import cnn_image

    return np.ascontiguousarray(cnn_image(image)[:, :, None])


@dataclass(frozen=True)
class SleepRecord:
    epoch: int
    outputs: tuple[int, ...]
    cls: int
    motion: int
    delay: int = IMAGE_DELAY_EPOCHS

    def fields(self) -> tuple[int, ...]:
        """The SLEEP record's values in wire order (vigil.records.SLEEP_FIELDS)."""
        return (self.epoch, *self.outputs, self.cls, self.motion, self.delay)


def _records(epochs: list[int] | np.ndarray, inputs: np.ndarray, motion: np.ndarray, models: DeviceModels
             ) -> list[SleepRecord]:  # fmt: skip
    from vigil.export.tflite import tflm_reference
    from vigil.ml.sleep import device_class

    if len(epochs) == 0:
        return []
    outs = tflm_reference(models.sleep_model, inputs).reshape(len(epochs), -1)
    classes = device_class(outs)  # the first maximum, as the device's argmax_s8
    return [SleepRecord(int(e), tuple(int(v) for v in o), int(c),
                        int(motion[e]) if e < len(motion) else MOTION_LEVEL_MAX, models.sleep_delay)  # fmt: skip
            for e, o, c in zip(epochs, outs, classes)]


def sleep_records(images: list, motion: np.ndarray, models: DeviceModels) -> list[SleepRecord]:
    """The seed's CNN: one record per epoch image (vigil.dsp.epoch_image.EpochImage), as the device's SLEEP frames."""
    if models.sleep_input != "image":
        raise VigilError("these models' sleep model takes the context of epoch features, not epoch images: "
                         "use context_sleep_records (or device_sleep_records)")
    inputs = np.stack([sleep_cnn_input(img.image) for img in images]) if images else np.zeros((0,), np.int8)
    return _records([img.epoch for img in images], inputs, motion, models)


def context_sleep_records(features: np.ndarray, motion: np.ndarray, models: DeviceModels) -> list[SleepRecord]:
    """The context model: one record per decided epoch t = 0 .. n_epochs - SLEEP_CONTEXT_DELAY - 1, from the epochs'
    feature vectors (vigil.dsp.epoch_features.epoch_features), as the device's SLEEP frames."""
    from vigil.dsp.epoch_features import context_inputs

    if models.sleep_input != "context":
        raise VigilError("these models' sleep model is the seed's CNN on epoch images: use sleep_records "
                         "(or device_sleep_records)")
    inputs = context_inputs(features)
    return _records(np.arange(len(inputs)), inputs, motion, models)


def device_sleep_records(xyz: np.ndarray, models: DeviceModels) -> list[SleepRecord]:
    """Every SLEEP record the device sends for the accelerometer stream ``xyz`` ((n, 3) int16 milli-g), whichever
    kind of sleep model ``models`` carries."""
    from vigil.dsp import accel

    deriv = accel.derivative(accel.magnitude(xyz))
    motion = motion_levels(deriv)
    if models.sleep_input == "context":
        from vigil.dsp.epoch_features import epoch_features

        return context_sleep_records(epoch_features(xyz, deriv), motion, models)
    from vigil.dsp.epoch_image import epoch_images
    from vigil.dsp.stft import stft_columns

    return sleep_records(epoch_images(stft_columns(deriv)), motion, models)


# ---------------------------------------------------------------- stress


def features_crc(features: list[int] | np.ndarray) -> int:
    """CRC-32 of the six features as little-endian int32, the STRESS record's echo of what the models saw."""
    return zlib.crc32(struct.pack("<6i", *(int(v) for v in features))) & 0xFFFFFFFF


def stress_nn_input(features: np.ndarray, c: mb.ConsensusConstants) -> np.ndarray:
    """Twin of feature_quant_s8(): raw features (n, 6) -> int8 (n, 6)."""
    x = np.asarray(features, dtype=np.int64)
    mul, add = np.asarray(c.nn_in_mul, dtype=np.int64), np.asarray(c.nn_in_add, dtype=np.int64)
    q = (x * mul + add) >> np.asarray(c.nn_in_shift, dtype=np.int64)  # >> of int64 is floor, as in C
    return np.clip(q, -128, 127).astype(np.int8)


@dataclass(frozen=True)
class Evidence:
    p_stress_q15: tuple[int, int, int]
    votes_stress: tuple[bool, bool, bool]
    features_valid: bool
    context_known: bool
    awake: bool
    motion: int
    baseline_ready: bool = True
    segment: int = 0


@dataclass
class AlertMemory:
    """Twin of stress_alert_memory_t: the last segment whose evidence (REASON_EVIDENCE) held, one per stream."""

    last_evidence_segment: int | None = None

    def sustained(self, lookback: int, segment: int, evidence: bool) -> bool:
        """Whether the evidence held in one of the ``lookback`` segments before ``segment`` (always, for 0); then
        remembers this segment's."""
        last = self.last_evidence_segment
        held_before = lookback == 0 or (last is not None and 0 < segment - last <= lookback)
        if evidence:
            self.last_evidence_segment = segment
        return held_before


def stress_verdict(c: mb.ConsensusConstants, e: Evidence, memory: AlertMemory) -> dict[str, int]:
    """Twin of stress_consensus_q15(); segments in increasing order through one ``memory``."""
    weighted = (sum(w * p for w, p in zip(c.weights_q15, e.p_stress_q15)) + Q15_HALF) >> 15
    unanimous = all(e.votes_stress)
    reasons = (REASON_UNANIMOUS if unanimous else 0) | (REASON_ABOVE_THRESHOLD if weighted >= c.threshold_q15 else 0)
    reasons |= REASON_FEATURES_VALID if e.features_valid else 0
    reasons |= REASON_BASELINE_READY if e.baseline_ready else 0
    if e.context_known:
        reasons |= REASON_CONTEXT_KNOWN | (REASON_AWAKE if e.awake else 0)
        reasons |= REASON_LITTLE_MOTION if e.motion <= c.motion_limit else 0
    if memory.sustained(c.sustain_lookback, e.segment, reasons & REASON_EVIDENCE == REASON_EVIDENCE):
        reasons |= REASON_SUSTAINED
    return {"weighted_q15": weighted, "decision": int(weighted > c.decision_q15), "unanimous": int(unanimous),
            "alert": int(reasons == REASON_ALL), "reasons": reasons}  # fmt: skip


def model_outputs(features: np.ndarray, models: DeviceModels) -> dict[str, np.ndarray]:
    """Per segment: each model's P(stress) Q15 and vote, and the NN's int8 logits."""
    from vigil.export.svm_export import svm_predict_q15
    from vigil.export.tflite import tflm_reference
    from vigil.export.tree_export import tree_predict_q15

    x = np.asarray(features, dtype=np.int64).reshape(-1, len(FEATURES))
    if len(x) == 0:
        z = np.zeros(0, dtype=np.int64)
        return {"p_tree": z, "p_svm": z, "p_nn": z, "nn_out": np.zeros((0, 2), np.int64),
                "votes": np.zeros((0, 3), bool)}  # fmt: skip
    tree = tree_predict_q15(models.tree, x)
    svm = svm_predict_q15(models.svm, x)
    logits = tflm_reference(models.stress_nn, stress_nn_input(x, models.consensus)).reshape(len(x), -1).astype(np.int64)
    table = np.asarray(models.consensus.nn_p_stress_q15, dtype=np.int64)
    p_nn = table[logits[:, 1] - logits[:, 0] + mb.LOGIT_DIFF_SPAN]
    votes = np.stack([np.argmax(tree, axis=1) == 1, np.argmax(svm, axis=1) == 1, logits[:, 1] > logits[:, 0]], axis=1)
    return {"p_tree": tree[:, 1], "p_svm": svm[:, 1], "p_nn": p_nn, "nn_out": logits, "votes": votes}


def segment_context(segment: int, n_segments: int, by_epoch: dict[int, SleepRecord]) -> tuple[bool, bool, int] | None:
    """(context known, awake, motion) of a segment when the device sends its record, or None if it never does
    (see the module doc); ``by_epoch``: the sleep records by epoch."""
    epochs = [EPOCHS_PER_SEGMENT * segment + k for k in range(EPOCHS_PER_SEGMENT)]
    if all(e in by_epoch for e in epochs):
        recs = [by_epoch[e] for e in epochs]
        return True, all(r.cls == WAKE_CLASS for r in recs), max(r.motion for r in recs)
    if n_segments >= segment + 1 + STRESS_PENDING_MAX:
        return False, False, 0
    return None



def stress_records(hrv: list[dict[str, int]], sleep: list[SleepRecord], models: DeviceModels) -> list[dict[str, int]]:
    """The device's STRESS records (fields STRESS_FIELDS) for the HRV segments, in segment order. Models on inputs
    relative to the wearer's baseline read the rel_* fields and need the baseline ready (REASON_BASELINE_READY)."""
    relative = models.consensus.inputs_baseline
    names = [f"rel_{name}" for name in FEATURES] if relative else list(FEATURES)
    feats = np.array([[h[name] for name in names] for h in hrv], dtype=np.int64).reshape(-1, len(FEATURES))
    out = model_outputs(feats, models)
    by_epoch = {r.epoch: r for r in sleep}
    memory = AlertMemory()
    records = []
    for i, h in enumerate(hrv):
        ctx = segment_context(int(h["segment"]), len(hrv), by_epoch)
        if ctx is None:
            continue
        known, awake, motion = ctx
        votes = tuple(bool(v) for v in out["votes"][i])
        p_stress = (int(out["p_tree"][i]), int(out["p_svm"][i]), int(out["p_nn"][i]))
        ready = bool(h["baseline_ready"]) if relative else True
        e = Evidence(p_stress, votes, bool(h["valid"]), known, awake, motion, ready,  # type: ignore[arg-type]
                     int(h["segment"]))
        rec = {"segment": int(h["segment"]), "features_crc": features_crc(feats[i]), "p_tree": e.p_stress_q15[0],
               "p_svm": e.p_stress_q15[1], "p_nn": e.p_stress_q15[2], "nn_out0": int(out["nn_out"][i][0]),
               "nn_out1": int(out["nn_out"][i][1]), "votes": sum(1 << j for j, v in enumerate(votes) if v),
               **stress_verdict(models.consensus, e, memory), "motion": motion if known else 0}  # fmt: skip
        records.append({k: rec[k] for k in STRESS_FIELDS})  # every field of the STRESS record, in wire order
    return records


def reason_names(reasons: int) -> dict[str, bool]:
    return {name: bool(reasons & bit) for bit, name in REASON_NAMES.items()}
