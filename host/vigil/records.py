"""What the device reports, as every layer names it: the classes its models decide between and the layouts of the
records it streams (SLEEP per 30-s epoch, STRESS and HRV per 60-s segment).

One home, imported by the protocol codec (`vigil.device.protocol`, which packs these layouts on the wire), the
twins (`vigil.bundle.consensus_twin` builds records with exactly these keys), training (class names in manifests
and metrics) and the report (labels people read). It imports nothing of vigil's."""

from __future__ import annotations

import struct

#: The sleep CNN's classes in output order, as manifests and metrics name them, and as people read them.
SLEEP_CLASS_NAMES: tuple[str, ...] = ("wake", "nrem", "rem")
SLEEP_CLASS_LABELS: tuple[str, ...] = ("wake", "NREM", "REM")
WAKE_CLASS = 0
#: The stress models' classes (index 1 is "stress": the probability every model reports).
STRESS_CLASS_NAMES: tuple[str, ...] = ("relax", "stress")

#: HRV record: one 60-s PPG segment's features in device units (docs/protocol.md).
HRV_FORMAT = struct.Struct("<IBBHHH6i")
HRV_FIELDS = ("segment", "valid", "flags", "n_beats", "n_ibis", "n_rejected",
              "avhr", "avrr", "sdrr", "rmssd", "pnn50", "pnn20")  # fmt: skip
#: SLEEP record: the CNN's int8 outputs for one epoch, its class (an index of SLEEP_CLASS_NAMES), the motion level.
SLEEP_FORMAT = struct.Struct("<I3bBH")
SLEEP_FIELDS = ("epoch", "out0", "out1", "out2", "cls", "motion")
#: STRESS record. votes: bit j = model j (tree, svm, nn) votes stress; reasons: bits of
#: vigil.bundle.consensus_twin.REASON_NAMES.
STRESS_FORMAT = struct.Struct("<IIHHHbbBHBBBBH")
STRESS_FIELDS = ("segment", "features_crc", "p_tree", "p_svm", "p_nn", "nn_out0", "nn_out1", "votes",
                 "weighted_q15", "decision", "unanimous", "alert", "reasons", "motion")  # fmt: skip
