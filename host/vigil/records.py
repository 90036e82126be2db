"""What the device reports, as every layer names it: the classes its models decide between, the layouts of the
records it streams (SLEEP per 30-s epoch, STRESS and HRV per 60-s segment), the alert's reason bits, and the same
records in the units a person reads (`readable`).

One home, imported by the protocol codec (`vigil.device.protocol`, which packs these layouts on the wire), the
twins (`vigil.bundle.consensus_twin` builds records with exactly these keys), training (class names in manifests
and metrics) and the report (labels people read). It imports nothing of vigil's."""

from __future__ import annotations

import struct

#: The sleep model's classes in output order, as manifests and metrics name them, and as people read them.
SLEEP_CLASS_NAMES: tuple[str, ...] = ("wake", "nrem", "rem")
SLEEP_CLASS_LABELS: tuple[str, ...] = ("wake", "NREM", "REM")
#: A SLEEP record's class when the device could not run the sleep model (an ERROR MODEL_FAILED precedes it; its
#: outputs are 0 and the stress alert's "awake" gate stays closed for its epoch).
SLEEP_CLASS_UNKNOWN = 255
WAKE_CLASS = 0
#: The stress models' classes (index 1 is "stress": the probability every model reports).
STRESS_CLASS_NAMES: tuple[str, ...] = ("relax", "stress")

#: HRV record: one 60-s PPG segment's features in device units (docs/protocol.md).
#: The baseline fields: how many valid segments the wearer's baseline holds, whether it is ready, and each feature
#: relative to it (feature - baseline median, same units; 0 unless valid and ready; vigil.dsp.hrv_baseline).
#: Then the features beyond the proposal's six (Poincare SD1/SD2, pulse amplitude, LF, HF, LF/HF; 0 unless valid) and
#: whether the 4-minute spectrum window held enough beats (vigil.dsp.hrv_spectrum).
HRV_FORMAT = struct.Struct("<IBBHHH6iHB6i6iB")
HRV_FIELDS = ("segment", "valid", "flags", "n_beats", "n_ibis", "n_rejected",
              "avhr", "avrr", "sdrr", "rmssd", "pnn50", "pnn20",
              "baseline_n", "baseline_ready", "rel_avhr", "rel_avrr", "rel_sdrr", "rel_rmssd", "rel_pnn50",
              "rel_pnn20", "sd1", "sd2", "pamp", "lf", "hf", "lfhf", "spectrum_ready")  # fmt: skip
#: SLEEP record: the sleep model's int8 outputs for one decided epoch, its class (an index of SLEEP_CLASS_NAMES), the
#: epoch's motion level, and the model's decision delay in epochs (the record of epoch t comes by the end of epoch
#: t + delay: 6 for the context model, 2 for the CNN on epoch images; docs/protocol.md, "Models").
SLEEP_FORMAT = struct.Struct("<I3bBHB")
SLEEP_FIELDS = ("epoch", "out0", "out1", "out2", "cls", "motion", "delay")
#: STRESS record. votes: bit j = model j (tree, svm, nn) votes stress; reasons: bits of
#: vigil.bundle.consensus_twin.REASON_NAMES.
STRESS_FORMAT = struct.Struct("<IIHHHbbBHBBBBH")
STRESS_FIELDS = ("segment", "features_crc", "p_tree", "p_svm", "p_nn", "nn_out0", "nn_out1", "votes",
                 "weighted_q15", "decision", "unanimous", "alert", "reasons", "motion")  # fmt: skip

#: STRESS.reasons: which of the alert's conditions held (the alert needs all: REASON_ALL).
REASON_UNANIMOUS = 0x01
REASON_ABOVE_THRESHOLD = 0x02
REASON_FEATURES_VALID = 0x04
REASON_CONTEXT_KNOWN = 0x08
REASON_AWAKE = 0x10
REASON_LITTLE_MOTION = 0x20
REASON_BASELINE_READY = 0x40  # the models' inputs exist: always, unless they read the wearer's baseline, not ready yet
#: The trio's evidence (REASON_EVIDENCE) also held in one of the segments just before
#: (ConsensusSettings.sustain_lookback).
REASON_SUSTAINED = 0x80
REASON_ALL = 0xFF
#: What the trio itself says (the context gates aside): what SUSTAINED looks back for.
REASON_EVIDENCE = REASON_UNANIMOUS | REASON_ABOVE_THRESHOLD | REASON_FEATURES_VALID | REASON_BASELINE_READY
#: The models had their inputs: valid features and, for models on relative features, the wearer's baseline ready. A
#: STRESS record without both is not a classification (its probabilities mean nothing).
REASON_INPUTS = REASON_FEATURES_VALID | REASON_BASELINE_READY
REASON_NAMES = {REASON_UNANIMOUS: "unanimous", REASON_ABOVE_THRESHOLD: "above_threshold",
                REASON_FEATURES_VALID: "features_valid", REASON_CONTEXT_KNOWN: "context_known",
                REASON_AWAKE: "awake", REASON_LITTLE_MOTION: "little_motion",
                REASON_BASELINE_READY: "baseline_ready", REASON_SUSTAINED: "sustained"}  # fmt: skip
#: The stress models in the order of STRESS's p_* fields and of the votes bits.
STRESS_MODEL_NAMES: tuple[str, ...] = ("tree", "svm", "nn")
Q15_ONE = 1 << 15
#: The sleep CNN's int8 softmax output: TFLite's int8 SOFTMAX always has scale 1/256 and zero point -128.
SOFTMAX_SCALE, SOFTMAX_ZERO_POINT = 1 / 256, -128


def readable_sleep(record: dict[str, int]) -> dict[str, object]:
    """A SLEEP record in a person's units: the class's label and the CNN's three probabilities."""
    outputs = [record["out0"], record["out1"], record["out2"]]
    if record["cls"] == SLEEP_CLASS_UNKNOWN:
        return {"class": "unknown (the sleep model did not run)", "p": {}}
    return {"class": SLEEP_CLASS_LABELS[record["cls"]],
            "p": {label: round((o - SOFTMAX_ZERO_POINT) * SOFTMAX_SCALE, 4)
                  for label, o in zip(SLEEP_CLASS_LABELS, outputs)}}  # fmt: skip


def readable_stress(record: dict[str, int]) -> dict[str, object]:
    """A STRESS record in a person's units: each model's P(stress), the weighted one, the decision, which models
    voted stress, and the alert's conditions by name, met and failed."""
    met = [name for bit, name in REASON_NAMES.items() if record["reasons"] & bit]
    return {
        "p_stress": {m: round(record[f"p_{m}"] / Q15_ONE, 4) for m in STRESS_MODEL_NAMES},
        "p_weighted": round(record["weighted_q15"] / Q15_ONE, 4),
        "decision": STRESS_CLASS_NAMES[record["decision"]],
        "voted_stress": [m for j, m in enumerate(STRESS_MODEL_NAMES) if record["votes"] >> j & 1],
        "alert": bool(record["alert"]),
        "conditions_met": met,
        "conditions_failed": [name for name in REASON_NAMES.values() if name not in met],
    }
