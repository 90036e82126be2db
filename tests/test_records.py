"""vigil.records: the device's records in a person's units, beside the raw integers (logs keep both)."""

from __future__ import annotations

from vigil.device import protocol as p
from vigil.records import REASON_ALL, REASON_AWAKE, REASON_UNANIMOUS, readable_sleep, readable_stress


def test_a_sleep_record_reads_as_a_class_and_probabilities() -> None:
    r = readable_sleep({"epoch": 3, "out0": 127, "out1": -128, "out2": -127, "cls": 0, "motion": 12})
    assert r == {"class": "wake", "p": {"wake": 0.9961, "NREM": 0.0, "REM": 0.0039}}
    assert readable_sleep({"epoch": 0, "out0": -128, "out1": -64, "out2": 63, "cls": 2, "motion": 0})["class"] == "REM"


def test_a_stress_record_reads_as_probabilities_votes_and_named_conditions() -> None:
    record = {"segment": 4, "features_crc": 1, "p_tree": 32768, "p_svm": 16384, "p_nn": 0, "nn_out0": 5,
              "nn_out1": -5, "votes": 0b011, "weighted_q15": 24576, "decision": 1, "unanimous": 0, "alert": 0,
              "reasons": REASON_ALL & ~REASON_UNANIMOUS & ~REASON_AWAKE, "motion": 7}
    r = readable_stress(record)
    assert r["p_stress"] == {"tree": 1.0, "svm": 0.5, "nn": 0.0} and r["p_weighted"] == 0.75
    assert r["decision"] == "stress" and r["voted_stress"] == ["tree", "svm"] and r["alert"] is False
    assert r["conditions_failed"] == ["unanimous", "awake"]
    assert r["conditions_met"] == ["above_threshold", "features_valid", "context_known", "little_motion",
                                   "baseline_ready", "sustained"]


def test_the_log_keeps_the_raw_integers_and_adds_the_readable() -> None:
    record = {"segment": 1, "features_crc": 9, "p_tree": 30000, "p_svm": 31000, "p_nn": 29000, "nn_out0": -3,
              "nn_out1": 4, "votes": 7, "weighted_q15": 30500, "decision": 1, "unanimous": 1, "alert": 1,
              "reasons": REASON_ALL, "motion": 3}
    frame = p.Frame(p.MsgType.STRESS, 5, p.pack_stress(record))
    described = p.describe(frame)
    assert {k: described[k] for k in record} == record
    assert described["readable"]["alert"] is True and described["readable"]["conditions_failed"] == []
